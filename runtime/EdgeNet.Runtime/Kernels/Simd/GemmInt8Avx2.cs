using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Int8;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// The int8 GEMM on AVX2 without VNNI (Haswell to Zen 3), with the requantization fused as on the other ISAs: the
/// 256-bit form of <see cref="GemmInt8"/>'s AVX-512 panels (GemmInt8Avx512.cs). 16 bytes of a panel, 4 columns × 4 k,
/// and a row's 4 activations, repeated, are sign-extended to int16 and multiplied by VPMADDWD (exact int32 pairs);
/// VPHADDD and VPERMQ turn two vectors of pairs into 8 columns. 2×16 tiles: 8 accumulators, 4 sign-extended weight
/// vectors and the two rows' activations fit AVX2's 16 registers.
/// </summary>
internal static unsafe partial class GemmInt8
{
    /// <summary>A row's k..k+3 as int16, repeated across the vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<short> Repeat4x256(sbyte* a) => Avx2.ConvertToVector256Int16(Vector128.Create(*(int*)a).AsSByte());

    /// <summary>4 packed columns × 4 k as int16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<short> Widen256(sbyte* b) => Avx2.ConvertToVector256Int16(Vector128.Load(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> Dot(Vector256<int> c, Vector256<short> w, Vector256<short> x) => c + Avx2.MultiplyAddAdjacent(w, x);

    /// <summary>Pairs of columns 0-3 (lo) and 4-7 (hi) → the 8 columns' sums: VPHADDD gives 0, 1, 4, 5 | 2, 3, 6, 7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> Columns8(Vector256<int> lo, Vector256<int> hi) =>
        Avx2.Permute4x64(Avx2.HorizontalAdd(lo, hi).AsInt64(), 0b11_01_10_00).AsInt32();

    /// <summary>With the requantization fused (activations in A, the channels are the columns).</summary>
    static void RunAvx2Fused(sbyte* A, int lda, sbyte* packedB, int M, int N, int K, ref Epilogue e)
    {
        if (e.ColBias == null) throw new ArgumentException("activations in A need per-column bias");
        int kp = KPad(K);
        int* padBias = stackalloc int[NR]; float* padMult = stackalloc float[NR];
        for (int p = 0, j0 = 0; j0 < N; p++, j0 += NR)
        {
            int w = Math.Min(NR, N - j0);
            int* bias = e.ColBias + j0; float* mult = e.ColMult + j0;
            if (w < NR)   // the last, partial panel: its packed columns past w are zeros; bias and multipliers padded likewise
            {
                for (int j = 0; j < NR; j++) { padBias[j] = j < w ? bias[j] : 0; padMult[j] = j < w ? mult[j] : 0f; }
                bias = padBias; mult = padMult;
            }
            Panel16Avx2(A, lda, packedB + (long)p * kp * NR, kp, M, bias, mult, e.Zp, e.Lo, e.Hi, e.Out + j0, e.Ldo, w, !e.SaturationOnly);
        }
    }

    /// <summary>One panel (w ≤ 16 columns) over all rows in 2×16 tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Panel16Avx2(sbyte* a, int lda, sbyte* b, int kp, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, int w, bool clamp)
    {
        var q = new Requantize.Bounds256(zp, lo, hi);
        sbyte* t = stackalloc sbyte[NR];   // a partial panel's row before its first w bytes are copied out
        for (int i = 0; i < rows; i += 2, a += 2 * lda, o += 2 * ldo)
        {
            sbyte* a0 = a, a1 = i + 1 < rows ? a + lda : a;
            Vector256<int> p0 = default, p1 = default, p2 = default, p3 = default, q0 = default, q1 = default, q2 = default, q3 = default;
            sbyte* bk = b;
            for (int kq = 0; kq < kp; kq += 4, bk += 4 * NR)
            {
                var x0 = Repeat4x256(a0 + kq); var x1 = Repeat4x256(a1 + kq);
                var w0 = Widen256(bk); p0 = Dot(p0, w0, x0); q0 = Dot(q0, w0, x1);
                var w1 = Widen256(bk + 16); p1 = Dot(p1, w1, x0); q1 = Dot(q1, w1, x1);
                var w2 = Widen256(bk + 32); p2 = Dot(p2, w2, x0); q2 = Dot(q2, w2, x1);
                var w3 = Widen256(bk + 48); p3 = Dot(p3, w3, x0); q3 = Dot(q3, w3, x1);
            }
            var b0 = Vector256.Load(bias); var b1 = Vector256.Load(bias + 8);
            var m0 = Vector256.Load(mult); var m1 = Vector256.Load(mult + 8);
            Columns256(Columns8(p0, p1) + b0, Columns8(p2, p3) + b1, m0, m1, q, o, w, t, clamp);
            if (i + 1 < rows) Columns256(Columns8(q0, q1) + b0, Columns8(q2, q3) + b1, m0, m1, q, o + ldo, w, t, clamp);
        }
    }

