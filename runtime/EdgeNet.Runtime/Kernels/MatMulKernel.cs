using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Kernels;

/// <summary>
/// MatMul of two computed tensors (attention's Q·Kᵀ and P·V) with NumPy's rules: A [..., M, K] · B [..., K, N],
/// batch dimensions broadcast, a 1-D A or B taken as a row or a column and its dimension dropped. Each batch is one
/// GEMM on the unpacked operands (<see cref="Gemm.RunStrided"/>); the reference is the triple loop.
/// </summary>
internal sealed unsafe class MatMulKernel : Kernel
{
    readonly int a, b, y, M, K, N;
    readonly int[] batchShape;   // the broadcast batch dimensions
    readonly long[] strideA, strideB;   // per batch dimension: matrices to skip in A / B (0 where broadcast)
    readonly bool reference;

    public MatMulKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        a = node.Inputs[0]; b = node.Inputs[1]; y = node.Outputs[0];
        var sa = FloatTensor(m, a, "A").Shape; var sb = FloatTensor(m, b, "B").Shape;
        if (sa.Length == 0 || sb.Length == 0) throw Error("MatMul of a scalar");
        int[] ea = sa.Length == 1 ? [1, sa[0]] : sa, eb = sb.Length == 1 ? [sb[0], 1] : sb;
        M = ea[^2]; K = ea[^1]; N = eb[^1];
        if (eb[^2] != K) throw Error($"shapes {Shape.Format(sa)} and {Shape.Format(sb)} do not multiply (K {K} vs {eb[^2]})");
        if (M < 0 || K < 0 || N < 0) throw Error("the matrix dimensions must not depend on the batch");
        var batchA = ea[..^2]; var batchB = eb[..^2];
        batchShape = BinaryKernel.Broadcast(batchA, batchB) ?? throw Error($"batch dimensions of {Shape.Format(sa)} and {Shape.Format(sb)} do not broadcast");
        strideA = new long[batchShape.Length]; strideB = new long[batchShape.Length];
        var shape = new List<int>(batchShape);
        if (sa.Length > 1) shape.Add(M);
        if (sb.Length > 1) shape.Add(N);
        ExpectShape(m, y, shape.ToArray());
        reference = o.Reference;
    }

    public override long ScratchBytes(int batch) => reference ? 0 : 4 * Gemm.TailScratch(K);

    /// <summary>Matrix strides of one operand's batch dimensions within the broadcast batch (0 where it repeats).</summary>
    static void MatrixStrides(ReadOnlySpan<int> shape, int rank, ReadOnlySpan<int> batch, Span<long> stride)
    {
        int nb = Math.Max(0, rank - 2);
        long p = 1;
        for (int d = batch.Length - 1; d >= 0; d--)
        {
            int k = d - (batch.Length - nb);
            int dim = k >= 0 ? shape[k] : 1;
            stride[d] = dim == 1 && batch[d] != 1 ? 0 : p; p *= dim;
        }
    }

    public override void Run(Frame f)
    {
        var sa = f.Shape(a); var sb = f.Shape(b);
        Span<int> batch = stackalloc int[batchShape.Length];
        var so = f.Shape(y);
        for (int d = 0; d < batch.Length; d++) batch[d] = so[d];
        MatrixStrides(sa, sa.Length, batch, strideA);
        MatrixStrides(sb, sb.Length, batch, strideB);
        long count = 1;
        foreach (var d in batch) count *= d;
        float* pa = f.F(a), pb = f.F(b), py = f.F(y);
        for (long i = 0; i < count; i++)
        {
            long rem = i, oa = 0, ob = 0;
            for (int d = batch.Length - 1; d >= 0; d--) { long k = rem % batch[d]; rem /= batch[d]; oa += k * strideA[d]; ob += k * strideB[d]; }
            float* A = pa + oa * M * K, B = pb + ob * K * N, C = py + i * M * N;
            if (!reference) { Gemm.RunStrided(A, K, B, N, C, N, M, N, K, null, null, float.NegativeInfinity, float.PositiveInfinity, (float*)f.Scratch); continue; }
            for (int r = 0; r < M; r++)
                for (int c = 0; c < N; c++)
                {
                    float s = 0;
                    for (int k = 0; k < K; k++) s += A[(long)r * K + k] * B[(long)k * N + c];
                    C[(long)r * N + c] = s;
                }
        }
    }

    /// <summary>dA += dC · Bᵀ, dB += Aᵀ · dC, batch by batch (broadcast batches accumulate).</summary>
    internal void Backward(ReadOnlySpan<float> av, ReadOnlySpan<float> bv, ReadOnlySpan<float> dc, Span<float> da, Span<float> db, int[] sa, int[] sb, int[] so)
    {
        Span<int> batch = stackalloc int[batchShape.Length];
        for (int d = 0; d < batch.Length; d++) batch[d] = so[d];
        Span<long> sta = stackalloc long[batchShape.Length], stb = stackalloc long[batchShape.Length];
        MatrixStrides(sa, sa.Length, batch, sta);
        MatrixStrides(sb, sb.Length, batch, stb);
        long count = 1;
        foreach (var d in batch) count *= d;
        for (long i = 0; i < count; i++)
        {
            long rem = i, oa = 0, ob = 0;
            for (int d = batch.Length - 1; d >= 0; d--) { long k = rem % batch[d]; rem /= batch[d]; oa += k * sta[d]; ob += k * stb[d]; }
            int A0 = (int)(oa * M * K), B0 = (int)(ob * K * N), C0 = (int)(i * M * N);
            for (int r = 0; r < M; r++)
                for (int c = 0; c < N; c++)
                {
                    float g = dc[C0 + r * N + c];
                    if (g == 0) continue;
                    for (int k = 0; k < K; k++)
                    {
                        if (!da.IsEmpty) da[A0 + r * K + k] += g * bv[B0 + k * N + c];
                        if (!db.IsEmpty) db[B0 + k * N + c] += g * av[A0 + r * K + k];
                    }
                }
        }
    }
}
