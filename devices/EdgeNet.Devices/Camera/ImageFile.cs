using System.Text;

namespace EdgeNet.Devices.Camera;

/// <summary>Still images from binary PGM (P5), PPM (P6) and uncompressed 24-bit BMP files.</summary>
public static class ImageFile
{
    /// <summary>Reads an image file as a gray or RGB frame.</summary>
    /// <exception cref="InvalidDataException">Not a supported image, or a damaged one.</exception>
    public static Frame Read(string path)
    {
        var b = File.ReadAllBytes(path);
        if (b.Length > 2 && b[0] == 'P' && (b[1] == '5' || b[1] == '6')) return Netpbm(b, path);
        if (b.Length > 54 && b[0] == 'B' && b[1] == 'M') return Bmp(b, path);
        throw new InvalidDataException($"'{path}': not a binary PGM/PPM or 24-bit BMP image");
    }

    static Frame Netpbm(byte[] b, string path)
    {
        int pos = 2;
        int Next()
        {
            while (pos < b.Length && (char.IsWhiteSpace((char)b[pos]) || b[pos] == '#'))
                if (b[pos] == '#') while (pos < b.Length && b[pos] != '\n') pos++; else pos++;
            int start = pos;
            while (pos < b.Length && char.IsDigit((char)b[pos])) pos++;
            return int.TryParse(Encoding.ASCII.GetString(b, start, pos - start), out var v) ? v : throw new InvalidDataException($"'{path}': bad header");
        }
        int w = Next(), h = Next(), max = Next();
        pos++;   // one whitespace byte
        if (w <= 0 || h <= 0 || w > 16384 || h > 16384 || max != 255) throw new InvalidDataException($"'{path}': {w}x{h}, max {max} is not supported (8-bit only)");
        var f = b[1] == '5' ? PixelFormat.Gray8 : PixelFormat.Rgb24;
        int size = Frame.Bytes(w, h, f);
        if (b.Length - pos < size) throw new InvalidDataException($"'{path}': truncated pixel data");
        return new Frame(w, h, f, b.AsSpan(pos, size).ToArray());
    }

    static Frame Bmp(byte[] b, string path)
    {
        int offset = BitConverter.ToInt32(b, 10), w = BitConverter.ToInt32(b, 18), h = BitConverter.ToInt32(b, 22);
        short bpp = BitConverter.ToInt16(b, 28); int compression = BitConverter.ToInt32(b, 30);
        if (bpp != 24 || compression != 0 || w <= 0 || w > 16384 || Math.Abs(h) > 16384 || h == 0) throw new InvalidDataException($"'{path}': only uncompressed 24-bit BMP is supported");
        bool bottomUp = h > 0; h = Math.Abs(h);
        int stride = (w * 3 + 3) & ~3;
        if (offset < 0 || (long)offset + (long)stride * h > b.Length) throw new InvalidDataException($"'{path}': truncated pixel data");
        var rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            int src = offset + (bottomUp ? h - 1 - y : y) * stride;
            for (int x = 0; x < w; x++)
            {
                rgb[(y * w + x) * 3] = b[src + x * 3 + 2]; rgb[(y * w + x) * 3 + 1] = b[src + x * 3 + 1]; rgb[(y * w + x) * 3 + 2] = b[src + x * 3];
            }
        }
        return new Frame(w, h, PixelFormat.Rgb24, rgb);
    }
}
