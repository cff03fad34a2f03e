using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// Depthwise Conv2D channels-last: x [H, W, C], weights [KH·KW, C], y [OH, OW, C]. The channels are the vector, so
/// every pixel is full width whatever the map size, and a tap that falls in the padding is skipped, not read from a
/// zero-padded copy. 3×3 keeps its nine weight vectors in registers and runs border-free pixels without checks; 5×5
/// at column stride 1 or 2 runs <see cref="DepthwiseNhwc5x5"/>; any other kernel size, stride or dilation runs
/// <see cref="DepthwiseNhwcStrips"/>; fewer channels than one vector at column stride 1 run <see cref="DepthwiseNhwcNarrow"/>.
/// Twin of Reference.Conv (NCHW) through the session-level tests.
/// </summary>
internal static unsafe class DepthwiseNhwc
{
    /// <summary>Weights [C, 1, KH, KW] → [KH·KW, C].</summary>
    public static float[] PackWeights(ReadOnlySpan<float> w, int c, int taps)
    {
        var p = new float[taps * c];
        for (int ch = 0; ch < c; ch++)
            for (int t = 0; t < taps; t++) p[t * c + ch] = w[ch * taps + t];
        return p;
    }

    /// <summary>Output rows oh0..oh1 of one image, in bands of rows (<see cref="BandRows"/>). <paramref name="swish"/>
    /// (only where <see cref="FusesSwish"/>): SiLU, x·σ(x), applied to each output vector after the clamp, in its
    /// store, so no second pass reads the map back (EfficientNet-B0's depthwise layers).</summary>
    public static void Run(float* x, float* w, float* b, float* y, in ConvGeometry g, float lo, float hi, int oh0, int oh1, bool swish = false)
    {
        if (swish && !FusesSwish(g)) throw new ArgumentException("SiLU fused into the store needs AVX-512 and whole 16-channel blocks");
        int band = BandRows(g);
        for (int r0 = oh0; r0 < oh1; r0 += band)
            if (swish) Rows<Lanes512Swish>(x, w, b, y, g, lo, hi, r0, Math.Min(oh1, r0 + band));
            else Rows<Lanes512>(x, w, b, y, g, lo, hi, r0, Math.Min(oh1, r0 + band));
    }

    /// <summary>SiLU can go into the store: every block of channels is a 16-lane one (<see cref="VectorSigmoid.Wide"/>).</summary>
    public static bool FusesSwish(in ConvGeometry g) => VectorSigmoid.Wide && g.C % 16 == 0;

    /// <summary>A map up to this size stays in cache (L2 of the x64 AVX-512 parts, the Pi 4's) while every block of
    /// channels passes over it; a larger one runs in bands whose input rows fit <see cref="BandBytes"/>.</summary>
    const long CachedMapBytes = 1024 * 1024, BandBytes = 256 * 1024;

    /// <summary>Output rows per band. Each block of channels reads 64 bytes of every input pixel: over a map larger than
    /// the cache, every block fetched its lines again from memory, 64 bytes in each pixel's stride. In bands, the first
    /// block brings the band's rows in and the others find them in cache, so the map is read once and in order
    /// (MobileNetV2-1.0's 112×112×96 depthwise at stride 2, 4.8 MB: 2 output rows a band, 830 → 490 µs, load ~18).
    /// Same sums in the same order whatever the band.</summary>
    static int BandRows(in ConvGeometry g)
    {
        long rowBytes = (long)g.W * g.C * sizeof(float);
        if (g.H * rowBytes <= CachedMapBytes) return Math.Max(1, g.OH);
        int reach = (g.KH - 1) * g.DilationH + 1;   // the input rows one output row reads
        return (int)Math.Max(1, (BandBytes / rowBytes - reach) / g.StrideH + 1);
    }

