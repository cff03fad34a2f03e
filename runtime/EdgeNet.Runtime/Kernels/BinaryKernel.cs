using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>NumPy/ONNX broadcasting of two shapes.</summary>
internal static class BinaryKernel
{
    /// <summary>Broadcast of two shape templates, or null when they are incompatible.</summary>
    public static int[]? Broadcast(int[] x, int[] z)
    {
        int r = Math.Max(x.Length, z.Length);
        var o = new int[r];
        for (int i = 0; i < r; i++)
        {
            int dx = i - (r - x.Length) >= 0 ? x[i - (r - x.Length)] : 1;
            int dz = i - (r - z.Length) >= 0 ? z[i - (r - z.Length)] : 1;
            if (dx == dz || dz == 1) o[i] = dx;
            else if (dx == 1) o[i] = dz;
            else return null;
        }
        return o;
    }

    /// <summary>Strides of an operand of shape <paramref name="s"/> in the broadcast output <paramref name="so"/> (0 where it repeats).</summary>
    internal static void Strides(ReadOnlySpan<int> s, ReadOnlySpan<int> so, Span<long> stride)
    {
        int r = so.Length;
        long p = 1;
        for (int d = r - 1; d >= 0; d--)
        {
            int dim = d - (r - s.Length) >= 0 ? s[d - (r - s.Length)] : 1;
            stride[d] = dim == 1 && so[d] != 1 ? 0 : p; p *= dim;
        }
    }
}

/// <summary>
/// A broadcasting binary op (<see cref="IBinaryOp"/>: Add, Sub, Mul, Div, Pow, Max, Min, Mod, PRelu). Adjacent
/// dimensions that both operands walk alike are merged first (x + 3 is one run however x is shaped; [N,H,W,C] + [C] is
/// N·H·W runs of C), then the fast path walks the outer dimensions with an odometer and hands each innermost run to the
/// op's span form as span∘span, span∘scalar or scalar∘span; the reference applies the scalar formula element by
/// element. With intra-op threads a
/// large output splits into contiguous parts (same-shape operands: 64-byte-aligned element ranges; broadcasting:
/// ranges of innermost runs, each part with its own odometer); every element is computed as on one thread.
/// Same-shape operands of a one-instruction op (<see cref="IBinaryOp.HasVector"/>) may write their output as rows
/// further apart than their width, inside a Concat's wider rows (<see cref="ConcatInPlace"/>: a C3 block's residual
/// Add); the same IEEE operation per element as the span form: the same bits.
/// </summary>
internal sealed unsafe class BinaryKernel<T> : Kernel, IParallelWork, IWritesRows where T : struct, IBinaryOp
{
    readonly int a, b, y;
    readonly bool reference;
    readonly long[] strideA, strideB;
    readonly int[] dims;   // the output's dimensions after merging: dims[first..]
    int first;

    // The call in flight, for the intra-op parts (Execute).
    float* pa, pb, pd;
    long lenA, lenB, length;
    int parts;
    bool sameShape;
    int rowWidth;      // with rowStride: the output's rows of rowWidth elements lie rowStride apart (0: packed)
    long rowStride;

