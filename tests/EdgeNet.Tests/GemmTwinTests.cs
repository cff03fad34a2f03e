using EdgeNet.Engine;
using EdgeNet.Kernels.Simd;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>The fp32 GEMM (packed B, row and column bias, clamp) against a scalar product in double, on odd sizes: full
/// and short row tiles, the one- and two-row kernel, whole panels, narrow panels (≤ 16 columns: AVX-512's one-vector
/// tiles of 16 and 8 rows) and a wide panel's narrow tail. On AVX-512 a narrow panel goes through that tile alone (no one-row kernel, whose sums are ordered
/// differently), so its rows' bits do not depend on where the tiles fall.</summary>
public unsafe class GemmTwinTests
{
    [Theory]
    [InlineData(1, 16, 32)]
    [InlineData(2, 9, 5)]
    [InlineData(3, 16, 16)]
    [InlineData(8, 8, 7)]
    [InlineData(13, 16, 32)]    // narrow: a tile of 8 and one of 5
    [InlineData(61, 15, 67)]    // narrow, partial vector: three tiles of 16, one of 8 and one of 5
    [InlineData(45, 16, 32)]    // narrow: two of 16, one of 8 and one of 5; from row 5, two of 16 and one of 8
    [InlineData(16, 8, 16)]     // narrow: one of 16, 8 columns
    [InlineData(29, 12, 3)]
    [InlineData(17, 1, 9)]
    [InlineData(100, 48, 33)]   // a whole panel and a narrow one
    [InlineData(37, 40, 64)]    // a whole panel and 8 columns
    [InlineData(9, 31, 1)]
    [InlineData(70, 255, 19)]   // YOLO's head: 7 whole panels and 31 columns
    [InlineData(14, 24, 20)]    // a transformer's 14 tokens: a tile of 8 and one of 6 (NEON: the 6-row tile)
    [InlineData(12, 17, 9)]     // 8 and 4 (NEON: the 4-row tile)
    [InlineData(7, 9, 13)]
    public void Matches_the_scalar_product(int m, int n, int k)
    {
        var a = TestData.Uniform(m * k, 31); var w = TestData.Uniform(k * n, 32); var rowBias = TestData.Uniform(m, 33); var colBias = TestData.Uniform(n, 34);
        float lo = -0.75f, hi = 2.5f;
        using var packed = new NativeBuffer(Gemm.PackedSize(k, n) * 4);
        fixed (float* pw = w) Gemm.Pack(pw, n, 1, k, n, packed.Floats);
        var c = new float[m * n];
        fixed (float* pa = a) fixed (float* pc = c) fixed (float* pr = rowBias) fixed (float* pb = colBias)
            Gemm.Run(pa, k, packed.Floats, pc, n, m, n, k, pr, pb, lo, hi);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = rowBias[i] + colBias[j];
                for (int q = 0; q < k; q++) s += (double)a[i * k + q] * w[q * n + j];
                Assert.Equal(Math.Clamp(s, lo, hi), c[i * n + j], 1e-4 * (1 + Math.Sqrt(k)));
            }