    /// <summary>Output rows oh0..oh1 of one image. Channels go in whole vectors (16 wide where AVX-512 runs them,
    /// then Vector&lt;float&gt;); the channels past the last whole vector are one more Vector&lt;float&gt; ending at C,
    /// overlapping channels already written (same sums in the same order, so the same values): only a map of fewer
    /// channels than one vector runs the scalar loop.</summary>
    static void Rows<T512>(float* x, float* w, float* b, float* y, in ConvGeometry g, float lo, float hi, int oh0, int oh1)
        where T512 : struct, ILanes<Vector512<float>>
    {
        int C = g.C, vl = Vector<float>.Count, c0 = 0;
        bool wide = Vector512.IsHardwareAccelerated;
        if (g.KH == 3 && g.KW == 3 && g.DilationH == 1 && g.DilationW == 1)
        {
            if (wide) for (; c0 + 16 <= C; c0 += 16) Block3x3V512<T512>(x, w, b, y, g, c0, lo, hi, oh0, oh1);
            for (; c0 + vl <= C; c0 += vl) Block3x3(x, w, b, y, g, c0, lo, hi, oh0, oh1);
            if (c0 < C && C >= vl) { Block3x3(x, w, b, y, g, C - vl, lo, hi, oh0, oh1); return; }
        }
        else if (DepthwiseNhwc5x5.Fits(g))
        {
            if (wide) for (; c0 + 16 <= C; c0 += 16) DepthwiseNhwc5x5.Run<Vector512<float>, T512>(x, w, b, y, g, c0, lo, hi, oh0, oh1);
            for (; c0 + vl <= C; c0 += vl) DepthwiseNhwc5x5.Run<Vector<float>, LanesNative>(x, w, b, y, g, c0, lo, hi, oh0, oh1);
            if (c0 < C && C >= vl) { DepthwiseNhwc5x5.Run<Vector<float>, LanesNative>(x, w, b, y, g, C - vl, lo, hi, oh0, oh1); return; }
        }
        else
        {
            if (wide) for (; c0 + 16 <= C; c0 += 16) DepthwiseNhwcStrips.Run<Vector512<float>, T512>(x, w, b, y, g, c0, lo, hi, oh0, oh1);
            for (; c0 + vl <= C; c0 += vl) DepthwiseNhwcStrips.Run<Vector<float>, LanesNative>(x, w, b, y, g, c0, lo, hi, oh0, oh1);
            if (c0 < C && C >= vl) { DepthwiseNhwcStrips.Run<Vector<float>, LanesNative>(x, w, b, y, g, C - vl, lo, hi, oh0, oh1); return; }
        }
        if (c0 == C) return;
        // Fewer channels than one vector: a row's pixels side by side in the vector where the columns go at stride 1.
        if (wide && DepthwiseNhwcNarrow.Fits<Vector512<float>>(g)) DepthwiseNhwcNarrow.Run<Vector512<float>, Lanes512>(x, w, b, y, g, lo, hi, oh0, oh1);
        else if (Vector.IsHardwareAccelerated && DepthwiseNhwcNarrow.Fits<Vector<float>>(g)) DepthwiseNhwcNarrow.Run<Vector<float>, LanesNative>(x, w, b, y, g, lo, hi, oh0, oh1);
        else Scalar(x, w, b, y, g, c0, lo, hi, oh0, oh1);
    }

    /// <summary>A 3×3 block of <see cref="Vector{T}"/> channels, rows oh0..oh1 in order: the rows whose kernel reaches
    /// past the top or bottom of the image in <see cref="Border"/>, the others in <see cref="Interior"/>, each its own
    /// method with fewer live values. In one method, with the per-row border bounds (two divisions a row) and the row
    /// flags live beside the interior's loops, a compiler without a profile (ILC, the JIT without PGO) spilled the border
    /// pixels' loop values: 14-17 stack accesses a border pixel where PGO's layout had 5-6 (now 5 in Border, 11 for the
    /// side pixels of an interior row). The rows stay in order, each read once: a border pass over the whole block first
    /// read every row twice, and 384 channels (a pixel every 1536 bytes, 8 of the 64 L1 sets) went 9.6 -> 11.4 µs.
    /// Every pixel adds its taps to the bias in tap order, so the bits are those of the one-method kernel.</summary>
    static void Block3x3(float* x, float* w, float* b, float* y, in ConvGeometry g, int c0, float lo, float hi, int oh0, int oh1)
    {
        InteriorOf(g, oh0, oh1, out int ohA, out int ohB, out int owLo, out int owHi);
        if (oh0 < ohA) Border(x, w, b, y, g, c0, lo, hi, oh0, ohA);
        if (ohA < ohB) Interior(x, w, b, y, g, c0, lo, hi, ohA, ohB, owLo, owHi);
        if (ohB < oh1) Border(x, w, b, y, g, c0, lo, hi, ohB, oh1);
    }

    /// <summary>The output rows ohA..ohB of oh0..oh1 whose three kernel rows are inside the image, and the output columns
    /// owLo..owHi whose three taps are: the border-free pixels are those rows' columns owLo..owHi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void InteriorOf(in ConvGeometry g, int oh0, int oh1, out int ohA, out int ohB, out int owLo, out int owHi)
    {
        int sh = g.StrideH, sw = g.StrideW;
        ohA = Math.Clamp((g.PadTop + sh - 1) / sh, oh0, oh1);
        ohB = g.H - 3 + g.PadTop >= 0 ? Math.Clamp((g.H - 3 + g.PadTop) / sh + 1, ohA, oh1) : ohA;
        owLo = Math.Min(g.OW, (g.PadLeft + sw - 1) / sw);
        owHi = g.W - 3 + g.PadLeft >= 0 ? Math.Clamp((g.W - 3 + g.PadLeft) / sw + 1, owLo, g.OW) : owLo;
    }