    public BinaryKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        a = node.Inputs[0]; b = node.Inputs[1]; y = node.Outputs[0];
        var at = FloatTensor(m, a, "input A"); var bt = FloatTensor(m, b, "input B");
        var shape = BinaryKernel.Broadcast(at.Shape, bt.Shape) ?? throw Error($"shapes {Format.Shape.Format(at.Shape)} and {Format.Shape.Format(bt.Shape)} do not broadcast");
        ExpectShape(m, y, shape);
        strideA = new long[Math.Max(1, shape.Length)]; strideB = new long[strideA.Length]; dims = new int[strideA.Length];
        reference = o.Reference;
    }

    /// <summary>Rows of <paramref name="width"/> elements <paramref name="stride"/> apart: for operands of the output's
    /// shape (fixed but for the batch), an op of one vector instruction, and rows of at least 8 floats (YOLOv5's head
    /// has rows of 2, 85 apart: row by row they cost more than the packed pass, 2.6 -> 6.6 µs, for less than that
    /// off the Concat, whose rows it still walks for the other inputs).</summary>
    public bool TryWriteRows(Model m, int output, long width, long stride)
    {
        var s = m.Tensors[y].Shape;
        if (output != y || reference || !T.HasVector || width < 8 || width > int.MaxValue || stride < width) return false;
        if (!m.Tensors[a].Shape.AsSpan().SequenceEqual(s) || !m.Tensors[b].Shape.AsSpan().SequenceEqual(s)) return false;
        if (m.Tensors[y].Elements(1) % width != 0) return false;
        (rowWidth, rowStride) = ((int)width, stride);
        return true;
    }

    public override void Run(Frame f)
    {
        var so = f.Shape(y);
        pa = f.F(a); pb = f.F(b); pd = f.F(y);
        lenA = f.Size(a); lenB = f.Size(b); length = f.Size(y);
        if (so.Length == 0) { *pd = T.Invoke(*pa, *pb); return; }
        if (length == 0) return;
        sameShape = !reference && lenA == length && lenB == length;   // a residual Add: no strides, no odometer
        if (!sameShape)
        {
            BinaryKernel.Strides(f.Shape(a), so, strideA);
            BinaryKernel.Strides(f.Shape(b), so, strideB);
            Merge(so);
        }
        if (rowStride > 0)   // rows apart (TryWriteRows: same shapes), parts of whole rows
        {
            long rows = length / rowWidth;
            parts = (int)Math.Min(rows, IntraOpPool.ElementParts(f.Pool, length));
            if (parts > 1) f.Pool!.Run(this, parts);
            else Rows(0, rows);
            return;
        }
        long units = sameShape ? length : length / dims[^1];
        parts = (int)Math.Min(units, IntraOpPool.ElementParts(f.Pool, length));
        if (parts > 1) f.Pool!.Run(this, parts);
        else if (sameShape) T.Apply(new ReadOnlySpan<float>(pa, (int)length), new ReadOnlySpan<float>(pb, (int)length), new Span<float>(pd, (int)length));
        else Execute(0);
    }

    /// <summary>Merges dimension d into the one inside it where each operand's stride there is the inner stride times
    /// the inner size (contiguous, or both 0: repeated); dimensions of size 1 drop out. The result: dims[first..] with
    /// the operands' strides in strideA/strideB[first..] (the odometer's walk meets every element in the same order).</summary>
    void Merge(int[] so)
    {
        int r = so.Length, m = r - 1;
        dims[m] = so[m];
        for (int d = r - 2; d >= 0; d--)
        {
            if (so[d] == 1) continue;
            if (dims[m] == 1 || strideA[d] == strideA[m] * dims[m] && strideB[d] == strideB[m] * dims[m])
            {
                if (dims[m] == 1) { strideA[m] = strideA[d]; strideB[m] = strideB[d]; dims[m] = so[d]; }
                else dims[m] *= so[d];
                continue;
            }
            m--;
            dims[m] = so[d]; strideA[m] = strideA[d]; strideB[m] = strideB[d];
        }
        first = m;
    }

    /// <summary>Output rows [r0, r1) at their places rowStride apart (operands packed).</summary>
    void Rows(long r0, long r1)
    {
        int w = rowWidth;
        for (long r = r0; r < r1; r++) Row(pa + r * w, pb + r * w, pd + r * rowStride, w);
    }

    public void Execute(int part)
    {
        if (rowStride > 0)
        {
            long count = length / rowWidth;
            Rows(count * part / parts, count * (part + 1) / parts);
            return;
        }
        if (sameShape)
        {
            var (s, e) = IntraOpPool.ElementRange(part, parts, length);
            if (s < e) T.Apply(new ReadOnlySpan<float>(pa + s, (int)(e - s)), new ReadOnlySpan<float>(pb + s, (int)(e - s)), new Span<float>(pd + s, (int)(e - s)));
            return;
        }
        int r = dims.Length, f0 = first, inner = dims[r - 1];
        long runs = length / inner, start = runs * part / parts, end = runs * (part + 1) / parts;
        if (start >= end) return;
        var xa = new ReadOnlySpan<float>(pa, (int)lenA); var xb = new ReadOnlySpan<float>(pb, (int)lenB);
        Span<int> index = stackalloc int[r];
        long offA = 0, offB = 0;
        long q = start;
        for (int d = r - 2; d >= f0; d--)   // the odometer at run `start`
        {
            index[d] = (int)(q % dims[d]); q /= dims[d];
            offA += index[d] * strideA[d]; offB += index[d] * strideB[d];
        }
        bool rows = !reference && T.HasVector && strideA[r - 1] == 1 && strideB[r - 1] == 1;
        for (long run = start; run < end; run++)
        {
            var dst = new Span<float>(pd + run * inner, inner);
            if (reference)
                for (int j = 0; j < inner; j++) dst[j] = T.Invoke(xa[(int)(offA + j * strideA[r - 1])], xb[(int)(offB + j * strideB[r - 1])]);
            else if (rows)
                Row(pa + offA, pb + offB, pd + run * inner, inner);
            else
                Vector(xa[(int)offA..], xb[(int)offB..], dst, strideA[r - 1], strideB[r - 1]);
            for (int d = r - 2; d >= f0; d--)   // odometer over the outer dimensions
            {
                offA += strideA[d]; offB += strideB[d];
                if (++index[d] < dims[d]) break;
                offA -= strideA[d] * dims[d]; offB -= strideB[d] * dims[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>d = p ∘ q over n contiguous elements (the op's vector forms; p or q may be d).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row(float* p, float* q, float* d, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) T.Invoke(Vector512.Load(p + i), Vector512.Load(q + i)).Store(d + i);
        if (System.Numerics.Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count) T.Invoke(System.Numerics.Vector.Load(p + i), System.Numerics.Vector.Load(q + i)).Store(d + i);
        for (; i < n; i++) d[i] = T.Invoke(p[i], q[i]);
    }

    static void Vector(ReadOnlySpan<float> p, ReadOnlySpan<float> q, Span<float> d, long sp, long sq)
    {
        int n = d.Length;
        switch (sp, sq)
        {
            case (0, 0): d.Fill(T.Invoke(p[0], q[0])); break;
            case (1, 1): T.Apply(p[..n], q[..n], d); break;
            case (1, 0): T.Apply(p[..n], q[0], d); break;
            case (0, 1): T.Apply(p[0], q[..n], d); break;
        }
    }
}
