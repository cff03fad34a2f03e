using System.Runtime.CompilerServices;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// Depthwise 5×5 channels-last at column stride 1 or 2 (EfficientNet, MobileNetV3, BlazeFace): x [H, W, C], weights
/// [25, C], y [OH, OW, C], one block of channels (one vector) per call. A strip of 8 (or 4) output pixels of a row
/// keeps its accumulators in registers; each kernel row loads its five weight vectors once and slides along the input
/// row, so every input vector is loaded once and feeds every output of the strip whose window covers it (stride 1:
/// 12 loads for 40 FMAs, where <see cref="DepthwiseNhwcStrips"/> loads one input per FMA; XNNPACK's and MLAS's row
/// tiling). Columns outside the image are skipped by a bit mask computed once per strip and rows outside by the kernel
/// row range, so border pixels run the same code. Every output is bias + Σ taps in (kh, kw) order, as in
/// <see cref="DepthwiseNhwcStrips"/>: a strip overlapping the one before it (the last of a row) rewrites the same values.
/// </summary>
internal static unsafe class DepthwiseNhwc5x5
{
    /// <summary>Whether a geometry runs here: 5×5, no dilation, column stride 1 or 2, at least four output columns.</summary>
    public static bool Fits(in ConvGeometry g) =>
        g.KH == 5 && g.KW == 5 && g.DilationH == 1 && g.DilationW == 1 && (g.StrideW == 1 || g.StrideW == 2) && g.OW >= 4;

    /// <summary>Output rows oh0..oh1, channels c0..c0+TV's width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TV, T>(float* x, float* w, float* b, float* y, in ConvGeometry g, int c0, float lo, float hi, int oh0, int oh1)
        where T : struct, ILanes<TV> where TV : struct
    {
        int C = g.C, H = g.H, W = g.W, OW = g.OW, sw = g.StrideW, pl = g.PadLeft;
        long rowStride = (long)W * C;
        var bias = b == null ? T.Splat(0f) : T.Load(b + c0);
        var vlo = T.Splat(lo); var vhi = T.Splat(hi);
        int n = OW >= 8 ? 8 : 4, span = (n - 1) * sw + 5;
        for (int oh = oh0; oh < oh1; oh++)
        {
            int ih0 = oh * g.StrideH - g.PadTop;
            int khLo = Math.Max(0, -ih0), rows = Math.Max(0, Math.Min(5, H - ih0) - khLo);
            float* top = x + (long)(ih0 + khLo) * rowStride + c0;   // not read when rows is 0
            float* wTop = w + c0 + (long)khLo * 5 * C;
            float* yr = y + (long)oh * OW * C + c0;
            for (int ow = 0; ow < OW; ow += n)
            {
                int o = Math.Min(ow, OW - n), iw = o * sw - pl;   // the last strip ends at OW, overlapping
                uint m = Columns(Math.Max(0, -iw), Math.Min(span, W - iw));
                float* p = top + (long)iw * C, q = yr + (long)o * C;
                if (sw == 1)
                {
                    if (n == 8) S1N8<TV, T>(p, wTop, q, C, rows, rowStride, m, bias, vlo, vhi);
                    else S1N4<TV, T>(p, wTop, q, C, rows, rowStride, m, bias, vlo, vhi);
                }
                else if (n == 8) S2N8<TV, T>(p, wTop, q, C, rows, rowStride, m, bias, vlo, vhi);
                else S2N4<TV, T>(p, wTop, q, C, rows, rowStride, m, bias, vlo, vhi);
            }
        }
    }

    /// <summary>Bits lo..hi-1 set (none when hi ≤ lo).</summary>
    static uint Columns(int lo, int hi) => hi <= lo ? 0u : (uint)((1L << hi) - (1L << lo));