    /// <summary>Rows oh0..oh1, whose kernel reaches past the top or bottom of the image: every pixel through
    /// <see cref="Edge"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Border(float* x, float* w, float* b, float* y, in ConvGeometry g, int c0, float lo, float hi, int oh0, int oh1)
    {
        int C = g.C, H = g.H, W = g.W, OW = g.OW, sh = g.StrideH, sw = g.StrideW, pt = g.PadTop, pl = g.PadLeft;
        var w0 = Vector.Load(w + 0 * C + c0); var w1 = Vector.Load(w + 1 * C + c0); var w2 = Vector.Load(w + 2 * C + c0);
        var w3 = Vector.Load(w + 3 * C + c0); var w4 = Vector.Load(w + 4 * C + c0); var w5 = Vector.Load(w + 5 * C + c0);
        var w6 = Vector.Load(w + 6 * C + c0); var w7 = Vector.Load(w + 7 * C + c0); var w8 = Vector.Load(w + 8 * C + c0);
        var bias = b == null ? Vector<float>.Zero : Vector.Load(b + c0);
        var vlo = new Vector<float>(lo); var vhi = new Vector<float>(hi);
        long rowStride = (long)W * C;
        for (int oh = oh0; oh < oh1; oh++)
        {
            int ih = oh * sh - pt;
            bool r0 = (uint)ih < (uint)H, r1 = (uint)(ih + 1) < (uint)H, r2 = (uint)(ih + 2) < (uint)H;
            float* top = x + (long)ih * rowStride + c0;   // not read where a row is outside
            float* yr = y + (long)oh * OW * C + c0;
            for (int ow = 0; ow < OW; ow++)
                Store(yr + (long)ow * C, Edge(top, rowStride, C, ow * sw - pl, W, r0, r1, r2, bias, w0, w1, w2, w3, w4, w5, w6, w7, w8), vlo, vhi);
        }
    }

