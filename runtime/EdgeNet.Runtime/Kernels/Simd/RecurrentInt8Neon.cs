using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeNet.Engine;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// The int8 recurrent GEMV of one step on arm64, h_q·Rᵀ with R [n, k] packed once at load, its int32 sums dequantized
/// and added onto the step's projection row in the same pass: g[j] += sum_j·rs[j] (rs = s_h·s_R[j], the product
/// <see cref="QMatrix"/>'s reference forms; the add is the gate pass's g + q, so the float arithmetic is the same).
/// Two layouts, chosen once at load:
/// <list type="bullet">
/// <item>A76 (dot product, as XNNPACK's qs8 1x8c4 neondot): blocks of 16 rows, per k-quad 16×4 bytes; one SDOT by
/// element per 4 rows × 4 k, 4 accumulators, nothing to reduce.</item>
/// <item>A72 (as XNNPACK's qs8 c16 neon-mlal): blocks of 8 rows, per 16-k chunk 8×16 bytes; per row SMULL + SMLAL
/// (two products per int16 lane, which cannot overflow: 2·128·127 &lt; 2¹⁵) and SADALP into its own int32x4, the 8
/// accumulators reduced by ADDP once per block.</item>
/// </list>
/// Integer sums are exact, so both layouts and the scalar <see cref="GemvScalar"/> give the same bits.
/// The activations are padded with zeros to a multiple of 16 (<see cref="KPad"/>).
/// </summary>
[SkipLocalsInit]
internal static unsafe class RecurrentInt8Neon
{
    public static int KPad(int k) => (k + 15) & ~15;
    static int Rows(bool dot) => dot ? 16 : 8;

    public static long PackedBytes(int n, int k, bool dot) => (long)(n + Rows(dot) - 1) / Rows(dot) * Rows(dot) * KPad(k);

    /// <summary>W [n, k] row-major (int8) in the layout of <paramref name="dot"/>'s kernel (zeros past n and k).</summary>
    public static NativeBuffer Pack(ReadOnlySpan<sbyte> w, int n, int k, bool dot)
    {
        int rows = Rows(dot), kp = KPad(k), group = dot ? 4 : 16;
        var p = new NativeBuffer(PackedBytes(n, k, dot));
        sbyte* d = (sbyte*)p.Pointer;
        for (int j0 = 0; j0 < n; j0 += rows)
            for (int k0 = 0; k0 < kp; k0 += group)
                for (int j = 0; j < rows; j++)
                    for (int t = 0; t < group; t++, d++)
                    {
                        int row = j0 + j, col = k0 + t;
                        *d = row < n && col < k ? w[row * k + col] : (sbyte)0;
                    }
        return p;
    }

