using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// Depthwise Conv2D channels-last for any kernel size, stride and dilation (BlazeFace's 5×5, stride 1 and 2):
/// x [H, W, C], weights [KH·KW, C], y [OH, OW, C], one block of channels (one vector) per call. Inside the image
/// eight output pixels of a row are computed together (XNNPACK's and MLAS's row tiling): eight independent FMA
/// chains that share each weight vector, each tap one FMA with its input read from memory, no bounds checks. At
/// the border each pixel's valid tap rectangle is computed once, so no tap is tested. Every output is bias +
/// Σ taps in (kh, kw) order whichever path computes it, so a pixel recomputed by an overlapping strip or a channel
/// recomputed by an overlapping block is bit-identical.
/// </summary>
internal static unsafe class DepthwiseNhwcStrips
{
    const int Strip = 8;

    /// <summary>Output rows oh0..oh1, channels c0..c0+TV's width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TV, T>(float* x, float* w, float* b, float* y, in ConvGeometry g, int c0, float lo, float hi, int oh0, int oh1)
        where T : struct, ILanes<TV> where TV : struct
    {
        int C = g.C, H = g.H, W = g.W, OW = g.OW, KH = g.KH, KW = g.KW, sh = g.StrideH, sw = g.StrideW, dh = g.DilationH, dw = g.DilationW, pl = g.PadLeft;
        long rowStride = (long)W * C, tapStep = (long)dw * C, pixelStep = (long)sw * C;
        var bias = b == null ? T.Splat(0f) : T.Load(b + c0);
        var vlo = T.Splat(lo); var vhi = T.Splat(hi);
        // Output columns whose KW taps are all inside the image: owLo <= ow < owHi.
        int owLo = Math.Min(OW, (pl + sw - 1) / sw);
        int lastStart = W - 1 + pl - (KW - 1) * dw;   // the largest ow·sw whose last tap is inside
        int owHi = lastStart < 0 ? owLo : Math.Clamp(lastStart / sw + 1, owLo, OW);
        w += c0;
        for (int oh = oh0; oh < oh1; oh++)
        {
            int ih0 = oh * sh - g.PadTop;
            int khLo = FirstInside(ih0, dh), khHi = Math.Max(khLo, LastInside(ih0, dh, H, KH));
            float* top = x + (long)(ih0 + khLo * dh) * rowStride + c0;   // the first valid kernel row
            float* wTop = w + (long)khLo * KW * C;
            float* yr = y + (long)oh * OW * C + c0;
            int rows = khHi - khLo;
            int ow = 0;
            for (; ow < owLo; ow++) Border<TV, T>(top, wTop, yr, g, ow, rows, rowStride, bias, vlo, vhi);
            for (; ow + Strip <= owHi; ow += Strip)
                Strip8<TV, T>(top + (long)(ow * sw - pl) * C, wTop, yr + (long)ow * C, KW, C, rows, rowStride, tapStep, pixelStep, dh, bias, vlo, vhi);
            // The last few interior pixels: one strip ending at owHi, overlapping pixels already written.
            if (ow < owHi && owHi - owLo >= Strip)
            {
                int o = owHi - Strip;
                Strip8<TV, T>(top + (long)(o * sw - pl) * C, wTop, yr + (long)o * C, KW, C, rows, rowStride, tapStep, pixelStep, dh, bias, vlo, vhi);
                ow = owHi;
            }
            for (; ow < OW; ow++) Border<TV, T>(top, wTop, yr, g, ow, rows, rowStride, bias, vlo, vhi);
        }
    }

    /// <summary>The first kernel index whose tap (start + k·d) is ≥ 0.</summary>
    static int FirstInside(int start, int d) => start >= 0 ? 0 : (-start + d - 1) / d;

    /// <summary>One past the last kernel index (≤ k) whose tap (start + k·d) is &lt; size.</summary>
    static int LastInside(int start, int d, int size, int k) => start > size - 1 ? 0 : Math.Min(k, (size - 1 - start) / d + 1);

