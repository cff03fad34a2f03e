using System.Numerics;
using System.Runtime.CompilerServices;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// MaxPool and AveragePool on one channels-last image, x [H, W, C] → y [OH, OW, C]: per output pixel the valid taps'
/// offsets are listed once, then every run of channels is one vector chain over them (two runs at a time, so two
/// chains overlap; the last run ends at C, overlapping the one before when C is not a multiple of the vector: the
/// same values written twice). Per channel the taps go in Reference.Pool's order from the same start (−∞, or 0 then
/// one divide by the count), with IEEE max (NaN wins, +0 over −0), so the result is the reference's bit for bit.
/// </summary>
internal static unsafe class PoolNhwc
{
    /// <summary>Bytes of the tap list <see cref="Max"/> and <see cref="Average"/> take as scratch.</summary>
    public static long ScratchBytes(in ConvGeometry g) => 4L * g.KH * g.KW;

    public static void Max(float* x, float* y, in ConvGeometry g, int* tap) => Run<MaxOp>(x, y, g, tap, false, 0, 0);

    public static void Average(float* x, float* y, in ConvGeometry g, int* tap, bool countIncludePad, int padBottom, int padRight) =>
        Run<SumOp>(x, y, g, tap, countIncludePad, padBottom, padRight);

    interface IOp
    {
        static abstract float Start { get; }
        static abstract Vector<float> Step(Vector<float> a, Vector<float> x);
        static abstract float Step(float a, float x);
    }
    struct MaxOp : IOp
    {
        public static float Start => float.NegativeInfinity;
        public static Vector<float> Step(Vector<float> a, Vector<float> x) => Vector.Max(a, x);
        public static float Step(float a, float x) => Math.Max(a, x);
    }
    struct SumOp : IOp
    {
        public static float Start => 0f;
        public static Vector<float> Step(Vector<float> a, Vector<float> x) => a + x;
        public static float Step(float a, float x) => a + x;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Run<T>(float* x, float* y, in ConvGeometry g, int* tap, bool countIncludePad, int padBottom, int padRight) where T : struct, IOp
    {
        int C = g.C, vl = Vector<float>.Count;
        bool average = typeof(T) == typeof(SumOp);
        for (int oh = 0; oh < g.OH; oh++)
        {
            int h0 = oh * g.StrideH - g.PadTop;
            for (int ow = 0; ow < g.OW; ow++)
            {
                int w0 = ow * g.StrideW - g.PadLeft, taps = 0;
                for (int kh = 0; kh < g.KH; kh++)
                {
                    int ih = h0 + kh * g.DilationH;
                    if ((uint)ih >= (uint)g.H) continue;
                    for (int kw = 0; kw < g.KW; kw++)
                    {
                        int iw = w0 + kw * g.DilationW;
                        if ((uint)iw < (uint)g.W) tap[taps++] = (ih * g.W + iw) * C;
                    }
                }
                float* o = y + ((long)oh * g.OW + ow) * C;
                int count = !average ? 1 : countIncludePad ? Pool.IncludedPad(g, h0, w0, padBottom, padRight) : taps;
                if (average && count == 0) { new Span<float>(o, C).Clear(); continue; }
                if (C < vl)
                {
                    for (int ch = 0; ch < C; ch++)
                    {
                        float a = T.Start;
                        for (int t = 0; t < taps; t++) a = T.Step(a, x[tap[t] + ch]);
                        o[ch] = average ? a / count : a;
                    }
                    continue;
                }
                var divisor = new Vector<float>(count);
                if (C < 2 * vl) { Pair<T>(x, tap, taps, 0, C - vl, average, divisor, o); continue; }
                int c = 0;
                for (; c + 2 * vl <= C; c += 2 * vl) Pair<T>(x, tap, taps, c, c + vl, average, divisor, o);
                if (c == C) continue;
                if (C - c <= vl) Single<T>(x, tap, taps, C - vl, average, divisor, o);
                else Pair<T>(x, tap, taps, C - 2 * vl, C - vl, average, divisor, o);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Single<T>(float* x, int* tap, int taps, int c, bool average, Vector<float> divisor, float* o) where T : struct, IOp
    {
        Vector<float> a = new(T.Start);
        for (int t = 0; t < taps; t++) a = T.Step(a, Vector.Load(x + tap[t] + c));
        if (average) a /= divisor;
        a.Store(o + c);
    }

    /// <summary>Channels c0.. and c1.. (one vector each) of one output pixel: two independent chains over the taps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Pair<T>(float* x, int* tap, int taps, int c0, int c1, bool average, Vector<float> divisor, float* o) where T : struct, IOp
    {
        Vector<float> a = new(T.Start), b = a;
        for (int t = 0; t < taps; t++)
        {
            float* p = x + tap[t];
            a = T.Step(a, Vector.Load(p + c0)); b = T.Step(b, Vector.Load(p + c1));
        }
        if (average) { a /= divisor; b /= divisor; }
        a.Store(o + c0); b.Store(o + c1);
    }
}
