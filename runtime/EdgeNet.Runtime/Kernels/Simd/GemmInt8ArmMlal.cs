using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeNet.Kernels.Int8;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// The A72 (arm64 without Dp) int8 GEMM with activations in A, in the shape of MLAS's QgemmS8S8KernelNeon: a tile
/// of 4 rows × 4 columns over k blocks of 16, where each column's 16 weights and each row's 16 activations are one
/// 128-bit vector, and each (row, column) pair costs SMULL (k 0-7) + SMLAL2 (k 8-15) + SADALP per 16 k: 3
/// instructions per 16 multiply-adds, every loaded vector used four times; the rows are one pointer and offsets. The SDOT-layout kernel (<see cref="TileNeonFused"/>) multiplies
/// 4 k of a broadcast row at a time and pays a broadcast and twice the loads per product.
/// B is packed for it by <see cref="PackMlal"/> (16-column panels, in each four groups of 4 columns, in each k block
/// of 16 the 4 columns' k 0-7, then their k 8-15); A is row-major with rows padded to a multiple of 4 k, as for the SDOT layout.
/// The tile's int32 sums go through ADDP to columns and the requantization in registers; the same integers as
/// <see cref="Kernels.Int8.Requantize.Columns"/> after the int32 GEMM, bit for bit.
/// </summary>
internal static unsafe partial class GemmInt8
{
    /// <summary>K rounded up to the k block of <see cref="PackMlal"/>'s layout.</summary>
    public static int KPad16(int k) => (k + 15) & ~15;
    public static long PackedBytesMlal(int K, int N) => (long)((N + NR - 1) / NR) * KPad16(K) * NR;

    /// <summary>True where <see cref="RunMlal"/> runs: arm64 without the dot product (A72).</summary>
    public static bool UsesMlal(Isa isa) => isa == Isa.ArmNeon;

    /// <summary>Packs B[k, j] = src[k·ldk + j·ldj] in <see cref="RunMlal"/>'s layout; zeros past K and past N.</summary>
    public static void PackMlal(sbyte* src, long ldk, long ldj, int K, int N, sbyte* dst)
    {
        int k16 = KPad16(K), n16 = (N + NR - 1) / NR * NR;
        for (int j = 0; j < n16; j++)
        {
            sbyte* d = dst + (long)(j / NR) * NR * k16 + (j % NR / 4) * 4 * k16 + (j % 4) * 8;   // panel, group, column
            for (int k = 0; k < k16; k++) d[k / 16 * 64 + k % 16 / 8 * 32 + k % 8] = j < N && k < K ? src[k * ldk + j * ldj] : (sbyte)0;
        }
    }

