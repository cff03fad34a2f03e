using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeNet.Kernels.Int8;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// The arm64 int8 GEMM with activations in A (channels-last pointwise Conv, Dense) and the requantization fused into
/// the tile store, as MLAS's QgemmS8S8KernelSdot and XNNPACK's qs8 neondot kernels do: the accumulators start at the
/// per-column bias and are requantized in registers (<see cref="Requantize.Bounds128"/>: FMINNM/FMAXNM, FCVTNS),
/// so no int32 tile goes through memory and no scalar loop runs per element. A76 (Dp): 4 rows × 16 columns, SDOT
/// by element over 16 k per load of A. A72: 2 rows × 16 columns, SMULL/SMULL2 (+ SMLAL/SMLAL2 of a second k quad
/// when no weight is −128, XNNPACK's neon-mlal-padal) + SADALP, ADDP to columns (Dense; the channels-last pointwise
/// and stem convs on A72 run <see cref="RunMlal"/>, MLAS's 4×4 tile over k blocks of 16).
/// The same integers as <see cref="Kernels.Int8.Requantize.Columns"/> after the int32 GEMM, bit for bit.
/// </summary>
internal static unsafe partial class GemmInt8
{
    static void RunArmFused(sbyte* A, int lda, sbyte* packedB, int M, int N, int K, bool dp, ref Epilogue e)
    {
        if (e.ColBias == null) throw new ArgumentException("activations in A need per-column bias");
        int kp = KPad(K);
        int* padBias = stackalloc int[NR]; float* padMult = stackalloc float[NR];
        sbyte* t = stackalloc sbyte[NR];
        var q = new Requantize.Bounds128(e.Zp, e.Lo, e.Hi);
        for (int p = 0, j0 = 0; j0 < N; p++, j0 += NR)
        {
            sbyte* b = packedB + (long)p * kp * NR;
            int w = Math.Min(NR, N - j0);
            int* bias = e.ColBias + j0; float* mult = e.ColMult + j0;
            if (w < NR)   // the last, partial panel: its packed columns past w are zeros; bias and multipliers padded likewise
            {
                for (int j = 0; j < NR; j++) { padBias[j] = j < w ? bias[j] : 0; padMult[j] = j < w ? mult[j] : 0f; }
                bias = padBias; mult = padMult;
            }
            sbyte* o = e.Out + j0;
            if (dp) TileDpFused(A, lda, b, kp, M, bias, mult, q, o, e.Ldo, w, t, !e.SaturationOnly);
            else TileNeonFused(A, lda, b, kp, M, bias, mult, q, o, e.Ldo, w, t, !e.SaturationOnly, e.NoMinWeight);
        }
    }

