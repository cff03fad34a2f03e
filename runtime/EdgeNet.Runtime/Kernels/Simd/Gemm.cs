using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// fp32 GEMM, C[M,N] = A[M,K] · B[K,N] (+ bias, clamp), with B packed into panels of <see cref="NR"/> columns
/// (panel p holds K rows of NR floats; the last panel is zero-padded). A is row-major with stride lda and is
/// broadcast one element at a time; B is loaded as vectors. A 4×NR register tile of Vector&lt;float&gt;
/// (AVX2: 4×16, NEON: 4×8) accumulates with FMA. Dense packs its weights as B once at load; Conv packs im2col
/// columns as B per call and uses its weights as A.
/// </summary>
public static unsafe class Gemm
{
    public static int VL => Vector<float>.Count;
    public static int NR => 2 * Vector<float>.Count;
    const int MR = 4;

    public static long PackedSize(int K, int N) => (long)((N + NR - 1) / NR) * K * NR;

    /// <summary>Packs B given as B[k, j] = src[k * ldk + j * ldj] (so a transposed source is packed by swapping strides).</summary>
    public static void Pack(float* src, long ldk, long ldj, int K, int N, float* dst)
    {
        int nr = NR;
        for (int p = 0; p * nr < N; p++)
        {
            int j0 = p * nr, w = Math.Min(nr, N - j0);
            float* d = dst + (long)p * K * nr;
            for (int k = 0; k < K; k++, d += nr)
            {
                float* s = src + k * ldk + j0 * ldj;
                if (ldj == 1) { new ReadOnlySpan<float>(s, w).CopyTo(new Span<float>(d, w)); }
                else for (int j = 0; j < w; j++) d[j] = s[j * ldj];
                for (int j = w; j < nr; j++) d[j] = 0f;
            }
        }
    }

    /// <param name="rowBias">added to row i (Conv: per output channel), or null</param>
    /// <param name="colBias">added to column j (Dense: per output feature), or null</param>
    public static void Run(float* A, int lda, float* packedB, float* C, int ldc, int M, int N, int K,
                           float* rowBias, float* colBias, float clampMin, float clampMax)
    {
        int nr = NR;
        for (int p = 0; p * nr < N; p++)
        {
            float* bp = packedB + (long)p * K * nr;
            int j0 = p * nr, w = Math.Min(nr, N - j0);
            int i = 0;
            for (; i + MR <= M; i += MR) Tile4(A + (long)i * lda, lda, bp, C + (long)i * ldc + j0, ldc, K, w, rowBias == null ? null : rowBias + i, colBias == null ? null : colBias + j0, clampMin, clampMax);
            for (; i < M; i++) Tile1(A + (long)i * lda, bp, C + (long)i * ldc + j0, K, w, rowBias == null ? 0f : rowBias[i], colBias == null ? null : colBias + j0, clampMin, clampMax);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile4(float* a, int lda, float* b, float* c, int ldc, int K, int w, float* rowBias, float* colBias, float lo, float hi)
    {
        int vl = VL;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
        for (int k = 0; k < K; k++, b += 2 * vl)
        {
            var b0 = Unsafe.ReadUnaligned<Vector<float>>(b);
            var b1 = Unsafe.ReadUnaligned<Vector<float>>(b + vl);
            var x = new Vector<float>(a0[k]); c00 = Vector.FusedMultiplyAdd(x, b0, c00); c01 = Vector.FusedMultiplyAdd(x, b1, c01);
            x = new Vector<float>(a1[k]); c10 = Vector.FusedMultiplyAdd(x, b0, c10); c11 = Vector.FusedMultiplyAdd(x, b1, c11);
            x = new Vector<float>(a2[k]); c20 = Vector.FusedMultiplyAdd(x, b0, c20); c21 = Vector.FusedMultiplyAdd(x, b1, c21);
            x = new Vector<float>(a3[k]); c30 = Vector.FusedMultiplyAdd(x, b0, c30); c31 = Vector.FusedMultiplyAdd(x, b1, c31);
        }
        Store(c, c00, c01, w, rowBias == null ? 0f : rowBias[0], colBias, lo, hi);
        Store(c + ldc, c10, c11, w, rowBias == null ? 0f : rowBias[1], colBias, lo, hi);
        Store(c + 2 * ldc, c20, c21, w, rowBias == null ? 0f : rowBias[2], colBias, lo, hi);
        Store(c + 3 * ldc, c30, c31, w, rowBias == null ? 0f : rowBias[3], colBias, lo, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile1(float* a, float* b, float* c, int K, int w, float rowBias, float* colBias, float lo, float hi)
    {
        int vl = VL;
        Vector<float> c0 = default, c1 = default, d0 = default, d1 = default;
        int k = 0;
        // Two independent accumulator pairs hide FMA latency when only one row is left (batch-1 Dense).
        for (; k + 1 < K; k += 2, b += 4 * vl)
        {
            var x = new Vector<float>(a[k]);
            c0 = Vector.FusedMultiplyAdd(x, Unsafe.ReadUnaligned<Vector<float>>(b), c0);
            c1 = Vector.FusedMultiplyAdd(x, Unsafe.ReadUnaligned<Vector<float>>(b + vl), c1);
            var y = new Vector<float>(a[k + 1]);
            d0 = Vector.FusedMultiplyAdd(y, Unsafe.ReadUnaligned<Vector<float>>(b + 2 * vl), d0);
            d1 = Vector.FusedMultiplyAdd(y, Unsafe.ReadUnaligned<Vector<float>>(b + 3 * vl), d1);
        }
        if (k < K)
        {
            var x = new Vector<float>(a[k]);
            c0 = Vector.FusedMultiplyAdd(x, Unsafe.ReadUnaligned<Vector<float>>(b), c0);
            c1 = Vector.FusedMultiplyAdd(x, Unsafe.ReadUnaligned<Vector<float>>(b + vl), c1);
        }
        Store(c, c0 + d0, c1 + d1, w, rowBias, colBias, lo, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector<float> v0, Vector<float> v1, int w, float rowBias, float* colBias, float lo, float hi)
    {
        int vl = VL;
        var rb = new Vector<float>(rowBias);
        v0 += rb; v1 += rb;
        if (colBias != null)
        {
            if (w == 2 * vl) { v0 += Unsafe.ReadUnaligned<Vector<float>>(colBias); v1 += Unsafe.ReadUnaligned<Vector<float>>(colBias + vl); }
            else
            {
                var tmp = stackalloc float[2 * vl];
                for (int j = 0; j < 2 * vl; j++) tmp[j] = j < w ? colBias[j] : 0f;
                v0 += Unsafe.ReadUnaligned<Vector<float>>(tmp); v1 += Unsafe.ReadUnaligned<Vector<float>>(tmp + vl);
            }
        }
        var vlo = new Vector<float>(lo); var vhi = new Vector<float>(hi);
        v0 = Vector.Min(Vector.Max(v0, vlo), vhi);
        v1 = Vector.Min(Vector.Max(v1, vlo), vhi);
        if (w == 2 * vl) { Unsafe.WriteUnaligned(c, v0); Unsafe.WriteUnaligned(c + vl, v1); return; }
        var t = stackalloc float[2 * vl];
        Unsafe.WriteUnaligned(t, v0); Unsafe.WriteUnaligned(t + vl, v1);
        for (int j = 0; j < w; j++) c[j] = t[j];
    }
}