    /// <summary>8 outputs at stride 1: input columns 0..11 of each kernel row, column i read only if bit i of
    /// <paramref name="m"/> is set (inside the image).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void S1N8<TV, T>(float* p, float* wk, float* o, int C, int rows, long rowStride, uint m, TV bias, TV lo, TV hi)
        where T : struct, ILanes<TV> where TV : struct
    {
        TV a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        for (int r = 0; r < rows; r++, p += rowStride, wk += 5 * C)
        {
            TV u0 = T.Load(wk), u1 = T.Load(wk + C), u2 = T.Load(wk + 2 * C), u3 = T.Load(wk + 3 * C), u4 = T.Load(wk + 4 * C), x;
            if ((m & 1u << 0) != 0) { x = T.Load(p); a0 = T.Fma(x, u0, a0); }
            if ((m & 1u << 1) != 0) { x = T.Load(p + C); a0 = T.Fma(x, u1, a0); a1 = T.Fma(x, u0, a1); }
            if ((m & 1u << 2) != 0) { x = T.Load(p + 2 * C); a0 = T.Fma(x, u2, a0); a1 = T.Fma(x, u1, a1); a2 = T.Fma(x, u0, a2); }
            if ((m & 1u << 3) != 0) { x = T.Load(p + 3 * C); a0 = T.Fma(x, u3, a0); a1 = T.Fma(x, u2, a1); a2 = T.Fma(x, u1, a2); a3 = T.Fma(x, u0, a3); }
            if ((m & 1u << 4) != 0) { x = T.Load(p + 4 * C); a0 = T.Fma(x, u4, a0); a1 = T.Fma(x, u3, a1); a2 = T.Fma(x, u2, a2); a3 = T.Fma(x, u1, a3); a4 = T.Fma(x, u0, a4); }
            if ((m & 1u << 5) != 0) { x = T.Load(p + 5 * C); a1 = T.Fma(x, u4, a1); a2 = T.Fma(x, u3, a2); a3 = T.Fma(x, u2, a3); a4 = T.Fma(x, u1, a4); a5 = T.Fma(x, u0, a5); }
            if ((m & 1u << 6) != 0) { x = T.Load(p + 6 * C); a2 = T.Fma(x, u4, a2); a3 = T.Fma(x, u3, a3); a4 = T.Fma(x, u2, a4); a5 = T.Fma(x, u1, a5); a6 = T.Fma(x, u0, a6); }
            if ((m & 1u << 7) != 0) { x = T.Load(p + 7 * C); a3 = T.Fma(x, u4, a3); a4 = T.Fma(x, u3, a4); a5 = T.Fma(x, u2, a5); a6 = T.Fma(x, u1, a6); a7 = T.Fma(x, u0, a7); }
            if ((m & 1u << 8) != 0) { x = T.Load(p + 8 * C); a4 = T.Fma(x, u4, a4); a5 = T.Fma(x, u3, a5); a6 = T.Fma(x, u2, a6); a7 = T.Fma(x, u1, a7); }
            if ((m & 1u << 9) != 0) { x = T.Load(p + 9 * C); a5 = T.Fma(x, u4, a5); a6 = T.Fma(x, u3, a6); a7 = T.Fma(x, u2, a7); }
            if ((m & 1u << 10) != 0) { x = T.Load(p + 10 * C); a6 = T.Fma(x, u4, a6); a7 = T.Fma(x, u3, a7); }
            if ((m & 1u << 11) != 0) { x = T.Load(p + 11 * C); a7 = T.Fma(x, u4, a7); }
        }
        T.Store(o, a0, lo, hi); T.Store(o + C, a1, lo, hi); T.Store(o + 2 * C, a2, lo, hi); T.Store(o + 3 * C, a3, lo, hi); T.Store(o + 4 * C, a4, lo, hi); T.Store(o + 5 * C, a5, lo, hi); T.Store(o + 6 * C, a6, lo, hi); T.Store(o + 7 * C, a7, lo, hi);
    }

