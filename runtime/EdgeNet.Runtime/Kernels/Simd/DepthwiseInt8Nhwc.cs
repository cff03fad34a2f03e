using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// int8 3×3 depthwise, channels-last, on AVX-512 (16 channels a block) and AVX2 (8): the int8 channels are widened to
/// fp32 as they are loaded (VPMOVSXBD + VCVTDQ2PS), multiplied by the integer weights held as floats, and requantized
/// in the store. The zero point is folded into the bias (b' = b − z_x·Σw), so every sum is an integer below 2^24 that
/// fp32 holds exactly and the result is bit-identical to the int32 reference at either width. No float copy of the
/// input, no float output: the structure of <see cref="DepthwiseNhwc"/>'s 512-bit kernel, generic over the width
/// (<see cref="IInt8Lanes{TV, TQ}"/>; the JIT specializes each).
/// </summary>
internal static unsafe class DepthwiseInt8Nhwc
{
    public static bool Supported => Avx512F.IsSupported;
    public static bool Supported256 => Avx2.IsSupported && Fma.IsSupported;
    /// <summary>The 512-bit blocks run for the int8 ISA <paramref name="isa"/> (<see cref="Engine.KernelOptions"/>).</summary>
    public static bool Runs512(GemmInt8.Isa isa) => Supported && isa is GemmInt8.Isa.AvxVnni or GemmInt8.Isa.Avx512;
    /// <summary>The 256-bit blocks run for <paramref name="isa"/>: any x64 SIMD one.</summary>
    public static bool Runs256(GemmInt8.Isa isa) => Supported256 && isa is GemmInt8.Isa.AvxVnni or GemmInt8.Isa.Avx512 or GemmInt8.Isa.Avx2;

    /// <summary>The loop body of a block, chosen once per conv (<see cref="Choose"/>). Each is its own compiled copy of
    /// Block3x3 (a type argument the JIT specializes), so the lean one keeps its registers: with the paired rows' loop
    /// in the same method the 14×14 and 7×7 maps ran 5-11% slower even where no row was paired (a call from the row
    /// loop instead: +20%).</summary>
    public enum Body : byte
    {
        /// <summary>Stride 1 in 4-pixel blocks a row, any stride in 2- and 1-pixel blocks.</summary>
        Lean,
        /// <summary>Stride 1, two output rows per pass where both rows' taps are inside the map (<see cref="Row4x2{T, TV, TQ}"/>).</summary>
        RowPairs,
        /// <summary>Stride 2 in 4-pixel blocks (<see cref="Row4Stride2{T, TV, TQ}"/>).</summary>
        Quads2,
    }

    /// <summary>Stride 1 pairs rows from this many output columns at 512 bits (MobileNetV2's 28×28×192 map: 21.9 ->
    /// 21.3 µs; its 14×14 maps ran 1-2% slower paired).</summary>
    public const int PairsMinColumns512 = 28;
    /// <summary>The same at 256 bits: the paired loop keeps ~19 vectors live, past AVX2's 16 ymm registers, and gains
    /// on the 112-column map alone (147.8 -> 139.8 µs; 56 columns within 1%, 28 columns 1% slower).</summary>
    public const int PairsMinColumns256 = 56;

    /// <summary>The body for <paramref name="g"/> at 512 bits (<paramref name="wide"/>) or 256: stride 1 pairs rows on
    /// wide maps; stride 2 always runs 4-pixel blocks (MobileNetV2 at 512 bits: 112×112×96, in bands of rows, 64.6 ->
    /// 59.2 µs; 28×28×192 7.3 -> 6.7; 14×14×576 6.0 either way. AVX2: 56×56×144 43.8 -> 40.4).</summary>
    public static Body Choose(in ConvGeometry g, bool wide) =>
        g.StrideW == 2 ? Body.Quads2
        : g.StrideW == 1 && g.StrideH == 1 && g.OW >= (wide ? PairsMinColumns512 : PairsMinColumns256) ? Body.RowPairs
        : Body.Lean;