    /// <summary>int8 out[M, N] = requantize(A[M, K] · B + bias) with B packed by <see cref="PackMlal"/>, per-column
    /// bias and multipliers (<paramref name="e"/>'s Col fields). One call per group of 4 columns, over all rows.</summary>
    public static void RunMlal(sbyte* A, int lda, sbyte* packedB, int M, int N, int K, ref Epilogue e)
    {
        if (e.ColBias == null || e.Out == null) throw new ArgumentException("the A72 GEMM requantizes per column");
        int kp = KPad(K), k16 = KPad16(K);
        int* padBias = stackalloc int[4]; float* padMult = stackalloc float[4];
        sbyte* t = stackalloc sbyte[16];
        for (int j = 0; j < N; j += 4)
        {
            sbyte* b = packedB + (long)(j / NR) * NR * k16 + (j % NR / 4) * 4 * k16;
            int w = Math.Min(4, N - j);
            int* bias = e.ColBias + j; float* mult = e.ColMult + j;
            if (w < 4)   // the last, partial group: its packed columns past N are zeros; bias and multipliers padded likewise
            {
                for (int c = 0; c < 4; c++) { padBias[c] = c < w ? bias[c] : 0; padMult[c] = c < w ? mult[c] : 0f; }
                bias = padBias; mult = padMult;
            }
            sbyte* o = e.Out + j;
            // The clamp to [lo, hi] on the bytes (SMIN, SMAX) equals the float clamp before rounding for every finite
            // t; a non-finite multiplier can make t NaN, which the reference sends to hi: that group clamps in float too.
            bool finite = float.IsFinite(mult[0]) && float.IsFinite(mult[1]) && float.IsFinite(mult[2]) && float.IsFinite(mult[3]);
            int mode = (e.NoMinWeight ? 0 : 3) + (e.SaturationOnly ? 0 : finite ? 1 : 2);
            // The tiles of 4 rows stored straight as 4 × 4 bytes, with no test per tile; then a tile of 1-3 rows (its
            // missing rows recompute row 0: offset 0), or each tile of a partial group, into t and copied
            int whole = w == 4 ? M >> 2 : 0;
            if (whole != 0) Dispatch(mode, A, lda, 2 * (nint)lda, 3 * (nint)lda, 4 * (nint)lda, b, kp, whole, bias, mult, e.Zp, e.Lo, e.Hi, o, e.Ldo);
            for (int i = 4 * whole; i < M; i += 4)
            {
                int m = Math.Min(M - i, 4);
                Dispatch(mode, A + (long)i * lda, m > 1 ? lda : 0, m > 2 ? 2 * (nint)lda : 0, m > 3 ? 3 * (nint)lda : 0, 0, b, kp, 1, bias, mult, e.Zp, e.Lo, e.Hi, t, 4);
                for (int r = 0; r < m; r++)
                    for (int c = 0; c < w; c++) o[(long)(i + r) * e.Ldo + c] = t[4 * r + c];
            }
        }
    }

    /// <summary>One specialization of <see cref="Group{TPairs, TClamp, TNaN}"/> per mode: no flag tested per tile.
    /// mode: 0-2 no weight −128 (pairs), 3-5 some; +0 the saturating narrows clamp, +1 SMIN/SMAX, +2 a float clamp too.</summary>
    static void Dispatch(int mode, sbyte* a, nint d1, nint d2, nint d3, nint lda4, sbyte* b, int kp, int tiles, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, nint ldo)
    {
        switch (mode)
        {
            case 0: Group<On, Off, Off>(a, d1, d2, d3, lda4, b, kp, tiles, bias, mult, zp, lo, hi, o, ldo); break;
            case 1: Group<On, On, Off>(a, d1, d2, d3, lda4, b, kp, tiles, bias, mult, zp, lo, hi, o, ldo); break;
            case 2: Group<On, On, On>(a, d1, d2, d3, lda4, b, kp, tiles, bias, mult, zp, lo, hi, o, ldo); break;
            case 3: Group<Off, Off, Off>(a, d1, d2, d3, lda4, b, kp, tiles, bias, mult, zp, lo, hi, o, ldo); break;
            case 4: Group<Off, On, Off>(a, d1, d2, d3, lda4, b, kp, tiles, bias, mult, zp, lo, hi, o, ldo); break;
            default: Group<Off, On, On>(a, d1, d2, d3, lda4, b, kp, tiles, bias, mult, zp, lo, hi, o, ldo); break;
        }
    }

