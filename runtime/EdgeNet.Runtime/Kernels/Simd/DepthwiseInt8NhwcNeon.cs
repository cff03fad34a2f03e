using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeNet.Kernels.Int8;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// int8 3×3 depthwise, channels-last, on arm64 NEON (Pi 4 and 5), straight from int8 to int8 as MLAS's
/// DepthwiseQConv does: eight channels per block, x − z_x widened to int16 as it is loaded (SSUBL), multiplied by
/// the int16 weights held in nine registers and summed in int32 (SMLAL/SMLAL2), the accumulators starting at the
/// bias; requantized in registers (<see cref="Requantize.Bounds128"/>). Taps in the padding are skipped (their
/// x − z_x is 0). Exact integer sums, so the result is QuantMath.Requantize of the int32 reference's sum, bit for bit.
/// When no weight is −128 (<see cref="Block3x3Folded"/>), XNNPACK's mla8 form: raw codes times int8 weights, two taps
/// summed in int16 (SMULL + SMLAL; |x·w| ≤ 128·127, so two stay below 2^15), widened into int32 (SADDW/SADDW2), the
/// zero point folded into the bias: 33 instructions per 8 channels of a pixel instead of 54. Its borders test no tap:
/// a left or right pixel with one column of padding starts at a per-border bias (the padded column's z_x·w) and reads
/// six taps; a tap row outside the image reads a row of z_x (column step 0).
/// </summary>
internal static unsafe class DepthwiseInt8NhwcNeon
{
    public static bool Supported => AdvSimd.Arm64.IsSupported;
    public const int Lanes = 8;

    /// <summary>The most channels <see cref="Block3x3Folded"/> takes: its padding row (2C + 8 bytes) is on the stack.</summary>
    public const int MaxFoldedChannels = 4096;

    /// <summary>Weights [C, 1, 3, 3] → [9, C] as int16.</summary>
    public static short[] PackWeights(ReadOnlySpan<sbyte> w, int c)
    {
        var p = new short[9 * c];
        for (int ch = 0; ch < c; ch++)
            for (int t = 0; t < 9; t++) p[t * c + ch] = w[ch * 9 + t];
        return p;
    }

    /// <summary>Weights [C, 1, 3, 3] → [9, C], int8 (<see cref="Block3x3Folded"/>).</summary>
    public static sbyte[] PackWeights8(ReadOnlySpan<sbyte> w, int c)
    {
        var p = new sbyte[9 * c];
        for (int ch = 0; ch < c; ch++)
            for (int t = 0; t < 9; t++) p[t * c + ch] = w[ch * 9 + t];
        return p;
    }

    /// <summary>Two taps' products summed in int16, then added to the int32 sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Taps2(ref Vector128<int> lo, ref Vector128<int> hi, Vector64<sbyte> x, Vector64<sbyte> wa, Vector64<sbyte> y, Vector64<sbyte> wb)
    {
        var p = AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(x, wa), y, wb);   // SMULL, SMLAL
        hi = AdvSimd.AddWideningUpper(hi, p);                                                        // SADDW2
        lo = AdvSimd.AddWideningLower(lo, p.GetLower());                                             // SADDW
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tap1(ref Vector128<int> lo, ref Vector128<int> hi, Vector64<sbyte> x, Vector64<sbyte> wa)
    {
        var p = AdvSimd.MultiplyWideningLower(x, wa);
        hi = AdvSimd.AddWideningUpper(hi, p);
        lo = AdvSimd.AddWideningLower(lo, p.GetLower());
    }