    /// <summary>Channels c0..c0+15 (AVX-512) of output rows oh0..oh1.</summary>
    public static void Block3x3V512(sbyte* x, float* w, float* b, float* mult, sbyte* y, in ConvGeometry g, int c0, float zx, float zp, float lo, float hi, int oh0, int oh1, bool clamp = true, Body body = Body.Lean)
    {
        switch (body)
        {
            case Body.RowPairs: Block3x3<Int8Lanes512, Vector512<float>, Int8.Requantize.Bounds512, RowPairsBody>(x, w, b, mult, y, g, c0, zx, zp, lo, hi, oh0, oh1, clamp); break;
            case Body.Quads2: Block3x3<Int8Lanes512, Vector512<float>, Int8.Requantize.Bounds512, Quads2Body>(x, w, b, mult, y, g, c0, zx, zp, lo, hi, oh0, oh1, clamp); break;
            default: Block3x3<Int8Lanes512, Vector512<float>, Int8.Requantize.Bounds512, LeanBody>(x, w, b, mult, y, g, c0, zx, zp, lo, hi, oh0, oh1, clamp); break;
        }
    }

    /// <summary>Channels c0..c0+7 (AVX2; on AVX-512 the last eight of a channel count that is not a multiple of 16).</summary>
    public static void Block3x3V256(sbyte* x, float* w, float* b, float* mult, sbyte* y, in ConvGeometry g, int c0, float zx, float zp, float lo, float hi, int oh0, int oh1, bool clamp = true, Body body = Body.Lean)
    {
        switch (body)
        {
            case Body.RowPairs: Block3x3<Int8Lanes256, Vector256<float>, Int8.Requantize.Bounds256, RowPairsBody>(x, w, b, mult, y, g, c0, zx, zp, lo, hi, oh0, oh1, clamp); break;
            case Body.Quads2: Block3x3<Int8Lanes256, Vector256<float>, Int8.Requantize.Bounds256, Quads2Body>(x, w, b, mult, y, g, c0, zx, zp, lo, hi, oh0, oh1, clamp); break;
            default: Block3x3<Int8Lanes256, Vector256<float>, Int8.Requantize.Bounds256, LeanBody>(x, w, b, mult, y, g, c0, zx, zp, lo, hi, oh0, oh1, clamp); break;
        }
    }

    interface IBody { static abstract bool Pairs { get; } static abstract bool Quads2 { get; } }
    readonly struct LeanBody : IBody { public static bool Pairs => false; public static bool Quads2 => false; }
    readonly struct RowPairsBody : IBody { public static bool Pairs => true; public static bool Quads2 => false; }
    readonly struct Quads2Body : IBody { public static bool Pairs => false; public static bool Quads2 => true; }

