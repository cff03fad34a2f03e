using System.Buffers.Binary;
using System.Text;

namespace EdgeNet.Examples.WakeWord;

/// <summary>Reads a WAV file of 16-bit PCM (the format microphones and arecord give) as samples at int16 scale.</summary>
public static class Wav
{
    /// <summary>The samples of a mono 16-bit PCM WAV file and its sample rate.</summary>
    /// <exception cref="InvalidDataException">Not a RIFF/WAVE file, not 16-bit PCM mono, or truncated.</exception>
    public static (short[] Samples, int SampleRate) Read(string path)
    {
        var b = File.ReadAllBytes(path);
        if (b.Length < 12 || Encoding.ASCII.GetString(b, 0, 4) != "RIFF" || Encoding.ASCII.GetString(b, 8, 4) != "WAVE")
            throw new InvalidDataException($"'{path}': not a WAV (RIFF/WAVE) file");
        int pos = 12, rate = 0; bool format = false;
        while (pos + 8 <= b.Length)
        {
            string id = Encoding.ASCII.GetString(b, pos, 4);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos + 4));
            int body = pos + 8;
            if (size > b.Length - body) size = b.Length - body;   // a stream's writer may leave the size unset
            if (id == "fmt ")
            {
                if (size < 16) throw new InvalidDataException($"'{path}': fmt chunk of {size} bytes");
                int tag = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(body)), channels = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(body + 2));
                rate = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(body + 4));
                int bits = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(body + 14));
                if ((tag != 1 && tag != 0xFFFE) || bits != 16 || channels != 1)
                    throw new InvalidDataException($"'{path}': format {tag}, {channels} channel(s), {bits} bits; wanted 16-bit PCM mono (sox IN.wav -r 16000 -c 1 -b 16 OUT.wav)");
                format = true;
            }
            else if (id == "data")
            {
                if (!format) throw new InvalidDataException($"'{path}': data before the fmt chunk");
                var samples = new short[size / 2];
                for (int i = 0; i < samples.Length; i++) samples[i] = BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan(body + 2 * i));
                return (samples, rate);
            }
            pos = body + (int)size + (int)(size & 1);
        }
        throw new InvalidDataException($"'{path}': no data chunk");
    }
}
