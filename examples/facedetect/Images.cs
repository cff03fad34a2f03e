using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using EdgeNet.Devices.Camera;
using StbImageSharp;

namespace EdgeNet.Examples.FaceDetect;

/// <summary>Still images in and out: PNG/JPEG (stb_image), PPM/PGM/BMP (EdgeNet.Devices); RGB resizing, boxes, PNG writing.</summary>
public static class Images
{
    /// <summary>Reads a PNG, JPEG, BMP, PPM or PGM file as an RGB (or gray) frame.</summary>
    /// <exception cref="InvalidDataException">Not an image these readers know, or a damaged one.</exception>
    public static Frame Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length > 1 && bytes[0] == 'P' && bytes[1] is (byte)'5' or (byte)'6') return ImageFile.Read(path);
        try
        {
            var img = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlue);
            return new Frame(img.Width, img.Height, PixelFormat.Rgb24, img.Data);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NotSupportedException)
        {
            throw new InvalidDataException($"'{path}': not a PNG, JPEG, BMP, PPM or PGM image ({e.Message})");
        }
    }

    /// <summary>Frame → RGB24 bytes (gray and I420 converted; an RGB frame as it is).</summary>
    public static byte[] ToRgb(Frame f)
    {
        if (f.Format == PixelFormat.Rgb24) return f.Data;
        var rgb = new byte[f.Width * f.Height * 3];
        int cw = (f.Width + 1) / 2, ch = (f.Height + 1) / 2, plane = f.Width * f.Height;
        for (int y = 0; y < f.Height; y++)
            for (int x = 0; x < f.Width; x++)
            {
                int p = y * f.Width + x;
                if (f.Format == PixelFormat.Gray8) { rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = f.Data[p]; continue; }
                float Y = f.Data[p], U = f.Data[plane + (y / 2) * cw + x / 2] - 128f, V = f.Data[plane + cw * ch + (y / 2) * cw + x / 2] - 128f;
                rgb[3 * p] = Byte(Y + 1.402f * V); rgb[3 * p + 1] = Byte(Y - 0.344f * U - 0.714f * V); rgb[3 * p + 2] = Byte(Y + 1.772f * U);
            }
        return rgb;
    }

    static byte Byte(float v) => (byte)Math.Clamp(MathF.Round(v), 0, 255);

    /// <summary>The whole frame resized to <paramref name="width"/> x <paramref name="height"/> RGB24, bilinear with
    /// pixel centres aligned (OpenCV's INTER_LINEAR), values kept as floats.</summary>
    public static float[] Resize(Frame frame, int width, int height)
    {
        var src = ToRgb(frame);
        var dst = new float[width * height * 3];
        float sx = (float)frame.Width / width, sy = (float)frame.Height / height;
        for (int y = 0; y < height; y++)
        {
            float fy = Math.Clamp((y + 0.5f) * sy - 0.5f, 0, frame.Height - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, frame.Height - 1); float wy = fy - y0;
            for (int x = 0; x < width; x++)
            {
                float fx = Math.Clamp((x + 0.5f) * sx - 0.5f, 0, frame.Width - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, frame.Width - 1); float wx = fx - x0;
                for (int c = 0; c < 3; c++)
                {
                    float top = src[(y0 * frame.Width + x0) * 3 + c] * (1 - wx) + src[(y0 * frame.Width + x1) * 3 + c] * wx;
                    float bottom = src[(y1 * frame.Width + x0) * 3 + c] * (1 - wx) + src[(y1 * frame.Width + x1) * 3 + c] * wx;
                    dst[(y * width + x) * 3 + c] = top * (1 - wy) + bottom * wy;
                }
            }
        }
        return dst;
    }

    /// <summary>A copy of the frame as RGB with each box outlined (green, 2 px) and its keypoints marked.</summary>
    public static byte[] Draw(Frame frame, IEnumerable<Detection> faces)
    {
        var rgb = (byte[])ToRgb(frame).Clone();
        int w = frame.Width, h = frame.Height;
        void Dot(int x, int y)
        {
            if ((uint)x >= (uint)w || (uint)y >= (uint)h) return;
            int p = (y * w + x) * 3; rgb[p] = 0; rgb[p + 1] = 255; rgb[p + 2] = 0;
        }
        foreach (var d in faces)
        {
            int x1 = (int)MathF.Round(d.X1), y1 = (int)MathF.Round(d.Y1), x2 = (int)MathF.Round(d.X2), y2 = (int)MathF.Round(d.Y2);
            for (int t = 0; t < 2; t++)
            {
                for (int x = x1; x <= x2; x++) { Dot(x, y1 + t); Dot(x, y2 - t); }
                for (int y = y1; y <= y2; y++) { Dot(x1 + t, y); Dot(x2 - t, y); }
            }
            if (d.Keypoints is { } k)
                for (int i = 0; i < k.Length; i += 2)
                    for (int dy = -1; dy <= 1; dy++) for (int dx = -1; dx <= 1; dx++) Dot((int)MathF.Round(k[i]) + dx, (int)MathF.Round(k[i + 1]) + dy);
        }
        return rgb;
    }

    /// <summary>Writes RGB24 pixels as a PNG (8-bit truecolor, no filtering, zlib-compressed).</summary>
    public static void WritePng(string path, int width, int height, ReadOnlySpan<byte> rgb)
    {
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
            for (int y = 0; y < height; y++) { z.WriteByte(0); z.Write(rgb.Slice(y * width * 3, width * 3)); }
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width); BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; header[9] = 2;   // bit depth 8, colour type RGB; compression, filter, interlace 0
        using var f = File.Create(path);
        f.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(f, "IHDR", header); Chunk(f, "IDAT", raw.ToArray()); Chunk(f, "IEND", []);
    }

    static void Chunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, data.Length); s.Write(b);
        var crc = new Crc32();
        Span<byte> t = [(byte)type[0], (byte)type[1], (byte)type[2], (byte)type[3]];
        s.Write(t); s.Write(data); crc.Append(t); crc.Append(data);
        BinaryPrimitives.WriteUInt32BigEndian(b, crc.GetCurrentHashAsUInt32()); s.Write(b);
    }
}