    /// <summary>Channels c0..c0+T.Count−1 of output rows oh0..oh1: x [H, W, C] int8, w [9, C] integer weights as floats,
    /// b' [C], per-channel multipliers, y [OH, OW, C] int8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Block3x3<T, TV, TQ, TBody>(sbyte* x, float* w, float* b, float* mult, sbyte* y, in ConvGeometry g, int c0, float zx, float zp, float lo, float hi, int oh0, int oh1, bool clamp)
        where T : struct, IInt8Lanes<TV, TQ> where TV : struct where TQ : struct where TBody : struct, IBody
    {
        int C = g.C, H = g.H, W = g.W, OH = g.OH, OW = g.OW, sh = g.StrideH, sw = g.StrideW, pt = g.PadTop, pl = g.PadLeft;
        var w0 = T.Load(w + 0 * C + c0); var w1 = T.Load(w + 1 * C + c0); var w2 = T.Load(w + 2 * C + c0);
        var w3 = T.Load(w + 3 * C + c0); var w4 = T.Load(w + 4 * C + c0); var w5 = T.Load(w + 5 * C + c0);
        var w6 = T.Load(w + 6 * C + c0); var w7 = T.Load(w + 7 * C + c0); var w8 = T.Load(w + 8 * C + c0);
        var bias = b == null ? T.Splat(0) : T.Load(b + c0);
        var rq = T.Bounds((int)zp, (int)lo, (int)hi); var vzx = T.Splat(zx); var vm = T.Load(mult + c0);
        long rowStride = (long)W * C;
        int pairedTo = -1;   // RowPairs: the row before computed this row's 4-pixel blocks up to this column
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
                T.StoreQ(yr + (long)ow * C, Edge<T, TV, TQ>(top, rowStride, C, ow * sw - pl, W, r0, r1, r2, bias, vzx, w0, w1, w2, w3, w4, w5, w6, w7, w8), vm, rq, clamp);
            sbyte* row = x + (long)ih * rowStride + c0;
            int ow2 = owLo;
            // Four pixels at a time: each input column is widened once and feeds up to three outputs. The sums are
            // exact integers, so the order of the FMAs is free.
            if (TBody.Pairs && pairedTo >= 0) { ow2 = pairedTo; pairedTo = -1; }
            else if (TBody.Pairs && sw == 1 && sh == 1 && rowsInside && oh + 1 < oh1 && ih + 3 < H)
            {
                // Two output rows at once: their four input rows are widened once (the middle two feed both rows),
                // 24 conversions for 8 pixels instead of 36. The next row starts after these blocks.
                sbyte* yr2 = yr + (long)OW * C;
                for (; ow2 + 4 <= owHi; ow2 += 4)
                {
                    sbyte* p = row + (long)(ow2 - pl) * C;
                    TV a0 = bias, a1 = bias, a2 = bias, a3 = bias, e0 = bias, e1 = bias, e2 = bias, e3 = bias;
                    Row4<T, TV, TQ>(p, C, w0, w1, w2, ref a0, ref a1, ref a2, ref a3);
                    Row4x2<T, TV, TQ>(p + rowStride, C, w3, w4, w5, w0, w1, w2, ref a0, ref a1, ref a2, ref a3, ref e0, ref e1, ref e2, ref e3);
                    Row4x2<T, TV, TQ>(p + 2 * rowStride, C, w6, w7, w8, w3, w4, w5, ref a0, ref a1, ref a2, ref a3, ref e0, ref e1, ref e2, ref e3);
                    Row4<T, TV, TQ>(p + 3 * rowStride, C, w6, w7, w8, ref e0, ref e1, ref e2, ref e3);
                    sbyte* o = yr + (long)ow2 * C, o2 = yr2 + (long)ow2 * C;
                    T.StoreQ(o, a0, vm, rq, clamp); T.StoreQ(o + C, a1, vm, rq, clamp); T.StoreQ(o + 2 * C, a2, vm, rq, clamp); T.StoreQ(o + 3 * C, a3, vm, rq, clamp);
                    T.StoreQ(o2, e0, vm, rq, clamp); T.StoreQ(o2 + C, e1, vm, rq, clamp); T.StoreQ(o2 + 2 * C, e2, vm, rq, clamp); T.StoreQ(o2 + 3 * C, e3, vm, rq, clamp);
                }
                pairedTo = ow2;
            }
            else if (TBody.Quads2 ? sw == 2 : sw == 1)
                // Stride 1: 6 input columns a kernel row instead of 12; stride 2 (Quads2): 9 (pixel j reads columns
                // 2j..2j+2; the even ones feed two pixels).
                for (; ow2 + 4 <= owHi; ow2 += 4)
                {
                    sbyte* p = row + (long)((TBody.Quads2 ? 2 * ow2 : ow2) - pl) * C;
                    TV a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                    Row4<T, TV, TQ, TBody>(p, C, w0, w1, w2, ref a0, ref a1, ref a2, ref a3);
                    Row4<T, TV, TQ, TBody>(p + rowStride, C, w3, w4, w5, ref a0, ref a1, ref a2, ref a3);
                    Row4<T, TV, TQ, TBody>(p + 2 * rowStride, C, w6, w7, w8, ref a0, ref a1, ref a2, ref a3);
                    sbyte* o = yr + (long)ow2 * C;
                    T.StoreQ(o, a0, vm, rq, clamp); T.StoreQ(o + C, a1, vm, rq, clamp); T.StoreQ(o + 2 * C, a2, vm, rq, clamp); T.StoreQ(o + 3 * C, a3, vm, rq, clamp);
                }
            // Two pixels at a time: two independent FMA chains.
            for (; ow2 + 2 <= owHi; ow2 += 2)
            {
                sbyte* p = row + (long)(ow2 * sw - pl) * C, q = p + (long)sw * C;
                var a = T.Fma(T.LoadInt8(p), w0, bias);
                var e = T.Fma(T.LoadInt8(q), w0, bias);
                a = T.Fma(T.LoadInt8(p + C), w1, a); e = T.Fma(T.LoadInt8(q + C), w1, e);
                a = T.Fma(T.LoadInt8(p + 2 * C), w2, a); e = T.Fma(T.LoadInt8(q + 2 * C), w2, e);
                p += rowStride; q += rowStride;
                a = T.Fma(T.LoadInt8(p), w3, a); e = T.Fma(T.LoadInt8(q), w3, e);
                a = T.Fma(T.LoadInt8(p + C), w4, a); e = T.Fma(T.LoadInt8(q + C), w4, e);
                a = T.Fma(T.LoadInt8(p + 2 * C), w5, a); e = T.Fma(T.LoadInt8(q + 2 * C), w5, e);
                p += rowStride; q += rowStride;
                a = T.Fma(T.LoadInt8(p), w6, a); e = T.Fma(T.LoadInt8(q), w6, e);
                a = T.Fma(T.LoadInt8(p + C), w7, a); e = T.Fma(T.LoadInt8(q + C), w7, e);
                a = T.Fma(T.LoadInt8(p + 2 * C), w8, a); e = T.Fma(T.LoadInt8(q + 2 * C), w8, e);
                T.StoreQ(yr + (long)ow2 * C, a, vm, rq, clamp);
                T.StoreQ(yr + (long)(ow2 + 1) * C, e, vm, rq, clamp);
            }
            if (ow2 < owHi)
            {
                sbyte* p = row + (long)(ow2 * sw - pl) * C;
                var a = T.Fma(T.LoadInt8(p), w0, bias);
                a = T.Fma(T.LoadInt8(p + C), w1, a);
                a = T.Fma(T.LoadInt8(p + 2 * C), w2, a);
                p += rowStride;
                a = T.Fma(T.LoadInt8(p), w3, a);
                a = T.Fma(T.LoadInt8(p + C), w4, a);
                a = T.Fma(T.LoadInt8(p + 2 * C), w5, a);
                p += rowStride;
                a = T.Fma(T.LoadInt8(p), w6, a);
                a = T.Fma(T.LoadInt8(p + C), w7, a);
                a = T.Fma(T.LoadInt8(p + 2 * C), w8, a);
                T.StoreQ(yr + (long)ow2 * C, a, vm, rq, clamp);
                ow2++;
            }
            for (int ow = ow2; ow < OW; ow++)
                T.StoreQ(yr + (long)ow * C, Edge<T, TV, TQ>(top, rowStride, C, ow * sw - pl, W, r0, r1, r2, bias, vzx, w0, w1, w2, w3, w4, w5, w6, w7, w8), vm, rq, clamp);
        }
    }

    /// <summary>One kernel row of four adjacent outputs (stride 1): input columns 0..5, weights wa, wb, wc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row4<T, TV, TQ>(sbyte* p, int C, TV wa, TV wb, TV wc, ref TV a0, ref TV a1, ref TV a2, ref TV a3)
        where T : struct, IInt8Lanes<TV, TQ> where TV : struct where TQ : struct
    {
        var x0 = T.LoadInt8(p); var x1 = T.LoadInt8(p + C); var x2 = T.LoadInt8(p + 2 * C);
        a0 = T.Fma(x0, wa, a0); a0 = T.Fma(x1, wb, a0); a0 = T.Fma(x2, wc, a0);
        a1 = T.Fma(x1, wa, a1); a2 = T.Fma(x2, wa, a2); a1 = T.Fma(x2, wb, a1);
        var x3 = T.LoadInt8(p + 3 * C);
        a1 = T.Fma(x3, wc, a1); a2 = T.Fma(x3, wb, a2); a3 = T.Fma(x3, wa, a3);
        var x4 = T.LoadInt8(p + 4 * C);
        a2 = T.Fma(x4, wc, a2); a3 = T.Fma(x4, wb, a3);
        a3 = T.Fma(T.LoadInt8(p + 5 * C), wc, a3);
    }

    /// <summary>One kernel row of four adjacent outputs: at stride 2 (<see cref="Quads2Body"/>) or 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row4<T, TV, TQ, TBody>(sbyte* p, int C, TV wa, TV wb, TV wc, ref TV a0, ref TV a1, ref TV a2, ref TV a3)
        where T : struct, IInt8Lanes<TV, TQ> where TV : struct where TQ : struct where TBody : struct, IBody
    {
        if (TBody.Quads2) Row4Stride2<T, TV, TQ>(p, C, wa, wb, wc, ref a0, ref a1, ref a2, ref a3);
        else Row4<T, TV, TQ>(p, C, wa, wb, wc, ref a0, ref a1, ref a2, ref a3);
    }

    /// <summary>One kernel row of four adjacent outputs at stride 2: input columns 0..8, weights wa, wb, wc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row4Stride2<T, TV, TQ>(sbyte* p, int C, TV wa, TV wb, TV wc, ref TV a0, ref TV a1, ref TV a2, ref TV a3)
        where T : struct, IInt8Lanes<TV, TQ> where TV : struct where TQ : struct
    {
        a0 = T.Fma(T.LoadInt8(p), wa, a0); a0 = T.Fma(T.LoadInt8(p + C), wb, a0);
        var x = T.LoadInt8(p + 2 * C); a0 = T.Fma(x, wc, a0); a1 = T.Fma(x, wa, a1);
        a1 = T.Fma(T.LoadInt8(p + 3 * C), wb, a1);
        x = T.LoadInt8(p + 4 * C); a1 = T.Fma(x, wc, a1); a2 = T.Fma(x, wa, a2);
        a2 = T.Fma(T.LoadInt8(p + 5 * C), wb, a2);
        x = T.LoadInt8(p + 6 * C); a2 = T.Fma(x, wc, a2); a3 = T.Fma(x, wa, a3);
        a3 = T.Fma(T.LoadInt8(p + 7 * C), wb, a3);
        a3 = T.Fma(T.LoadInt8(p + 8 * C), wc, a3);
    }

    /// <summary>One input row of four adjacent outputs in two output rows (stride 1): input columns 0..5, weights
    /// wa, wb, wc for the upper row's sums a, wd, we, wf for the lower row's e; each column widened once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row4x2<T, TV, TQ>(sbyte* p, int C, TV wa, TV wb, TV wc, TV wd, TV we, TV wf, ref TV a0, ref TV a1, ref TV a2, ref TV a3, ref TV e0, ref TV e1, ref TV e2, ref TV e3)
        where T : struct, IInt8Lanes<TV, TQ> where TV : struct where TQ : struct
    {
        var x = T.LoadInt8(p);
        a0 = T.Fma(x, wa, a0); e0 = T.Fma(x, wd, e0);
        x = T.LoadInt8(p + C);
        a0 = T.Fma(x, wb, a0); e0 = T.Fma(x, we, e0); a1 = T.Fma(x, wa, a1); e1 = T.Fma(x, wd, e1);
        x = T.LoadInt8(p + 2 * C);
        a0 = T.Fma(x, wc, a0); e0 = T.Fma(x, wf, e0); a1 = T.Fma(x, wb, a1); e1 = T.Fma(x, we, e1); a2 = T.Fma(x, wa, a2); e2 = T.Fma(x, wd, e2);
        x = T.LoadInt8(p + 3 * C);
        a1 = T.Fma(x, wc, a1); e1 = T.Fma(x, wf, e1); a2 = T.Fma(x, wb, a2); e2 = T.Fma(x, we, e2); a3 = T.Fma(x, wa, a3); e3 = T.Fma(x, wd, e3);
        x = T.LoadInt8(p + 4 * C);
        a2 = T.Fma(x, wc, a2); e2 = T.Fma(x, wf, e2); a3 = T.Fma(x, wb, a3); e3 = T.Fma(x, we, e3);
        x = T.LoadInt8(p + 5 * C);
        a3 = T.Fma(x, wc, a3); e3 = T.Fma(x, wf, e3);
    }

    /// <summary>A border pixel. The folded bias assumed every tap sees the input's zero point, so a tap in the
    /// padding contributes z_x·w (the code of the real value 0) rather than nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TV Edge<T, TV, TQ>(sbyte* top, long rowStride, int C, int iw, int W, bool r0, bool r1, bool r2, TV acc, TV zx, TV w0, TV w1, TV w2, TV w3, TV w4, TV w5, TV w6, TV w7, TV w8)
        where T : struct, IInt8Lanes<TV, TQ> where TV : struct where TQ : struct
    {
        bool k0 = (uint)iw < (uint)W, k1 = (uint)(iw + 1) < (uint)W, k2 = (uint)(iw + 2) < (uint)W;
        sbyte* p = top + (long)iw * C;
        acc = T.Fma(r0 && k0 ? T.LoadInt8(p) : zx, w0, acc);
        acc = T.Fma(r0 && k1 ? T.LoadInt8(p + C) : zx, w1, acc);
        acc = T.Fma(r0 && k2 ? T.LoadInt8(p + 2 * C) : zx, w2, acc);
        p += rowStride;
        acc = T.Fma(r1 && k0 ? T.LoadInt8(p) : zx, w3, acc);
        acc = T.Fma(r1 && k1 ? T.LoadInt8(p + C) : zx, w4, acc);
        acc = T.Fma(r1 && k2 ? T.LoadInt8(p + 2 * C) : zx, w5, acc);
        p += rowStride;
        acc = T.Fma(r2 && k0 ? T.LoadInt8(p) : zx, w6, acc);
        acc = T.Fma(r2 && k1 ? T.LoadInt8(p + C) : zx, w7, acc);
        acc = T.Fma(r2 && k2 ? T.LoadInt8(p + 2 * C) : zx, w8, acc);
        return acc;
    }
}

