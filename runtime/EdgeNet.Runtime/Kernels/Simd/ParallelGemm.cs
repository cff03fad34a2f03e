using EdgeNet.Engine;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// <see cref="Gemm.Run"/> split across a session's intra-op threads: by rows when there are many (a channels-last
/// pointwise conv: one row per pixel), else by column panels (batch-1 Dense). Each part is an ordinary Gemm.Run on
/// its slice, so the result is bit-identical to one thread. One instance per kernel; a call allocates nothing.
/// </summary>
internal sealed unsafe class ParallelGemm : IParallelWork
{
    float* a, b, c, rowBias, colBias;
    int lda, ldc, m, n, k, parts, chunk;
    float lo, hi;
    bool byRows;

    public void Run(IntraOpPool? pool, float* A, int lda, float* packedB, float* C, int ldc, int M, int N, int K,
                    float* rowBias, float* colBias, float lo, float hi)
    {
        int panels = (N + Gemm.NR - 1) / Gemm.NR;
        if (pool is null || pool.Threads == 1 || (long)M * N * K < IntraOpPool.MinWork) { Gemm.Run(A, lda, packedB, C, ldc, M, N, K, rowBias, colBias, lo, hi); return; }
        a = A; b = packedB; c = C; this.rowBias = rowBias; this.colBias = colBias;
        (this.lda, this.ldc, m, n, k, this.lo, this.hi) = (lda, ldc, M, N, K, lo, hi);
        byRows = M >= 16 * pool.Threads;
        int units = byRows ? (M + 7) / 8 : panels;
        parts = Math.Min(units, 2 * pool.Threads);
        chunk = (units + parts - 1) / parts;   // rows in multiples of 8 (the tile height), or panels
        pool.Run(this, parts);
    }

    public void Execute(int i)
    {
        if (byRows)
        {
            int r0 = i * chunk * 8, r1 = Math.Min(m, r0 + chunk * 8);
            if (r0 < r1) Gemm.Run(a + (long)r0 * lda, lda, b, c + (long)r0 * ldc, ldc, r1 - r0, n, k, rowBias == null ? null : rowBias + r0, colBias, lo, hi);
            return;
        }
        int p0 = i * chunk, j0 = p0 * Gemm.NR, j1 = Math.Min(n, (p0 + chunk) * Gemm.NR);
        if (j0 < j1) Gemm.Run(a, lda, b + (long)p0 * k * Gemm.NR, c + j0, ldc, m, j1 - j0, k, rowBias, colBias == null ? null : colBias + j0, lo, hi);
    }
}
