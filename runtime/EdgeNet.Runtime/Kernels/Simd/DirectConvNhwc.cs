using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// A convolution with few input channels (a network's first layer: 3 colour planes, 3×3, stride 2) read from NCHW
/// and written channels-last: per output pixel, the output channels are the vector and each of the C·KH·KW taps is one
/// broadcast input value times a row of the weights [taps, OC] (L1-resident). No im2col and no transpose afterwards.
/// Four pixels share each weight load (with AVX-512 at stride 1 or 2: eight, or sixteen where the slice is one vector
/// of 16 channels, as YOLOv5's and YuNet's stems: 16 accumulators, the pixels' inputs at constant offsets from one pointer). On x86 a padded stem reads a zero-padded copy of its input (<see cref="Pad"/>,
/// as MLAS's NCHW conv reads padded rows), so every pixel takes the tiled path instead of the per-tap checks of
/// <see cref="Border"/> (a 7×7 stem at stride 2 has 5% border pixels, each several times a tiled pixel's cost); the
/// padded taps add exact zeros, so the sums are the unpadded ones. Needs OC to be a multiple of Vector&lt;float&gt;.Count.
/// </summary>
internal static unsafe class DirectConvNhwc
{
    public static bool Supports(int oc) => oc % Vector<float>.Count == 0;

    /// <summary>Whether <see cref="Run"/> should read a padded copy (x86; NEON loops over the valid taps instead).</summary>
    public static bool Pads(in ConvGeometry g) => System.Runtime.Intrinsics.X86.Avx2.IsSupported && !Padded(g).Equals(g);

    /// <summary>The geometry of the padded copy: no padding, rows and columns enough for every window.</summary>
    public static ConvGeometry Padded(in ConvGeometry g) => g with
    {
        H = Math.Max(g.H + g.PadTop, (g.OH - 1) * g.StrideH + (g.KH - 1) * g.DilationH + 1),
        W = Math.Max(g.W + g.PadLeft, (g.OW - 1) * g.StrideW + (g.KW - 1) * g.DilationW + 1),
        PadTop = 0, PadLeft = 0,
    };

    /// <summary>x [C, H, W] of one image → its zero-padded copy [C, Padded.H, Padded.W].</summary>
    public static void Pad(float* x, in ConvGeometry g, float* dst)
    {
        // Only the border is cleared: the image's rows are copied over the rest (clearing all of it first wrote the
        // whole copy twice, 1.2 MB more for a 320² stem).
        var p = Padded(g);
        int right = p.W - g.PadLeft - g.W;
        for (int c = 0; c < g.C; c++)
        {
            float* plane = dst + (long)c * p.H * p.W;
            new Span<float>(plane, g.PadTop * p.W).Clear();
            for (int h = 0; h < g.H; h++)
            {
                float* row = plane + (long)(h + g.PadTop) * p.W;
                new Span<float>(row, g.PadLeft).Clear();
                new ReadOnlySpan<float>(x + ((long)c * g.H + h) * g.W, g.W).CopyTo(new Span<float>(row + g.PadLeft, g.W));
                new Span<float>(row + g.PadLeft + g.W, right).Clear();
            }
            new Span<float>(plane + (long)(g.PadTop + g.H) * p.W, (p.H - g.PadTop - g.H) * p.W).Clear();
        }
    }

    /// <summary>512-bit vectors (<see cref="RunV512"/>): any OC that is a multiple of 8.</summary>
    static bool Wide => Vector512.IsHardwareAccelerated;

    /// <summary>Floats per row of the packed weights: OC, rounded up to whole 512-bit vectors where they are used.</summary>
    public static int WeightStride(int oc) => Wide ? (oc + 15) / 16 * 16 : oc;

    /// <summary>Weights [OC, C, KH, KW] → [C·KH·KW, <see cref="WeightStride"/>] (zeros past OC).</summary>
    public static float[] PackWeights(ReadOnlySpan<float> w, int oc, int taps)
    {
        int ws = WeightStride(oc);
        var p = new float[taps * ws];
        for (int o = 0; o < oc; o++)
            for (int t = 0; t < taps; t++) p[t * ws + o] = w[o * taps + t];
        return p;
    }