    /// <summary>Rows ohA..ohB, whose three kernel rows are inside the image: the side pixels (columns outside
    /// owLo..owHi) through <see cref="Edge"/> with the row checks constant, the others four, two and one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Interior(float* x, float* w, float* b, float* y, in ConvGeometry g, int c0, float lo, float hi, int ohA, int ohB, int owLo, int owHi)
    {
        int C = g.C, sw = g.StrideW, n = owHi - owLo;
        var w0 = Vector.Load(w + 0 * C + c0); var w1 = Vector.Load(w + 1 * C + c0); var w2 = Vector.Load(w + 2 * C + c0);
        var w3 = Vector.Load(w + 3 * C + c0); var w4 = Vector.Load(w + 4 * C + c0); var w5 = Vector.Load(w + 5 * C + c0);
        var w6 = Vector.Load(w + 6 * C + c0); var w7 = Vector.Load(w + 7 * C + c0); var w8 = Vector.Load(w + 8 * C + c0);
        var bias = b == null ? Vector<float>.Zero : Vector.Load(b + c0);
        var vlo = new Vector<float>(lo); var vhi = new Vector<float>(hi);
        long rowStride = (long)g.W * C, inStep = g.StrideH * rowStride, outStep = (long)g.OW * C;
        int W = g.W, OW = g.OW, pl = g.PadLeft;
        float* top = x + (long)(ohA * g.StrideH - g.PadTop) * rowStride + c0, yt = y + ohA * outStep + c0;
        for (int oh = ohA; oh < ohB; oh++, top += inStep, yt += outStep)
        {
            for (int ow = 0; ow < owLo; ow++)
                Store(yt + (long)ow * C, Edge(top, rowStride, C, ow * sw - pl, W, true, true, true, bias, w0, w1, w2, w3, w4, w5, w6, w7, w8), vlo, vhi);
            for (int ow = owHi; ow < OW; ow++)
                Store(yt + (long)ow * C, Edge(top, rowStride, C, ow * sw - pl, W, true, true, true, bias, w0, w1, w2, w3, w4, w5, w6, w7, w8), vlo, vhi);
            float* row = top + (long)(owLo * sw - pl) * C, yr = yt + (long)owLo * C;
            int i = 0;
            if (AdvSimd.Arm64.IsSupported && Vector<float>.Count == 4)   // NEON's 32 registers: four pixels, each input vector loaded once per kernel row
            {
                if (sw == 1)
                    for (; i + 4 <= n; i += 4) Quad(row + (long)i * C, C, rowStride, 1, bias, w0, w1, w2, w3, w4, w5, w6, w7, w8, vlo, vhi, yr + (long)i * C);
                else if (sw == 2)
                    for (; i + 4 <= n; i += 4) Quad(row + (long)(2 * i) * C, C, rowStride, 2, bias, w0, w1, w2, w3, w4, w5, w6, w7, w8, vlo, vhi, yr + (long)i * C);
            }
            // Two pixels at a time: two independent FMA chains.
            for (; i + 2 <= n; i += 2)
            {
                float* p = row + (long)(i * sw) * C, q = p + (long)sw * C;
                var a = Vector.FusedMultiplyAdd(Vector.Load(p), w0, bias);
                var e = Vector.FusedMultiplyAdd(Vector.Load(q), w0, bias);
                a = Vector.FusedMultiplyAdd(Vector.Load(p + C), w1, a); e = Vector.FusedMultiplyAdd(Vector.Load(q + C), w1, e);
                a = Vector.FusedMultiplyAdd(Vector.Load(p + 2 * C), w2, a); e = Vector.FusedMultiplyAdd(Vector.Load(q + 2 * C), w2, e);
                p += rowStride; q += rowStride;
                a = Vector.FusedMultiplyAdd(Vector.Load(p), w3, a); e = Vector.FusedMultiplyAdd(Vector.Load(q), w3, e);
                a = Vector.FusedMultiplyAdd(Vector.Load(p + C), w4, a); e = Vector.FusedMultiplyAdd(Vector.Load(q + C), w4, e);
                a = Vector.FusedMultiplyAdd(Vector.Load(p + 2 * C), w5, a); e = Vector.FusedMultiplyAdd(Vector.Load(q + 2 * C), w5, e);
                p += rowStride; q += rowStride;
                a = Vector.FusedMultiplyAdd(Vector.Load(p), w6, a); e = Vector.FusedMultiplyAdd(Vector.Load(q), w6, e);
                a = Vector.FusedMultiplyAdd(Vector.Load(p + C), w7, a); e = Vector.FusedMultiplyAdd(Vector.Load(q + C), w7, e);
                a = Vector.FusedMultiplyAdd(Vector.Load(p + 2 * C), w8, a); e = Vector.FusedMultiplyAdd(Vector.Load(q + 2 * C), w8, e);
                Store(yr + (long)i * C, a, vlo, vhi);
                Store(yr + (long)(i + 1) * C, e, vlo, vhi);
            }
            if (i < n)
            {
                float* p = row + (long)(i * sw) * C;
                var a = Vector.FusedMultiplyAdd(Vector.Load(p), w0, bias);
                a = Vector.FusedMultiplyAdd(Vector.Load(p + C), w1, a);
                a = Vector.FusedMultiplyAdd(Vector.Load(p + 2 * C), w2, a);
                p += rowStride;
                a = Vector.FusedMultiplyAdd(Vector.Load(p), w3, a);
                a = Vector.FusedMultiplyAdd(Vector.Load(p + C), w4, a);
                a = Vector.FusedMultiplyAdd(Vector.Load(p + 2 * C), w5, a);
                p += rowStride;
                a = Vector.FusedMultiplyAdd(Vector.Load(p), w6, a);
                a = Vector.FusedMultiplyAdd(Vector.Load(p + C), w7, a);
                a = Vector.FusedMultiplyAdd(Vector.Load(p + 2 * C), w8, a);
                Store(yr + (long)i * C, a, vlo, vhi);
            }
        }
    }

