using System.Numerics;
using System.Runtime.CompilerServices;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// Depthwise Conv2D (one filter per channel). Each channel is first copied into a zero-padded plane — for stride 2
/// split into even and odd columns — so that every filter tap reads a contiguous run: the inner loop is a vector FMA
/// per tap with no bounds checks, and bias and clamp are applied before the single store.
/// </summary>
internal static unsafe class Depthwise
{
    static int VL => Vector<float>.Count;

    static (int hp, int wp) Padded(in ConvGeometry g) =>
        ((g.OH - 1) * g.StrideH + (g.KH - 1) * g.DilationH + 1, (g.OW - 1) * g.StrideW + (g.KW - 1) * g.DilationW + 1);

    public static long ScratchFloats(in ConvGeometry g)
    {
        var (hp, wp) = Padded(g);
        return (long)hp * (wp + 2 * VL + 2) + 2 * (wp + 2 * VL + 2) + 2 * VL + 128;
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
        float* tmp = scratch + (long)hp * rowStride + 16;   // (the Pad line buffer starts at +64 and is not live here)   // tail stores; no stackalloc here (it would make the JIT spill acc)
        for (int c = 0; c < g.C; c++)
        {
            float* xc = x + (long)c * g.H * g.W, yc = y + (long)c * plane, wc = w + c * g.KH * g.KW;
            Pad(xc, scratch, g, hp, wp, rowStride, split, half);
            var bias = new Vector<float>(b == null ? 0f : b[c]);
            if (g.KH == 3 && g.KW == 3 && g.DilationH == 1 && g.DilationW == 1) { Rows3x3(scratch, rowStride, split, half, wc, bias, yc, g, vlo, vhi, tmp); continue; }
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
                    acc = Clamp.Of(acc, vlo, vhi);
                    if (ow + VL <= g.OW) Unsafe.WriteUnaligned(yr + ow, acc);
                    else { Unsafe.WriteUnaligned(tmp, acc); for (int j = 0; ow + j < g.OW; j++) yr[ow + j] = tmp[j]; }
                }
            }
        }
    }

    /// <summary>3×3, dilation 1 (MobileNet's case): the nine weights stay in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Rows3x3(float* p, int rowStride, bool split, int half, float* wc, Vector<float> bias, float* yc, in ConvGeometry g, Vector<float> vlo, Vector<float> vhi, float* tmp)
    {
        Vector<float> w0 = new(wc[0]), w1 = new(wc[1]), w2 = new(wc[2]), w3 = new(wc[3]), w4 = new(wc[4]), w5 = new(wc[5]), w6 = new(wc[6]), w7 = new(wc[7]), w8 = new(wc[8]);
        int vl = VL, oddOff = half + vl;
        // Column offsets of taps 0, 1, 2: stride 1 reads columns ow+0/1/2; stride 2 reads even[ow], odd[ow], even[ow+1].
        int o0 = 0, o1 = split ? oddOff : 1, o2 = 2 - (split ? 1 : 0);
        for (int oh = 0; oh < g.OH; oh++)
        {
            float* r0 = p + (long)(oh * g.StrideH) * rowStride, r1 = r0 + rowStride, r2 = r1 + rowStride;
            float* yr = yc + (long)oh * g.OW;
            for (int ow = 0; ow < g.OW; ow += vl)
            {
                var acc = bias;
                acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(r0 + ow + o0), w0, acc);
                acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(r0 + ow + o1), w1, acc);
                acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(r0 + ow + o2), w2, acc);
                acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(r1 + ow + o0), w3, acc);
                acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(r1 + ow + o1), w4, acc);
                acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(r1 + ow + o2), w5, acc);
                acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(r2 + ow + o0), w6, acc);
                acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(r2 + ow + o1), w7, acc);
                acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(r2 + ow + o2), w8, acc);
                acc = Clamp.Of(acc, vlo, vhi);
                if (ow + vl <= g.OW) Unsafe.WriteUnaligned(yr + ow, acc);
                else { Unsafe.WriteUnaligned(tmp, acc); for (int j = 0; ow + j < g.OW; j++) yr[ow + j] = tmp[j]; }
            }
        }
    }

    /// <summary>The channel with zero padding around it; with <paramref name="split"/>, columns 0,2,4… then 1,3,5… per row.</summary>
    static void Pad(float* xc, float* p, in ConvGeometry g, int hp, int wp, int rowStride, bool split, int half)
    {
        int c0 = g.PadLeft, n = Math.Min(g.W, wp - g.PadLeft);   // padded column of input column 0; input columns that fit
        for (int r = 0; r < hp; r++)
        {
            float* row = p + (long)r * rowStride;
            int ih = r - g.PadTop;
            if ((uint)ih >= (uint)g.H || n <= 0) { new Span<float>(row, rowStride).Clear(); continue; }
            float* src = xc + (long)ih * g.W;
            if (!split)
            {
                new Span<float>(row, c0).Clear();
                new ReadOnlySpan<float>(src, n).CopyTo(new Span<float>(row + c0, n));
                new Span<float>(row + c0 + n, rowStride - c0 - n).Clear();
                continue;
            }
            // The padded row in natural order after this channel's planes, then split into even and odd columns.
            float* line = p + (long)hp * rowStride + 64;
            new Span<float>(line, c0).Clear();
            new ReadOnlySpan<float>(src, n).CopyTo(new Span<float>(line + c0, n));
            new Span<float>(line + c0 + n, 2 * half + 2 * VL - c0 - n).Clear();
            Interleave.Split(line, 2 * half, row, row + half + VL);
        }
    }

    public static bool Supports(in ConvGeometry g) => g.StrideW is 1 or 2 && g.PadLeft >= 0;
}