    /// <summary>One pixel's nine taps (x0..x8: the codes, or z_x in the padding) onto the sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Nine(ref Vector128<int> lo, ref Vector128<int> hi, Vector64<sbyte> x0, Vector64<sbyte> x1, Vector64<sbyte> x2, Vector64<sbyte> x3, Vector64<sbyte> x4,
        Vector64<sbyte> x5, Vector64<sbyte> x6, Vector64<sbyte> x7, Vector64<sbyte> x8, Vector64<sbyte> w0, Vector64<sbyte> w1, Vector64<sbyte> w2,
        Vector64<sbyte> w3, Vector64<sbyte> w4, Vector64<sbyte> w5, Vector64<sbyte> w6, Vector64<sbyte> w7, Vector64<sbyte> w8)
    {
        Taps2(ref lo, ref hi, x0, w0, x1, w1);
        Taps2(ref lo, ref hi, x2, w2, x3, w3);
        Taps2(ref lo, ref hi, x4, w4, x5, w5);
        Taps2(ref lo, ref hi, x6, w6, x7, w7);
        Tap1(ref lo, ref hi, x8, w8);
    }

    /// <summary><see cref="Block3x3"/> when no weight is −128: w [9, C] int8, bias' = b − z_x·Σw [C] (a tap in the
    /// padding then adds z_x·w, the code of a real 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block3x3Folded(sbyte* x, sbyte* w, int* bias, float* mult, sbyte* y, in ConvGeometry g, int c0, int c1, int zx, int zy, int lo, int hi, int oh0, int oh1, bool clamp)
    {
        if (g.C > MaxFoldedChannels) throw new ArgumentException($"the folded depthwise takes at most {MaxFoldedChannels} channels");
        // The clamp on the bytes (Folded.Store) holds for finite multipliers; a non-finite one can make t NaN, which
        // the reference sends to hi: then the float clamp (Bounds128) for every block (its result is the reference's
        // for finite ones too). One specialization each: no test per pixel.
        bool finite = true;
        for (int c = c0; c < c1; c++) finite &= float.IsFinite(mult[c]);
        if (!clamp) Folded3x3<Saturate>(x, w, bias, mult, y, g, c0, c1, zx, zy, lo, hi, oh0, oh1);
        else if (finite) Folded3x3<Bytes>(x, w, bias, mult, y, g, c0, c1, zx, zy, lo, hi, oh0, oh1);
        else Folded3x3<Float>(x, w, bias, mult, y, g, c0, c1, zx, zy, lo, hi, oh0, oh1);
    }

    /// <summary>Channel blocks c0, c0 + 8, .. &lt; c1 over output rows oh0..oh1, block after block. The geometry (the
    /// border columns' bounds, the padding row) is set up once per call, not per block: a call per block was ~330
    /// arm64 instructions of set-up (MobileNetV2-1.0 int8: 892 blocks an inference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    static void Folded3x3<TMode>(sbyte* x, sbyte* w, int* bias, float* mult, sbyte* y, in ConvGeometry g, int c0, int c1, int zx, int zy, int lo, int hi, int oh0, int oh1)
        where TMode : struct, IMode
    {
        int C = g.C, H = g.H, W = g.W, OH = g.OH, OW = g.OW, sh = g.StrideH, sw = g.StrideW, pt = g.PadTop, pl = g.PadLeft;
        var vz = Vector64.Create((sbyte)zx);
        var q = new Folded(zy, lo, hi);
        var z16 = Vector128.Create((short)zx);
        // A row of padding: z_x at the three taps' offsets (0, C, 2C), read at a step of 0, so the rows outside the
        // image need no test per tap (their pointer is pad, their column step 0)
        sbyte* pad = stackalloc sbyte[2 * C + Lanes];
        vz.Store(pad); vz.Store(pad + C); vz.Store(pad + 2 * C);
        long rowStride = (long)W * C, step = (long)sw * C;
        // Output columns whose three taps are inside the image: owLo <= ow < owHi
        int owLo = Math.Min(OW, (pl + sw - 1) / sw);
        int owHi = W - 3 + pl >= 0 ? Math.Max(owLo, Math.Min(OW, (W - 3 + pl) / sw + 1)) : owLo;
        int pairs = (owHi - owLo) / 2, ow2 = owLo + 2 * pairs;
        long first = (long)owLo * sw - pl, last = (long)(OW - 1) * sw - pl;
        // The usual borders (MobileNet's: padding 1, any stride): at most one left pixel, its tap column −1, and at
        // most one right pixel, its last tap the image's last column. Then a row inside the image runs straight
        // through, its border pixels six taps each, with no test per pixel.
        bool plain = (owLo == 0 || owLo == 1 && pl == 1 && W >= 2) && (owHi == OW || owHi == OW - 1 && last + 2 == W);
        for (; c0 < c1; c0 += Lanes)
        {
            var w0 = Vector64.Load(w + c0); var w1 = Vector64.Load(w + C + c0); var w2 = Vector64.Load(w + 2 * C + c0);
            var w3 = Vector64.Load(w + 3 * C + c0); var w4 = Vector64.Load(w + 4 * C + c0); var w5 = Vector64.Load(w + 5 * C + c0);
            var w6 = Vector64.Load(w + 6 * C + c0); var w7 = Vector64.Load(w + 7 * C + c0); var w8 = Vector64.Load(w + 8 * C + c0);
            var b0 = Vector128.Load(bias + c0); var b1 = Vector128.Load(bias + c0 + 4);
            var m0 = Vector128.Load(mult + c0); var m1 = Vector128.Load(mult + c0 + 4);
            // A column of padding adds z_x·w for its three taps (the code of a real 0): the left border's pixels start at
            // b + z_x·(w0 + w3 + w6) and read six taps, the right border's at b + z_x·(w2 + w5 + w8) (|Σw| ≤ 381: int16).
            var sl = AdvSimd.AddWideningLower(AdvSimd.AddWideningLower(w0, w3), w6); var sr = AdvSimd.AddWideningLower(AdvSimd.AddWideningLower(w2, w5), w8);
            var l0 = AdvSimd.MultiplyWideningLowerAndAdd(b0, sl.GetLower(), z16.GetLower()); var l1 = AdvSimd.MultiplyWideningUpperAndAdd(b1, sl, z16);
            var e0 = AdvSimd.MultiplyWideningLowerAndAdd(b0, sr.GetLower(), z16.GetLower()); var e1 = AdvSimd.MultiplyWideningUpperAndAdd(b1, sr, z16);
            for (int oh = oh0; oh < oh1; oh++)
            {
                int ih = oh * sh - pt;
                sbyte* yr = y + (long)oh * OW * C + c0;
                sbyte* top = x + (long)ih * rowStride + c0;   // not read where a row is outside
                if (plain && ih >= 0 && ih + 2 < H)
                {
                    sbyte* mid = top + rowStride, bottom = mid + rowStride;
                    if (owLo != 0) Side<TMode>(top, mid, bottom, C, l0, l1, w1, w2, w4, w5, w7, w8, yr, m0, m1, q);
                    Interior<TMode>(top + first * C, yr + (long)owLo * C, pairs, C, rowStride, step, b0, b1, w0, w1, w2, w3, w4, w5, w6, w7, w8, m0, m1, q);
                    if (ow2 < owHi)
                    {
                        long o = ((long)ow2 * sw - pl) * C;
                        Pixel<TMode>(top + o, mid + o, bottom + o, C, b0, b1, w0, w1, w2, w3, w4, w5, w6, w7, w8, yr + (long)ow2 * C, m0, m1, q);
                    }
                    if (owHi != OW) Side<TMode>(top + last * C, mid + last * C, bottom + last * C, C, e0, e1, w0, w1, w3, w4, w6, w7, yr + (long)(OW - 1) * C, m0, m1, q);
                    continue;
                }
                // Each tap row's base and column step: the image row, or pad and 0
                bool r0 = (uint)ih < (uint)H, r1 = (uint)(ih + 1) < (uint)H, r2 = (uint)(ih + 2) < (uint)H;
                sbyte* t0 = r0 ? top : pad, t1 = r1 ? top + rowStride : pad, t2 = r2 ? top + 2 * rowStride : pad;
                long s0 = r0 ? C : 0, s1 = r1 ? C : 0, s2 = r2 ? C : 0;
                for (int ow = 0; ow < owLo; ow++)
                {
                    long iw = ow * sw - pl;
                    sbyte* p0 = t0 + iw * s0, p1 = t1 + iw * s1, p2 = t2 + iw * s2;
                    if (iw == -1 && W >= 2) Side<TMode>(p0 + C, p1 + C, p2 + C, C, l0, l1, w1, w2, w4, w5, w7, w8, yr + (long)ow * C, m0, m1, q);
                    else EdgeFolded<TMode>(p0, p1, p2, C, (int)iw, W, b0, b1, vz, w0, w1, w2, w3, w4, w5, w6, w7, w8, yr + (long)ow * C, m0, m1, q);
                }
                // Two pixels at a time, two independent accumulator pairs. Rows inside the image: one pointer stepping by
                // two pixels, each tap a load at a register offset from the pixel's top-left tap (the JIT recomputed
                // (ow·sw − pl)·C and the row addresses per pair); a row of padding: three row pointers
                if (r0 && r2) Interior<TMode>(top + first * C, yr + (long)owLo * C, pairs, C, rowStride, step, b0, b1, w0, w1, w2, w3, w4, w5, w6, w7, w8, m0, m1, q);
                else InteriorRows<TMode>(t0 + first * s0, t1 + first * s1, t2 + first * s2, sw * s0, sw * s1, sw * s2, yr + (long)owLo * C, pairs, C, b0, b1, w0, w1, w2, w3, w4, w5, w6, w7, w8, m0, m1, q);
                for (int ow = ow2; ow < OW; ow++)   // the last interior pixel and the right border
                {
                    long iw = ow * sw - pl;
                    sbyte* p0 = t0 + iw * s0, p1 = t1 + iw * s1, p2 = t2 + iw * s2, yo = yr + (long)ow * C;
                    if (ow < owHi) Pixel<TMode>(p0, p1, p2, C, b0, b1, w0, w1, w2, w3, w4, w5, w6, w7, w8, yo, m0, m1, q);
                    else if (iw >= 0 && iw + 2 == W) Side<TMode>(p0, p1, p2, C, e0, e1, w0, w1, w3, w4, w6, w7, yo, m0, m1, q);
                    else EdgeFolded<TMode>(p0, p1, p2, C, (int)iw, W, b0, b1, vz, w0, w1, w2, w3, w4, w5, w6, w7, w8, yo, m0, m1, q);
                }
            }
        }
    }

    /// <summary>A pixel of the left or right border (one column of padding, its taps in the bias a0, a1): the other
    /// two columns' six taps, at p_r and p_r + C of each tap row, against weights u (the first column's) and v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Side<TMode>(sbyte* p0, sbyte* p1, sbyte* p2, long C, Vector128<int> a0, Vector128<int> a1, Vector64<sbyte> u0, Vector64<sbyte> v0,
        Vector64<sbyte> u1, Vector64<sbyte> v1, Vector64<sbyte> u2, Vector64<sbyte> v2, sbyte* y, Vector128<float> m0, Vector128<float> m1, Folded q) where TMode : struct, IMode
    {
        Taps2(ref a0, ref a1, Vector64.Load(p0), u0, Vector64.Load(p0 + C), v0);
        Taps2(ref a0, ref a1, Vector64.Load(p1), u1, Vector64.Load(p1 + C), v1);
        Taps2(ref a0, ref a1, Vector64.Load(p2), u2, Vector64.Load(p2 + C), v2);
        q.Store<TMode>(y, a0, a1, m0, m1);
    }

    /// <summary>One pixel's nine taps at p_r, p_r + C, p_r + 2C of each tap row (an image row or the padding row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Pixel<TMode>(sbyte* p0, sbyte* p1, sbyte* p2, long C, Vector128<int> a0, Vector128<int> a1,
        Vector64<sbyte> w0, Vector64<sbyte> w1, Vector64<sbyte> w2, Vector64<sbyte> w3, Vector64<sbyte> w4, Vector64<sbyte> w5, Vector64<sbyte> w6, Vector64<sbyte> w7, Vector64<sbyte> w8,
        sbyte* y, Vector128<float> m0, Vector128<float> m1, Folded q) where TMode : struct, IMode
    {
        long C2 = 2 * C;
        Nine(ref a0, ref a1, Vector64.Load(p0), Vector64.Load(p0 + C), Vector64.Load(p0 + C2), Vector64.Load(p1), Vector64.Load(p1 + C),
             Vector64.Load(p1 + C2), Vector64.Load(p2), Vector64.Load(p2 + C), Vector64.Load(p2 + C2), w0, w1, w2, w3, w4, w5, w6, w7, w8);
        q.Store<TMode>(y, a0, a1, m0, m1);
    }

    /// <summary><see cref="Interior{TMode}"/> for a row with a tap row of padding: three row pointers, each stepping
    /// by its own s (0 for the padding row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void InteriorRows<TMode>(sbyte* p0, sbyte* p1, sbyte* p2, long s0, long s1, long s2, sbyte* y, int pairs, long C, Vector128<int> b0, Vector128<int> b1,
        Vector64<sbyte> w0, Vector64<sbyte> w1, Vector64<sbyte> w2, Vector64<sbyte> w3, Vector64<sbyte> w4, Vector64<sbyte> w5, Vector64<sbyte> w6, Vector64<sbyte> w7, Vector64<sbyte> w8,
        Vector128<float> m0, Vector128<float> m1, Folded q) where TMode : struct, IMode
    {
        long C2 = 2 * C;
        for (sbyte* yEnd = y + pairs * C2; y < yEnd; p0 += 2 * s0, p1 += 2 * s1, p2 += 2 * s2, y += C2)
        {
            Pixel<TMode>(p0, p1, p2, C, b0, b1, w0, w1, w2, w3, w4, w5, w6, w7, w8, y, m0, m1, q);
            Pixel<TMode>(p0 + s0, p1 + s1, p2 + s2, C, b0, b1, w0, w1, w2, w3, w4, w5, w6, w7, w8, y + C, m0, m1, q);
        }
    }

    /// <summary><paramref name="pairs"/> pairs of interior pixels of <see cref="Block3x3Folded"/>: p, the first one's
    /// top-left tap; y, its output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Interior<TMode>(sbyte* p, sbyte* y, int pairs, long C, long rowStride, long step, Vector128<int> b0, Vector128<int> b1,
        Vector64<sbyte> w0, Vector64<sbyte> w1, Vector64<sbyte> w2, Vector64<sbyte> w3, Vector64<sbyte> w4, Vector64<sbyte> w5, Vector64<sbyte> w6, Vector64<sbyte> w7, Vector64<sbyte> w8,
        Vector128<float> m0, Vector128<float> m1, Folded q) where TMode : struct, IMode
    {
        long C2 = 2 * C, step2 = 2 * step, R = rowStride, R1 = R + C, R2 = R + C2, S = 2 * R, S1 = S + C, S2 = S + C2;
        for (sbyte* yEnd = y + pairs * C2; y < yEnd; p += step2, y += C2)   // ends on the output pointer: no counter
        {
            sbyte* r = p + step;
            Vector128<int> a0 = b0, a1 = b1, e0 = b0, e1 = b1;
            Nine(ref a0, ref a1, Vector64.Load(p), Vector64.Load(p + C), Vector64.Load(p + C2), Vector64.Load(p + R), Vector64.Load(p + R1),
                 Vector64.Load(p + R2), Vector64.Load(p + S), Vector64.Load(p + S1), Vector64.Load(p + S2), w0, w1, w2, w3, w4, w5, w6, w7, w8);
            Nine(ref e0, ref e1, Vector64.Load(r), Vector64.Load(r + C), Vector64.Load(r + C2), Vector64.Load(r + R), Vector64.Load(r + R1),
                 Vector64.Load(r + R2), Vector64.Load(r + S), Vector64.Load(r + S1), Vector64.Load(r + S2), w0, w1, w2, w3, w4, w5, w6, w7, w8);
            q.Store<TMode>(y, a0, a1, m0, m1);
            q.Store<TMode>(y + C, e0, e1, m0, m1);
        }
    }

    /// <summary>How <see cref="Block3x3Folded"/> clamps: the saturating narrows alone (the int8 range,
    /// GemmInt8.SaturationClamps), SMIN/SMAX on the bytes, or in float before rounding (a multiplier not finite).</summary>
    enum Mode { Saturate, Bytes, Float }

    /// <summary>A <see cref="Mode"/> fixed per specialization of <see cref="Interior{TMode}"/>: no test per pixel.</summary>
    interface IMode { static abstract Mode Value { get; } }
    struct Saturate : IMode { public static Mode Value => Mode.Saturate; }
    struct Bytes : IMode { public static Mode Value => Mode.Bytes; }
    struct Float : IMode { public static Mode Value => Mode.Float; }

    /// <summary>The requantization constants of <see cref="Block3x3Folded"/>.</summary>
    readonly struct Folded(int zp, int lo, int hi)
    {
        readonly int zp = zp, lo = lo, hi = hi;
        public readonly Vector128<short> Zp = Vector128.Create((short)zp);
        public readonly Vector64<sbyte> Lo = Vector64.Create((sbyte)lo), Hi = Vector64.Create((sbyte)hi);

        /// <summary>Eight sums requantized and stored as 8 bytes: FCVTNS, SQXTN, SQXTN2, z_y added in int16 (SQADD),
        /// SQXTN, then (<see cref="Mode.Bytes"/>) SMIN hi and SMAX lo. Each step is monotonic and hi − z_y, hi are in
        /// its range, so min(steps(t), hi) = steps(min(t, hi − z_y)): the reference's clamp for every finite t; an
        /// int32 past int16 stays past int8 after either order of saturations (|z_y| ≤ 128). 13 instructions, not 18.
        /// <see cref="Mode.Float"/>: FMINNM/FMAXNM before rounding (NaN to hi, as QuantMath).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store<TMode>(sbyte* y, Vector128<int> a, Vector128<int> b, Vector128<float> m0, Vector128<float> m1) where TMode : struct, IMode
        {
            var mode = TMode.Value;
            var t0 = Vector128.ConvertToSingle(a) * m0; var t1 = Vector128.ConvertToSingle(b) * m1;
            if (mode == Mode.Float)   // the bounds made here: not held in registers where no multiplier is NaN
            {
                var bounds = new Requantize.Bounds128(zp, lo, hi);
                Requantize.Bounds128.Store8(bounds.Round(t0), bounds.Round(t1), y);
                return;
            }
            var s = AdvSimd.AddSaturate(AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(AdvSimd.ConvertToInt32RoundToEven(t0)), AdvSimd.ConvertToInt32RoundToEven(t1)), Zp);
            var q = AdvSimd.ExtractNarrowingSaturateLower(s);
            if (mode == Mode.Bytes) q = AdvSimd.Max(AdvSimd.Min(q, Hi), Lo);
            q.Store(y);
        }
    }

    /// <summary>One pixel of <see cref="Block3x3Folded"/> with columns outside the image on both sides or past one
    /// column of padding (maps narrower than 2, padding of 2): each tap's column tested, a tap outside replaced by z_x.
    /// p_r: tap row r at column iw (the padding row: z_x at any column). The sums start in locals: the JIT kept them
    /// on the stack (a store and a load per tap) when they were the bias parameters passed by ref.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void EdgeFolded<TMode>(sbyte* p0, sbyte* p1, sbyte* p2, long C, int iw, int W, Vector128<int> b0, Vector128<int> b1, Vector64<sbyte> vz,
        Vector64<sbyte> w0, Vector64<sbyte> w1, Vector64<sbyte> w2, Vector64<sbyte> w3, Vector64<sbyte> w4, Vector64<sbyte> w5, Vector64<sbyte> w6, Vector64<sbyte> w7, Vector64<sbyte> w8,
        sbyte* y, Vector128<float> m0, Vector128<float> m1, Folded q) where TMode : struct, IMode
    {
        bool k0 = (uint)iw < (uint)W, k1 = (uint)(iw + 1) < (uint)W, k2 = (uint)(iw + 2) < (uint)W;
        Vector128<int> a0 = b0, a1 = b1;
        Nine(ref a0, ref a1, k0 ? Vector64.Load(p0) : vz, k1 ? Vector64.Load(p0 + C) : vz, k2 ? Vector64.Load(p0 + 2 * C) : vz,
             k0 ? Vector64.Load(p1) : vz, k1 ? Vector64.Load(p1 + C) : vz, k2 ? Vector64.Load(p1 + 2 * C) : vz,
             k0 ? Vector64.Load(p2) : vz, k1 ? Vector64.Load(p2 + C) : vz, k2 ? Vector64.Load(p2 + 2 * C) : vz, w0, w1, w2, w3, w4, w5, w6, w7, w8);
        q.Store<TMode>(y, a0, a1, m0, m1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tap(ref Vector128<int> lo, ref Vector128<int> hi, sbyte* p, Vector64<sbyte> zx, Vector128<short> w)
    {
        var d = AdvSimd.SubtractWideningLower(Vector64.Load(p), zx);                    // x − z_x, int16 (SSUBL)
        lo = AdvSimd.MultiplyWideningLowerAndAdd(lo, d.GetLower(), w.GetLower());        // SMLAL
        hi = AdvSimd.MultiplyWideningUpperAndAdd(hi, d, w);                              // SMLAL2
    }

    /// <summary>Eight sums requantized and stored as 8 bytes. Without <paramref name="clamp"/> (the clamp is the int8
    /// range and no |acc·m| reaches 2^30: GemmInt8.SaturationClamps) the saturating narrows (SQXTN) are the clamp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(sbyte* y, Vector128<int> lo, Vector128<int> hi, Vector128<float> m0, Vector128<float> m1, Requantize.Bounds128 q, bool clamp)
    {
        var t0 = Vector128.ConvertToSingle(lo) * m0; var t1 = Vector128.ConvertToSingle(hi) * m1;
        if (clamp) { Requantize.Bounds128.Store8(q.Round(t0), q.Round(t1), y); return; }
        var a = AdvSimd.ConvertToInt32RoundToEven(t0) + q.Zp; var b = AdvSimd.ConvertToInt32RoundToEven(t1) + q.Zp;
        AdvSimd.ExtractNarrowingSaturateLower(AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(a), b)).Store(y);
    }

    /// <summary>Channels c0..c0+7 of output rows oh0..oh1: x [H, W, C] int8, w [9, C] int16, bias [C] int32 (the
    /// int8 bias, z_x not folded), per-channel multipliers, y [OH, OW, C] int8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block3x3(sbyte* x, short* w, int* bias, float* mult, sbyte* y, in ConvGeometry g, int c0, int zx, int zy, int lo, int hi, int oh0, int oh1, bool clamp)
    {
        int C = g.C, H = g.H, W = g.W, OH = g.OH, OW = g.OW, sh = g.StrideH, sw = g.StrideW, pt = g.PadTop, pl = g.PadLeft;
        var w0 = Vector128.Load(w + 0 * C + c0); var w1 = Vector128.Load(w + 1 * C + c0); var w2 = Vector128.Load(w + 2 * C + c0);
        var w3 = Vector128.Load(w + 3 * C + c0); var w4 = Vector128.Load(w + 4 * C + c0); var w5 = Vector128.Load(w + 5 * C + c0);
        var w6 = Vector128.Load(w + 6 * C + c0); var w7 = Vector128.Load(w + 7 * C + c0); var w8 = Vector128.Load(w + 8 * C + c0);
        var b0 = Vector128.Load(bias + c0); var b1 = Vector128.Load(bias + c0 + 4);
        var m0 = Vector128.Load(mult + c0); var m1 = Vector128.Load(mult + c0 + 4);
        var vz = Vector64.Create((sbyte)zx);
        var q = new Requantize.Bounds128(zy, lo, hi);
        long rowStride = (long)W * C, step = (long)sw * C;
        for (int oh = oh0; oh < oh1; oh++)
        {
            int ih = oh * sh - pt;
            bool rowsInside = ih >= 0 && ih + 2 < H;
            sbyte* yr = y + (long)oh * OW * C + c0;
            // Output columns whose three taps are inside the image: owLo <= ow < owHi.
            int owLo = rowsInside ? Math.Min(OW, (pl + sw - 1) / sw) : OW;
            int owHi = rowsInside && W - 3 + pl >= 0 ? Math.Max(owLo, Math.Min(OW, (W - 3 + pl) / sw + 1)) : owLo;
            bool r0 = (uint)ih < (uint)H, r1 = (uint)(ih + 1) < (uint)H, r2 = (uint)(ih + 2) < (uint)H;
            sbyte* top = x + (long)ih * rowStride + c0;   // not read where a row is outside
            for (int ow = 0; ow < owLo; ow++)
                Edge(top, rowStride, C, ow * sw - pl, W, r0, r1, r2, b0, b1, vz, w0, w1, w2, w3, w4, w5, w6, w7, w8, yr + (long)ow * C, m0, m1, q, clamp);
            int ow2 = owLo;
            for (; ow2 + 2 <= owHi; ow2 += 2)   // two pixels: two independent accumulator pairs
            {
                sbyte* p = top + (long)(ow2 * sw - pl) * C, r = p + step;
                Vector128<int> a0 = b0, a1 = b1, e0 = b0, e1 = b1;
                Tap(ref a0, ref a1, p, vz, w0); Tap(ref e0, ref e1, r, vz, w0);
                Tap(ref a0, ref a1, p + C, vz, w1); Tap(ref e0, ref e1, r + C, vz, w1);
                Tap(ref a0, ref a1, p + 2 * C, vz, w2); Tap(ref e0, ref e1, r + 2 * C, vz, w2);
                p += rowStride; r += rowStride;
                Tap(ref a0, ref a1, p, vz, w3); Tap(ref e0, ref e1, r, vz, w3);
                Tap(ref a0, ref a1, p + C, vz, w4); Tap(ref e0, ref e1, r + C, vz, w4);
                Tap(ref a0, ref a1, p + 2 * C, vz, w5); Tap(ref e0, ref e1, r + 2 * C, vz, w5);
                p += rowStride; r += rowStride;
                Tap(ref a0, ref a1, p, vz, w6); Tap(ref e0, ref e1, r, vz, w6);
                Tap(ref a0, ref a1, p + C, vz, w7); Tap(ref e0, ref e1, r + C, vz, w7);
                Tap(ref a0, ref a1, p + 2 * C, vz, w8); Tap(ref e0, ref e1, r + 2 * C, vz, w8);
                Store(yr + (long)ow2 * C, a0, a1, m0, m1, q, clamp);
                Store(yr + (long)(ow2 + 1) * C, e0, e1, m0, m1, q, clamp);
            }
            for (int ow = ow2; ow < OW; ow++)   // the last interior pixel and the right border
                Edge(top, rowStride, C, ow * sw - pl, W, r0, r1, r2, b0, b1, vz, w0, w1, w2, w3, w4, w5, w6, w7, w8, yr + (long)ow * C, m0, m1, q, clamp);
        }
    }

    /// <summary>One output pixel, each tap tested against the image (borders, and one interior pixel per row at most).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Edge(sbyte* top, long rowStride, int C, int iw, int W, bool r0, bool r1, bool r2, Vector128<int> a0, Vector128<int> a1, Vector64<sbyte> vz,
        Vector128<short> w0, Vector128<short> w1, Vector128<short> w2, Vector128<short> w3, Vector128<short> w4, Vector128<short> w5, Vector128<short> w6, Vector128<short> w7, Vector128<short> w8,
        sbyte* y, Vector128<float> m0, Vector128<float> m1, Requantize.Bounds128 q, bool clamp)
    {
        bool k0 = (uint)iw < (uint)W, k1 = (uint)(iw + 1) < (uint)W, k2 = (uint)(iw + 2) < (uint)W;
        sbyte* p = top + (long)iw * C;
        if (r0)
        {
            if (k0) Tap(ref a0, ref a1, p, vz, w0);
            if (k1) Tap(ref a0, ref a1, p + C, vz, w1);
            if (k2) Tap(ref a0, ref a1, p + 2 * C, vz, w2);
        }
        p += rowStride;
        if (r1)
        {
            if (k0) Tap(ref a0, ref a1, p, vz, w3);
            if (k1) Tap(ref a0, ref a1, p + C, vz, w4);
            if (k2) Tap(ref a0, ref a1, p + 2 * C, vz, w5);
        }
        p += rowStride;
        if (r2)
        {
            if (k0) Tap(ref a0, ref a1, p, vz, w6);
            if (k1) Tap(ref a0, ref a1, p + C, vz, w7);
            if (k2) Tap(ref a0, ref a1, p + 2 * C, vz, w8);
        }
        Store(y, a0, a1, m0, m1, q, clamp);
    }
}