    /// <summary>The 4 columns at <paramref name="b"/> for <paramref name="tiles"/> tiles of 4 rows (rows at a, a + d1,
    /// a + d2, a + d3; the next tile lda4 on): 16 accumulators of 4 partials each (SADDLP starts them, SADALP adds on),
    /// ADDP to columns, requantized in registers, 4 bytes stored per row (ldo apart), no test per tile. <typeparamref name="TPairs"/> (no weight −128): two products summed in int16 before widening;
    /// <typeparamref name="TClamp"/>: clamp to [lo, hi] (otherwise the int8 range, GemmInt8.SaturationClamps);
    /// <typeparamref name="TNaN"/>: a multiplier is not finite, so t may be NaN: clamped in float first as well.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Group<TPairs, TClamp, TNaN>(sbyte* a, nint d1, nint d2, nint d3, nint lda4, sbyte* b, int kp, int tiles, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, nint ldo)
        where TPairs : struct, IFlag where TClamp : struct, IFlag where TNaN : struct, IFlag
    {
        bool pairs = TPairs.Value, clamp = TClamp.Value, nan = TNaN.Value;
        nint blocks = kp / 16, rest = kp % 16;   // full k blocks, then 0, 4, 8 or 12 k
        // After the first block: one block if their count is odd, then the loop two blocks a turn (one add, add, cmp,
        // branch per 32 k); pairSpan: the A bytes of the loop's blocks
        bool odd = blocks > 0 && (blocks - 1) % 2 != 0;
        nint pairSpan = blocks > 0 ? 32 * ((blocks - 1) / 2) : 0;
        var top = Vector128.Create((float)(hi - zp)); var z = Vector128.Create((short)zp);
        var bottom = Vector128.Create((sbyte)lo); var ceiling = Vector128.Create((sbyte)hi);
        // The group's bias and multipliers, loaded once for all its row tiles (the JIT reloaded them per tile)
        var vbias = Vector128.Load(bias); var vmult = Vector128.Load(mult);
        // Rows 1-3 at offsets d1-d3 from row 0, so the k loop steps one A pointer and loads each row's 16 k as one
        // q register (LDR q, [a0, d_r]); the loop ends on the output pointer (no tile counter)
        nint ldo4 = 4 * ldo;
        for (sbyte* oEnd = o + tiles * ldo4; o < oEnd; a += lda4, o += ldo4)
        {
            sbyte* a0, bk;
            Vector128<int> c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
            if (blocks != 0)   // the first block starts the sums (SADDLP): no zeroing
            {
                var l0 = Vector64.Load(b); var l1 = Vector64.Load(b + 8); var l2 = Vector64.Load(b + 16); var l3 = Vector64.Load(b + 24);
                var h0 = Vector128.Load(b + 24); var h2 = Vector128.Load(b + 40); var h1 = Vector128.Load(b + 32); var h3 = Vector128.Load(b + 48);
                Row4Start(out c00, out c01, out c02, out c03, Vector128.Load(a), l0, l1, l2, l3, h0, h1, h2, h3, pairs);
                Row4Start(out c10, out c11, out c12, out c13, Vector128.Load(a + d1), l0, l1, l2, l3, h0, h1, h2, h3, pairs);
                Row4Start(out c20, out c21, out c22, out c23, Vector128.Load(a + d2), l0, l1, l2, l3, h0, h1, h2, h3, pairs);
                Row4Start(out c30, out c31, out c32, out c33, Vector128.Load(a + d3), l0, l1, l2, l3, h0, h1, h2, h3, pairs);
                a0 = a + 16; bk = b + 64;
            }
            else
            {
                c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = default;
                a0 = a; bk = b;
            }
            // pairs is a type constant: the JIT compiles Block's Row4Pairs or Row4 form (weights of −128: two products could reach 2^15)
            if (odd) { Block(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a0, bk, d1, d2, d3, pairs); a0 += 16; bk += 64; }
            for (sbyte* aEnd = a0 + pairSpan; a0 < aEnd; a0 += 32, bk += 128)   // ends on A's pointer: no block counter
            {
                Block(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a0, bk, d1, d2, d3, pairs);
                Block(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a0 + 16, bk + 64, d1, d2, d3, pairs);
            }
            if (rest != 0)   // one test per tile where K is a multiple of 16
            {
                if (rest == 8)   // k 0-7 of the last block (MobileNet's 24 channels)
                {
                    var b0 = Vector64.Load(bk); var b1 = Vector64.Load(bk + 8); var b2 = Vector64.Load(bk + 16); var b3 = Vector64.Load(bk + 24);
                    Row4Half(ref c00, ref c01, ref c02, ref c03, Vector64.Load(a0), b0, b1, b2, b3);
                    Row4Half(ref c10, ref c11, ref c12, ref c13, Vector64.Load(a0 + d1), b0, b1, b2, b3);
                    Row4Half(ref c20, ref c21, ref c22, ref c23, Vector64.Load(a0 + d2), b0, b1, b2, b3);
                    Row4Half(ref c30, ref c31, ref c32, ref c33, Vector64.Load(a0 + d3), b0, b1, b2, b3);
                }
                else if (rest == 12)   // the stem's 27 taps: k 0-7 as 8 bytes, k 8-11 as 4 (A's rows end at kp; B is zero past K,
                {                      // so the register's upper 4 bytes, whatever they hold, add 0)
                    var b0 = Vector64.Load(bk); var b1 = Vector64.Load(bk + 8); var b2 = Vector64.Load(bk + 16); var b3 = Vector64.Load(bk + 24);
                    var b0h = Vector64.Load(bk + 32); var b1h = Vector64.Load(bk + 40); var b2h = Vector64.Load(bk + 48); var b3h = Vector64.Load(bk + 56);
                    Row4Parts(ref c00, ref c01, ref c02, ref c03, Vector64.Load(a0), Four(a0 + 8), b0, b0h, b1, b1h, b2, b2h, b3, b3h, pairs);
                    Row4Parts(ref c10, ref c11, ref c12, ref c13, Vector64.Load(a0 + d1), Four(a0 + d1 + 8), b0, b0h, b1, b1h, b2, b2h, b3, b3h, pairs);
                    Row4Parts(ref c20, ref c21, ref c22, ref c23, Vector64.Load(a0 + d2), Four(a0 + d2 + 8), b0, b0h, b1, b1h, b2, b2h, b3, b3h, pairs);
                    Row4Parts(ref c30, ref c31, ref c32, ref c33, Vector64.Load(a0 + d3), Four(a0 + d3 + 8), b0, b0h, b1, b1h, b2, b2h, b3, b3h, pairs);
                }
                else   // 4 k: as 4 bytes against the block's k 0-7 (zero past K)
                {
                    var b0 = Vector64.Load(bk); var b1 = Vector64.Load(bk + 8); var b2 = Vector64.Load(bk + 16); var b3 = Vector64.Load(bk + 24);
                    Row4Half(ref c00, ref c01, ref c02, ref c03, Four(a0), b0, b1, b2, b3);
                    Row4Half(ref c10, ref c11, ref c12, ref c13, Four(a0 + d1), b0, b1, b2, b3);
                    Row4Half(ref c20, ref c21, ref c22, ref c23, Four(a0 + d2), b0, b1, b2, b3);
                    Row4Half(ref c30, ref c31, ref c32, ref c33, Four(a0 + d3), b0, b1, b2, b3);
                }
            }
            var bytes = Requantize4x4(Columns(c00, c01, c02, c03), Columns(c10, c11, c12, c13), Columns(c20, c21, c22, c23), Columns(c30, c31, c32, c33),
                                      vbias, vmult, z, top, bottom, ceiling, clamp, nan);
            sbyte* o1 = o + ldo, o2 = o1 + ldo, o3 = o2 + ldo;
            AdvSimd.StoreSelectedScalar((int*)o, bytes.AsInt32(), 0); AdvSimd.StoreSelectedScalar((int*)o1, bytes.AsInt32(), 1);
            AdvSimd.StoreSelectedScalar((int*)o2, bytes.AsInt32(), 2); AdvSimd.StoreSelectedScalar((int*)o3, bytes.AsInt32(), 3);
        }
    }

