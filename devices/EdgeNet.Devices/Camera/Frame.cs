namespace EdgeNet.Devices.Camera;

/// <summary>How a frame's bytes hold its pixels.</summary>
public enum PixelFormat
{
    /// <summary>One byte of luminance per pixel.</summary>
    Gray8,
    /// <summary>Three bytes per pixel: red, green, blue.</summary>
    Rgb24,
    /// <summary>Planar I420: a full-resolution Y plane, then U and V planes at half resolution.</summary>
    Yuv420,
}

/// <summary>One image: width, height, pixel format and its bytes (gray: 1 byte/pixel; rgb24: 3; yuv420: planar I420).</summary>
/// <param name="Width">Pixels per row.</param>
/// <param name="Height">Rows.</param>
/// <param name="Format">The pixel layout of <paramref name="Data"/>.</param>
/// <param name="Data">The pixels, <see cref="Bytes"/> of them.</param>
public sealed record Frame(int Width, int Height, PixelFormat Format, byte[] Data)
{
    /// <summary>The bytes a frame of this size and format holds.</summary>
    public static int Bytes(int w, int h, PixelFormat f) => f switch
    {
        PixelFormat.Gray8 => w * h,
        PixelFormat.Rgb24 => 3 * w * h,
        _ => w * h + 2 * ((w + 1) / 2) * ((h + 1) / 2),
    };
}