/// <summary>One vector width of the int8 depthwise: int8 loads widened to float, float math, requantizing stores.</summary>
internal unsafe interface IInt8Lanes<TV, TQ> where TV : struct where TQ : struct
{
    static abstract TV Load(float* p);
    static abstract TV LoadInt8(sbyte* p);
    static abstract TV Splat(float v);
    static abstract TV Fma(TV x, TV w, TV acc);
    static abstract TQ Bounds(int zp, int lo, int hi);
    /// <summary>q = clamp(round(acc·m) + z), bit-identical to QuantMath.Requantize (see Requantize.Bounds512); Count bytes out.</summary>
    static abstract void StoreQ(sbyte* y, TV acc, TV m, in TQ q, bool clamp);
}

/// <summary>16 channels (AVX-512).</summary>
internal readonly unsafe struct Int8Lanes512 : IInt8Lanes<Vector512<float>, Int8.Requantize.Bounds512>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> LoadInt8(sbyte* p) => Vector512.ConvertToSingle(Avx512F.ConvertToVector512Int32(Vector128.Load(p)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Splat(float v) => Vector512.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Fma(Vector512<float> x, Vector512<float> w, Vector512<float> acc) => Vector512.FusedMultiplyAdd(x, w, acc);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Int8.Requantize.Bounds512 Bounds(int zp, int lo, int hi) => new(zp, lo, hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreQ(sbyte* y, Vector512<float> acc, Vector512<float> m, in Int8.Requantize.Bounds512 q, bool clamp)
    {
        if (clamp) Int8.Requantize.Bounds512.Store(q.Round(acc * m), y);
        else q.StoreSaturated(acc * m, y);   // VPMOVSDB: the saturation is the int8 clamp
    }
}

/// <summary>8 channels (AVX2).</summary>
internal readonly unsafe struct Int8Lanes256 : IInt8Lanes<Vector256<float>, Int8.Requantize.Bounds256>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> LoadInt8(sbyte* p) => Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Splat(float v) => Vector256.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Fma(Vector256<float> x, Vector256<float> w, Vector256<float> acc) => Vector256.FusedMultiplyAdd(x, w, acc);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Int8.Requantize.Bounds256 Bounds(int zp, int lo, int hi) => new(zp, lo, hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreQ(sbyte* y, Vector256<float> acc, Vector256<float> m, in Int8.Requantize.Bounds256 q, bool clamp) =>
        Int8.Requantize.Store8(clamp ? q.Round(acc * m) : q.RoundUnclamped(acc * m), y);   // else the packs' saturation clamps
}
