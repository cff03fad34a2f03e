using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// MaxPool with a 2×2 window, stride 2, no padding or dilation (the pool of most small CNNs): the maximum of two rows
/// in one vector op, then of even and odd columns after an unzip (SSE SHUFPS, NEON UZP1/UZP2). Twin of Reference.Pool.Max.
/// </summary>
internal static unsafe class MaxPool2x2
{
    public static bool Supports(in ConvGeometry g) =>
        g.KH == 2 && g.KW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadTop == 0 && g.PadLeft == 0
        && g.DilationH == 1 && g.DilationW == 1 && g.OH * 2 <= g.H && g.OW * 2 <= g.W;

    /// <summary>x [planes, H, W] → y [planes, OH, OW]</summary>
    public static void Run(float* x, float* y, int planes, in ConvGeometry g)
    {
        int H = g.H, W = g.W, OH = g.OH, OW = g.OW;
        bool sse = Sse.IsSupported, neon = AdvSimd.Arm64.IsSupported;
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < OH; oh++)
            {
                float* r0 = x + ((long)p * H + 2 * oh) * W, r1 = r0 + W, o = y + ((long)p * OH + oh) * OW;
                int ow = 0;
                if (sse || neon)
                    for (; ow + 4 <= OW; ow += 4)
                    {
                        var a = Vector128.Max(Vector128.Load(r0 + 2 * ow), Vector128.Load(r1 + 2 * ow));           // columns 0-3
                        var b = Vector128.Max(Vector128.Load(r0 + 2 * ow + 4), Vector128.Load(r1 + 2 * ow + 4));   // columns 4-7
                        var m = sse ? Vector128.Max(Sse.Shuffle(a, b, 0b10_00_10_00), Sse.Shuffle(a, b, 0b11_01_11_01))
                                    : Vector128.Max(AdvSimd.Arm64.UnzipEven(a, b), AdvSimd.Arm64.UnzipOdd(a, b));
                        m.Store(o + ow);
                    }
                for (; ow < OW; ow++) o[ow] = Math.Max(Math.Max(r0[2 * ow], r0[2 * ow + 1]), Math.Max(r1[2 * ow], r1[2 * ow + 1]));
            }
    }
}