    /// <summary>int32 sums of up to 2 rows × one panel (no epilogue: weights in A, or the caller requantizes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileAvx2(sbyte* a, int lda, sbyte* b, int* c, int ldc, int kp, int w, int m)
    {
        sbyte* a0 = a, a1 = m > 1 ? a + lda : a;
        Vector256<int> p0 = default, p1 = default, p2 = default, p3 = default, q0 = default, q1 = default, q2 = default, q3 = default;
        for (int kq = 0; kq < kp; kq += 4, b += 4 * NR)
        {
            var x0 = Repeat4x256(a0 + kq); var x1 = Repeat4x256(a1 + kq);
            var w0 = Widen256(b); p0 = Dot(p0, w0, x0); q0 = Dot(q0, w0, x1);
            var w1 = Widen256(b + 16); p1 = Dot(p1, w1, x0); q1 = Dot(q1, w1, x1);
            var w2 = Widen256(b + 32); p2 = Dot(p2, w2, x0); q2 = Dot(q2, w2, x1);
            var w3 = Widen256(b + 48); p3 = Dot(p3, w3, x0); q3 = Dot(q3, w3, x1);
        }
        Store(c, Columns8(p0, p1), Columns8(p2, p3), w);
        if (m > 1) Store(c + ldc, Columns8(q0, q1), Columns8(q2, q3), w);
    }

    /// <summary>One row (batch-1 recurrent steps, Dense), every panel in one call: two chains over alternate k quads
    /// (the 2-row tile spent half its multiplies on a copy of the row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RowAvx2(sbyte* a, sbyte* packedB, int* c, int kp, int N)
    {
        for (int j0 = 0; j0 < N; j0 += NR)
        {
            sbyte* b = packedB + (long)j0 * kp;
            Vector256<int> p0 = default, p1 = default, p2 = default, p3 = default, q0 = default, q1 = default, q2 = default, q3 = default;
            int kq = 0;
            for (; kq + 8 <= kp; kq += 8, b += 8 * NR)
            {
                var x = Repeat4x256(a + kq); var y = Repeat4x256(a + kq + 4);
                p0 = Dot(p0, Widen256(b), x); p1 = Dot(p1, Widen256(b + 16), x); p2 = Dot(p2, Widen256(b + 32), x); p3 = Dot(p3, Widen256(b + 48), x);
                q0 = Dot(q0, Widen256(b + 64), y); q1 = Dot(q1, Widen256(b + 80), y); q2 = Dot(q2, Widen256(b + 96), y); q3 = Dot(q3, Widen256(b + 112), y);
            }
            if (kq < kp)
            {
                var x = Repeat4x256(a + kq);
                p0 = Dot(p0, Widen256(b), x); p1 = Dot(p1, Widen256(b + 16), x); p2 = Dot(p2, Widen256(b + 32), x); p3 = Dot(p3, Widen256(b + 48), x);
            }
            Store(c + j0, Columns8(p0 + q0, p1 + q1), Columns8(p2 + q2, p3 + q3), Math.Min(NR, N - j0));
        }
    }
}
