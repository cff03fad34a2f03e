using System.Numerics.Tensors;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// Add, Sub, Mul, Div with NumPy/ONNX broadcasting. The fast path walks the outer dimensions with an odometer and
/// hands each innermost run to TensorPrimitives as span∘span, span∘scalar or scalar∘span.
/// </summary>
public sealed class BinaryKernel : Kernel
{
    readonly int a, b, y;
    readonly bool reference;
    readonly long[] strideA, strideB;
    readonly int[] index;

    public BinaryKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        a = node.Inputs[0]; b = node.Inputs[1]; y = node.Outputs[0];
        var at = FloatTensor(m, a, "input A"); var bt = FloatTensor(m, b, "input B");
        var shape = Broadcast(at.Shape, bt.Shape) ?? throw Error($"shapes {Format.Shape.Format(at.Shape)} and {Format.Shape.Format(bt.Shape)} do not broadcast");
        ExpectShape(m, y, shape);
        strideA = new long[Math.Max(1, shape.Length)]; strideB = new long[strideA.Length]; index = new int[strideA.Length];
        reference = o.Reference;
    }

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

    float Apply(float p, float q) => Node.Op switch
    {
        OpType.Add => p + q, OpType.Sub => p - q, OpType.Mul => p * q, _ => p / q,
    };

    public override void Run(Frame f)
    {
        var sa = f.Shape(a); var sb = f.Shape(b); var so = f.Shape(y);
        var xa = f.Span(a); var xb = f.Span(b); var dst = f.Span(y);
        int r = so.Length;
        if (r == 0) { dst[0] = Apply(xa[0], xb[0]); return; }
        long pa = 1, pb = 1;
        for (int d = r - 1; d >= 0; d--)
        {
            int da = d - (r - sa.Length) >= 0 ? sa[d - (r - sa.Length)] : 1;
            int db = d - (r - sb.Length) >= 0 ? sb[d - (r - sb.Length)] : 1;
            strideA[d] = da == 1 && so[d] != 1 ? 0 : pa; pa *= da;
            strideB[d] = db == 1 && so[d] != 1 ? 0 : pb; pb *= db;
        }
        if (!reference && xa.Length == dst.Length && xb.Length == dst.Length) { Vector(xa, xb, dst, 1, 1); return; }

        int inner = so[r - 1];
        Array.Clear(index);
        long offA = 0, offB = 0;
        for (int start = 0; start < dst.Length; start += inner)
        {
            var run = dst.Slice(start, inner);
            if (reference)
                for (int j = 0; j < inner; j++) run[j] = Apply(xa[(int)(offA + j * strideA[r - 1])], xb[(int)(offB + j * strideB[r - 1])]);
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

    void Vector(ReadOnlySpan<float> p, ReadOnlySpan<float> q, Span<float> d, long sp, long sq)
    {
        int n = d.Length;
        switch (Node.Op, sp, sq)
        {
            case (_, 0, 0): d.Fill(Apply(p[0], q[0])); break;
            case (OpType.Add, 1, 1): TensorPrimitives.Add(p[..n], q[..n], d); break;
            case (OpType.Add, 1, 0): TensorPrimitives.Add(p[..n], q[0], d); break;
            case (OpType.Add, 0, 1): TensorPrimitives.Add(q[..n], p[0], d); break;
            case (OpType.Mul, 1, 1): TensorPrimitives.Multiply(p[..n], q[..n], d); break;
            case (OpType.Mul, 1, 0): TensorPrimitives.Multiply(p[..n], q[0], d); break;
            case (OpType.Mul, 0, 1): TensorPrimitives.Multiply(q[..n], p[0], d); break;
            case (OpType.Sub, 1, 1): TensorPrimitives.Subtract(p[..n], q[..n], d); break;
            case (OpType.Sub, 1, 0): TensorPrimitives.Subtract(p[..n], q[0], d); break;
            case (OpType.Sub, 0, 1): TensorPrimitives.Subtract(p[0], q[..n], d); break;
            case (OpType.Div, 1, 1): TensorPrimitives.Divide(p[..n], q[..n], d); break;
            case (OpType.Div, 1, 0): TensorPrimitives.Divide(p[..n], q[0], d); break;
            case (OpType.Div, 0, 1): TensorPrimitives.Divide(p[0], q[..n], d); break;
        }
    }
}
