using EdgeNet.Engine;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// <see cref="Gemm.Run"/> split across a session's intra-op threads: by rows when there are many (a channels-last
/// pointwise conv: one row per pixel), else by column panels (batch-1 Dense). Each part is an ordinary Gemm.Run on
/// its slice, so the result is bit-identical to one thread. One instance per kernel; a call allocates nothing.
/// With an active <see cref="OutputEpilogue"/> (a non-clamp activation, a fused residual sum) the rows go in blocks of
/// <see cref="BlockRows"/>, each followed by the epilogue on its output while that is in cache: blocks start at
/// multiples of 48 rows (of every tile height), so the tiles, and the bits, are those of one Gemm.Run over all rows.
/// </summary>
internal sealed unsafe class ParallelGemm : IParallelWork, IPartStarts
{
    float* a, b, c, rowBias, colBias;
    int lda, ldc, m, n, k, parts, chunk, blockRows, blocks;
    float lo, hi;
    bool byRows;
    OutputEpilogue? epi;   // set: parts are blocks of blockRows rows, each then through the epilogue

    /// <summary>Gemm.Run's arguments, and an epilogue: null or inactive, C is final after the GEMM (lo, hi its clamp);
    /// else its Begin was called with C (its rows N elements, ldc floats apart) and lo, hi are its <see cref="OutputEpilogue.Lo"/> and Hi.</summary>
    public void Run(IntraOpPool? pool, float* A, int lda, float* packedB, float* C, int ldc, int M, int N, int K,
                    float* rowBias, float* colBias, float lo, float hi, OutputEpilogue? epilogue = null)
    {
        int panels = (N + Gemm.NR - 1) / Gemm.NR;
        bool alone = pool is null || pool.Threads == 1 || (long)M * N * K < IntraOpPool.MinWork;
        a = A; b = packedB; c = C; this.rowBias = rowBias; this.colBias = colBias;
        (this.lda, this.ldc, m, n, k, this.lo, this.hi) = (lda, ldc, M, N, K, lo, hi);
        if (epilogue is { Active: true })
        {
            blockRows = BlockRows(N);
            blocks = Math.Max(1, (M + blockRows - 1) / blockRows);
            if (blocks > 1 && M - (blocks - 1) * blockRows <= 2) blocks--;   // no block of ≤ 2 rows (the row kernel's other bits)
            if (alone || blocks >= 2 * pool!.Threads)
            {
                epi = epilogue;
                if (alone) for (int i = 0; i < blocks; i++) Execute(i);
                else pool!.Run(this, blocks);
                epi = null;
                epilogue.Seams(this, blocks);
                return;
            }
            Split(pool, M, panels);   // few blocks for the threads: the GEMM split as usual, then the epilogue split
            epilogue.Whole(pool);
            return;
        }
        if (alone) { Gemm.Run(A, lda, packedB, C, ldc, M, N, K, rowBias, colBias, lo, hi); return; }
        Split(pool!, M, panels);
    }

    /// <summary>Rows of a block: about 64 KiB of output, a multiple of 48.</summary>
    static int BlockRows(int n) => Math.Max(48, 16384 / Math.Max(1, n) / 48 * 48);

    public long Start(int block) => (long)block * blockRows * n;   // the epilogue's elements: rows of N

    void Split(IntraOpPool pool, int M, int panels)
    {
        byRows = M >= 16 * pool.Threads;
        int units = byRows ? (M + Gemm.MR - 1) / Gemm.MR : panels;
        parts = Math.Min(units, 2 * pool.Threads);
        chunk = (units + parts - 1) / parts;   // rows in multiples of the tile height (8, AVX2 6), or panels
        pool.Run(this, parts);
    }

    public void Execute(int i)
    {
        if (epi is not null)
        {
            int r0 = i * blockRows, r1 = i == blocks - 1 ? m : r0 + blockRows;
            Gemm.Run(a + (long)r0 * lda, lda, b, c + (long)r0 * ldc, ldc, r1 - r0, n, k, rowBias == null ? null : rowBias + r0, colBias, lo, hi);
            epi.Part((long)r0 * n, (long)r1 * n);
            return;
        }
        if (byRows)
        {
            int r0 = i * chunk * Gemm.MR, r1 = Math.Min(m, r0 + chunk * Gemm.MR);
            // A last part of one or two rows would take the one-row kernel (its sums ordered differently from the tile
            // one thread computes them with, as on a narrow panel): the part before it takes them too.
            if (m - r1 <= 2) r1 = m;
            if (r0 > 0 && m - r0 <= 2) return;
            if (r0 < r1) Gemm.Run(a + (long)r0 * lda, lda, b, c + (long)r0 * ldc, ldc, r1 - r0, n, k, rowBias == null ? null : rowBias + r0, colBias, lo, hi);
            return;
        }
        int p0 = i * chunk, j0 = p0 * Gemm.NR, j1 = Math.Min(n, (p0 + chunk) * Gemm.NR);
        if (j0 < j1) Gemm.Run(a, lda, b + (long)p0 * k * Gemm.NR, c + j0, ldc, m, j1 - j0, k, rowBias, colBias == null ? null : colBias + j0, lo, hi);
    }
}