    /// <summary>g[j] += (Σ_k a[k]·W[j, k])·rs[j] for j &lt; n; a holds <see cref="KPad"/>(k) int8 values.</summary>
    public static void GemvAdd(sbyte* a, int k, sbyte* packed, int n, float* rs, float* g, bool dot)
    {
        int kp = KPad(k);
        if (dot && Dp.Arm64.IsSupported || dot && Dp.IsSupported) { GemvDot(a, kp, packed, n, rs, g); return; }
        if (!dot && AdvSimd.Arm64.IsSupported) { GemvMlal(a, kp, packed, n, rs, g); return; }
        GemvScalar(a, kp, packed, n, rs, g, dot);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void GemvDot(sbyte* a, int kp, sbyte* b, int n, float* rs, float* g)
    {
        for (int j0 = 0; j0 < n; j0 += 16)
        {
            Vector128<int> c0 = default, c1 = default, c2 = default, c3 = default;
            for (int k0 = 0; k0 < kp; k0 += 16, b += 256)
            {
                var x = Vector128.Load(a + k0);
                Dot4(b, x, 0, ref c0, ref c1, ref c2, ref c3);
                Dot4(b + 64, x, 1, ref c0, ref c1, ref c2, ref c3);
                Dot4(b + 128, x, 2, ref c0, ref c1, ref c2, ref c3);
                Dot4(b + 192, x, 3, ref c0, ref c1, ref c2, ref c3);
            }
            if (j0 + 16 <= n) { Add4(c0, rs + j0, g + j0); Add4(c1, rs + j0 + 4, g + j0 + 4); Add4(c2, rs + j0 + 8, g + j0 + 8); Add4(c3, rs + j0 + 12, g + j0 + 12); }
            else Tail(c0, c1, c2, c3, j0, n, rs, g);
        }
    }

    /// <summary>Rows 0..15 of the block += their 4 bytes of the quad times quadruplet <paramref name="i"/> of x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Dot4(sbyte* b, Vector128<sbyte> x, [System.Diagnostics.CodeAnalysis.ConstantExpected(Max = (byte)3)] byte i,
                     ref Vector128<int> c0, ref Vector128<int> c1, ref Vector128<int> c2, ref Vector128<int> c3)
    {
        var (b0, b1, b2, b3) = AdvSimd.Arm64.Load4xVector128(b);
        c0 = Dp.DotProductBySelectedQuadruplet(c0, b0, x, i); c1 = Dp.DotProductBySelectedQuadruplet(c1, b1, x, i);
        c2 = Dp.DotProductBySelectedQuadruplet(c2, b2, x, i); c3 = Dp.DotProductBySelectedQuadruplet(c3, b3, x, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void GemvMlal(sbyte* a, int kp, sbyte* b, int n, float* rs, float* g)
    {
        for (int j0 = 0; j0 < n; j0 += 8)
        {
            Vector128<int> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
            for (int k0 = 0; k0 < kp; k0 += 16, b += 128)
            {
                // 64-bit halves throughout (SMULL, SMLAL): Vector128.GetLower costs a register move per use.
                var xl = Vector64.Load(a + k0); var xh = Vector64.Load(a + k0 + 8);
                var (w0, w1, w2, w3) = AdvSimd.Load4xVector64(b);
                c0 = Mlal(c0, w0, w1, xl, xh); c1 = Mlal(c1, w2, w3, xl, xh);
                (w0, w1, w2, w3) = AdvSimd.Load4xVector64(b + 32);
                c2 = Mlal(c2, w0, w1, xl, xh); c3 = Mlal(c3, w2, w3, xl, xh);
                (w0, w1, w2, w3) = AdvSimd.Load4xVector64(b + 64);
                c4 = Mlal(c4, w0, w1, xl, xh); c5 = Mlal(c5, w2, w3, xl, xh);
                (w0, w1, w2, w3) = AdvSimd.Load4xVector64(b + 96);
                c6 = Mlal(c6, w0, w1, xl, xh); c7 = Mlal(c7, w2, w3, xl, xh);
            }
            var s0 = Reduce(c0, c1, c2, c3); var s1 = Reduce(c4, c5, c6, c7);
            if (j0 + 8 <= n) { Add4(s0, rs + j0, g + j0); Add4(s1, rs + j0 + 4, g + j0 + 4); }
            else Tail(s0, s1, default, default, j0, n, rs, g);
        }
    }

    /// <summary>c += the 16 products of one row's w and x, two per int16 lane (SMULL, SMLAL) added pairwise into int32 (SADALP).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<int> Mlal(Vector128<int> c, Vector64<sbyte> wl, Vector64<sbyte> wh, Vector64<sbyte> xl, Vector64<sbyte> xh) =>
        AdvSimd.AddPairwiseWideningAndAdd(c, AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(wl, xl), wh, xh));

    /// <summary>The four rows' totals (each accumulator's four lanes summed) as one vector: two levels of ADDP.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<int> Reduce(Vector128<int> c0, Vector128<int> c1, Vector128<int> c2, Vector128<int> c3) =>
        AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(c0, c1), AdvSimd.Arm64.AddPairwise(c2, c3));

    /// <summary>The last, partial block: its sums (up to 16, 4 per vector) through memory, row by row.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Tail(Vector128<int> s0, Vector128<int> s1, Vector128<int> s2, Vector128<int> s3, int j0, int n, float* rs, float* g)
    {
        int* t = stackalloc int[16];
        s0.Store(t); s1.Store(t + 4); s2.Store(t + 8); s3.Store(t + 12);
        for (int j = 0; j < 16 && j0 + j < n; j++) g[j0 + j] += t[j] * rs[j0 + j];
    }

    /// <summary>g += float(s)·rs, the product rounded before the add (no fused multiply-add), as the scalar tail does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Add4(Vector128<int> s, float* rs, float* g) =>
        (Vector128.Load(g) + Vector128.ConvertToSingle(s) * Vector128.Load(rs)).Store(g);

    /// <summary>The portable form of either layout (x64, tests): exact int32 sums, then the same epilogue.</summary>
    public static void GemvScalar(sbyte* a, int kp, sbyte* packed, int n, float* rs, float* g, bool dot)
    {
        int rows = Rows(dot), group = dot ? 4 : 16;
        for (int j0 = 0; j0 < n; j0 += rows)
        {
            sbyte* blk = packed + (long)j0 * kp;
            for (int j = 0; j < rows && j0 + j < n; j++)
            {
                int s = 0;
                for (int q = 0; q < kp; q++) s += a[q] * blk[(q / group * rows + j) * group + q % group];
                g[j0 + j] += s * rs[j0 + j];
            }
        }
    }
}