    /// <summary>The offset of each tap (c, kh, kw) from a window's top-left input pixel; written once per run, read by every part.</summary>
    public static void PrepareTaps(in ConvGeometry g, int* tapOffset)
    {
        for (int t = 0, c = 0; c < g.C; c++)
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++, t++) tapOffset[t] = (c * g.H + kh * g.DilationH) * g.W + kw * g.DilationW;
    }

    /// <summary>x [C, H, W] of one image, packed w [taps, OC], b [OC] → output rows oh0..oh1 of y [OH, OW, OC] clamped to [lo, hi].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* x, float* w, float* b, float* y, in ConvGeometry g, float lo, float hi, int* tapOffset, int oh0, int oh1)
    {
        if (Wide) { RunV512(x, w, b, y, g, lo, hi, tapOffset, oh0, oh1); return; }
        if (DirectConvNhwcNeon.Supports(g)) { DirectConvNhwcNeon.Run(x, w, b, y, g, lo, hi, tapOffset, oh0, oh1); return; }
        int C = g.C, H = g.H, W = g.W, OW = g.OW, OC = g.OC, KH = g.KH, KW = g.KW, sh = g.StrideH, sw = g.StrideW;
        int pt = g.PadTop, pl = g.PadLeft, dh = g.DilationH, dw = g.DilationW, taps = C * KH * KW, vl = Vector<float>.Count;
        var vlo = new Vector<float>(lo); var vhi = new Vector<float>(hi);
        int spanH = (KH - 1) * dh, spanW = (KW - 1) * dw;
        // Rows outside, slices of two vectors of channels inside (and a last slice of one when OC is an odd number of
        // vectors, 24 on AVX2): a row's inputs and outputs stay in cache from one slice to the next.
        for (int oh = oh0; oh < oh1; oh++)
        {
            int ih = oh * sh - pt;
            bool rowsInside = ih >= 0 && ih + spanH < H;
            // Pixels whose window is inside the image: owLo <= ow < owHi; the others take the checked path.
            int owLo = rowsInside ? Math.Min(OW, (pl + sw - 1) / sw) : OW;
            int owHi = rowsInside && W - 1 - spanW + pl >= 0 ? Math.Max(owLo, Math.Min(OW, (W - 1 - spanW + pl) / sw + 1)) : owLo;
            for (int oc0 = 0; oc0 < OC; oc0 += 2 * vl)
            {
                float* wc = w + oc0, yr = y + (long)oh * OW * OC + oc0;
                if (oc0 + 2 * vl > OC) { OneVector(x, wc, b + oc0, yr, g, ih, owLo, owHi, vlo, vhi, tapOffset); break; }
                var b0 = Vector.Load(b + oc0); var b1 = Vector.Load(b + oc0 + vl);
                int ow = 0;
                for (; ow < owLo; ow++) Single(x, wc, g, ih, ow * sw - pl, b0, b1, vlo, vhi, yr + (long)ow * OC);
                for (; ow + 4 <= owHi; ow += 4)   // four pixels: eight independent accumulators per weight load pair
                {
                    int iw = ow * sw - pl;
                    float* o = yr + (long)ow * OC;
                    Vector<float> p0 = b0, p1 = b1, q0 = b0, q1 = b1, r0 = b0, r1 = b1, s0 = b0, s1 = b1;
                    float* px = x + (long)ih * W + iw;
                    long s1x = sw, s2x = 2 * sw, s3x = 3 * sw;
                    float* wt = wc;
                    for (int t = 0; t < taps; t++, wt += OC)
                    {
                        var u0 = Vector.Load(wt); var u1 = Vector.Load(wt + vl);
                        float* pt0 = px + tapOffset[t];
                        var v = new Vector<float>(pt0[0]); p0 = Vector.FusedMultiplyAdd(v, u0, p0); p1 = Vector.FusedMultiplyAdd(v, u1, p1);
                        v = new Vector<float>(pt0[s1x]); q0 = Vector.FusedMultiplyAdd(v, u0, q0); q1 = Vector.FusedMultiplyAdd(v, u1, q1);
                        v = new Vector<float>(pt0[s2x]); r0 = Vector.FusedMultiplyAdd(v, u0, r0); r1 = Vector.FusedMultiplyAdd(v, u1, r1);
                        v = new Vector<float>(pt0[s3x]); s0 = Vector.FusedMultiplyAdd(v, u0, s0); s1 = Vector.FusedMultiplyAdd(v, u1, s1);
                    }
                    Clamp.Of(p0, vlo, vhi).Store(o); Clamp.Of(p1, vlo, vhi).Store(o + vl);
                    Clamp.Of(q0, vlo, vhi).Store(o + OC); Clamp.Of(q1, vlo, vhi).Store(o + OC + vl);
                    Clamp.Of(r0, vlo, vhi).Store(o + 2 * OC); Clamp.Of(r1, vlo, vhi).Store(o + 2 * OC + vl);
                    Clamp.Of(s0, vlo, vhi).Store(o + 3 * OC); Clamp.Of(s1, vlo, vhi).Store(o + 3 * OC + vl);
                }
                for (; ow < OW; ow++) Single(x, wc, g, ih, ow * sw - pl, b0, b1, vlo, vhi, yr + (long)ow * OC);
            }
        }
    }

    /// <summary>One vector of channels (the last slice when OC is an odd number of vectors) of one output row:
    /// eight pixels per weight load, eight independent accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void OneVector(float* x, float* wc, float* b, float* yr, in ConvGeometry g, int ih, int owLo, int owHi, Vector<float> vlo, Vector<float> vhi, int* tapOffset)
    {
        int OC = g.OC, sw = g.StrideW, pl = g.PadLeft, taps = g.C * g.KH * g.KW;
        var b0 = Vector.Load(b);
        int ow = 0;
        for (; ow < owLo; ow++) Single1(x, wc, g, ih, ow * sw - pl, b0, vlo, vhi, yr + (long)ow * OC);
        for (; ow + 8 <= owHi; ow += 8)
        {
            float* o = yr + (long)ow * OC, px = x + (long)ih * g.W + ow * sw - pl, wt = wc;
            Vector<float> a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0, a6 = b0, a7 = b0;
            for (int t = 0; t < taps; t++, wt += OC)
            {
                var u = Vector.Load(wt);
                float* p = px + tapOffset[t];
                a0 = Vector.FusedMultiplyAdd(new Vector<float>(p[0]), u, a0); a1 = Vector.FusedMultiplyAdd(new Vector<float>(p[sw]), u, a1);
                a2 = Vector.FusedMultiplyAdd(new Vector<float>(p[2 * sw]), u, a2); a3 = Vector.FusedMultiplyAdd(new Vector<float>(p[3 * sw]), u, a3);
                a4 = Vector.FusedMultiplyAdd(new Vector<float>(p[4 * sw]), u, a4); a5 = Vector.FusedMultiplyAdd(new Vector<float>(p[5 * sw]), u, a5);
                a6 = Vector.FusedMultiplyAdd(new Vector<float>(p[6 * sw]), u, a6); a7 = Vector.FusedMultiplyAdd(new Vector<float>(p[7 * sw]), u, a7);
            }
            Clamp.Of(a0, vlo, vhi).Store(o); Clamp.Of(a1, vlo, vhi).Store(o + OC); Clamp.Of(a2, vlo, vhi).Store(o + 2 * OC); Clamp.Of(a3, vlo, vhi).Store(o + 3 * OC);
            Clamp.Of(a4, vlo, vhi).Store(o + 4 * OC); Clamp.Of(a5, vlo, vhi).Store(o + 5 * OC); Clamp.Of(a6, vlo, vhi).Store(o + 6 * OC); Clamp.Of(a7, vlo, vhi).Store(o + 7 * OC);
        }
        for (; ow < g.OW; ow++) Single1(x, wc, g, ih, ow * sw - pl, b0, vlo, vhi, yr + (long)ow * OC);
    }

    static void Single1(float* x, float* wc, in ConvGeometry g, int ih0, int iw0, Vector<float> a, Vector<float> lo, Vector<float> hi, float* o)
    {
        for (int c = 0, t = 0; c < g.C; c++)
            for (int kh = 0; kh < g.KH; kh++)
            {
                int ih = ih0 + kh * g.DilationH;
                for (int kw = 0; kw < g.KW; kw++, t++)
                {
                    int iw = iw0 + kw * g.DilationW;
                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) continue;
                    a = Vector.FusedMultiplyAdd(new Vector<float>(x[((long)c * g.H + ih) * g.W + iw]), Vector.Load(wc + (long)t * g.OC), a);
                }
            }
        Clamp.Of(a, lo, hi).Store(o);
    }

    static void Single(float* x, float* wc, in ConvGeometry g, int ih, int iw, Vector<float> a0, Vector<float> a1, Vector<float> lo, Vector<float> hi, float* o)
    {
        Border(x, wc, g, ih, iw, ref a0, ref a1);
        Clamp.Of(a0, lo, hi).Store(o); Clamp.Of(a1, lo, hi).Store(o + Vector<float>.Count);
    }

    /// <summary>One pixel whose window may leave the image: taps outside are skipped.</summary>
    static void Border(float* x, float* wc, in ConvGeometry g, int ih0, int iw0, ref Vector<float> a0, ref Vector<float> a1)
    {
        int vl = Vector<float>.Count, t = 0;
        for (int c = 0; c < g.C; c++)
            for (int kh = 0; kh < g.KH; kh++)
            {
                int ih = ih0 + kh * g.DilationH;
                for (int kw = 0; kw < g.KW; kw++, t++)
                {
                    int iw = iw0 + kw * g.DilationW;
                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) continue;
                    var xv = new Vector<float>(x[((long)c * g.H + ih) * g.W + iw]);
                    a0 = Vector.FusedMultiplyAdd(xv, Vector.Load(wc + (long)t * g.OC), a0);
                    a1 = Vector.FusedMultiplyAdd(xv, Vector.Load(wc + (long)t * g.OC + vl), a1);
                }
            }
    }

    // The same kernel with 512-bit vectors, where they run at full rate (AVX-512).
    /// <summary><see cref="Run"/> with 512-bit vectors: slices of 32 channels, a last one of 16 (eight pixels × one
    /// vector) when OC leaves 8 or 16; the weights' rows are padded to 16 (<see cref="WeightStride"/>: 24 channels
    /// compute 32 lanes, 1.5 times fewer FMAs than three 256-bit vectors) and a last vector of 8 channels stores its
    /// lower half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RunV512(float* x, float* w, float* b, float* y, in ConvGeometry g, float lo, float hi, int* tapOffset, int oh0, int oh1)
    {
        int C = g.C, H = g.H, W = g.W, OW = g.OW, OC = g.OC, KH = g.KH, KW = g.KW, sh = g.StrideH, sw = g.StrideW;
        int pt = g.PadTop, pl = g.PadLeft, dh = g.DilationH, dw = g.DilationW, taps = C * KH * KW, vl = Vector512<float>.Count, ws = WeightStride(OC);
        var vlo = Vector512.Create(lo); var vhi = Vector512.Create(hi);
        int spanH = (KH - 1) * dh, spanW = (KW - 1) * dw;
        // Rows outside, 32-channel slices inside: a row's inputs and outputs stay in cache from one slice to the next
        // (slices outside read the whole input and write every output line once per slice, from L3 at ResNet's size).
        for (int oh = oh0; oh < oh1; oh++)
            for (int oc0 = 0; oc0 < OC; oc0 += 2 * vl)
            {
                float* wc = w + oc0;
                int ih = oh * sh - pt;
                bool rowsInside = ih >= 0 && ih + spanH < H;
                float* yr = y + (long)oh * OW * OC + oc0;
                // Pixels whose window is inside the image: owLo <= ow < owHi; the others take the checked path.
                int owLo = rowsInside ? Math.Min(OW, (pl + sw - 1) / sw) : OW;
                int owHi = rowsInside && W - 1 - spanW + pl >= 0 ? Math.Max(owLo, Math.Min(OW, (W - 1 - spanW + pl) / sw + 1)) : owLo;
                int rest = OC - oc0;
                if (rest <= vl) { OneVector512(x, wc, b + oc0, yr, g, ih, owLo, owHi, vlo, vhi, tapOffset, rest); continue; }
                int last = Math.Min(vl, rest - vl);   // channels of the second vector: 16, or 8 (its lower half)
                var b0 = Vector512.Load(b + oc0); var b1 = LoadPart(b + oc0 + vl, last);
                int ow = 0;
                for (; ow < owLo; ow++) Single512(x, wc, g, ih, ow * sw - pl, b0, b1, vlo, vhi, yr + (long)ow * OC, last);
                float* xr = x + (long)ih * W - pl;
                if (sw == 1) for (; ow + 8 <= owHi; ow += 8) Eight512<Stride1>(xr + ow, wc, ws, OC, taps, tapOffset, b0, b1, vlo, vhi, yr + (long)ow * OC, last);
                else if (sw == 2) for (; ow + 8 <= owHi; ow += 8) Eight512<Stride2>(xr + 2 * ow, wc, ws, OC, taps, tapOffset, b0, b1, vlo, vhi, yr + (long)ow * OC, last);
                // The row's last 1-7 pixels inside the image: one more 8-pixel tile ending at the last of them, its
                // first pixels computed and written again with the same sums in the same order (the same bits), not a
                // 4-pixel tile and pixels one by one through Border512's per-tap checks, each one chain of FMA latency
                // (SqueezeNet's unpadded 3×3/2 stem, 111 pixels a row, left 3 of them every row and 32-channel slice).
                if (ow < owHi && owHi - owLo >= 8 && sw <= 2)
                {
                    ow = owHi - 8;
                    if (sw == 1) Eight512<Stride1>(xr + ow, wc, ws, OC, taps, tapOffset, b0, b1, vlo, vhi, yr + (long)ow * OC, last);
                    else Eight512<Stride2>(xr + 2 * ow, wc, ws, OC, taps, tapOffset, b0, b1, vlo, vhi, yr + (long)ow * OC, last);
                    ow = owHi;
                }
                for (; ow + 4 <= owHi; ow += 4)   // four pixels: eight independent accumulators per weight load pair
                {
                    int iw = ow * sw - pl;
                    float* o = yr + (long)ow * OC;
                    Vector512<float> p0 = b0, p1 = b1, q0 = b0, q1 = b1, r0 = b0, r1 = b1, s0 = b0, s1 = b1;
                    float* px = x + (long)ih * W + iw;
                    long s1x = sw, s2x = 2 * sw, s3x = 3 * sw;
                    float* wt = wc;
                    for (int t = 0; t < taps; t++, wt += ws)
                    {
                        var u0 = Vector512.Load(wt); var u1 = Vector512.Load(wt + vl);
                        float* pt0 = px + tapOffset[t];
                        var v = Vector512.Create(pt0[0]); p0 = Vector512.FusedMultiplyAdd(v, u0, p0); p1 = Vector512.FusedMultiplyAdd(v, u1, p1);
                        v = Vector512.Create(pt0[s1x]); q0 = Vector512.FusedMultiplyAdd(v, u0, q0); q1 = Vector512.FusedMultiplyAdd(v, u1, q1);
                        v = Vector512.Create(pt0[s2x]); r0 = Vector512.FusedMultiplyAdd(v, u0, r0); r1 = Vector512.FusedMultiplyAdd(v, u1, r1);
                        v = Vector512.Create(pt0[s3x]); s0 = Vector512.FusedMultiplyAdd(v, u0, s0); s1 = Vector512.FusedMultiplyAdd(v, u1, s1);
                    }
                    Clamp.Of(p0, vlo, vhi).Store(o); Put(Clamp.Of(p1, vlo, vhi), o + vl, last);
                    Clamp.Of(q0, vlo, vhi).Store(o + OC); Put(Clamp.Of(q1, vlo, vhi), o + OC + vl, last);
                    Clamp.Of(r0, vlo, vhi).Store(o + 2 * OC); Put(Clamp.Of(r1, vlo, vhi), o + 2 * OC + vl, last);
                    Clamp.Of(s0, vlo, vhi).Store(o + 3 * OC); Put(Clamp.Of(s1, vlo, vhi), o + 3 * OC + vl, last);
                }
                for (; ow < OW; ow++) Single512(x, wc, g, ih, ow * sw - pl, b0, b1, vlo, vhi, yr + (long)ow * OC, last);
            }
    }

    /// <summary>The first <paramref name="n"/> (16 or 8) floats at <paramref name="p"/>, the rest zero.</summary>
    static Vector512<float> LoadPart(float* p, int n) => n == 16 ? Vector512.Load(p) : Vector512.Create(Vector256.Load(p), Vector256<float>.Zero);

    /// <summary>Stores the first <paramref name="n"/> (16 or 8) lanes of <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Put(Vector512<float> v, float* o, int n)
    {
        if (n == 16) v.Store(o); else v.GetLower().Store(o);
    }

    interface IStride { static abstract int Value { get; } }
    struct Stride1 : IStride { public static int Value => 1; }
    struct Stride2 : IStride { public static int Value => 2; }
    struct StrideAny : IStride { public static int Value => 0; }   // the stride is a run-time argument

    /// <summary>Eight pixels × 32 channels (the second vector's first <paramref name="last"/> stored), the pixels
    /// <typeparamref name="S"/> floats apart (a constant: eight broadcasts from one pointer); <paramref name="px"/> is
    /// the first pixel's window's top-left input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Eight512<S>(float* px, float* wc, int ws, int OC, int taps, int* tapOffset, Vector512<float> b0, Vector512<float> b1,
                            Vector512<float> vlo, Vector512<float> vhi, float* o, int last) where S : struct, IStride
    {
        Vector512<float> a0 = b0, a1 = b1, c0 = b0, c1 = b1, d0 = b0, d1 = b1, e0 = b0, e1 = b1,
                         f0 = b0, f1 = b1, g0 = b0, g1 = b1, h0 = b0, h1 = b1, i0 = b0, i1 = b1;
        float* wt = wc;
        for (int t = 0; t < taps; t++, wt += ws)
        {
            var u0 = Vector512.Load(wt); var u1 = Vector512.Load(wt + 16);
            float* p = px + tapOffset[t];
            var v = Vector512.Create(p[0]); a0 = Vector512.FusedMultiplyAdd(v, u0, a0); a1 = Vector512.FusedMultiplyAdd(v, u1, a1);
            v = Vector512.Create(p[S.Value]); c0 = Vector512.FusedMultiplyAdd(v, u0, c0); c1 = Vector512.FusedMultiplyAdd(v, u1, c1);
            v = Vector512.Create(p[2 * S.Value]); d0 = Vector512.FusedMultiplyAdd(v, u0, d0); d1 = Vector512.FusedMultiplyAdd(v, u1, d1);
            v = Vector512.Create(p[3 * S.Value]); e0 = Vector512.FusedMultiplyAdd(v, u0, e0); e1 = Vector512.FusedMultiplyAdd(v, u1, e1);
            v = Vector512.Create(p[4 * S.Value]); f0 = Vector512.FusedMultiplyAdd(v, u0, f0); f1 = Vector512.FusedMultiplyAdd(v, u1, f1);
            v = Vector512.Create(p[5 * S.Value]); g0 = Vector512.FusedMultiplyAdd(v, u0, g0); g1 = Vector512.FusedMultiplyAdd(v, u1, g1);
            v = Vector512.Create(p[6 * S.Value]); h0 = Vector512.FusedMultiplyAdd(v, u0, h0); h1 = Vector512.FusedMultiplyAdd(v, u1, h1);
            v = Vector512.Create(p[7 * S.Value]); i0 = Vector512.FusedMultiplyAdd(v, u0, i0); i1 = Vector512.FusedMultiplyAdd(v, u1, i1);
        }
        Clamp.Of(a0, vlo, vhi).Store(o); Put(Clamp.Of(a1, vlo, vhi), o + 16, last); o += OC;
        Clamp.Of(c0, vlo, vhi).Store(o); Put(Clamp.Of(c1, vlo, vhi), o + 16, last); o += OC;
        Clamp.Of(d0, vlo, vhi).Store(o); Put(Clamp.Of(d1, vlo, vhi), o + 16, last); o += OC;
        Clamp.Of(e0, vlo, vhi).Store(o); Put(Clamp.Of(e1, vlo, vhi), o + 16, last); o += OC;
        Clamp.Of(f0, vlo, vhi).Store(o); Put(Clamp.Of(f1, vlo, vhi), o + 16, last); o += OC;
        Clamp.Of(g0, vlo, vhi).Store(o); Put(Clamp.Of(g1, vlo, vhi), o + 16, last); o += OC;
        Clamp.Of(h0, vlo, vhi).Store(o); Put(Clamp.Of(h1, vlo, vhi), o + 16, last); o += OC;
        Clamp.Of(i0, vlo, vhi).Store(o); Put(Clamp.Of(i1, vlo, vhi), o + 16, last);
    }

    /// <summary>The last 8 or 16 channels (<paramref name="n"/>) of one output row: eight pixels per weight load,
    /// eight independent accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void OneVector512(float* x, float* wc, float* b, float* yr, in ConvGeometry g, int ih, int owLo, int owHi, Vector512<float> vlo, Vector512<float> vhi, int* tapOffset, int n)
    {
        int OC = g.OC, sw = g.StrideW, pl = g.PadLeft, taps = g.C * g.KH * g.KW, ws = WeightStride(OC);
        var b0 = LoadPart(b, n);
        int ow = 0;
        for (; ow < owLo; ow++) Single512(x, wc, g, ih, ow * sw - pl, b0, vlo, vhi, yr + (long)ow * OC, n);
        float* xr = x + (long)ih * g.W - pl;
        // Stride 2 with 3 or 6 taps a kernel row (3×3 stems, YOLOv5's 6×6): a kernel row's weights in registers, each input value broadcast once.
        int rows = g.C * g.KH;
        if (sw == 2 && g.DilationW == 1 && g.KW == 6) for (; ow + 16 <= owHi; ow += 16) SixteenRowsS2K6(xr + 2 * ow, wc, ws, OC, rows, tapOffset, b0, vlo, vhi, yr + (long)ow * OC, n);
        else if (sw == 2 && g.DilationW == 1 && g.KW == 3) for (; ow + 16 <= owHi; ow += 16) SixteenRowsS2K3(xr + 2 * ow, wc, ws, OC, rows, tapOffset, b0, vlo, vhi, yr + (long)ow * OC, n);
        if (sw == 1) for (; ow + 16 <= owHi; ow += 16) SixteenOne512<Stride1>(xr + ow, wc, ws, OC, taps, tapOffset, b0, vlo, vhi, yr + (long)ow * OC, n);
        else if (sw == 2) for (; ow + 16 <= owHi; ow += 16) SixteenOne512<Stride2>(xr + 2 * ow, wc, ws, OC, taps, tapOffset, b0, vlo, vhi, yr + (long)ow * OC, n);
        if (sw == 1) for (; ow + 8 <= owHi; ow += 8) EightOne512<Stride1>(xr + ow, wc, ws, OC, taps, tapOffset, b0, vlo, vhi, yr + (long)ow * OC, n, sw);
        else if (sw == 2) for (; ow + 8 <= owHi; ow += 8) EightOne512<Stride2>(xr + 2 * ow, wc, ws, OC, taps, tapOffset, b0, vlo, vhi, yr + (long)ow * OC, n, sw);
        else for (; ow + 8 <= owHi; ow += 8) EightOne512<StrideAny>(xr + ow * sw, wc, ws, OC, taps, tapOffset, b0, vlo, vhi, yr + (long)ow * OC, n, sw);
        if (ow < owHi && owHi - owLo >= 8)   // the last 1-7 pixels inside: an overlapping 8-pixel tile, as in RunV512
        {
            ow = owHi - 8;
            if (sw == 1) EightOne512<Stride1>(xr + ow, wc, ws, OC, taps, tapOffset, b0, vlo, vhi, yr + (long)ow * OC, n, sw);
            else if (sw == 2) EightOne512<Stride2>(xr + 2 * ow, wc, ws, OC, taps, tapOffset, b0, vlo, vhi, yr + (long)ow * OC, n, sw);
            else EightOne512<StrideAny>(xr + ow * sw, wc, ws, OC, taps, tapOffset, b0, vlo, vhi, yr + (long)ow * OC, n, sw);
            ow = owHi;
        }
        for (; ow < g.OW; ow++) Single512(x, wc, g, ih, ow * sw - pl, b0, vlo, vhi, yr + (long)ow * OC, n);
    }

    /// <summary>Eight pixels × one vector of 16 channels (its first <paramref name="n"/> stored), the pixels
    /// <typeparamref name="S"/> floats apart (<paramref name="sw"/> for <see cref="StrideAny"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void EightOne512<S>(float* px, float* wc, int ws, int OC, int taps, int* tapOffset, Vector512<float> b0,
                               Vector512<float> vlo, Vector512<float> vhi, float* o, int n, int sw) where S : struct, IStride
    {
        int st = typeof(S) == typeof(StrideAny) ? sw : S.Value;
        Vector512<float> a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0, a6 = b0, a7 = b0;
        float* wt = wc;
        for (int t = 0; t < taps; t++, wt += ws)
        {
            var u = Vector512.Load(wt);
            float* p = px + tapOffset[t];
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[0]), u, a0); a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[st]), u, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[2 * st]), u, a2); a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[3 * st]), u, a3);
            a4 = Vector512.FusedMultiplyAdd(Vector512.Create(p[4 * st]), u, a4); a5 = Vector512.FusedMultiplyAdd(Vector512.Create(p[5 * st]), u, a5);
            a6 = Vector512.FusedMultiplyAdd(Vector512.Create(p[6 * st]), u, a6); a7 = Vector512.FusedMultiplyAdd(Vector512.Create(p[7 * st]), u, a7);
        }
        Put(Clamp.Of(a0, vlo, vhi), o, n); Put(Clamp.Of(a1, vlo, vhi), o + OC, n); Put(Clamp.Of(a2, vlo, vhi), o + 2 * OC, n); Put(Clamp.Of(a3, vlo, vhi), o + 3 * OC, n);
        Put(Clamp.Of(a4, vlo, vhi), o + 4 * OC, n); Put(Clamp.Of(a5, vlo, vhi), o + 5 * OC, n); Put(Clamp.Of(a6, vlo, vhi), o + 6 * OC, n); Put(Clamp.Of(a7, vlo, vhi), o + 7 * OC, n);
    }

    /// <summary>Sixteen pixels × one vector of 16 channels (its first <paramref name="n"/> stored), the pixels
    /// <typeparamref name="S"/> floats apart: sixteen independent accumulators hide the FMA latency that eight only
    /// just cover (two FMA pipes × four cycles), one weight load per sixteen FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void SixteenOne512<S>(float* px, float* wc, int ws, int OC, int taps, int* tapOffset, Vector512<float> b0,
                                 Vector512<float> vlo, Vector512<float> vhi, float* o, int n) where S : struct, IStride
    {
        Vector512<float> a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0, a6 = b0, a7 = b0,
                         a8 = b0, a9 = b0, aa = b0, ab = b0, ac = b0, ad = b0, ae = b0, af = b0;
        float* wt = wc;
        for (int t = 0; t < taps; t++, wt += ws)
        {
            var u = Vector512.Load(wt);
            float* p = px + tapOffset[t];
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[0]), u, a0); a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[S.Value]), u, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[2 * S.Value]), u, a2); a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[3 * S.Value]), u, a3);
            a4 = Vector512.FusedMultiplyAdd(Vector512.Create(p[4 * S.Value]), u, a4); a5 = Vector512.FusedMultiplyAdd(Vector512.Create(p[5 * S.Value]), u, a5);
            a6 = Vector512.FusedMultiplyAdd(Vector512.Create(p[6 * S.Value]), u, a6); a7 = Vector512.FusedMultiplyAdd(Vector512.Create(p[7 * S.Value]), u, a7);
            a8 = Vector512.FusedMultiplyAdd(Vector512.Create(p[8 * S.Value]), u, a8); a9 = Vector512.FusedMultiplyAdd(Vector512.Create(p[9 * S.Value]), u, a9);
            aa = Vector512.FusedMultiplyAdd(Vector512.Create(p[10 * S.Value]), u, aa); ab = Vector512.FusedMultiplyAdd(Vector512.Create(p[11 * S.Value]), u, ab);
            ac = Vector512.FusedMultiplyAdd(Vector512.Create(p[12 * S.Value]), u, ac); ad = Vector512.FusedMultiplyAdd(Vector512.Create(p[13 * S.Value]), u, ad);
            ae = Vector512.FusedMultiplyAdd(Vector512.Create(p[14 * S.Value]), u, ae); af = Vector512.FusedMultiplyAdd(Vector512.Create(p[15 * S.Value]), u, af);
        }
        Put(Clamp.Of(a0, vlo, vhi), o, n); Put(Clamp.Of(a1, vlo, vhi), o + OC, n); Put(Clamp.Of(a2, vlo, vhi), o + 2 * OC, n); Put(Clamp.Of(a3, vlo, vhi), o + 3 * OC, n);
        Put(Clamp.Of(a4, vlo, vhi), o + 4 * OC, n); Put(Clamp.Of(a5, vlo, vhi), o + 5 * OC, n); Put(Clamp.Of(a6, vlo, vhi), o + 6 * OC, n); Put(Clamp.Of(a7, vlo, vhi), o + 7 * OC, n);
        o += 8 * OC;
        Put(Clamp.Of(a8, vlo, vhi), o, n); Put(Clamp.Of(a9, vlo, vhi), o + OC, n); Put(Clamp.Of(aa, vlo, vhi), o + 2 * OC, n); Put(Clamp.Of(ab, vlo, vhi), o + 3 * OC, n);
        Put(Clamp.Of(ac, vlo, vhi), o + 4 * OC, n); Put(Clamp.Of(ad, vlo, vhi), o + 5 * OC, n); Put(Clamp.Of(ae, vlo, vhi), o + 6 * OC, n); Put(Clamp.Of(af, vlo, vhi), o + 7 * OC, n);
    }

    /// <summary><see cref="SixteenOne512{S}"/> for stride 2 and 3 taps a kernel row (no dilation), an input row at a time:
    /// the row's 3 weight vectors stay in registers and each input value is broadcast once for every pixel whose
    /// window holds it (33 broadcasts for 48 FMAs, not 48). Each pixel's FMAs keep the tap order
    /// (kernel row, then column), so the sums are SixteenOne512's bit for bit. Generated code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void SixteenRowsS2K3(float* px, float* wc, int ws, int OC, int rows, int* tapOffset, Vector512<float> b0,
                                 Vector512<float> vlo, Vector512<float> vhi, float* o, int n)
    {
        Vector512<float> a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0, a6 = b0, a7 = b0, a8 = b0, a9 = b0, aa = b0, ab = b0, ac = b0, ad = b0, ae = b0, af = b0;
        float* wr = wc;
        for (int r = 0; r < rows; r++, wr += 3 * ws)
        {
            var w0 = Vector512.Load(wr); var w1 = Vector512.Load(wr + ws); var w2 = Vector512.Load(wr + 2 * ws);
            float* p = px + tapOffset[r * 3];
            Vector512<float> v;
            v = Vector512.Create(p[0]); a0 = Vector512.FusedMultiplyAdd(v, w0, a0);
            v = Vector512.Create(p[1]); a0 = Vector512.FusedMultiplyAdd(v, w1, a0);
            v = Vector512.Create(p[2]); a1 = Vector512.FusedMultiplyAdd(v, w0, a1); a0 = Vector512.FusedMultiplyAdd(v, w2, a0);
            v = Vector512.Create(p[3]); a1 = Vector512.FusedMultiplyAdd(v, w1, a1);
            v = Vector512.Create(p[4]); a2 = Vector512.FusedMultiplyAdd(v, w0, a2); a1 = Vector512.FusedMultiplyAdd(v, w2, a1);
            v = Vector512.Create(p[5]); a2 = Vector512.FusedMultiplyAdd(v, w1, a2);
            v = Vector512.Create(p[6]); a3 = Vector512.FusedMultiplyAdd(v, w0, a3); a2 = Vector512.FusedMultiplyAdd(v, w2, a2);
            v = Vector512.Create(p[7]); a3 = Vector512.FusedMultiplyAdd(v, w1, a3);
            v = Vector512.Create(p[8]); a4 = Vector512.FusedMultiplyAdd(v, w0, a4); a3 = Vector512.FusedMultiplyAdd(v, w2, a3);
            v = Vector512.Create(p[9]); a4 = Vector512.FusedMultiplyAdd(v, w1, a4);
            v = Vector512.Create(p[10]); a5 = Vector512.FusedMultiplyAdd(v, w0, a5); a4 = Vector512.FusedMultiplyAdd(v, w2, a4);
            v = Vector512.Create(p[11]); a5 = Vector512.FusedMultiplyAdd(v, w1, a5);
            v = Vector512.Create(p[12]); a6 = Vector512.FusedMultiplyAdd(v, w0, a6); a5 = Vector512.FusedMultiplyAdd(v, w2, a5);
            v = Vector512.Create(p[13]); a6 = Vector512.FusedMultiplyAdd(v, w1, a6);
            v = Vector512.Create(p[14]); a7 = Vector512.FusedMultiplyAdd(v, w0, a7); a6 = Vector512.FusedMultiplyAdd(v, w2, a6);
            v = Vector512.Create(p[15]); a7 = Vector512.FusedMultiplyAdd(v, w1, a7);
            v = Vector512.Create(p[16]); a8 = Vector512.FusedMultiplyAdd(v, w0, a8); a7 = Vector512.FusedMultiplyAdd(v, w2, a7);
            v = Vector512.Create(p[17]); a8 = Vector512.FusedMultiplyAdd(v, w1, a8);
            v = Vector512.Create(p[18]); a9 = Vector512.FusedMultiplyAdd(v, w0, a9); a8 = Vector512.FusedMultiplyAdd(v, w2, a8);
            v = Vector512.Create(p[19]); a9 = Vector512.FusedMultiplyAdd(v, w1, a9);
            v = Vector512.Create(p[20]); aa = Vector512.FusedMultiplyAdd(v, w0, aa); a9 = Vector512.FusedMultiplyAdd(v, w2, a9);
            v = Vector512.Create(p[21]); aa = Vector512.FusedMultiplyAdd(v, w1, aa);
            v = Vector512.Create(p[22]); ab = Vector512.FusedMultiplyAdd(v, w0, ab); aa = Vector512.FusedMultiplyAdd(v, w2, aa);
            v = Vector512.Create(p[23]); ab = Vector512.FusedMultiplyAdd(v, w1, ab);
            v = Vector512.Create(p[24]); ac = Vector512.FusedMultiplyAdd(v, w0, ac); ab = Vector512.FusedMultiplyAdd(v, w2, ab);
            v = Vector512.Create(p[25]); ac = Vector512.FusedMultiplyAdd(v, w1, ac);
            v = Vector512.Create(p[26]); ad = Vector512.FusedMultiplyAdd(v, w0, ad); ac = Vector512.FusedMultiplyAdd(v, w2, ac);
            v = Vector512.Create(p[27]); ad = Vector512.FusedMultiplyAdd(v, w1, ad);
            v = Vector512.Create(p[28]); ae = Vector512.FusedMultiplyAdd(v, w0, ae); ad = Vector512.FusedMultiplyAdd(v, w2, ad);
            v = Vector512.Create(p[29]); ae = Vector512.FusedMultiplyAdd(v, w1, ae);
            v = Vector512.Create(p[30]); af = Vector512.FusedMultiplyAdd(v, w0, af); ae = Vector512.FusedMultiplyAdd(v, w2, ae);
            v = Vector512.Create(p[31]); af = Vector512.FusedMultiplyAdd(v, w1, af);
            v = Vector512.Create(p[32]); af = Vector512.FusedMultiplyAdd(v, w2, af);
        }
        Put(Clamp.Of(a0, vlo, vhi), o, n); Put(Clamp.Of(a1, vlo, vhi), o + OC, n); Put(Clamp.Of(a2, vlo, vhi), o + 2 * OC, n); Put(Clamp.Of(a3, vlo, vhi), o + 3 * OC, n);
        Put(Clamp.Of(a4, vlo, vhi), o + 4 * OC, n); Put(Clamp.Of(a5, vlo, vhi), o + 5 * OC, n); Put(Clamp.Of(a6, vlo, vhi), o + 6 * OC, n); Put(Clamp.Of(a7, vlo, vhi), o + 7 * OC, n);
        o += 8 * OC;
        Put(Clamp.Of(a8, vlo, vhi), o, n); Put(Clamp.Of(a9, vlo, vhi), o + OC, n); Put(Clamp.Of(aa, vlo, vhi), o + 2 * OC, n); Put(Clamp.Of(ab, vlo, vhi), o + 3 * OC, n);
        Put(Clamp.Of(ac, vlo, vhi), o + 4 * OC, n); Put(Clamp.Of(ad, vlo, vhi), o + 5 * OC, n); Put(Clamp.Of(ae, vlo, vhi), o + 6 * OC, n); Put(Clamp.Of(af, vlo, vhi), o + 7 * OC, n);
    }

    /// <summary><see cref="SixteenOne512{S}"/> for stride 2 and 6 taps a kernel row (no dilation), an input row at a time:
    /// the row's 6 weight vectors stay in registers and each input value is broadcast once for every pixel whose
    /// window holds it (36 broadcasts for 96 FMAs, not 96). Each pixel's FMAs keep the tap order
    /// (kernel row, then column), so the sums are SixteenOne512's bit for bit. Generated code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void SixteenRowsS2K6(float* px, float* wc, int ws, int OC, int rows, int* tapOffset, Vector512<float> b0,
                                 Vector512<float> vlo, Vector512<float> vhi, float* o, int n)
    {
        Vector512<float> a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0, a6 = b0, a7 = b0, a8 = b0, a9 = b0, aa = b0, ab = b0, ac = b0, ad = b0, ae = b0, af = b0;
        float* wr = wc;
        for (int r = 0; r < rows; r++, wr += 6 * ws)
        {
            var w0 = Vector512.Load(wr); var w1 = Vector512.Load(wr + ws); var w2 = Vector512.Load(wr + 2 * ws); var w3 = Vector512.Load(wr + 3 * ws); var w4 = Vector512.Load(wr + 4 * ws); var w5 = Vector512.Load(wr + 5 * ws);
            float* p = px + tapOffset[r * 6];
            Vector512<float> v;
            v = Vector512.Create(p[0]); a0 = Vector512.FusedMultiplyAdd(v, w0, a0);
            v = Vector512.Create(p[1]); a0 = Vector512.FusedMultiplyAdd(v, w1, a0);
            v = Vector512.Create(p[2]); a1 = Vector512.FusedMultiplyAdd(v, w0, a1); a0 = Vector512.FusedMultiplyAdd(v, w2, a0);
            v = Vector512.Create(p[3]); a1 = Vector512.FusedMultiplyAdd(v, w1, a1); a0 = Vector512.FusedMultiplyAdd(v, w3, a0);
            v = Vector512.Create(p[4]); a2 = Vector512.FusedMultiplyAdd(v, w0, a2); a1 = Vector512.FusedMultiplyAdd(v, w2, a1); a0 = Vector512.FusedMultiplyAdd(v, w4, a0);
            v = Vector512.Create(p[5]); a2 = Vector512.FusedMultiplyAdd(v, w1, a2); a1 = Vector512.FusedMultiplyAdd(v, w3, a1); a0 = Vector512.FusedMultiplyAdd(v, w5, a0);
            v = Vector512.Create(p[6]); a3 = Vector512.FusedMultiplyAdd(v, w0, a3); a2 = Vector512.FusedMultiplyAdd(v, w2, a2); a1 = Vector512.FusedMultiplyAdd(v, w4, a1);
            v = Vector512.Create(p[7]); a3 = Vector512.FusedMultiplyAdd(v, w1, a3); a2 = Vector512.FusedMultiplyAdd(v, w3, a2); a1 = Vector512.FusedMultiplyAdd(v, w5, a1);
            v = Vector512.Create(p[8]); a4 = Vector512.FusedMultiplyAdd(v, w0, a4); a3 = Vector512.FusedMultiplyAdd(v, w2, a3); a2 = Vector512.FusedMultiplyAdd(v, w4, a2);
            v = Vector512.Create(p[9]); a4 = Vector512.FusedMultiplyAdd(v, w1, a4); a3 = Vector512.FusedMultiplyAdd(v, w3, a3); a2 = Vector512.FusedMultiplyAdd(v, w5, a2);
            v = Vector512.Create(p[10]); a5 = Vector512.FusedMultiplyAdd(v, w0, a5); a4 = Vector512.FusedMultiplyAdd(v, w2, a4); a3 = Vector512.FusedMultiplyAdd(v, w4, a3);
            v = Vector512.Create(p[11]); a5 = Vector512.FusedMultiplyAdd(v, w1, a5); a4 = Vector512.FusedMultiplyAdd(v, w3, a4); a3 = Vector512.FusedMultiplyAdd(v, w5, a3);
            v = Vector512.Create(p[12]); a6 = Vector512.FusedMultiplyAdd(v, w0, a6); a5 = Vector512.FusedMultiplyAdd(v, w2, a5); a4 = Vector512.FusedMultiplyAdd(v, w4, a4);
            v = Vector512.Create(p[13]); a6 = Vector512.FusedMultiplyAdd(v, w1, a6); a5 = Vector512.FusedMultiplyAdd(v, w3, a5); a4 = Vector512.FusedMultiplyAdd(v, w5, a4);
            v = Vector512.Create(p[14]); a7 = Vector512.FusedMultiplyAdd(v, w0, a7); a6 = Vector512.FusedMultiplyAdd(v, w2, a6); a5 = Vector512.FusedMultiplyAdd(v, w4, a5);
            v = Vector512.Create(p[15]); a7 = Vector512.FusedMultiplyAdd(v, w1, a7); a6 = Vector512.FusedMultiplyAdd(v, w3, a6); a5 = Vector512.FusedMultiplyAdd(v, w5, a5);
            v = Vector512.Create(p[16]); a8 = Vector512.FusedMultiplyAdd(v, w0, a8); a7 = Vector512.FusedMultiplyAdd(v, w2, a7); a6 = Vector512.FusedMultiplyAdd(v, w4, a6);
            v = Vector512.Create(p[17]); a8 = Vector512.FusedMultiplyAdd(v, w1, a8); a7 = Vector512.FusedMultiplyAdd(v, w3, a7); a6 = Vector512.FusedMultiplyAdd(v, w5, a6);
            v = Vector512.Create(p[18]); a9 = Vector512.FusedMultiplyAdd(v, w0, a9); a8 = Vector512.FusedMultiplyAdd(v, w2, a8); a7 = Vector512.FusedMultiplyAdd(v, w4, a7);
            v = Vector512.Create(p[19]); a9 = Vector512.FusedMultiplyAdd(v, w1, a9); a8 = Vector512.FusedMultiplyAdd(v, w3, a8); a7 = Vector512.FusedMultiplyAdd(v, w5, a7);
            v = Vector512.Create(p[20]); aa = Vector512.FusedMultiplyAdd(v, w0, aa); a9 = Vector512.FusedMultiplyAdd(v, w2, a9); a8 = Vector512.FusedMultiplyAdd(v, w4, a8);
            v = Vector512.Create(p[21]); aa = Vector512.FusedMultiplyAdd(v, w1, aa); a9 = Vector512.FusedMultiplyAdd(v, w3, a9); a8 = Vector512.FusedMultiplyAdd(v, w5, a8);
            v = Vector512.Create(p[22]); ab = Vector512.FusedMultiplyAdd(v, w0, ab); aa = Vector512.FusedMultiplyAdd(v, w2, aa); a9 = Vector512.FusedMultiplyAdd(v, w4, a9);
            v = Vector512.Create(p[23]); ab = Vector512.FusedMultiplyAdd(v, w1, ab); aa = Vector512.FusedMultiplyAdd(v, w3, aa); a9 = Vector512.FusedMultiplyAdd(v, w5, a9);
            v = Vector512.Create(p[24]); ac = Vector512.FusedMultiplyAdd(v, w0, ac); ab = Vector512.FusedMultiplyAdd(v, w2, ab); aa = Vector512.FusedMultiplyAdd(v, w4, aa);
            v = Vector512.Create(p[25]); ac = Vector512.FusedMultiplyAdd(v, w1, ac); ab = Vector512.FusedMultiplyAdd(v, w3, ab); aa = Vector512.FusedMultiplyAdd(v, w5, aa);
            v = Vector512.Create(p[26]); ad = Vector512.FusedMultiplyAdd(v, w0, ad); ac = Vector512.FusedMultiplyAdd(v, w2, ac); ab = Vector512.FusedMultiplyAdd(v, w4, ab);
            v = Vector512.Create(p[27]); ad = Vector512.FusedMultiplyAdd(v, w1, ad); ac = Vector512.FusedMultiplyAdd(v, w3, ac); ab = Vector512.FusedMultiplyAdd(v, w5, ab);
            v = Vector512.Create(p[28]); ae = Vector512.FusedMultiplyAdd(v, w0, ae); ad = Vector512.FusedMultiplyAdd(v, w2, ad); ac = Vector512.FusedMultiplyAdd(v, w4, ac);
            v = Vector512.Create(p[29]); ae = Vector512.FusedMultiplyAdd(v, w1, ae); ad = Vector512.FusedMultiplyAdd(v, w3, ad); ac = Vector512.FusedMultiplyAdd(v, w5, ac);
            v = Vector512.Create(p[30]); af = Vector512.FusedMultiplyAdd(v, w0, af); ae = Vector512.FusedMultiplyAdd(v, w2, ae); ad = Vector512.FusedMultiplyAdd(v, w4, ad);
            v = Vector512.Create(p[31]); af = Vector512.FusedMultiplyAdd(v, w1, af); ae = Vector512.FusedMultiplyAdd(v, w3, ae); ad = Vector512.FusedMultiplyAdd(v, w5, ad);
            v = Vector512.Create(p[32]); af = Vector512.FusedMultiplyAdd(v, w2, af); ae = Vector512.FusedMultiplyAdd(v, w4, ae);
            v = Vector512.Create(p[33]); af = Vector512.FusedMultiplyAdd(v, w3, af); ae = Vector512.FusedMultiplyAdd(v, w5, ae);
            v = Vector512.Create(p[34]); af = Vector512.FusedMultiplyAdd(v, w4, af);
            v = Vector512.Create(p[35]); af = Vector512.FusedMultiplyAdd(v, w5, af);
        }
        Put(Clamp.Of(a0, vlo, vhi), o, n); Put(Clamp.Of(a1, vlo, vhi), o + OC, n); Put(Clamp.Of(a2, vlo, vhi), o + 2 * OC, n); Put(Clamp.Of(a3, vlo, vhi), o + 3 * OC, n);
        Put(Clamp.Of(a4, vlo, vhi), o + 4 * OC, n); Put(Clamp.Of(a5, vlo, vhi), o + 5 * OC, n); Put(Clamp.Of(a6, vlo, vhi), o + 6 * OC, n); Put(Clamp.Of(a7, vlo, vhi), o + 7 * OC, n);
        o += 8 * OC;
        Put(Clamp.Of(a8, vlo, vhi), o, n); Put(Clamp.Of(a9, vlo, vhi), o + OC, n); Put(Clamp.Of(aa, vlo, vhi), o + 2 * OC, n); Put(Clamp.Of(ab, vlo, vhi), o + 3 * OC, n);
        Put(Clamp.Of(ac, vlo, vhi), o + 4 * OC, n); Put(Clamp.Of(ad, vlo, vhi), o + 5 * OC, n); Put(Clamp.Of(ae, vlo, vhi), o + 6 * OC, n); Put(Clamp.Of(af, vlo, vhi), o + 7 * OC, n);
    }


    static void Single512(float* x, float* wc, in ConvGeometry g, int ih, int iw, Vector512<float> a0, Vector512<float> a1, Vector512<float> lo, Vector512<float> hi, float* o, int last)
    {
        Border512(x, wc, g, ih, iw, ref a0, ref a1, true);
        Clamp.Of(a0, lo, hi).Store(o); Put(Clamp.Of(a1, lo, hi), o + Vector512<float>.Count, last);
    }

    static void Single512(float* x, float* wc, in ConvGeometry g, int ih, int iw, Vector512<float> a0, Vector512<float> lo, Vector512<float> hi, float* o, int n)
    {
        var a1 = a0;
        Border512(x, wc, g, ih, iw, ref a0, ref a1, false);
        Put(Clamp.Of(a0, lo, hi), o, n);
    }

    /// <summary>One pixel whose window may leave the image: taps outside are skipped; one vector or two.</summary>
    static void Border512(float* x, float* wc, in ConvGeometry g, int ih0, int iw0, ref Vector512<float> a0, ref Vector512<float> a1, bool two)
    {
        int vl = Vector512<float>.Count, t = 0, ws = WeightStride(g.OC);
        for (int c = 0; c < g.C; c++)
            for (int kh = 0; kh < g.KH; kh++)
            {
                int ih = ih0 + kh * g.DilationH;
                for (int kw = 0; kw < g.KW; kw++, t++)
                {
                    int iw = iw0 + kw * g.DilationW;
                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) continue;
                    var xv = Vector512.Create(x[((long)c * g.H + ih) * g.W + iw]);
                    a0 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(wc + (long)t * ws), a0);
                    if (two) a1 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(wc + (long)t * ws + vl), a1);
                }
            }
    }
}