    /// <summary>Four SDOTs (columns 0-15) of one row's k quad <paramref name="i"/> of x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Dot4(ref Vector128<int> c0, ref Vector128<int> c1, ref Vector128<int> c2, ref Vector128<int> c3,
                     Vector128<sbyte> b0, Vector128<sbyte> b1, Vector128<sbyte> b2, Vector128<sbyte> b3, Vector128<sbyte> x, [System.Diagnostics.CodeAnalysis.ConstantExpected(Max = (byte)3)] byte i)
    {
        c0 = Dp.DotProductBySelectedQuadruplet(c0, b0, x, i); c1 = Dp.DotProductBySelectedQuadruplet(c1, b1, x, i);
        c2 = Dp.DotProductBySelectedQuadruplet(c2, b2, x, i); c3 = Dp.DotProductBySelectedQuadruplet(c3, b3, x, i);
    }

    /// <summary>Rows 0..3 of the tile, one k quad (four SDOTs per row) from the 64 bytes at <paramref name="b"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Quad(sbyte* b, Vector128<sbyte> x0, Vector128<sbyte> x1, Vector128<sbyte> x2, Vector128<sbyte> x3, [System.Diagnostics.CodeAnalysis.ConstantExpected(Max = (byte)3)] byte i,
                     ref Vector128<int> c00, ref Vector128<int> c01, ref Vector128<int> c02, ref Vector128<int> c03,
                     ref Vector128<int> c10, ref Vector128<int> c11, ref Vector128<int> c12, ref Vector128<int> c13,
                     ref Vector128<int> c20, ref Vector128<int> c21, ref Vector128<int> c22, ref Vector128<int> c23,
                     ref Vector128<int> c30, ref Vector128<int> c31, ref Vector128<int> c32, ref Vector128<int> c33)
    {
        var b0 = Vector128.Load(b); var b1 = Vector128.Load(b + 16); var b2 = Vector128.Load(b + 32); var b3 = Vector128.Load(b + 48);
        Dot4(ref c00, ref c01, ref c02, ref c03, b0, b1, b2, b3, x0, i);
        Dot4(ref c10, ref c11, ref c12, ref c13, b0, b1, b2, b3, x1, i);
        Dot4(ref c20, ref c21, ref c22, ref c23, b0, b1, b2, b3, x2, i);
        Dot4(ref c30, ref c31, ref c32, ref c33, b0, b1, b2, b3, x3, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileDpFused(sbyte* A, int lda, sbyte* B, int kp, int M, int* bias, float* mult, Requantize.Bounds128 q, sbyte* O, int ldo, int w, sbyte* t, bool clamp)
    {
        for (int i = 0; i < M; i += 4, A += 4 * (long)lda, O += 4 * (long)ldo)   // the panel's tiles: one call per panel
        {
            int m = Math.Min(4, M - i);
            sbyte* a = A, o = O, b = B;
            sbyte* a0 = a, a1 = m > 1 ? a + lda : a, a2 = m > 2 ? a + 2 * lda : a, a3 = m > 3 ? a + 3 * lda : a;
            var v0 = Vector128.Load(bias); var v1 = Vector128.Load(bias + 4); var v2 = Vector128.Load(bias + 8); var v3 = Vector128.Load(bias + 12);
            Vector128<int> c00 = v0, c01 = v1, c02 = v2, c03 = v3, c10 = v0, c11 = v1, c12 = v2, c13 = v3,
                           c20 = v0, c21 = v1, c22 = v2, c23 = v3, c30 = v0, c31 = v1, c32 = v2, c33 = v3;
            int kq = 0;
            for (; kq + 16 <= kp; kq += 16, b += 16 * NR)   // sixteen k per load of each row of A
            {
                var x0 = Vector128.Load(a0 + kq); var x1 = Vector128.Load(a1 + kq); var x2 = Vector128.Load(a2 + kq); var x3 = Vector128.Load(a3 + kq);
                Quad(b, x0, x1, x2, x3, 0, ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33);
                Quad(b + 4 * NR, x0, x1, x2, x3, 1, ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33);
                Quad(b + 8 * NR, x0, x1, x2, x3, 2, ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33);
                Quad(b + 12 * NR, x0, x1, x2, x3, 3, ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33);
            }
            for (; kq < kp; kq += 4, b += 4 * NR)   // the last k quads
            {
                var x0 = Vector128.Create(*(int*)(a0 + kq)).AsSByte(); var x1 = Vector128.Create(*(int*)(a1 + kq)).AsSByte();
                var x2 = Vector128.Create(*(int*)(a2 + kq)).AsSByte(); var x3 = Vector128.Create(*(int*)(a3 + kq)).AsSByte();
                Quad(b, x0, x1, x2, x3, 0, ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33);
            }
            var m0 = Vector128.Load(mult); var m1 = Vector128.Load(mult + 4); var m2 = Vector128.Load(mult + 8); var m3 = Vector128.Load(mult + 12);
            Out16(c00, c01, c02, c03, m0, m1, m2, m3, q, o, w, t, clamp);
            if (m > 1) Out16(c10, c11, c12, c13, m0, m1, m2, m3, q, o + ldo, w, t, clamp);
            if (m > 2) Out16(c20, c21, c22, c23, m0, m1, m2, m3, q, o + 2 * ldo, w, t, clamp);
            if (m > 3) Out16(c30, c31, c32, c33, m0, m1, m2, m3, q, o + 3 * ldo, w, t, clamp);
        }
    }

    /// <summary>Sixteen columns' sums (bias included) requantized in registers and stored as w int8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Out16(Vector128<int> c0, Vector128<int> c1, Vector128<int> c2, Vector128<int> c3, Vector128<float> m0, Vector128<float> m1, Vector128<float> m2, Vector128<float> m3,
                      Requantize.Bounds128 q, sbyte* o, int w, sbyte* t, bool clamp)
    {
        sbyte* d = w == NR ? o : t;
        if (clamp)
            Requantize.Bounds128.Store16(q.Round(Vector128.ConvertToSingle(c0) * m0), q.Round(Vector128.ConvertToSingle(c1) * m1),
                                         q.Round(Vector128.ConvertToSingle(c2) * m2), q.Round(Vector128.ConvertToSingle(c3) * m3), d);
        else   // SaturationClamps: the saturating narrows (SQXTN) are the clamp
        {
            var a = AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(AdvSimd.ConvertToInt32RoundToEven(Vector128.ConvertToSingle(c0) * m0) + q.Zp), AdvSimd.ConvertToInt32RoundToEven(Vector128.ConvertToSingle(c1) * m1) + q.Zp);
            var b = AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(AdvSimd.ConvertToInt32RoundToEven(Vector128.ConvertToSingle(c2) * m2) + q.Zp), AdvSimd.ConvertToInt32RoundToEven(Vector128.ConvertToSingle(c3) * m3) + q.Zp);
            AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(a), b).Store(d);
        }
        if (w < NR) StoreFirst(t, o, w);
    }

    /// <summary>A72: <see cref="TileNeon"/>'s products with the requantization fused; ADDP turns the pair partials into columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileNeonFused(sbyte* A, int lda, sbyte* B, int kp, int M, int* bias, float* mult, Requantize.Bounds128 q, sbyte* O, int ldo, int w, sbyte* t, bool clamp, bool pairs)
    {
        for (int i = 0; i < M; i += 2, A += 2 * (long)lda, O += 2 * (long)ldo)   // the panel's tiles: one call per panel
        {
            int m = Math.Min(2, M - i);
            sbyte* a = A, o = O, b = B;
            sbyte* a0 = a, a1 = m > 1 ? a + lda : a;
            Vector128<int> p0 = default, p1 = default, p2 = default, p3 = default, p4 = default, p5 = default, p6 = default, p7 = default;
            Vector128<int> q0 = default, q1 = default, q2 = default, q3 = default, q4 = default, q5 = default, q6 = default, q7 = default;
            int kq = 0;
            // The low halves come from their own loads (LDR d; a Vector128's GetLower costs a MOV in .NET's code),
            // and each column group's products are finished before the next group's loads: no spills.
            if (pairs)   // no weight is −128: two k quads summed in int16 (|p| ≤ 128·127, two stay below 2^15), one SADALP per pair
                for (; kq + 8 <= kp; kq += 8, b += 8 * NR)
                {
                    int i0 = *(int*)(a0 + kq), j0 = *(int*)(a0 + kq + 4), i1 = *(int*)(a1 + kq), j1 = *(int*)(a1 + kq + 4);
                    var x = Vector128.Create(i0).AsSByte(); var xl = Vector64.Create(i0).AsSByte(); var y = Vector128.Create(j0).AsSByte(); var yl = Vector64.Create(j0).AsSByte();
                    var u = Vector128.Create(i1).AsSByte(); var ul = Vector64.Create(i1).AsSByte(); var v = Vector128.Create(j1).AsSByte(); var vl = Vector64.Create(j1).AsSByte();
                    PairGroup(ref p0, ref p1, ref q0, ref q1, b, x, xl, y, yl, u, ul, v, vl);
                    PairGroup(ref p2, ref p3, ref q2, ref q3, b + 16, x, xl, y, yl, u, ul, v, vl);
                    PairGroup(ref p4, ref p5, ref q4, ref q5, b + 32, x, xl, y, yl, u, ul, v, vl);
                    PairGroup(ref p6, ref p7, ref q6, ref q7, b + 48, x, xl, y, yl, u, ul, v, vl);
                }
            for (; kq < kp; kq += 4, b += 4 * NR)
            {
                int i0 = *(int*)(a0 + kq), i1 = *(int*)(a1 + kq);
                var x = Vector128.Create(i0).AsSByte(); var xl = Vector64.Create(i0).AsSByte(); var u = Vector128.Create(i1).AsSByte(); var ul = Vector64.Create(i1).AsSByte();
                QuadGroup(ref p0, ref p1, ref q0, ref q1, b, x, xl, u, ul);
                QuadGroup(ref p2, ref p3, ref q2, ref q3, b + 16, x, xl, u, ul);
                QuadGroup(ref p4, ref p5, ref q4, ref q5, b + 32, x, xl, u, ul);
                QuadGroup(ref p6, ref p7, ref q6, ref q7, b + 48, x, xl, u, ul);
            }
            var v0 = Vector128.Load(bias); var v1 = Vector128.Load(bias + 4); var v2 = Vector128.Load(bias + 8); var v3 = Vector128.Load(bias + 12);
            var m0 = Vector128.Load(mult); var m1 = Vector128.Load(mult + 4); var m2 = Vector128.Load(mult + 8); var m3 = Vector128.Load(mult + 12);
            Out16(AdvSimd.Arm64.AddPairwise(p0, p1) + v0, AdvSimd.Arm64.AddPairwise(p2, p3) + v1, AdvSimd.Arm64.AddPairwise(p4, p5) + v2, AdvSimd.Arm64.AddPairwise(p6, p7) + v3, m0, m1, m2, m3, q, o, w, t, clamp);
            if (m > 1) Out16(AdvSimd.Arm64.AddPairwise(q0, q1) + v0, AdvSimd.Arm64.AddPairwise(q2, q3) + v1, AdvSimd.Arm64.AddPairwise(q4, q5) + v2, AdvSimd.Arm64.AddPairwise(q6, q7) + v3, m0, m1, m2, m3, q, o + ldo, w, t, clamp);
        }
    }

    /// <summary>Columns 4g..4g+3 (the 16 bytes at <paramref name="b"/>, and the next k quad's 64 bytes on) of two rows,
    /// two k quads each: SMULL/SMULL2 of the first quad, SMLAL/SMLAL2 of the second into the same int16 lanes, SADALP.
    /// x, y: row 0's quads broadcast (xl, yl: as 64-bit vectors); u, v: row 1's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void PairGroup(ref Vector128<int> p0, ref Vector128<int> p1, ref Vector128<int> q0, ref Vector128<int> q1, sbyte* b,
        Vector128<sbyte> x, Vector64<sbyte> xl, Vector128<sbyte> y, Vector64<sbyte> yl, Vector128<sbyte> u, Vector64<sbyte> ul, Vector128<sbyte> v, Vector64<sbyte> vl)
    {
        var bq = Vector128.Load(b); var bd = Vector64.Load(b); var cq = Vector128.Load(b + 4 * NR); var cd = Vector64.Load(b + 4 * NR);
        p0 = AdvSimd.AddPairwiseWideningAndAdd(p0, AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(bd, xl), cd, yl));
        p1 = AdvSimd.AddPairwiseWideningAndAdd(p1, AdvSimd.MultiplyWideningUpperAndAdd(AdvSimd.MultiplyWideningUpper(bq, x), cq, y));
        q0 = AdvSimd.AddPairwiseWideningAndAdd(q0, AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(bd, ul), cd, vl));
        q1 = AdvSimd.AddPairwiseWideningAndAdd(q1, AdvSimd.MultiplyWideningUpperAndAdd(AdvSimd.MultiplyWideningUpper(bq, u), cq, v));
    }

    /// <summary><see cref="PairGroup"/> for one k quad (weights of −128, or the last quad).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void QuadGroup(ref Vector128<int> p0, ref Vector128<int> p1, ref Vector128<int> q0, ref Vector128<int> q1, sbyte* b,
        Vector128<sbyte> x, Vector64<sbyte> xl, Vector128<sbyte> u, Vector64<sbyte> ul)
    {
        var bq = Vector128.Load(b); var bd = Vector64.Load(b);
        p0 = AdvSimd.AddPairwiseWideningAndAdd(p0, AdvSimd.MultiplyWideningLower(bd, xl)); p1 = AdvSimd.AddPairwiseWideningAndAdd(p1, AdvSimd.MultiplyWideningUpper(bq, x));
        q0 = AdvSimd.AddPairwiseWideningAndAdd(q0, AdvSimd.MultiplyWideningLower(bd, ul)); q1 = AdvSimd.AddPairwiseWideningAndAdd(q1, AdvSimd.MultiplyWideningUpper(bq, u));
    }

    /// <summary>One row (batch-1 recurrent steps and Dense) on A76: SDOT by element over 16 k per load of A, two
    /// accumulator chains, instead of a 4-row tile three quarters idle.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RowDp(sbyte* a, sbyte* b, int* c, int kp, int w)
    {
        Vector128<int> c0 = default, c1 = default, c2 = default, c3 = default, d0 = default, d1 = default, d2 = default, d3 = default;
        int kq = 0;
        for (; kq + 16 <= kp; kq += 16, b += 16 * NR)
        {
            var x = Vector128.Load(a + kq);
            Dot4(ref c0, ref c1, ref c2, ref c3, Vector128.Load(b), Vector128.Load(b + 16), Vector128.Load(b + 32), Vector128.Load(b + 48), x, 0);
            Dot4(ref d0, ref d1, ref d2, ref d3, Vector128.Load(b + 64), Vector128.Load(b + 80), Vector128.Load(b + 96), Vector128.Load(b + 112), x, 1);
            Dot4(ref c0, ref c1, ref c2, ref c3, Vector128.Load(b + 128), Vector128.Load(b + 144), Vector128.Load(b + 160), Vector128.Load(b + 176), x, 2);
            Dot4(ref d0, ref d1, ref d2, ref d3, Vector128.Load(b + 192), Vector128.Load(b + 208), Vector128.Load(b + 224), Vector128.Load(b + 240), x, 3);
        }
        for (; kq < kp; kq += 4, b += 4 * NR)
        {
            var x = Vector128.Create(*(int*)(a + kq)).AsSByte();
            Dot4(ref c0, ref c1, ref c2, ref c3, Vector128.Load(b), Vector128.Load(b + 16), Vector128.Load(b + 32), Vector128.Load(b + 48), x, 0);
        }
        Store4(c, c0 + d0, c1 + d1, c2 + d2, c3 + d3, w);
    }

    /// <summary>One row on A72: SMULL/SMULL2 + SADALP per k quad, ADDP to columns at the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RowNeon(sbyte* a, sbyte* b, int* c, int kp, int w)
    {
        Vector128<int> p0 = default, p1 = default, p2 = default, p3 = default, p4 = default, p5 = default, p6 = default, p7 = default;
        for (int kq = 0; kq < kp; kq += 4, b += 4 * NR)
        {
            var x = Vector128.Create(*(int*)(a + kq)).AsSByte(); var xl = x.GetLower();
            var b0 = Vector128.Load(b); var b1 = Vector128.Load(b + 16); var b2 = Vector128.Load(b + 32); var b3 = Vector128.Load(b + 48);
            p0 = AdvSimd.AddPairwiseWideningAndAdd(p0, AdvSimd.MultiplyWideningLower(b0.GetLower(), xl)); p1 = AdvSimd.AddPairwiseWideningAndAdd(p1, AdvSimd.MultiplyWideningUpper(b0, x));
            p2 = AdvSimd.AddPairwiseWideningAndAdd(p2, AdvSimd.MultiplyWideningLower(b1.GetLower(), xl)); p3 = AdvSimd.AddPairwiseWideningAndAdd(p3, AdvSimd.MultiplyWideningUpper(b1, x));
            p4 = AdvSimd.AddPairwiseWideningAndAdd(p4, AdvSimd.MultiplyWideningLower(b2.GetLower(), xl)); p5 = AdvSimd.AddPairwiseWideningAndAdd(p5, AdvSimd.MultiplyWideningUpper(b2, x));
            p6 = AdvSimd.AddPairwiseWideningAndAdd(p6, AdvSimd.MultiplyWideningLower(b3.GetLower(), xl)); p7 = AdvSimd.AddPairwiseWideningAndAdd(p7, AdvSimd.MultiplyWideningUpper(b3, x));
        }
        StoreNeon(c, p0, p1, p2, p3, p4, p5, p6, p7, w);
    }
}