    /// <summary>Eight output pixels from <paramref name="p"/> (the first one's first valid tap), <paramref name="rows"/>
    /// kernel rows of <paramref name="kw"/> taps each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Strip8<TV, T>(float* p, float* wk, float* o, int kw, int C, int rows, long rowStride, long tapStep, long pixelStep, int dh,
        TV bias, TV lo, TV hi) where T : struct, ILanes<TV> where TV : struct
    {
        TV a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        // The pixels' byte offsets from the tap, computed once: each load takes one as its register offset (arm64 LDR
        // [q, s3]; x64 [q + s3]), where q + i·s multiplied every tap and kept s and tapStep on the stack (RyuJIT arm64).
        nint s1 = (nint)pixelStep * sizeof(float), s2 = 2 * s1, s3 = 3 * s1, s4 = 4 * s1, s5 = 5 * s1, s6 = 6 * s1, s7 = 7 * s1;
        nint step = (nint)tapStep * sizeof(float), wStep = (nint)C * sizeof(float);
        for (int r = 0; r < rows; r++, p += dh * rowStride)
        {
            byte* q = (byte*)p;
            for (int k = 0; k < kw; k++, q += step, wk = (float*)((byte*)wk + wStep))
            {
                var wv = T.Load(wk);
                a0 = T.Fma(T.Load((float*)q), wv, a0);
                a1 = T.Fma(T.Load((float*)(q + s1)), wv, a1);
                a2 = T.Fma(T.Load((float*)(q + s2)), wv, a2);
                a3 = T.Fma(T.Load((float*)(q + s3)), wv, a3);
                a4 = T.Fma(T.Load((float*)(q + s4)), wv, a4);
                a5 = T.Fma(T.Load((float*)(q + s5)), wv, a5);
                a6 = T.Fma(T.Load((float*)(q + s6)), wv, a6);
                a7 = T.Fma(T.Load((float*)(q + s7)), wv, a7);
            }
        }
        T.Store(o, a0, lo, hi); T.Store(o + C, a1, lo, hi); T.Store(o + 2 * C, a2, lo, hi); T.Store(o + 3 * C, a3, lo, hi);
        T.Store(o + 4 * C, a4, lo, hi); T.Store(o + 5 * C, a5, lo, hi); T.Store(o + 6 * C, a6, lo, hi); T.Store(o + 7 * C, a7, lo, hi);
    }

    /// <summary>One output pixel with its taps clipped to the image (any pixel; used at the border).</summary>
    static void Border<TV, T>(float* top, float* wTop, float* yr, in ConvGeometry g, int ow, int rows, long rowStride, TV acc, TV lo, TV hi)
        where T : struct, ILanes<TV> where TV : struct
    {
        int C = g.C, iw0 = ow * g.StrideW - g.PadLeft, dw = g.DilationW;
        int kwLo = FirstInside(iw0, dw), kwHi = LastInside(iw0, dw, g.W, g.KW);
        for (int r = 0; r < rows; r++)
        {
            float* p = top + r * g.DilationH * rowStride + (long)iw0 * C;
            float* wr = wTop + (long)r * g.KW * C;
            for (int k = kwLo; k < kwHi; k++) acc = T.Fma(T.Load(p + (long)k * dw * C), T.Load(wr + (long)k * C), acc);
        }
        T.Store(yr + (long)ow * C, acc, lo, hi);
    }
}

/// <summary><see cref="Lanes512"/> whose stores apply SiLU, x·σ(x), after the clamp
/// (<see cref="VectorSigmoid.Swish(Vector512{float}, Vector512{float})"/>): the activation of a depthwise conv fused
/// into its output, as a clamp is (<see cref="DepthwiseNhwc.FusesSwish"/>).</summary>
internal readonly unsafe struct Lanes512Swish : ILanes<Vector512<float>>
{
    public static int Count => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Splat(float v) => Vector512.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Fma(Vector512<float> x, Vector512<float> w, Vector512<float> acc) => Vector512.FusedMultiplyAdd(x, w, acc);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Div(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> v) => VectorSigmoid.Swish(v).Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> v, Vector512<float> lo, Vector512<float> hi) =>
        VectorSigmoid.Swish(Clamp.Of(v, lo, hi)).Store(p);
}
