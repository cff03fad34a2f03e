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
/// A broadcasting binary op (<see cref="IBinaryOp"/>: Add, Sub, Mul, Div, Pow, Max, Min, Mod, PRelu). The fast path
/// walks the outer dimensions with an odometer and hands each innermost run to the op's span form as span∘span,
/// span∘scalar or scalar∘span; the reference applies the scalar formula element by element.
/// </summary>
internal sealed class BinaryKernel<T> : Kernel where T : struct, IBinaryOp
{
    readonly int a, b, y;
    readonly bool reference;
    readonly long[] strideA, strideB;
    readonly int[] index;

    public BinaryKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        a = node.Inputs[0]; b = node.Inputs[1]; y = node.Outputs[0];
        var at = FloatTensor(m, a, "input A"); var bt = FloatTensor(m, b, "input B");
        var shape = BinaryKernel.Broadcast(at.Shape, bt.Shape) ?? throw Error($"shapes {Format.Shape.Format(at.Shape)} and {Format.Shape.Format(bt.Shape)} do not broadcast");
        ExpectShape(m, y, shape);
        strideA = new long[Math.Max(1, shape.Length)]; strideB = new long[strideA.Length]; index = new int[strideA.Length];
        reference = o.Reference;
    }

    public override void Run(Frame f)
    {
        var sa = f.Shape(a); var sb = f.Shape(b); var so = f.Shape(y);
        var xa = f.Span(a); var xb = f.Span(b); var dst = f.Span(y);
        int r = so.Length;
        if (r == 0) { dst[0] = T.Invoke(xa[0], xb[0]); return; }
        BinaryKernel.Strides(sa, so, strideA);
        BinaryKernel.Strides(sb, so, strideB);
        if (!reference && xa.Length == dst.Length && xb.Length == dst.Length) { T.Apply(xa, xb, dst); return; }

        int inner = so[r - 1];
        Array.Clear(index);
        long offA = 0, offB = 0;
        for (int start = 0; start < dst.Length; start += inner)
        {
            var run = dst.Slice(start, inner);
            if (reference)
                for (int j = 0; j < inner; j++) run[j] = T.Invoke(xa[(int)(offA + j * strideA[r - 1])], xb[(int)(offB + j * strideB[r - 1])]);
            else
                Vector(xa[(int)offA..], xb[(int)offB..], run, strideA[r - 1], strideB[r - 1]);
            for (int d = r - 2; d >= 0; d--)   // odometer over the outer dimensions
            {
                offA += strideA[d]; offB += strideB[d];
                if (++index[d] < so[d]) break;
                offA -= strideA[d] * so[d]; offB -= strideB[d] * so[d];
                index[d] = 0;
            }
        }
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
