using System.Numerics.Tensors;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// Depthwise Conv2D (one filter per channel). For each filter tap, the valid output columns of a row are computed
/// once, so the inner loop has no bounds checks: a vector multiply-add over the row when the stride is 1.
/// </summary>
public static unsafe class Depthwise
{
    /// <summary>x [C,H,W] of one image, w [C,KH,KW], b [C] -> y [C,OH,OW] (before the non-clamp activation).</summary>
    public static void Run(float* x, float* w, float* b, float* y, in ConvGeometry g)
    {
        int plane = g.OH * g.OW;
        for (int c = 0; c < g.C; c++)
        {
            float* xc = x + (long)c * g.H * g.W, yc = y + (long)c * plane, wc = w + c * g.KH * g.KW;
            new Span<float>(yc, plane).Fill(b == null ? 0f : b[c]);
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++)
                {
                    float wv = wc[kh * g.KW + kw];
                    int off = kw * g.DilationW - g.PadLeft;                 // iw = ow * sw + off
                    int lo = off >= 0 ? 0 : (-off + g.StrideW - 1) / g.StrideW;
                    int hi = Math.Min(g.OW, (g.W - 1 - off) / g.StrideW + 1);
                    if (g.W - 1 - off < 0 || lo >= hi) continue;
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        float* xr = xc + (long)ih * g.W, yr = yc + (long)oh * g.OW;
                        if (g.StrideW == 1)
                        {
                            var dst = new Span<float>(yr + lo, hi - lo);
                            TensorPrimitives.FusedMultiplyAdd(new ReadOnlySpan<float>(xr + lo + off, hi - lo), wv, dst, dst);
                        }
                        else
                            for (int ow = lo; ow < hi; ow++) yr[ow] += wv * xr[ow * g.StrideW + off];
                    }
                }
        }
    }
}