    /// <summary>Four border-free 3×3 output pixels from <paramref name="p"/> (the first one's top-left tap), stride
    /// <paramref name="s"/> (a constant at each call site): stride 1 reads 6 input vectors per kernel row instead of 12,
    /// stride 2 reads 9. Each pixel's taps are summed in <see cref="Block3x3"/>'s order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Quad(float* p, int C, long rowStride, int s, Vector<float> bias, Vector<float> w0, Vector<float> w1, Vector<float> w2, Vector<float> w3,
                     Vector<float> w4, Vector<float> w5, Vector<float> w6, Vector<float> w7, Vector<float> w8, Vector<float> lo, Vector<float> hi, float* o)
    {
        Vector<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        QuadRow(p, C, s, w0, w1, w2, ref a0, ref a1, ref a2, ref a3);
        QuadRow(p + rowStride, C, s, w3, w4, w5, ref a0, ref a1, ref a2, ref a3);
        QuadRow(p + 2 * rowStride, C, s, w6, w7, w8, ref a0, ref a1, ref a2, ref a3);
        Store(o, a0, lo, hi); Store(o + C, a1, lo, hi); Store(o + 2 * C, a2, lo, hi); Store(o + 3 * C, a3, lo, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void QuadRow(float* p, int C, int s, Vector<float> u0, Vector<float> u1, Vector<float> u2,
                        ref Vector<float> a0, ref Vector<float> a1, ref Vector<float> a2, ref Vector<float> a3)
    {
        var x0 = Vector.Load(p); var x1 = Vector.Load(p + C); var x2 = Vector.Load(p + 2 * C); var x3 = Vector.Load(p + 3 * C);
        var x4 = Vector.Load(p + 4 * C); var x5 = Vector.Load(p + 5 * C);
        a0 = Vector.FusedMultiplyAdd(x0, u0, a0); a0 = Vector.FusedMultiplyAdd(x1, u1, a0); a0 = Vector.FusedMultiplyAdd(x2, u2, a0);
        if (s == 1)
        {
            a1 = Vector.FusedMultiplyAdd(x1, u0, a1); a1 = Vector.FusedMultiplyAdd(x2, u1, a1); a1 = Vector.FusedMultiplyAdd(x3, u2, a1);
            a2 = Vector.FusedMultiplyAdd(x2, u0, a2); a2 = Vector.FusedMultiplyAdd(x3, u1, a2); a2 = Vector.FusedMultiplyAdd(x4, u2, a2);
            a3 = Vector.FusedMultiplyAdd(x3, u0, a3); a3 = Vector.FusedMultiplyAdd(x4, u1, a3); a3 = Vector.FusedMultiplyAdd(x5, u2, a3);
            return;
        }
        var x6 = Vector.Load(p + 6 * C); var x7 = Vector.Load(p + 7 * C); var x8 = Vector.Load(p + 8 * C);
        a1 = Vector.FusedMultiplyAdd(x2, u0, a1); a1 = Vector.FusedMultiplyAdd(x3, u1, a1); a1 = Vector.FusedMultiplyAdd(x4, u2, a1);
        a2 = Vector.FusedMultiplyAdd(x4, u0, a2); a2 = Vector.FusedMultiplyAdd(x5, u1, a2); a2 = Vector.FusedMultiplyAdd(x6, u2, a2);
        a3 = Vector.FusedMultiplyAdd(x6, u0, a3); a3 = Vector.FusedMultiplyAdd(x7, u1, a3); a3 = Vector.FusedMultiplyAdd(x8, u2, a3);
    }

    /// <summary>A 3×3 output pixel at the image border: the taps inside, weights still in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<float> Edge(float* top, long rowStride, int C, int iw, int W, bool r0, bool r1, bool r2, Vector<float> acc,
        Vector<float> w0, Vector<float> w1, Vector<float> w2, Vector<float> w3, Vector<float> w4, Vector<float> w5, Vector<float> w6, Vector<float> w7, Vector<float> w8)
    {
        bool k0 = (uint)iw < (uint)W, k1 = (uint)(iw + 1) < (uint)W, k2 = (uint)(iw + 2) < (uint)W;
        float* p = top + (long)iw * C;
        if (r0)
        {
            if (k0) acc = Vector.FusedMultiplyAdd(Vector.Load(p), w0, acc);
            if (k1) acc = Vector.FusedMultiplyAdd(Vector.Load(p + C), w1, acc);
            if (k2) acc = Vector.FusedMultiplyAdd(Vector.Load(p + 2 * C), w2, acc);
        }
        p += rowStride;
        if (r1)
        {
            if (k0) acc = Vector.FusedMultiplyAdd(Vector.Load(p), w3, acc);
            if (k1) acc = Vector.FusedMultiplyAdd(Vector.Load(p + C), w4, acc);
            if (k2) acc = Vector.FusedMultiplyAdd(Vector.Load(p + 2 * C), w5, acc);
        }
        p += rowStride;
        if (r2)
        {
            if (k0) acc = Vector.FusedMultiplyAdd(Vector.Load(p), w6, acc);
            if (k1) acc = Vector.FusedMultiplyAdd(Vector.Load(p + C), w7, acc);
            if (k2) acc = Vector.FusedMultiplyAdd(Vector.Load(p + 2 * C), w8, acc);
        }
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* y, Vector<float> acc, Vector<float> lo, Vector<float> hi) => Clamp.Of(acc, lo, hi).Store(y);

    // The same 3×3 kernel 16 channels wide, where 512-bit vectors run at full rate (AVX-512); T's store clamps (and
    // with Lanes512Swish applies SiLU). Split as Block3x3 is: top and bottom border rows, then the interior rows.
    static void Block3x3V512<T>(float* x, float* w, float* b, float* y, in ConvGeometry g, int c0, float lo, float hi, int oh0, int oh1)
        where T : struct, ILanes<Vector512<float>>
    {
        InteriorOf(g, oh0, oh1, out int ohA, out int ohB, out int owLo, out int owHi);
        if (oh0 < ohA) Border512<T>(x, w, b, y, g, c0, lo, hi, oh0, ohA);
        if (ohA < ohB) Interior512<T>(x, w, b, y, g, c0, lo, hi, ohA, ohB, owLo, owHi);
        if (ohB < oh1) Border512<T>(x, w, b, y, g, c0, lo, hi, ohB, oh1);
    }

    /// <summary><see cref="Border"/>, 16 channels per vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Border512<T>(float* x, float* w, float* b, float* y, in ConvGeometry g, int c0, float lo, float hi, int oh0, int oh1)
        where T : struct, ILanes<Vector512<float>>
    {
        int C = g.C, H = g.H, W = g.W, OW = g.OW, sh = g.StrideH, sw = g.StrideW, pt = g.PadTop, pl = g.PadLeft;
        var w0 = Vector512.Load(w + 0 * C + c0); var w1 = Vector512.Load(w + 1 * C + c0); var w2 = Vector512.Load(w + 2 * C + c0);
        var w3 = Vector512.Load(w + 3 * C + c0); var w4 = Vector512.Load(w + 4 * C + c0); var w5 = Vector512.Load(w + 5 * C + c0);
        var w6 = Vector512.Load(w + 6 * C + c0); var w7 = Vector512.Load(w + 7 * C + c0); var w8 = Vector512.Load(w + 8 * C + c0);
        var bias = b == null ? Vector512<float>.Zero : Vector512.Load(b + c0);
        var vlo = Vector512.Create(lo); var vhi = Vector512.Create(hi);
        long rowStride = (long)W * C;
        for (int oh = oh0; oh < oh1; oh++)
        {
            int ih = oh * sh - pt;
            bool r0 = (uint)ih < (uint)H, r1 = (uint)(ih + 1) < (uint)H, r2 = (uint)(ih + 2) < (uint)H;
            float* top = x + (long)ih * rowStride + c0;   // not read where a row is outside
            float* yr = y + (long)oh * OW * C + c0;
            for (int ow = 0; ow < OW; ow++)
                T.Store(yr + (long)ow * C, Edge512(top, rowStride, C, ow * sw - pl, W, r0, r1, r2, bias, w0, w1, w2, w3, w4, w5, w6, w7, w8), vlo, vhi);
        }
    }

    /// <summary><see cref="Interior"/>, 16 channels per vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Interior512<T>(float* x, float* w, float* b, float* y, in ConvGeometry g, int c0, float lo, float hi, int ohA, int ohB, int owLo, int owHi)
        where T : struct, ILanes<Vector512<float>>
    {
        int C = g.C, sw = g.StrideW, n = owHi - owLo;
        var w0 = Vector512.Load(w + 0 * C + c0); var w1 = Vector512.Load(w + 1 * C + c0); var w2 = Vector512.Load(w + 2 * C + c0);
        var w3 = Vector512.Load(w + 3 * C + c0); var w4 = Vector512.Load(w + 4 * C + c0); var w5 = Vector512.Load(w + 5 * C + c0);
        var w6 = Vector512.Load(w + 6 * C + c0); var w7 = Vector512.Load(w + 7 * C + c0); var w8 = Vector512.Load(w + 8 * C + c0);
        var bias = b == null ? Vector512<float>.Zero : Vector512.Load(b + c0);
        var vlo = Vector512.Create(lo); var vhi = Vector512.Create(hi);
        long rowStride = (long)g.W * C, inStep = g.StrideH * rowStride, outStep = (long)g.OW * C;
        int W = g.W, OW = g.OW, pl = g.PadLeft;
        float* top = x + (long)(ohA * g.StrideH - g.PadTop) * rowStride + c0, yt = y + ohA * outStep + c0;
        for (int oh = ohA; oh < ohB; oh++, top += inStep, yt += outStep)
        {
            for (int ow = 0; ow < owLo; ow++)
                T.Store(yt + (long)ow * C, Edge512(top, rowStride, C, ow * sw - pl, W, true, true, true, bias, w0, w1, w2, w3, w4, w5, w6, w7, w8), vlo, vhi);
            for (int ow = owHi; ow < OW; ow++)
                T.Store(yt + (long)ow * C, Edge512(top, rowStride, C, ow * sw - pl, W, true, true, true, bias, w0, w1, w2, w3, w4, w5, w6, w7, w8), vlo, vhi);
            float* row = top + (long)(owLo * sw - pl) * C, yr = yt + (long)owLo * C;
            int i = 0;
            // Four pixels at a time: each input column is loaded once per kernel row for the outputs that share it
            // (stride 1: 6 loads for 4 pixels' 12 taps, stride 2: 9), and four FMA chains. Every output still adds
            // its taps to the bias in tap order, so the sums are the two-pixel loop's, bit for bit.
            if (sw == 1)
                for (; i + 4 <= n; i += 4)
                {
                    float* p = row + (long)i * C;
                    Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                    Row4Stride1(p, C, w0, w1, w2, ref a0, ref a1, ref a2, ref a3);
                    Row4Stride1(p + rowStride, C, w3, w4, w5, ref a0, ref a1, ref a2, ref a3);
                    Row4Stride1(p + 2 * rowStride, C, w6, w7, w8, ref a0, ref a1, ref a2, ref a3);
                    float* o = yr + (long)i * C;
                    T.Store(o, a0, vlo, vhi); T.Store(o + C, a1, vlo, vhi); T.Store(o + 2 * C, a2, vlo, vhi); T.Store(o + 3 * C, a3, vlo, vhi);
                }
            else if (sw == 2)
                for (; i + 4 <= n; i += 4)
                {
                    float* p = row + (long)(2 * i) * C;
                    Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                    Row4Stride2(p, C, w0, w1, w2, ref a0, ref a1, ref a2, ref a3);
                    Row4Stride2(p + rowStride, C, w3, w4, w5, ref a0, ref a1, ref a2, ref a3);
                    Row4Stride2(p + 2 * rowStride, C, w6, w7, w8, ref a0, ref a1, ref a2, ref a3);
                    float* o = yr + (long)i * C;
                    T.Store(o, a0, vlo, vhi); T.Store(o + C, a1, vlo, vhi); T.Store(o + 2 * C, a2, vlo, vhi); T.Store(o + 3 * C, a3, vlo, vhi);
                }
            // Two pixels at a time: two independent FMA chains.
            for (; i + 2 <= n; i += 2)
            {
                float* p = row + (long)(i * sw) * C, q = p + (long)sw * C;
                var a = Vector512.FusedMultiplyAdd(Vector512.Load(p), w0, bias);
                var e = Vector512.FusedMultiplyAdd(Vector512.Load(q), w0, bias);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p + C), w1, a); e = Vector512.FusedMultiplyAdd(Vector512.Load(q + C), w1, e);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * C), w2, a); e = Vector512.FusedMultiplyAdd(Vector512.Load(q + 2 * C), w2, e);
                p += rowStride; q += rowStride;
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p), w3, a); e = Vector512.FusedMultiplyAdd(Vector512.Load(q), w3, e);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p + C), w4, a); e = Vector512.FusedMultiplyAdd(Vector512.Load(q + C), w4, e);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * C), w5, a); e = Vector512.FusedMultiplyAdd(Vector512.Load(q + 2 * C), w5, e);
                p += rowStride; q += rowStride;
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p), w6, a); e = Vector512.FusedMultiplyAdd(Vector512.Load(q), w6, e);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p + C), w7, a); e = Vector512.FusedMultiplyAdd(Vector512.Load(q + C), w7, e);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * C), w8, a); e = Vector512.FusedMultiplyAdd(Vector512.Load(q + 2 * C), w8, e);
                T.Store(yr + (long)i * C, a, vlo, vhi);
                T.Store(yr + (long)(i + 1) * C, e, vlo, vhi);
            }
            if (i < n)
            {
                float* p = row + (long)(i * sw) * C;
                var a = Vector512.FusedMultiplyAdd(Vector512.Load(p), w0, bias);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p + C), w1, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * C), w2, a);
                p += rowStride;
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p), w3, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p + C), w4, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * C), w5, a);
                p += rowStride;
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p), w6, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p + C), w7, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * C), w8, a);
                T.Store(yr + (long)i * C, a, vlo, vhi);
            }
        }
    }

    /// <summary>One kernel row of four adjacent outputs at stride 1: input columns 0..5, weights wa, wb, wc, each
    /// output's three taps in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row4Stride1(float* p, int C, Vector512<float> wa, Vector512<float> wb, Vector512<float> wc,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        var x0 = Vector512.Load(p); var x1 = Vector512.Load(p + C); var x2 = Vector512.Load(p + 2 * C);
        a0 = Vector512.FusedMultiplyAdd(x0, wa, a0); a1 = Vector512.FusedMultiplyAdd(x1, wa, a1); a2 = Vector512.FusedMultiplyAdd(x2, wa, a2);
        a0 = Vector512.FusedMultiplyAdd(x1, wb, a0); a1 = Vector512.FusedMultiplyAdd(x2, wb, a1);
        a0 = Vector512.FusedMultiplyAdd(x2, wc, a0);
        var x3 = Vector512.Load(p + 3 * C);
        a3 = Vector512.FusedMultiplyAdd(x3, wa, a3); a2 = Vector512.FusedMultiplyAdd(x3, wb, a2); a1 = Vector512.FusedMultiplyAdd(x3, wc, a1);
        var x4 = Vector512.Load(p + 4 * C);
        a3 = Vector512.FusedMultiplyAdd(x4, wb, a3); a2 = Vector512.FusedMultiplyAdd(x4, wc, a2);
        a3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 5 * C), wc, a3);
    }

    /// <summary>One kernel row of four adjacent outputs at stride 2: input columns 0..8 (output j reads 2j..2j+2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row4Stride2(float* p, int C, Vector512<float> wa, Vector512<float> wb, Vector512<float> wc,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        a0 = Vector512.FusedMultiplyAdd(Vector512.Load(p), wa, a0);
        a0 = Vector512.FusedMultiplyAdd(Vector512.Load(p + C), wb, a0);
        var x2 = Vector512.Load(p + 2 * C);
        a0 = Vector512.FusedMultiplyAdd(x2, wc, a0); a1 = Vector512.FusedMultiplyAdd(x2, wa, a1);
        a1 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 3 * C), wb, a1);
        var x4 = Vector512.Load(p + 4 * C);
        a1 = Vector512.FusedMultiplyAdd(x4, wc, a1); a2 = Vector512.FusedMultiplyAdd(x4, wa, a2);
        a2 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 5 * C), wb, a2);
        var x6 = Vector512.Load(p + 6 * C);
        a2 = Vector512.FusedMultiplyAdd(x6, wc, a2); a3 = Vector512.FusedMultiplyAdd(x6, wa, a3);
        a3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 7 * C), wb, a3);
        a3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 8 * C), wc, a3);
    }

    /// <summary><see cref="Edge"/>, 16 channels per vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Edge512(float* top, long rowStride, int C, int iw, int W, bool r0, bool r1, bool r2, Vector512<float> acc,
        Vector512<float> w0, Vector512<float> w1, Vector512<float> w2, Vector512<float> w3, Vector512<float> w4, Vector512<float> w5, Vector512<float> w6, Vector512<float> w7, Vector512<float> w8)
    {
        bool k0 = (uint)iw < (uint)W, k1 = (uint)(iw + 1) < (uint)W, k2 = (uint)(iw + 2) < (uint)W;
        float* p = top + (long)iw * C;
        if (r0)
        {
            if (k0) acc = Vector512.FusedMultiplyAdd(Vector512.Load(p), w0, acc);
            if (k1) acc = Vector512.FusedMultiplyAdd(Vector512.Load(p + C), w1, acc);
            if (k2) acc = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * C), w2, acc);
        }
        p += rowStride;
        if (r1)
        {
            if (k0) acc = Vector512.FusedMultiplyAdd(Vector512.Load(p), w3, acc);
            if (k1) acc = Vector512.FusedMultiplyAdd(Vector512.Load(p + C), w4, acc);
            if (k2) acc = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * C), w5, acc);
        }
        p += rowStride;
        if (r2)
        {
            if (k0) acc = Vector512.FusedMultiplyAdd(Vector512.Load(p), w6, acc);
            if (k1) acc = Vector512.FusedMultiplyAdd(Vector512.Load(p + C), w7, acc);
            if (k2) acc = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * C), w8, acc);
        }
        return acc;
    }

    /// <summary>A map of fewer channels than one vector, where <see cref="DepthwiseNhwcNarrow"/> does not fit.</summary>
    static void Scalar(float* x, float* w, float* b, float* y, in ConvGeometry g, int c0, float lo, float hi, int oh0, int oh1)
    {
        int C = g.C;
        for (int oh = oh0; oh < oh1; oh++)
            for (int ow = 0; ow < g.OW; ow++)
                for (int c = c0; c < C; c++)
                {
                    float acc = b == null ? 0f : b[c];
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                            if ((uint)iw >= (uint)g.W) continue;
                            acc = MathF.FusedMultiplyAdd(x[((long)ih * g.W + iw) * C + c], w[(kh * g.KW + kw) * C + c], acc);
                        }
                    }
                    y[((long)oh * g.OW + ow) * C + c] = Math.Min(Math.Max(acc, lo), hi);
                }
    }
}