    /// <summary>4 outputs at stride 1: input columns 0..7 of each kernel row, column i read only if bit i of
    /// <paramref name="m"/> is set (inside the image).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void S1N4<TV, T>(float* p, float* wk, float* o, int C, int rows, long rowStride, uint m, TV bias, TV lo, TV hi)
        where T : struct, ILanes<TV> where TV : struct
    {
        TV a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        for (int r = 0; r < rows; r++, p += rowStride, wk += 5 * C)
        {
            TV u0 = T.Load(wk), u1 = T.Load(wk + C), u2 = T.Load(wk + 2 * C), u3 = T.Load(wk + 3 * C), u4 = T.Load(wk + 4 * C), x;
            if ((m & 1u << 0) != 0) { x = T.Load(p); a0 = T.Fma(x, u0, a0); }
            if ((m & 1u << 1) != 0) { x = T.Load(p + C); a0 = T.Fma(x, u1, a0); a1 = T.Fma(x, u0, a1); }
            if ((m & 1u << 2) != 0) { x = T.Load(p + 2 * C); a0 = T.Fma(x, u2, a0); a1 = T.Fma(x, u1, a1); a2 = T.Fma(x, u0, a2); }
            if ((m & 1u << 3) != 0) { x = T.Load(p + 3 * C); a0 = T.Fma(x, u3, a0); a1 = T.Fma(x, u2, a1); a2 = T.Fma(x, u1, a2); a3 = T.Fma(x, u0, a3); }
            if ((m & 1u << 4) != 0) { x = T.Load(p + 4 * C); a0 = T.Fma(x, u4, a0); a1 = T.Fma(x, u3, a1); a2 = T.Fma(x, u2, a2); a3 = T.Fma(x, u1, a3); }
            if ((m & 1u << 5) != 0) { x = T.Load(p + 5 * C); a1 = T.Fma(x, u4, a1); a2 = T.Fma(x, u3, a2); a3 = T.Fma(x, u2, a3); }
            if ((m & 1u << 6) != 0) { x = T.Load(p + 6 * C); a2 = T.Fma(x, u4, a2); a3 = T.Fma(x, u3, a3); }
            if ((m & 1u << 7) != 0) { x = T.Load(p + 7 * C); a3 = T.Fma(x, u4, a3); }
        }
        T.Store(o, a0, lo, hi); T.Store(o + C, a1, lo, hi); T.Store(o + 2 * C, a2, lo, hi); T.Store(o + 3 * C, a3, lo, hi);
    }

    /// <summary>8 outputs at stride 2: input columns 0..18 of each kernel row, column i read only if bit i of
    /// <paramref name="m"/> is set (inside the image).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void S2N8<TV, T>(float* p, float* wk, float* o, int C, int rows, long rowStride, uint m, TV bias, TV lo, TV hi)
        where T : struct, ILanes<TV> where TV : struct
    {
        TV a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        for (int r = 0; r < rows; r++, p += rowStride, wk += 5 * C)
        {
            TV u0 = T.Load(wk), u1 = T.Load(wk + C), u2 = T.Load(wk + 2 * C), u3 = T.Load(wk + 3 * C), u4 = T.Load(wk + 4 * C), x;
            if ((m & 1u << 0) != 0) { x = T.Load(p); a0 = T.Fma(x, u0, a0); }
            if ((m & 1u << 1) != 0) { x = T.Load(p + C); a0 = T.Fma(x, u1, a0); }
            if ((m & 1u << 2) != 0) { x = T.Load(p + 2 * C); a0 = T.Fma(x, u2, a0); a1 = T.Fma(x, u0, a1); }
            if ((m & 1u << 3) != 0) { x = T.Load(p + 3 * C); a0 = T.Fma(x, u3, a0); a1 = T.Fma(x, u1, a1); }
            if ((m & 1u << 4) != 0) { x = T.Load(p + 4 * C); a0 = T.Fma(x, u4, a0); a1 = T.Fma(x, u2, a1); a2 = T.Fma(x, u0, a2); }
            if ((m & 1u << 5) != 0) { x = T.Load(p + 5 * C); a1 = T.Fma(x, u3, a1); a2 = T.Fma(x, u1, a2); }
            if ((m & 1u << 6) != 0) { x = T.Load(p + 6 * C); a1 = T.Fma(x, u4, a1); a2 = T.Fma(x, u2, a2); a3 = T.Fma(x, u0, a3); }
            if ((m & 1u << 7) != 0) { x = T.Load(p + 7 * C); a2 = T.Fma(x, u3, a2); a3 = T.Fma(x, u1, a3); }
            if ((m & 1u << 8) != 0) { x = T.Load(p + 8 * C); a2 = T.Fma(x, u4, a2); a3 = T.Fma(x, u2, a3); a4 = T.Fma(x, u0, a4); }
            if ((m & 1u << 9) != 0) { x = T.Load(p + 9 * C); a3 = T.Fma(x, u3, a3); a4 = T.Fma(x, u1, a4); }
            if ((m & 1u << 10) != 0) { x = T.Load(p + 10 * C); a3 = T.Fma(x, u4, a3); a4 = T.Fma(x, u2, a4); a5 = T.Fma(x, u0, a5); }
            if ((m & 1u << 11) != 0) { x = T.Load(p + 11 * C); a4 = T.Fma(x, u3, a4); a5 = T.Fma(x, u1, a5); }
            if ((m & 1u << 12) != 0) { x = T.Load(p + 12 * C); a4 = T.Fma(x, u4, a4); a5 = T.Fma(x, u2, a5); a6 = T.Fma(x, u0, a6); }
            if ((m & 1u << 13) != 0) { x = T.Load(p + 13 * C); a5 = T.Fma(x, u3, a5); a6 = T.Fma(x, u1, a6); }
            if ((m & 1u << 14) != 0) { x = T.Load(p + 14 * C); a5 = T.Fma(x, u4, a5); a6 = T.Fma(x, u2, a6); a7 = T.Fma(x, u0, a7); }
            if ((m & 1u << 15) != 0) { x = T.Load(p + 15 * C); a6 = T.Fma(x, u3, a6); a7 = T.Fma(x, u1, a7); }
            if ((m & 1u << 16) != 0) { x = T.Load(p + 16 * C); a6 = T.Fma(x, u4, a6); a7 = T.Fma(x, u2, a7); }
            if ((m & 1u << 17) != 0) { x = T.Load(p + 17 * C); a7 = T.Fma(x, u3, a7); }
            if ((m & 1u << 18) != 0) { x = T.Load(p + 18 * C); a7 = T.Fma(x, u4, a7); }
        }
        T.Store(o, a0, lo, hi); T.Store(o + C, a1, lo, hi); T.Store(o + 2 * C, a2, lo, hi); T.Store(o + 3 * C, a3, lo, hi); T.Store(o + 4 * C, a4, lo, hi); T.Store(o + 5 * C, a5, lo, hi); T.Store(o + 6 * C, a6, lo, hi); T.Store(o + 7 * C, a7, lo, hi);
    }

