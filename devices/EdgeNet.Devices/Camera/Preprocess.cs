namespace EdgeNet.Devices.Camera;

/// <summary>
/// Frame → model input [C, H, W] floats: center-crop to the model's aspect ratio, bilinear resize, channel order
/// (gray, RGB or BGR), scale to [0, 1], then (x − mean) / std per channel — all from the model's metadata.
/// </summary>
/// <param name="Channels">The model's input channels: 1 (luminance) or 3.</param>
/// <param name="Height">The model's input height.</param>
/// <param name="Width">The model's input width.</param>
/// <param name="Bgr">Channel order blue, green, red instead of red, green, blue.</param>
/// <param name="Mean">Per-channel mean subtracted after scaling to [0, 1] (one value for all channels, or one per channel).</param>
/// <param name="Std">Per-channel standard deviation divided by, after the mean.</param>
/// <param name="Invert">1 − value, for models trained on dark-on-light images.</param>
public sealed record Preprocess(int Channels, int Height, int Width, bool Bgr = false, float[]? Mean = null, float[]? Std = null, bool Invert = false)
{
    /// <summary>Writes the model input for frame <paramref name="f"/> into <paramref name="dst"/> (Channels × Height × Width floats).</summary>
    public void Run(Frame f, Span<float> dst)
    {
        if (dst.Length != Channels * Height * Width) throw new ArgumentException($"destination holds {dst.Length} values, not {Channels}x{Height}x{Width}");
        // Center crop to the target aspect ratio.
        double target = (double)Width / Height, source = (double)f.Width / f.Height;
        double cw = f.Width, ch = f.Height;
        if (source > target) cw = f.Height * target; else ch = f.Width / target;
        double x0 = (f.Width - cw) / 2, y0 = (f.Height - ch) / 2;
        for (int c = 0; c < Channels; c++)
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                {
                    double sx = x0 + (x + 0.5) * cw / Width - 0.5, sy = y0 + (y + 0.5) * ch / Height - 0.5;
                    float v = Bilinear(f, sx, sy, Channels == 1 ? -1 : (Bgr ? 2 - c : c)) / 255f;
                    if (Invert) v = 1 - v;
                    if (Mean is { Length: > 0 }) v -= Mean[Mean.Length == 1 ? 0 : c];
                    if (Std is { Length: > 0 }) v /= Std[Std.Length == 1 ? 0 : c];
                    dst[(c * Height + y) * Width + x] = v;
                }
    }

    static float Bilinear(Frame f, double x, double y, int channel)
    {
        x = Math.Clamp(x, 0, f.Width - 1); y = Math.Clamp(y, 0, f.Height - 1);
        int xa = (int)x, ya = (int)y, xb = Math.Min(xa + 1, f.Width - 1), yb = Math.Min(ya + 1, f.Height - 1);
        double fx = x - xa, fy = y - ya;
        return (float)((Pixel(f, xa, ya, channel) * (1 - fx) + Pixel(f, xb, ya, channel) * fx) * (1 - fy)
                     + (Pixel(f, xa, yb, channel) * (1 - fx) + Pixel(f, xb, yb, channel) * fx) * fy);
    }

    /// <summary>Channel −1 is luminance.</summary>
    static float Pixel(Frame f, int x, int y, int channel) => f.Format switch
    {
        PixelFormat.Gray8 => f.Data[y * f.Width + x],
        PixelFormat.Yuv420 when channel < 0 => f.Data[y * f.Width + x],
        PixelFormat.Yuv420 => YuvToRgb(f, x, y, channel),
        _ when channel < 0 => 0.299f * f.Data[(y * f.Width + x) * 3] + 0.587f * f.Data[(y * f.Width + x) * 3 + 1] + 0.114f * f.Data[(y * f.Width + x) * 3 + 2],
        _ => f.Data[(y * f.Width + x) * 3 + channel],
    };

    static float YuvToRgb(Frame f, int x, int y, int channel)
    {
        int cw = (f.Width + 1) / 2, ch = (f.Height + 1) / 2;
        float Y = f.Data[y * f.Width + x], U = f.Data[f.Width * f.Height + (y / 2) * cw + x / 2] - 128f, V = f.Data[f.Width * f.Height + cw * ch + (y / 2) * cw + x / 2] - 128f;
        float v = channel switch { 0 => Y + 1.402f * V, 1 => Y - 0.344f * U - 0.714f * V, _ => Y + 1.772f * U };
        return Math.Clamp(v, 0, 255);
    }
}
