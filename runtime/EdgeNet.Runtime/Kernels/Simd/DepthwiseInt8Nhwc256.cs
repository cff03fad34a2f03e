using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// The 256-bit twin of <see cref="DepthwiseInt8Nhwc.Block3x3V512"/>: eight channels (AVX2 machines, and the last
/// eight of a channel count that is not a multiple of 16 on AVX-512). The same exact integer sums in fp32, so the same
/// bytes. AVX2 has no saturating narrow from int32 to int8, so the clamp is always the float min/max.
/// </summary>
internal static unsafe partial class DepthwiseInt8Nhwc
{
    public static bool Supported256 => Avx2.IsSupported && Fma.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> L8(sbyte* p) => Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreQ8(sbyte* y, Vector256<float> acc, Vector256<float> m, in Int8.Requantize.Bounds256 q, bool clamp) =>
        Int8.Requantize.Store8(q.Round(acc * m), y);   // clamp or not: for the int8 range the clamp is the saturation

    /// <summary>Channels c0..c0+7 of output rows oh0..oh1: x [H, W, C] int8, w [9, C] integer weights as floats,
    /// b' [C], per-channel multipliers, y [OH, OW, C] int8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block3x3V256(sbyte* x, float* w, float* b, float* mult, sbyte* y, in ConvGeometry g, int c0, float zx, float zp, float lo, float hi, int oh0, int oh1, bool clamp = true)
    {
        int C = g.C, H = g.H, W = g.W, OH = g.OH, OW = g.OW, sh = g.StrideH, sw = g.StrideW, pt = g.PadTop, pl = g.PadLeft;
        var w0 = Vector256.Load(w + 0 * C + c0); var w1 = Vector256.Load(w + 1 * C + c0); var w2 = Vector256.Load(w + 2 * C + c0);
        var w3 = Vector256.Load(w + 3 * C + c0); var w4 = Vector256.Load(w + 4 * C + c0); var w5 = Vector256.Load(w + 5 * C + c0);
        var w6 = Vector256.Load(w + 6 * C + c0); var w7 = Vector256.Load(w + 7 * C + c0); var w8 = Vector256.Load(w + 8 * C + c0);
        var bias = b == null ? Vector256<float>.Zero : Vector256.Load(b + c0);
        var rq = new Int8.Requantize.Bounds256((int)zp, (int)lo, (int)hi); var vzx = Vector256.Create(zx); var vm = Vector256.Load(mult + c0);
        long rowStride = (long)W * C;
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
                StoreQ8(yr + (long)ow * C, Edge256(top, rowStride, C, ow * sw - pl, W, r0, r1, r2, bias, vzx, w0, w1, w2, w3, w4, w5, w6, w7, w8), vm, rq, clamp);
            sbyte* row = x + (long)ih * rowStride + c0;
            int ow2 = owLo;
            // Stride 1, four pixels at a time: each input column is widened once and feeds up to three outputs
            // (6 loads per kernel row instead of 12). The sums are exact integers, so the order of the FMAs is free.
            if (sw == 1)
                for (; ow2 + 4 <= owHi; ow2 += 4)
                {
                    sbyte* p = row + (long)(ow2 - pl) * C;
                    Vector256<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                    Row4x8(p, C, w0, w1, w2, ref a0, ref a1, ref a2, ref a3);
                    Row4x8(p + rowStride, C, w3, w4, w5, ref a0, ref a1, ref a2, ref a3);
                    Row4x8(p + 2 * rowStride, C, w6, w7, w8, ref a0, ref a1, ref a2, ref a3);
                    sbyte* o = yr + (long)ow2 * C;
                    StoreQ8(o, a0, vm, rq, clamp); StoreQ8(o + C, a1, vm, rq, clamp); StoreQ8(o + 2 * C, a2, vm, rq, clamp); StoreQ8(o + 3 * C, a3, vm, rq, clamp);
                }
            // Two pixels at a time: two independent FMA chains.
            for (; ow2 + 2 <= owHi; ow2 += 2)
            {
                sbyte* p = row + (long)(ow2 * sw - pl) * C, q = p + (long)sw * C;
                var a = Vector256.FusedMultiplyAdd(L8(p), w0, bias);
                var e = Vector256.FusedMultiplyAdd(L8(q), w0, bias);
                a = Vector256.FusedMultiplyAdd(L8(p + C), w1, a); e = Vector256.FusedMultiplyAdd(L8(q + C), w1, e);
                a = Vector256.FusedMultiplyAdd(L8(p + 2 * C), w2, a); e = Vector256.FusedMultiplyAdd(L8(q + 2 * C), w2, e);
                p += rowStride; q += rowStride;
                a = Vector256.FusedMultiplyAdd(L8(p), w3, a); e = Vector256.FusedMultiplyAdd(L8(q), w3, e);
                a = Vector256.FusedMultiplyAdd(L8(p + C), w4, a); e = Vector256.FusedMultiplyAdd(L8(q + C), w4, e);
                a = Vector256.FusedMultiplyAdd(L8(p + 2 * C), w5, a); e = Vector256.FusedMultiplyAdd(L8(q + 2 * C), w5, e);
                p += rowStride; q += rowStride;
                a = Vector256.FusedMultiplyAdd(L8(p), w6, a); e = Vector256.FusedMultiplyAdd(L8(q), w6, e);
                a = Vector256.FusedMultiplyAdd(L8(p + C), w7, a); e = Vector256.FusedMultiplyAdd(L8(q + C), w7, e);
                a = Vector256.FusedMultiplyAdd(L8(p + 2 * C), w8, a); e = Vector256.FusedMultiplyAdd(L8(q + 2 * C), w8, e);
                StoreQ8(yr + (long)ow2 * C, a, vm, rq, clamp);
                StoreQ8(yr + (long)(ow2 + 1) * C, e, vm, rq, clamp);
            }
            if (ow2 < owHi)
            {
                sbyte* p = row + (long)(ow2 * sw - pl) * C;
                var a = Vector256.FusedMultiplyAdd(L8(p), w0, bias);
                a = Vector256.FusedMultiplyAdd(L8(p + C), w1, a);
                a = Vector256.FusedMultiplyAdd(L8(p + 2 * C), w2, a);
                p += rowStride;
                a = Vector256.FusedMultiplyAdd(L8(p), w3, a);
                a = Vector256.FusedMultiplyAdd(L8(p + C), w4, a);
                a = Vector256.FusedMultiplyAdd(L8(p + 2 * C), w5, a);
                p += rowStride;
                a = Vector256.FusedMultiplyAdd(L8(p), w6, a);
                a = Vector256.FusedMultiplyAdd(L8(p + C), w7, a);
                a = Vector256.FusedMultiplyAdd(L8(p + 2 * C), w8, a);
                StoreQ8(yr + (long)ow2 * C, a, vm, rq, clamp);
                ow2++;
            }
            for (int ow = ow2; ow < OW; ow++)
                StoreQ8(yr + (long)ow * C, Edge256(top, rowStride, C, ow * sw - pl, W, r0, r1, r2, bias, vzx, w0, w1, w2, w3, w4, w5, w6, w7, w8), vm, rq, clamp);
        }
    }

    /// <summary>One kernel row of four adjacent outputs (stride 1): input columns 0..5, weights wa, wb, wc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row4x8(sbyte* p, int C, Vector256<float> wa, Vector256<float> wb, Vector256<float> wc,
        ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3)
    {
        var x0 = L8(p); var x1 = L8(p + C); var x2 = L8(p + 2 * C);
        a0 = Vector256.FusedMultiplyAdd(x0, wa, a0); a0 = Vector256.FusedMultiplyAdd(x1, wb, a0); a0 = Vector256.FusedMultiplyAdd(x2, wc, a0);
        a1 = Vector256.FusedMultiplyAdd(x1, wa, a1); a2 = Vector256.FusedMultiplyAdd(x2, wa, a2); a1 = Vector256.FusedMultiplyAdd(x2, wb, a1);
        var x3 = L8(p + 3 * C);
        a1 = Vector256.FusedMultiplyAdd(x3, wc, a1); a2 = Vector256.FusedMultiplyAdd(x3, wb, a2); a3 = Vector256.FusedMultiplyAdd(x3, wa, a3);
        var x4 = L8(p + 4 * C);
        a2 = Vector256.FusedMultiplyAdd(x4, wc, a2); a3 = Vector256.FusedMultiplyAdd(x4, wb, a3);
        a3 = Vector256.FusedMultiplyAdd(L8(p + 5 * C), wc, a3);
    }

    /// <summary>A border pixel. The folded bias assumed every tap sees the input's zero point, so a tap in the
    /// padding contributes z_x·w (the code of the real value 0) rather than nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Edge256(sbyte* top, long rowStride, int C, int iw, int W, bool r0, bool r1, bool r2, Vector256<float> acc, Vector256<float> zx,
        Vector256<float> w0, Vector256<float> w1, Vector256<float> w2, Vector256<float> w3, Vector256<float> w4, Vector256<float> w5, Vector256<float> w6, Vector256<float> w7, Vector256<float> w8)
    {
        bool k0 = (uint)iw < (uint)W, k1 = (uint)(iw + 1) < (uint)W, k2 = (uint)(iw + 2) < (uint)W;
        sbyte* p = top + (long)iw * C;
        acc = Vector256.FusedMultiplyAdd(r0 && k0 ? L8(p) : zx, w0, acc);
        acc = Vector256.FusedMultiplyAdd(r0 && k1 ? L8(p + C) : zx, w1, acc);
        acc = Vector256.FusedMultiplyAdd(r0 && k2 ? L8(p + 2 * C) : zx, w2, acc);
        p += rowStride;
        acc = Vector256.FusedMultiplyAdd(r1 && k0 ? L8(p) : zx, w3, acc);
        acc = Vector256.FusedMultiplyAdd(r1 && k1 ? L8(p + C) : zx, w4, acc);
        acc = Vector256.FusedMultiplyAdd(r1 && k2 ? L8(p + 2 * C) : zx, w5, acc);
        p += rowStride;
        acc = Vector256.FusedMultiplyAdd(r2 && k0 ? L8(p) : zx, w6, acc);
        acc = Vector256.FusedMultiplyAdd(r2 && k1 ? L8(p + C) : zx, w7, acc);
        acc = Vector256.FusedMultiplyAdd(r2 && k2 ? L8(p + 2 * C) : zx, w8, acc);
        return acc;
    }
}
