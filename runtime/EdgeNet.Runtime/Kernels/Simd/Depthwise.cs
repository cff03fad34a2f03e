using System.Numerics;
using System.Runtime.CompilerServices;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// Depthwise Conv2D (one filter per channel). Each channel is first copied into a zero-padded plane — for stride 2
/// split into even and odd columns — so that every filter tap reads a contiguous run: the inner loop is a vector FMA
/// per tap with no bounds checks, and bias and clamp are applied before the single store.
/// </summary>
public static unsafe class Depthwise
{
    static int VL => Vector<float>.Count;

    static (int hp, int wp) Padded(in ConvGeometry g) =>
        ((g.OH - 1) * g.StrideH + (g.KH - 1) * g.DilationH + 1, (g.OW - 1) * g.StrideW + (g.KW - 1) * g.DilationW + 1);

    public static long ScratchFloats(in ConvGeometry g)
    {
        var (hp, wp) = Padded(g);
        return (long)hp * (wp + 2 * VL + 2) + 2 * VL + 64;
    }

    /// <summary>x [C,H,W] of one image, w [C,KH,KW], b [C] -> y [C,OH,OW], clamped to [lo, hi].</summary>
    public static void Run(float* x, float* w, float* b, float* y, in ConvGeometry g, float lo, float hi, float* scratch)
    {
        var (hp, wp) = Padded(g);
        bool split = g.StrideW == 2;
        int half = (wp + 1) / 2;
        int rowStride = split ? 2 * (half + VL) : wp + VL;   // stride 2: even columns, then odd columns, per row
        int plane = g.OH * g.OW;
        var vlo = new Vector<float>(lo); var vhi = new Vector<float>(hi);
        float* tmp = scratch + (long)hp * rowStride + 16;   // tail stores; no stackalloc here (it would make the JIT spill acc)
        for (int c = 0; c < g.C; c++)
        {
            float* xc = x + (long)c * g.H * g.W, yc = y + (long)c * plane, wc = w + c * g.KH * g.KW;
            Pad(xc, scratch, g, hp, wp, rowStride, split, half);
            var bias = new Vector<float>(b == null ? 0f : b[c]);
            for (int oh = 0; oh < g.OH; oh++)
            {
                float* yr = yc + (long)oh * g.OW;
                for (int ow = 0; ow < g.OW; ow += VL)
                {
                    var acc = bias;
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        float* pr = scratch + (long)(oh * g.StrideH + kh * g.DilationH) * rowStride;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int col = kw * g.DilationW;
                            float* src = split ? pr + (col & 1) * (half + VL) + (col >> 1) + ow : pr + col + ow;
                            acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(src), new Vector<float>(wc[kh * g.KW + kw]), acc);
                        }
                    }
                    acc = Vector.Min(Vector.Max(acc, vlo), vhi);
                    if (ow + VL <= g.OW) Unsafe.WriteUnaligned(yr + ow, acc);
                    else { Unsafe.WriteUnaligned(tmp, acc); for (int j = 0; ow + j < g.OW; j++) yr[ow + j] = tmp[j]; }
                }
            }
        }
    }

    /// <summary>The channel with zero padding around it; with <paramref name="split"/>, columns 0,2,4… then 1,3,5… per row.</summary>
    static void Pad(float* xc, float* p, in ConvGeometry g, int hp, int wp, int rowStride, bool split, int half)
    {
        if (g.StrideW != 1 && !split) throw new NotSupportedException();
        for (int r = 0; r < hp; r++)
        {
            float* row = p + (long)r * rowStride;
            new Span<float>(row, rowStride).Clear();
            int ih = r - g.PadTop;
            if ((uint)ih >= (uint)g.H) continue;
            float* src = xc + (long)ih * g.W;
            int c0 = Math.Max(0, g.PadLeft), n = Math.Min(g.W, wp - g.PadLeft);   // padded column of input column 0; columns that fit
            if (!split) { new ReadOnlySpan<float>(src, Math.Max(0, n)).CopyTo(new Span<float>(row + c0, Math.Max(0, n))); continue; }
            float* odd = row + half + VL;
            for (int iw = 0; iw < n; iw++)
            {
                int pc = iw + g.PadLeft;
                if (pc < 0) continue;
                if ((pc & 1) == 0) row[pc >> 1] = src[iw]; else odd[pc >> 1] = src[iw];
            }
        }
    }

    public static bool Supports(in ConvGeometry g) => g.StrideW is 1 or 2 && g.PadLeft >= 0;
}