        // Narrow on AVX-512, rows 5.. alone (tiles start elsewhere): the same bits as in the whole product.
        if (m <= 7 || n > 16 || Gemm.Selected != Gemm.Isa.V512) return;
        var d = new float[(m - 5) * n];
        fixed (float* pa = a) fixed (float* pd = d) fixed (float* pr = rowBias) fixed (float* pb = colBias)
            Gemm.Run(pa + 5 * k, k, packed.Floats, pd, n, m - 5, n, k, pr + 5, pb, lo, hi);
        Assert.Equal(c.AsSpan(5 * n).ToArray(), d);
    }

    /// <summary>The one- and two-row kernel (batch-1 Dense: Row, and RowNeon's eight-k loop with multi-register loads on
    /// arm64) bit for bit against its scalar twin: even k fused onto one sum, odd k onto another, in order, then
    /// (p + q) + row bias + column bias, clamped. K covers the eight-k loop, a four-k step, a pair and a single k.</summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 3)]
    [InlineData(2, 4)]
    [InlineData(1, 7)]
    [InlineData(2, 8)]
    [InlineData(1, 13)]
    [InlineData(2, 15)]
    [InlineData(1, 16)]
    [InlineData(1, 30)]
    [InlineData(2, 37)]
    [InlineData(1, 128)]
    public void Row_kernel_matches_its_scalar_twin_bit_for_bit(int m, int k)
    {
        int n = 21;   // two whole 8-column panels (NEON) and a partial one
        var a = TestData.Uniform(m * k, 51); var w = TestData.Uniform(k * n, 52); var rowBias = TestData.Uniform(m, 53); var colBias = TestData.Uniform(n, 54);
        float lo = -1.5f, hi = 2.5f;
        using var packed = new NativeBuffer(Gemm.PackedSize(k, n) * 4);
        fixed (float* pw = w) Gemm.Pack(pw, n, 1, k, n, packed.Floats);
        var c = new float[m * n];
        fixed (float* pa = a) fixed (float* pc = c) fixed (float* pr = rowBias) fixed (float* pb = colBias)
            Gemm.Run(pa, k, packed.Floats, pc, n, m, n, k, pr, pb, lo, hi);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float p = 0, q = 0;
                for (int e = 0; e < k; e++)
                    if (e % 2 == 0) p = MathF.FusedMultiplyAdd(a[i * k + e], w[e * n + j], p);
                    else q = MathF.FusedMultiplyAdd(a[i * k + e], w[e * n + j], q);
                float v = p + q + rowBias[i] + colBias[j];
                Assert.Equal(MathF.Min(MathF.Max(v, lo), hi), c[i * n + j]);
            }
    }

    /// <summary>The 128-bit tile (NEON, and the scalar tier) computes a call's last 3-7 rows with a 4-, 6- or 8-row
    /// instance: each row's sums are those an 8-row tile gives it, so the bits do not depend on where the tiles fall.</summary>
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    public void Short_row_tiles_give_a_whole_tiles_bits(int m)
    {
        if (Gemm.Selected != Gemm.Isa.V128) return;
        int n = 19, k = 37;
        var a = TestData.Uniform(16 * k, 41); var w = TestData.Uniform(k * n, 42); var colBias = TestData.Uniform(n, 43);
        using var packed = new NativeBuffer(Gemm.PackedSize(k, n) * 4);
        fixed (float* pw = w) Gemm.Pack(pw, n, 1, k, n, packed.Floats);
        var whole = new float[16 * n]; var part = new float[m * n];
        fixed (float* pa = a) fixed (float* pc = whole) fixed (float* pp = part) fixed (float* pb = colBias)
        {
            Gemm.Run(pa, k, packed.Floats, pc, n, 16, n, k, null, pb, -0.75f, 2.5f);
            Gemm.Run(pa, k, packed.Floats, pp, n, m, n, k, null, pb, -0.75f, 2.5f);
        }
        Assert.Equal(whole.AsSpan(0, m * n).ToArray(), part);
    }

    /// <summary>AVX-512: the whole 8-row tiles one call computes for a panel (Gemm.Tiles512, from 16 tiles) give each row
    /// the bits the single tile (Tile512, which takes the last 3-7 rows, and blocks of fewer tiles) gives it: rows r..r+m-1
    /// of a 136-row product (17 tiles) against the same rows alone (m rows: one short tile). Widths 24 (16 + 8 stored
    /// whole), 32, 40 (a whole panel and 8), 19 (a partial vector); row and column bias, a clamp.</summary>
    [Theory]
    [InlineData(3, 24, 24)]
    [InlineData(5, 32, 37)]
    [InlineData(6, 40, 1)]
    [InlineData(7, 19, 64)]
    public void Whole_tiles_give_a_short_tiles_bits(int m, int n, int k)
    {
        if (Gemm.Selected != Gemm.Isa.V512) Assert.Skip("not AVX-512: Gemm.Tiles512 is not chosen");
        const int rows = 136;
        var a = TestData.Uniform(rows * k, 51); var w = TestData.Uniform(k * n, 52); var rowBias = TestData.Uniform(rows, 53); var colBias = TestData.Uniform(n, 54);
        using var packed = new NativeBuffer(Gemm.PackedSize(k, n) * 4);
        fixed (float* pw = w) Gemm.Pack(pw, n, 1, k, n, packed.Floats);
        var whole = new float[rows * n]; var part = new float[m * n];
        fixed (float* pa = a) fixed (float* pc = whole) fixed (float* pp = part) fixed (float* pr = rowBias) fixed (float* pb = colBias)
        {
            Gemm.Run(pa, k, packed.Floats, pc, n, rows, n, k, pr, pb, -0.75f, 2.5f);
            foreach (int r0 in new[] { 0, 64, 128 })
            {
                Gemm.Run(pa + r0 * k, k, packed.Floats, pp, n, m, n, k, pr + r0, pb, -0.75f, 2.5f);
                Assert.Equal(whole.AsSpan(r0 * n, m * n).ToArray(), part);
            }
        }
    }

    /// <summary>Packed B (Gemm.Run: on NEON and SSE Panels128, every panel's tiles inlined in one call) and row-major B
    /// (RunStrided: Panel, a Tile128 call per tile) give the same bits: every count of rows after the whole tiles
    /// (0-7: none, the row kernel, the 4-, 6- and 8-row tiles with spare rows), partial panels, K with and without a
    /// four-k or single-k tail; with row and column bias and a clamp, column bias and a clamp (the whole tiles' clamped
    /// stores), and with neither (the whole tiles' unclamped stores).</summary>
    [Theory]
    [InlineData(8, 16, 8)]
    [InlineData(9, 13, 5)]
    [InlineData(10, 8, 12)]
    [InlineData(11, 21, 37)]
    [InlineData(12, 19, 3)]
    [InlineData(13, 24, 16)]
    [InlineData(14, 30, 33)]
    [InlineData(15, 7, 20)]
    [InlineData(16, 40, 9)]
    [InlineData(3, 17, 11)]
    [InlineData(29, 25, 14)]
    public void Packed_and_strided_B_give_the_same_bits(int m, int n, int k)
    {
        var a = TestData.Uniform(m * k, 61); var w = TestData.Uniform(k * n, 62); var rowBias = TestData.Uniform(m, 63); var colBias = TestData.Uniform(n, 64);
        using var packed = new NativeBuffer(Gemm.PackedSize(k, n) * 4);
        using var tail = new NativeBuffer(Gemm.TailScratch(k) * 4);
        fixed (float* pw = w) Gemm.Pack(pw, n, 1, k, n, packed.Floats);
        // row and column bias, clamp; column bias and clamp only (a conv's bias + ReLU6: the whole tiles' clamped stores); neither
        foreach (var (withRowBias, withColBias, clamped) in new[] { (true, true, true), (false, true, true), (false, false, false) })
        {
            var c = new float[m * n]; var d = new float[m * n];
            float lo = clamped ? -0.75f : float.NegativeInfinity, hi = clamped ? 2.5f : float.PositiveInfinity;
            fixed (float* pa = a) fixed (float* pw = w) fixed (float* pc = c) fixed (float* pd = d) fixed (float* pr = rowBias) fixed (float* pb = colBias)
            {
                float* rb = withRowBias ? pr : null, cb = withColBias ? pb : null;
                Gemm.Run(pa, k, packed.Floats, pc, n, m, n, k, rb, cb, lo, hi);
                Gemm.RunStrided(pa, k, pw, n, pd, n, m, n, k, rb, cb, lo, hi, tail.Floats);
            }
            Assert.Equal(d, c);
        }
    }

    /// <summary>A sum of zero products is +0, as FMA onto 0 gives it, whatever the signs of the zeros: on NEON a tile's first
    /// k is an FMUL (+0 · −1 = −0, and −0 + −0 stays −0), and the stored value is the same only because the column
    /// bias, here −0, is made +0 first (−0 + −0 would be −0). Rows of +0 and −0 against negative and positive B, the
    /// whole-tile store (no row bias, no clamp) and the per-row one (a row bias of −0), with and without the column bias,
    /// K with and without a four-k step.</summary>
    [Theory]
    [InlineData(8, 8, 8)]
    [InlineData(14, 16, 4)]
    [InlineData(5, 11, 9)]
    [InlineData(16, 8, 3)]
    public void Zero_sums_store_positive_zero(int m, int n, int k)
    {
        var a = new float[m * k]; var w = new float[k * n]; var rowBias = new float[m]; var colBias = new float[n];
        for (int i = 0; i < a.Length; i++) a[i] = i / k % 2 == 0 ? 0f : -0f;          // rows of +0, −0, +0, ...
        for (int i = 0; i < w.Length; i++) w[i] = i % n % 2 == 0 ? -1.5f : 2f;       // columns < 0, > 0, < 0, ...: −0 sums at every other
        Array.Fill(rowBias, -0f); Array.Fill(colBias, -0f);
        using var packed = new NativeBuffer(Gemm.PackedSize(k, n) * 4);
        fixed (float* pw = w) Gemm.Pack(pw, n, 1, k, n, packed.Floats);
        // without a column bias as well: the stores add ColBias128's default, +0, which must not be folded away
        foreach (bool withColBias in new[] { true, false })
            foreach (bool withRowBias in new[] { false, true })
            {
                var c = new float[m * n];
                fixed (float* pa = a) fixed (float* pc = c) fixed (float* pr = rowBias) fixed (float* pb = colBias)
                    Gemm.Run(pa, k, packed.Floats, pc, n, m, n, k, withRowBias ? pr : null, withColBias ? pb : null, float.NegativeInfinity, float.PositiveInfinity);
                Assert.All(c, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
            }
    }

    /// <summary>MatMul's GEMM on unpacked B (Gemm.RunUnpacked: B read with its strides, row-major or transposed; on NEON
    /// and SSE all of B packed, then one Panels128 call) bit for bit against its scalar twin: each element one chain of
    /// fused multiply-adds over k in order from +0, plus +0, in the rows of whole and 3-7-row tiles (one or two rows
    /// after the whole tiles go to the row kernel, whose sums are ordered otherwise: within rounding there); K with every tail after the four-k steps (none, the two-k step of
    /// 64-bit loads, it and a single k, a single k), N with partial panels of every width 1-7 (their stores by a
    /// vector, a pair and a float).</summary>
    [Theory]
    [InlineData(14, 14, 32)]    // attention's Q·Kᵀ over 14 tokens: panels of 8 and 6
    [InlineData(14, 32, 14)]    // P·V: K = 14, the two-k step
    [InlineData(11, 9, 15)]
    [InlineData(6, 15, 6)]
    [InlineData(13, 23, 7)]
    [InlineData(5, 12, 2)]
    [InlineData(8, 21, 3)]
    [InlineData(16, 17, 5)]
    [InlineData(4, 19, 10)]
    [InlineData(7, 13, 1)]
    [InlineData(10, 1, 9)]      // one column: row-major B has ldk = ldj = 1
    public void Unpacked_B_matches_its_scalar_twin_bit_for_bit(int m, int n, int k)
    {
        var a = TestData.Uniform(m * k, 71); var w = TestData.Uniform(k * n, 72);
        var expected = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = 0f;
                for (int q = 0; q < k; q++) s = MathF.FusedMultiplyAdd(a[i * k + q], w[q * n + j], s);
                expected[i * n + j] = s + 0f;
            }
        var wt = new float[n * k];   // Bᵀ [n, k]: B read with ldk = 1, ldj = k
        for (int q = 0; q < k; q++) for (int j = 0; j < n; j++) wt[j * k + q] = w[q * n + j];
        using var scratch = new NativeBuffer(Math.Max(Gemm.UnpackedScratch(k, n), Gemm.PackedSize(k, n) + 64) * 4);
        foreach (bool transposed in new[] { false, true })
        {
            var c = new float[m * n];
            fixed (float* pa = a) fixed (float* pw = w) fixed (float* pt = wt) fixed (float* pc = c)
                if (transposed) Gemm.RunUnpacked(pa, k, pt, 1, k, pc, n, m, n, k, scratch.Floats);
                else Gemm.RunUnpacked(pa, k, pw, n, 1, pc, n, m, n, k, scratch.Floats);
            // the rows after the whole tiles of MR (6 on AVX2) when they are one or two: the row kernel's order, near
            int tiled = m % Gemm.MR is 1 or 2 ? m - m % Gemm.MR : m;
            Assert.Equal(expected.AsSpan(0, tiled * n).ToArray(), c.AsSpan(0, tiled * n).ToArray());
            for (int i = tiled * n; i < m * n; i++) Assert.Equal(expected[i], c[i], 1e-5 * (1 + Math.Sqrt(k)));
        }
    }
}
