using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Kernels;

/// <summary>
/// MatMul of two computed tensors (attention's Q·Kᵀ and P·V) with NumPy's rules: A [..., M, K] · B [..., K, N],
/// batch dimensions broadcast, a 1-D A or B taken as a row or a column and its dimension dropped. Each batch is one
/// GEMM on the unpacked operands (<see cref="Gemm.RunUnpacked"/>); the reference is the triple loop.
/// </summary>
internal sealed unsafe class MatMulKernel : Kernel
{
    readonly int a, b, y, M, K, N;
    readonly int[] batchShape;   // the broadcast batch dimensions
    readonly long[] strideA, strideB;   // per batch dimension: matrices to skip in A / B (0 where broadcast)
    readonly bool reference;

    /// <summary>Plan attributes (<see cref="Engine.TransposeMatMulFusion"/>): A, B or the output is the Transpose by this
    /// permutation of the tensor the node reads or writes, addressed through its strides.</summary>
    public const string PermA = "edgenet.perm_a", PermB = "edgenet.perm_b", PermY = "edgenet.perm_y";
    readonly int[]? permA, permB, permY;   // all three set (identity where not folded) when any is
    readonly long[]? stA, stB, stY;        // per axis of A, B and the product: element strides (0 where A or B broadcasts)

    public MatMulKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        a = node.Inputs[0]; b = node.Inputs[1]; y = node.Outputs[0];
        if (node.Attributes.Has(PermA) || node.Attributes.Has(PermB) || node.Attributes.Has(PermY))
        {
            int r = m.Tensors[y].Shape.Length;
            int[] P(string name) => node.Attributes.Ints(name, Enumerable.Range(0, r).Select(i => (long)i).ToArray()).Select(v => (int)v).ToArray();
            permA = P(PermA); permB = P(PermB); permY = P(PermY);
            var xa = FloatTensor(m, a, "A").Shape; var xb = FloatTensor(m, b, "B").Shape; FloatTensor(m, y, "Y");
            if (xa.Length != r || xb.Length != r || r < 3 || !IsPerm(permA, r) || !IsPerm(permB, r) || !IsPerm(permY, r)
                || permA[r - 1] != r - 1 || permB[r - 1] != r - 1 && permB[r - 2] != r - 1 || permY[r - 1] != r - 1)
                throw Error("strided operands: A, B and Y of one rank ≥ 3, unit stride along A's and Y's last axis and one of B's last two");
            stA = new long[r]; stB = new long[r]; stY = new long[r];
            M = xa[permA[r - 2]]; K = xa[permA[r - 1]]; N = xb[permB[r - 1]];
            if (M < 0 || K < 0 || N < 0) throw Error("the matrix dimensions must not depend on the batch");
            batchShape = []; strideA = strideB = [];
            reference = o.Reference;
            return;   // the batch dimensions are checked per call (RunStrided)
        }
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

    public override long ScratchBytes(int batch) => reference ? 0 : 4 * Gemm.UnpackedScratch(K, N, permB is null || permB[^1] == permB.Length - 1);

    static bool IsPerm(int[] p, int r) => p.Length == r && p.All(v => v >= 0 && v < r) && p.Distinct().Count() == r;

    /// <summary>Contiguous element strides of <paramref name="shape"/>, taken in the order <paramref name="perm"/>:
    /// the strides of the Transpose (by perm) of a tensor of that shape.</summary>
    static void PermutedStrides(ReadOnlySpan<int> shape, int[] perm, Span<long> stride)
    {
        Span<long> c = stackalloc long[shape.Length];
        long p = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { c[d] = p; p *= shape[d]; }
        for (int d = 0; d < perm.Length; d++) stride[d] = c[perm[d]];
    }

    /// <summary>The folded Transposes' form of <see cref="Run"/>: each operand's axes through its strides.</summary>
    void RunStrided(Frame f)
    {
        var xa = f.Shape(a); var xb = f.Shape(b); var xy = f.Shape(y);
        int r = xy.Length;
        Span<int> sa = stackalloc int[r], sb = stackalloc int[r], so = stackalloc int[r];
        for (int d = 0; d < r; d++) { sa[d] = xa[permA![d]]; sb[d] = xb[permB![d]]; }
        for (int d = 0; d < r; d++) so[permY![d]] = xy[d];   // the product's shape: Y = Transpose(product, permY)
        int m = sa[r - 2], k = sa[r - 1], n = sb[r - 1];
        if (sb[r - 2] != k || so[r - 2] != m || so[r - 1] != n || k != K || n != N) throw Error("strided shapes do not multiply");
        PermutedStrides(xa, permA!, stA); PermutedStrides(xb, permB!, stB);
        long py1 = 1;   // Y's axis d is the product's axis permY[d]
        for (int d = r - 1; d >= 0; d--) { stY![permY![d]] = py1; py1 *= xy[d]; }
        long count = 1;
        for (int d = 0; d < r - 2; d++)
        {
            if (sa[d] == 1 && so[d] != 1) stA![d] = 0; else if (sa[d] != so[d]) throw Error("batch dimensions do not broadcast");
            if (sb[d] == 1 && so[d] != 1) stB![d] = 0; else if (sb[d] != so[d]) throw Error("batch dimensions do not broadcast");
            count *= so[d];
        }
        long lda = stA![r - 2], ldk = stB![r - 2], ldj = stB![r - 1], ldc = stY![r - 2];
        float* pa = f.F(a), pb = f.F(b), py = f.F(y);
        for (long i = 0; i < count; i++)
        {
            long rem = i, oa = 0, ob = 0, oc = 0;
            for (int d = r - 3; d >= 0; d--) { long q = rem % so[d]; rem /= so[d]; oa += q * stA[d]; ob += q * stB[d]; oc += q * stY[d]; }
            float* A = pa + oa, B = pb + ob, C = py + oc;
            if (!reference) { Gemm.RunUnpacked(A, (int)lda, B, ldk, ldj, C, (int)ldc, m, n, k, (float*)f.Scratch); continue; }
            for (int row = 0; row < m; row++)
                for (int c = 0; c < n; c++)
                {
                    float s = 0;
                    for (int q = 0; q < k; q++) s += A[row * lda + q] * B[q * ldk + c * ldj];
                    C[row * ldc + c] = s;
                }
        }
    }

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
        if (permA is not null) { RunStrided(f); return; }
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
            if (!reference) { Gemm.RunUnpacked(A, K, B, N, 1, C, N, M, N, K, (float*)f.Scratch); continue; }
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
        if (permA is not null) throw new NotSupportedException("the gradient of a MatMul with folded Transposes (a session's plan, not a model)");
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