    /// <summary>4 outputs at stride 2: input columns 0..10 of each kernel row, column i read only if bit i of
    /// <paramref name="m"/> is set (inside the image).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void S2N4<TV, T>(float* p, float* wk, float* o, int C, int rows, long rowStride, uint m, TV bias, TV lo, TV hi)
        where T : struct, ILanes<TV> where TV : struct
    {
        TV a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        for (int r = 0; r < rows; r++, p += rowStride, wk += 5 * C)
        {
            TV u0 = T.Load(wk), u1 = T.Load(wk + C), u2 = T.Load(wk + 2 * C), u3 = T.Load(wk + 3 * C), u4 = T.Load(wk + 4 * C), x;
            if ((m & 1u << 0) != 0) { x = T.Load(p); a0 = T.Fma(x, u0, a0); }
            if ((m & 1u << 1) != 0) { x = T.Load(p + C); a0 = T.Fma(x, u1, a0); }
            if ((m & 1u << 2) != 0) { x = T.Load(p + 2 * C); a0 = T.Fma(x, u2, a0); a1 = T.Fma(x, u0, a1); }
            if ((m & 1u << 3) != 0) { x = T.Load(p + 3 * C); a0 = T.Fma(x, u3, a0); a1 = T.Fma(x, u1, a1); }
            if ((m & 1u << 4) != 0) { x = T.Load(p + 4 * C); a0 = T.Fma(x, u4, a0); a1 = T.Fma(x, u2, a1); a2 = T.Fma(x, u0, a2); }
            if ((m & 1u << 5) != 0) { x = T.Load(p + 5 * C); a1 = T.Fma(x, u3, a1); a2 = T.Fma(x, u1, a2); }
            if ((m & 1u << 6) != 0) { x = T.Load(p + 6 * C); a1 = T.Fma(x, u4, a1); a2 = T.Fma(x, u2, a2); a3 = T.Fma(x, u0, a3); }
            if ((m & 1u << 7) != 0) { x = T.Load(p + 7 * C); a2 = T.Fma(x, u3, a2); a3 = T.Fma(x, u1, a3); }
            if ((m & 1u << 8) != 0) { x = T.Load(p + 8 * C); a2 = T.Fma(x, u4, a2); a3 = T.Fma(x, u2, a3); }
            if ((m & 1u << 9) != 0) { x = T.Load(p + 9 * C); a3 = T.Fma(x, u3, a3); }
            if ((m & 1u << 10) != 0) { x = T.Load(p + 10 * C); a3 = T.Fma(x, u4, a3); }
        }
        T.Store(o, a0, lo, hi); T.Store(o + C, a1, lo, hi); T.Store(o + 2 * C, a2, lo, hi); T.Store(o + 3 * C, a3, lo, hi);
    }
}
