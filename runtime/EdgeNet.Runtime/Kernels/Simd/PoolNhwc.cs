using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// MaxPool and AveragePool on one channels-last image, x [H, W, C] → y [OH, OW, C]: the taps' offsets from a window's
/// corner are listed once for the pixels whose window lies inside the image; a border pixel lists its valid taps'
/// offsets itself. Then every run of channels is one vector chain over them (16 wide where AVX-512 runs them, two
/// runs at a time, so two chains overlap; the last run ends at C, overlapping the one before when C is not a multiple
/// of the vector: the same values written twice). Per channel the taps go in Reference.Pool's order from the same
/// start (−∞, or 0 then one divide by the count), with IEEE max (NaN wins, +0 over −0), so the result is the
/// reference's bit for bit.
/// </summary>
internal static unsafe class PoolNhwc
{
    /// <summary>Bytes of the two tap lists (interior, border) <see cref="Max"/> and <see cref="Average"/> take as scratch.</summary>
    public static long ScratchBytes(in ConvGeometry g) => 8L * g.KH * g.KW;

    public static void Max(float* x, float* y, in ConvGeometry g, int* tap) => Run<MaxOp>(x, y, g, tap, false, 0, 0);

    public static void Average(float* x, float* y, in ConvGeometry g, int* tap, bool countIncludePad, int padBottom, int padRight) =>
        Run<SumOp>(x, y, g, tap, countIncludePad, padBottom, padRight);

    interface IOp
    {
        static abstract float Start { get; }
        static abstract TV Step<TV, L>(TV a, TV x) where L : struct, ILanes<TV> where TV : struct;
        static abstract float Step(float a, float x);
    }
    struct MaxOp : IOp
    {
        public static float Start => float.NegativeInfinity;
        public static TV Step<TV, L>(TV a, TV x) where L : struct, ILanes<TV> where TV : struct => L.Max(a, x);
        public static float Step(float a, float x) => Math.Max(a, x);
    }
    struct SumOp : IOp
    {
        public static float Start => 0f;
        public static TV Step<TV, L>(TV a, TV x) where L : struct, ILanes<TV> where TV : struct => L.Add(a, x);
        public static float Step(float a, float x) => a + x;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Run<T>(float* x, float* y, in ConvGeometry g, int* scratch, bool countIncludePad, int padBottom, int padRight) where T : struct, IOp
    {
        int C = g.C, KH = g.KH, KW = g.KW, all = KH * KW;
        bool average = typeof(T) == typeof(SumOp);
        int* inner = scratch, border = scratch + all;
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++) inner[kh * KW + kw] = (kh * g.DilationH * g.W + kw * g.DilationW) * C;
        // Output columns whose window is inside the image: owLo <= ow < owHi (rows likewise).
        int reachW = (KW - 1) * g.DilationW, reachH = (KH - 1) * g.DilationH;
        int owLo = Math.Min(g.OW, (g.PadLeft + g.StrideW - 1) / g.StrideW);
        int owHi = g.W - 1 - reachW + g.PadLeft < 0 ? owLo : Math.Clamp((g.W - 1 - reachW + g.PadLeft) / g.StrideW + 1, owLo, g.OW);
        for (int oh = 0; oh < g.OH; oh++)
        {
            int h0 = oh * g.StrideH - g.PadTop;
            bool rowInside = h0 >= 0 && h0 + reachH < g.H;
            for (int ow = 0; ow < g.OW; ow++)
            {
                int w0 = ow * g.StrideW - g.PadLeft;
                float* o = y + ((long)oh * g.OW + ow) * C;
                if (rowInside && ow >= owLo && ow < owHi)
                {
                    Channels<T>(x + ((long)h0 * g.W + w0) * C, inner, all, C, average, all, o);
                    continue;
                }
                int taps = 0;
                for (int kh = 0; kh < KH; kh++)
                {
                    int ih = h0 + kh * g.DilationH;
                    if ((uint)ih >= (uint)g.H) continue;
                    for (int kw = 0; kw < KW; kw++)
                    {
                        int iw = w0 + kw * g.DilationW;
                        if ((uint)iw < (uint)g.W) border[taps++] = (ih * g.W + iw) * C;
                    }
                }
                int count = !average ? 1 : countIncludePad ? Pool.IncludedPad(g, h0, w0, padBottom, padRight) : taps;
                if (average && count == 0) { new Span<float>(o, C).Clear(); continue; }
                Channels<T>(x, border, taps, C, average, count, o);
            }
        }
    }

    /// <summary>All C channels of one output pixel: the taps at x + tap[t], combined run by run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Channels<T>(float* x, int* tap, int taps, int C, bool average, int count, float* o) where T : struct, IOp
    {
        int vl = Vector<float>.Count;
        if (C < vl)
        {
            for (int ch = 0; ch < C; ch++)
            {
                float a = T.Start;
                for (int t = 0; t < taps; t++) a = T.Step(a, x[tap[t] + ch]);
                o[ch] = average ? a / count : a;
            }
            return;
        }
        if (Vector512.IsHardwareAccelerated && C >= 16) Runs<Vector512<float>, Lanes512, T>(x, tap, taps, C, average, count, o);
        else Runs<Vector<float>, LanesNative, T>(x, tap, taps, C, average, count, o);
    }

    /// <summary>C ≥ one vector: runs of channels two at a time, the last ending at C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Runs<TV, L, T>(float* x, int* tap, int taps, int C, bool average, int count, float* o)
        where L : struct, ILanes<TV> where TV : struct where T : struct, IOp
    {
        int vl = L.Count;
        var divisor = L.Splat(count);
        if (C < 2 * vl) { Pair<TV, L, T>(x, tap, taps, 0, C - vl, average, divisor, o); return; }
        int c = 0;
        for (; c + 2 * vl <= C; c += 2 * vl) Pair<TV, L, T>(x, tap, taps, c, c + vl, average, divisor, o);
        if (c == C) return;
        if (C - c <= vl) Single<TV, L, T>(x, tap, taps, C - vl, average, divisor, o);
        else Pair<TV, L, T>(x, tap, taps, C - 2 * vl, C - vl, average, divisor, o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Single<TV, L, T>(float* x, int* tap, int taps, int c, bool average, TV divisor, float* o)
        where L : struct, ILanes<TV> where TV : struct where T : struct, IOp
    {
        var a = L.Splat(T.Start);
        for (int t = 0; t < taps; t++) a = T.Step<TV, L>(a, L.Load(x + tap[t] + c));
        if (average) a = L.Div(a, divisor);
        L.Store(o + c, a);
    }

    /// <summary>Channels c0.. and c1.. (one vector each) of one output pixel: two independent chains over the taps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Pair<TV, L, T>(float* x, int* tap, int taps, int c0, int c1, bool average, TV divisor, float* o)
        where L : struct, ILanes<TV> where TV : struct where T : struct, IOp
    {
        TV a = L.Splat(T.Start), b = a;
        for (int t = 0; t < taps; t++)
        {
            float* p = x + tap[t];
            a = T.Step<TV, L>(a, L.Load(p + c0)); b = T.Step<TV, L>(b, L.Load(p + c1));
        }
        if (average) { a = L.Div(a, divisor); b = L.Div(b, divisor); }
        L.Store(o + c0, a); L.Store(o + c1, b);
    }
}
