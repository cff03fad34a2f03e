namespace EdgeNet.Devices.Camera;

public enum PixelFormat { Gray8, Rgb24, Yuv420 }

/// <summary>One image: width, height, pixel format and its bytes (gray: 1 byte/pixel; rgb24: 3; yuv420: planar I420).</summary>
public sealed record Frame(int Width, int Height, PixelFormat Format, byte[] Data)
{
    public static int Bytes(int w, int h, PixelFormat f) => f switch
    {
        PixelFormat.Gray8 => w * h,
        PixelFormat.Rgb24 => 3 * w * h,
        _ => w * h + 2 * ((w + 1) / 2) * ((h + 1) / 2),
    };
}