    /// <summary>Four rows' column sums (bias added) requantized: 16 int8, row r in bytes 4r..4r+3. With
    /// <paramref name="clamp"/>, saturating steps (FCVTNS, SQXTN, SQADD, SQXTN), then SMIN hi and SMAX lo on the bytes:
    /// each step is monotonic and hi − zp, hi are in its range, so min(step(t), step(hi − zp)) = step(min(t, hi − zp))
    /// and the bytes are the reference's clamp for every finite t (below lo every step only saturates further).
    /// <paramref name="nan"/> (a multiplier not finite): FMINNM against hi − zp before the rounding convert as well, which
    /// sends NaN to hi as QuantMath does (FCVTNS makes it 0). Without <paramref name="clamp"/> (GemmInt8.SaturationClamps:
    /// the int8 range, |acc·m| &lt; 2^30) the narrows alone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<sbyte> Requantize4x4(Vector128<int> r0, Vector128<int> r1, Vector128<int> r2, Vector128<int> r3, Vector128<int> bias, Vector128<float> mult,
                                          Vector128<short> z, Vector128<float> top, Vector128<sbyte> bottom, Vector128<sbyte> ceiling, bool clamp, bool nan)
    {
        var t0 = Vector128.ConvertToSingle(r0 + bias) * mult; var t1 = Vector128.ConvertToSingle(r1 + bias) * mult;
        var t2 = Vector128.ConvertToSingle(r2 + bias) * mult; var t3 = Vector128.ConvertToSingle(r3 + bias) * mult;
        if (nan)
        {
            t0 = AdvSimd.MinNumber(t0, top); t1 = AdvSimd.MinNumber(t1, top); t2 = AdvSimd.MinNumber(t2, top); t3 = AdvSimd.MinNumber(t3, top);
        }
        // z_y added after the first narrow, in int16 (2 SQADD for 16 sums, not 4): with |z_y| ≤ 128 an int32 past the
        // int16 range stays past the int8 range after either order of saturations, so the bytes are the same
        var s01 = AdvSimd.AddSaturate(AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(AdvSimd.ConvertToInt32RoundToEven(t0)), AdvSimd.ConvertToInt32RoundToEven(t1)), z);
        var s23 = AdvSimd.AddSaturate(AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(AdvSimd.ConvertToInt32RoundToEven(t2)), AdvSimd.ConvertToInt32RoundToEven(t3)), z);
        var bytes = AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(s01), s23);
        return clamp ? AdvSimd.Max(AdvSimd.Min(bytes, ceiling), bottom) : bytes;
    }

    /// <summary>One k block of 16 for the tile's 4 rows (at a0 and the row offsets) and 4 columns (at bk): <see cref="Row4Pairs"/>
    /// per row, or <see cref="Row4"/> where a column has weights of −128 (pairs false).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block(ref Vector128<int> c00, ref Vector128<int> c01, ref Vector128<int> c02, ref Vector128<int> c03, ref Vector128<int> c10, ref Vector128<int> c11,
        ref Vector128<int> c12, ref Vector128<int> c13, ref Vector128<int> c20, ref Vector128<int> c21, ref Vector128<int> c22, ref Vector128<int> c23,
        ref Vector128<int> c30, ref Vector128<int> c31, ref Vector128<int> c32, ref Vector128<int> c33, sbyte* a0, sbyte* bk, nint d1, nint d2, nint d3, bool pairs)
    {
        var l0 = Vector64.Load(bk); var l1 = Vector64.Load(bk + 8); var l2 = Vector64.Load(bk + 16); var l3 = Vector64.Load(bk + 24);
        var h0 = Vector128.Load(bk + 24); var h2 = Vector128.Load(bk + 40); var h1 = Vector128.Load(bk + 32); var h3 = Vector128.Load(bk + 48);
        if (pairs)
        {
            Row4Pairs(ref c00, ref c01, ref c02, ref c03, Vector128.Load(a0), l0, l1, l2, l3, h0, h1, h2, h3);
            Row4Pairs(ref c10, ref c11, ref c12, ref c13, Vector128.Load(a0 + d1), l0, l1, l2, l3, h0, h1, h2, h3);
            Row4Pairs(ref c20, ref c21, ref c22, ref c23, Vector128.Load(a0 + d2), l0, l1, l2, l3, h0, h1, h2, h3);
            Row4Pairs(ref c30, ref c31, ref c32, ref c33, Vector128.Load(a0 + d3), l0, l1, l2, l3, h0, h1, h2, h3);
        }
        else
        {
            Row4(ref c00, ref c01, ref c02, ref c03, Vector128.Load(a0), l0, l1, l2, l3, h0, h1, h2, h3);
            Row4(ref c10, ref c11, ref c12, ref c13, Vector128.Load(a0 + d1), l0, l1, l2, l3, h0, h1, h2, h3);
            Row4(ref c20, ref c21, ref c22, ref c23, Vector128.Load(a0 + d2), l0, l1, l2, l3, h0, h1, h2, h3);
            Row4(ref c30, ref c31, ref c32, ref c33, Vector128.Load(a0 + d3), l0, l1, l2, l3, h0, h1, h2, h3);
        }
    }

    /// <summary>The first k block of one row (x: its 16 k) against 4 columns: the products' pair sums start the
    /// accumulators (SADDLP). See <see cref="Row4Pairs"/> for the operands.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row4Start(out Vector128<int> c0, out Vector128<int> c1, out Vector128<int> c2, out Vector128<int> c3, Vector128<sbyte> x,
        Vector64<sbyte> l0, Vector64<sbyte> l1, Vector64<sbyte> l2, Vector64<sbyte> l3, Vector128<sbyte> h0, Vector128<sbyte> h1, Vector128<sbyte> h2, Vector128<sbyte> h3, bool pairs)
    {
        var p0 = AdvSimd.MultiplyWideningUpper(x, h0); var p1 = AdvSimd.MultiplyWideningUpper(x, h1);
        var p2 = AdvSimd.MultiplyWideningUpper(x, h2); var p3 = AdvSimd.MultiplyWideningUpper(x, h3);
        var xl = x.GetLower();   // x's last use: no register copy
        if (pairs)
        {
            c0 = AdvSimd.AddPairwiseWidening(AdvSimd.MultiplyWideningLowerAndAdd(p0, xl, l0));
            c1 = AdvSimd.AddPairwiseWidening(AdvSimd.MultiplyWideningLowerAndAdd(p1, xl, l1));
            c2 = AdvSimd.AddPairwiseWidening(AdvSimd.MultiplyWideningLowerAndAdd(p2, xl, l2));
            c3 = AdvSimd.AddPairwiseWidening(AdvSimd.MultiplyWideningLowerAndAdd(p3, xl, l3));
            return;
        }
        c0 = AdvSimd.AddPairwiseWideningAndAdd(AdvSimd.AddPairwiseWidening(p0), AdvSimd.MultiplyWideningLower(xl, l0));
        c1 = AdvSimd.AddPairwiseWideningAndAdd(AdvSimd.AddPairwiseWidening(p1), AdvSimd.MultiplyWideningLower(xl, l1));
        c2 = AdvSimd.AddPairwiseWideningAndAdd(AdvSimd.AddPairwiseWidening(p2), AdvSimd.MultiplyWideningLower(xl, l2));
        c3 = AdvSimd.AddPairwiseWideningAndAdd(AdvSimd.AddPairwiseWidening(p3), AdvSimd.MultiplyWideningLower(xl, l3));
    }

    /// <summary>Eight k of one row against 4 columns (the last block's first half): SMULL, SADALP.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row4Half(ref Vector128<int> c0, ref Vector128<int> c1, ref Vector128<int> c2, ref Vector128<int> c3, Vector64<sbyte> x,
        Vector64<sbyte> b0, Vector64<sbyte> b1, Vector64<sbyte> b2, Vector64<sbyte> b3)
    {
        c0 = AdvSimd.AddPairwiseWideningAndAdd(c0, AdvSimd.MultiplyWideningLower(x, b0));
        c1 = AdvSimd.AddPairwiseWideningAndAdd(c1, AdvSimd.MultiplyWideningLower(x, b1));
        c2 = AdvSimd.AddPairwiseWideningAndAdd(c2, AdvSimd.MultiplyWideningLower(x, b2));
        c3 = AdvSimd.AddPairwiseWideningAndAdd(c3, AdvSimd.MultiplyWideningLower(x, b3));
    }

    /// <summary>A flag fixed per specialization of <see cref="Group{TPairs, TClamp, TNaN}"/>.</summary>
    interface IFlag { static abstract bool Value { get; } }
    struct On : IFlag { public static bool Value => true; }
    struct Off : IFlag { public static bool Value => false; }

    /// <summary>4 bytes at <paramref name="a"/> in a register's lower half, its upper 4 bytes undefined (multiplied
    /// by B's zeros past K): one scalar load, no read past A's row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector64<sbyte> Four(sbyte* a) => Vector64.CreateScalarUnsafe(*(int*)a).AsSByte();

    /// <summary>Column sums from 4 accumulators of 4 partials each: [Σc0, Σc1, Σc2, Σc3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<int> Columns(Vector128<int> c0, Vector128<int> c1, Vector128<int> c2, Vector128<int> c3) =>
        AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(c0, c1), AdvSimd.Arm64.AddPairwise(c2, c3));

    /// <summary>One row's 16 k (x) against 4 columns: SMULL2 (k 8-15) for the four columns first, then SMLAL (k 0-7)
    /// into the same int16 pairs, SADALP. l_c: column c's k 0-7; h_c: a vector whose upper half is column c's k 8-15
    /// (<see cref="PackMlal"/>'s block: the four columns' k 0-7, then their k 8-15, so h_c is loaded 8 bytes early).
    /// The upper halves go first so that x's lower half is taken at its last use: RyuJIT copies a Vector128's lower
    /// half to another register (MOV) unless the vector dies there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row4Pairs(ref Vector128<int> c0, ref Vector128<int> c1, ref Vector128<int> c2, ref Vector128<int> c3, Vector128<sbyte> x,
        Vector64<sbyte> l0, Vector64<sbyte> l1, Vector64<sbyte> l2, Vector64<sbyte> l3, Vector128<sbyte> h0, Vector128<sbyte> h1, Vector128<sbyte> h2, Vector128<sbyte> h3)
    {
        var p0 = AdvSimd.MultiplyWideningUpper(x, h0); var p1 = AdvSimd.MultiplyWideningUpper(x, h1);
        var p2 = AdvSimd.MultiplyWideningUpper(x, h2); var p3 = AdvSimd.MultiplyWideningUpper(x, h3);
        var xl = x.GetLower();
        c0 = AdvSimd.AddPairwiseWideningAndAdd(c0, AdvSimd.MultiplyWideningLowerAndAdd(p0, xl, l0));
        c1 = AdvSimd.AddPairwiseWideningAndAdd(c1, AdvSimd.MultiplyWideningLowerAndAdd(p1, xl, l1));
        c2 = AdvSimd.AddPairwiseWideningAndAdd(c2, AdvSimd.MultiplyWideningLowerAndAdd(p2, xl, l2));
        c3 = AdvSimd.AddPairwiseWideningAndAdd(c3, AdvSimd.MultiplyWideningLowerAndAdd(p3, xl, l3));
    }

    /// <summary><see cref="Row4Pairs"/> with each product widened on its own (SMULL2, SMULL, SADALP twice): exact for −128·−128.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row4(ref Vector128<int> c0, ref Vector128<int> c1, ref Vector128<int> c2, ref Vector128<int> c3, Vector128<sbyte> x,
        Vector64<sbyte> l0, Vector64<sbyte> l1, Vector64<sbyte> l2, Vector64<sbyte> l3, Vector128<sbyte> h0, Vector128<sbyte> h1, Vector128<sbyte> h2, Vector128<sbyte> h3)
    {
        c0 = AdvSimd.AddPairwiseWideningAndAdd(c0, AdvSimd.MultiplyWideningUpper(x, h0)); c1 = AdvSimd.AddPairwiseWideningAndAdd(c1, AdvSimd.MultiplyWideningUpper(x, h1));
        c2 = AdvSimd.AddPairwiseWideningAndAdd(c2, AdvSimd.MultiplyWideningUpper(x, h2)); c3 = AdvSimd.AddPairwiseWideningAndAdd(c3, AdvSimd.MultiplyWideningUpper(x, h3));
        var xl = x.GetLower();
        c0 = AdvSimd.AddPairwiseWideningAndAdd(c0, AdvSimd.MultiplyWideningLower(xl, l0)); c1 = AdvSimd.AddPairwiseWideningAndAdd(c1, AdvSimd.MultiplyWideningLower(xl, l1));
        c2 = AdvSimd.AddPairwiseWideningAndAdd(c2, AdvSimd.MultiplyWideningLower(xl, l2)); c3 = AdvSimd.AddPairwiseWideningAndAdd(c3, AdvSimd.MultiplyWideningLower(xl, l3));
    }

    /// <summary><see cref="Row4"/> on 8-byte halves (the last block's 12 k, read without passing A's row end); with
    /// <paramref name="pairs"/> (no weight −128) the two halves' products summed in int16 first (SMULL, SMLAL, SADALP).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row4Parts(ref Vector128<int> c0, ref Vector128<int> c1, ref Vector128<int> c2, ref Vector128<int> c3, Vector64<sbyte> x, Vector64<sbyte> xh,
        Vector64<sbyte> b0, Vector64<sbyte> b0h, Vector64<sbyte> b1, Vector64<sbyte> b1h, Vector64<sbyte> b2, Vector64<sbyte> b2h, Vector64<sbyte> b3, Vector64<sbyte> b3h, bool pairs)
    {
        if (pairs)
        {
            c0 = AdvSimd.AddPairwiseWideningAndAdd(c0, AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(x, b0), xh, b0h));
            c1 = AdvSimd.AddPairwiseWideningAndAdd(c1, AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(x, b1), xh, b1h));
            c2 = AdvSimd.AddPairwiseWideningAndAdd(c2, AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(x, b2), xh, b2h));
            c3 = AdvSimd.AddPairwiseWideningAndAdd(c3, AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(x, b3), xh, b3h));
            return;
        }
        c0 = AdvSimd.AddPairwiseWideningAndAdd(AdvSimd.AddPairwiseWideningAndAdd(c0, AdvSimd.MultiplyWideningLower(x, b0)), AdvSimd.MultiplyWideningLower(xh, b0h));
        c1 = AdvSimd.AddPairwiseWideningAndAdd(AdvSimd.AddPairwiseWideningAndAdd(c1, AdvSimd.MultiplyWideningLower(x, b1)), AdvSimd.MultiplyWideningLower(xh, b1h));
        c2 = AdvSimd.AddPairwiseWideningAndAdd(AdvSimd.AddPairwiseWideningAndAdd(c2, AdvSimd.MultiplyWideningLower(x, b2)), AdvSimd.MultiplyWideningLower(xh, b2h));
        c3 = AdvSimd.AddPairwiseWideningAndAdd(AdvSimd.AddPairwiseWideningAndAdd(c3, AdvSimd.MultiplyWideningLower(x, b3)), AdvSimd.MultiplyWideningLower(xh, b3h));
    }
}
