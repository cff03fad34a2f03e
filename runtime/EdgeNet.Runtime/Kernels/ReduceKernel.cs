using System.Numerics.Tensors;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// A reduction as a fold: start value, one step per element, a finish with the element count, and ∂y/∂x of one
/// element for the backward pass (beside the forward, as for the elementwise ops).
/// </summary>
internal interface IReduction
{
    static abstract float Init { get; }
    static abstract float Step(float acc, float x);
    static abstract float Finish(float acc, int count);
    /// <summary>∂y/∂x for an element x of a reduction whose result is y over count elements.</summary>
    static abstract float Partial(float x, float y, int count);
}

internal struct SumReduction : IReduction
{
    public static float Init => 0;
    public static float Step(float acc, float x) => acc + x;
    public static float Finish(float acc, int count) => acc;
    public static float Partial(float x, float y, int count) => 1;
}

internal struct MeanReduction : IReduction
{
    public static float Init => 0;
    public static float Step(float acc, float x) => acc + x;
    public static float Finish(float acc, int count) => acc / count;
    public static float Partial(float x, float y, int count) => 1f / count;
}

/// <summary>Max; the gradient goes to every element equal to the maximum.</summary>
internal struct MaxReduction : IReduction
{
    public static float Init => float.NegativeInfinity;
    public static float Step(float acc, float x) => MathF.Max(acc, x);
    public static float Finish(float acc, int count) => acc;
    public static float Partial(float x, float y, int count) => x == y ? 1 : 0;
}

/// <summary>Min; the gradient goes to every element equal to the minimum.</summary>
internal struct MinReduction : IReduction
{
    public static float Init => float.PositiveInfinity;
    public static float Step(float acc, float x) => MathF.Min(acc, x);
    public static float Finish(float acc, int count) => acc;
    public static float Partial(float x, float y, int count) => x == y ? 1 : 0;
}

internal struct ProdReduction : IReduction
{
    public static float Init => 1;
    public static float Step(float acc, float x) => acc * x;
    public static float Finish(float acc, int count) => acc;
    public static float Partial(float x, float y, int count) => y / x;
}

internal struct L1Reduction : IReduction
{
    public static float Init => 0;
    public static float Step(float acc, float x) => acc + MathF.Abs(x);
    public static float Finish(float acc, int count) => acc;
    public static float Partial(float x, float y, int count) => x > 0 ? 1 : x < 0 ? -1 : 0;
}

internal struct L2Reduction : IReduction
{
    public static float Init => 0;
    public static float Step(float acc, float x) => acc + x * x;
    public static float Finish(float acc, int count) => MathF.Sqrt(acc);
    public static float Partial(float x, float y, int count) => y == 0 ? 0 : x / y;
}

internal struct SumSquareReduction : IReduction
{
    public static float Init => 0;
    public static float Step(float acc, float x) => acc + x * x;
    public static float Finish(float acc, int count) => acc;
    public static float Partial(float x, float y, int count) => 2 * x;
}

/// <summary>log Σ eˣ (ONNX's definition, as written).</summary>
internal struct LogSumExpReduction : IReduction
{
    public static float Init => 0;
    public static float Step(float acc, float x) => acc + MathF.Exp(x);
    public static float Finish(float acc, int count) => MathF.Log(acc);
    public static float Partial(float x, float y, int count) => MathF.Exp(x - y);
}

/// <summary>The backward pass of a reduction kernel (the training session calls it through the op table).</summary>
internal interface IReduceBackward
{
    void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<int> xs);
}

/// <summary>The reduced axes of a Reduce node (its "axes" attribute, checked against the input's rank; the batch is never
/// reduced) and the output shape they give with "keepdims"; shared by the float and the integer kernels.</summary>
internal static class ReduceAxes
{
    public static int[] OutputShape(Node node, int[] xs, out bool[] reduced, Func<string, Exception> error)
    {
        reduced = new bool[xs.Length];
        foreach (var a in node.Attributes.Ints("axes", []))
        {
            if (a < 0 || a >= xs.Length) throw error($"axis {a} is out of range for rank {xs.Length}");
            if (xs[a] < 0) throw error("reducing the batch axis is not supported");
            reduced[a] = true;
        }
        bool keep = node.Attributes.Int("keepdims", 1) != 0;
        var shape = new List<int>();
        for (int d = 0; d < xs.Length; d++) if (!reduced[d]) shape.Add(xs[d]); else if (keep) shape.Add(1);
        return shape.ToArray();
    }
}

/// <summary>
/// A reduction over any set of axes ("axes", sorted, non-negative; "keepdims"). Each input element is folded into
/// its output element, walked with an odometer (the reference); rows (the reduced axes last and contiguous: the
/// ReduceMean of a decomposed LayerNorm) fold directly, one <see cref="Fold"/> per output element.
/// </summary>
internal sealed class ReduceKernel<T> : Kernel, IReduceBackward where T : struct, IReduction
{
    readonly int x, y;
    readonly bool[] reduced;
    readonly long[] outStride;
    readonly int[] index;
    readonly bool rows;   // the reduced axes are the trailing ones

    public ReduceKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xs = FloatTensor(m, x, "input").Shape;
        var shape = ReduceAxes.OutputShape(node, xs, out reduced, Error);
        ExpectShape(m, y, shape);
        outStride = new long[xs.Length]; index = new int[xs.Length];
        int first = Array.IndexOf(reduced, true);
        rows = !o.Reference && first >= 0 && reduced.AsSpan(first).IndexOf(false) < 0;
    }

    /// <summary>The output element of every input element: strides over the kept axes, zero over the reduced ones.</summary>
    internal static void OutputStrides(ReadOnlySpan<int> xs, bool[] reduced, Span<long> outStride, out int count)
    {
        long s = 1; count = 1;
        for (int d = xs.Length - 1; d >= 0; d--)
        {
            if (reduced[d]) { outStride[d] = 0; count *= xs[d]; }
            else { outStride[d] = s; s *= xs[d]; }
        }
    }

    /// <summary>One contiguous row's fold before Finish: TensorPrimitives' vector sum for Sum and Mean.</summary>
    static float Fold(ReadOnlySpan<float> row)
    {
        if (typeof(T) == typeof(SumReduction) || typeof(T) == typeof(MeanReduction)) return TensorPrimitives.Sum(row);
        float acc = T.Init;
        foreach (var v in row) acc = T.Step(acc, v);
        return acc;
    }

    public override void Run(Frame f)
    {
        var xs = f.Shape(x);
        var src = f.Span(x); var dst = f.Span(y);
        OutputStrides(xs, reduced, outStride, out int count);
        if (rows)
        {
            for (int i = 0; i < dst.Length; i++) dst[i] = T.Finish(Fold(src.Slice(i * count, count)), count);
            return;
        }
        dst.Fill(T.Init);
        Array.Clear(index);
        long o = 0;
        int r = xs.Length;
        for (int i = 0; i < src.Length; i++)
        {
            dst[(int)o] = T.Step(dst[(int)o], src[i]);
            for (int d = r - 1; d >= 0; d--)   // odometer
            {
                o += outStride[d];
                if (++index[d] < xs[d]) break;
                o -= outStride[d] * xs[d];
                index[d] = 0;
            }
        }
        for (int i = 0; i < dst.Length; i++) dst[i] = T.Finish(dst[i], count);
    }

    /// <summary>dx += dy[o(i)] · ∂y/∂x(x[i]).</summary>
    public void Backward(ReadOnlySpan<float> xv, ReadOnlySpan<float> yv, ReadOnlySpan<float> dy, Span<float> dx, ReadOnlySpan<int> xs)
    {
        Span<long> stride = stackalloc long[Math.Max(1, xs.Length)];
        OutputStrides(xs, reduced, stride, out int count);
        Span<int> idx = stackalloc int[Math.Max(1, xs.Length)];
        long o = 0;
        for (int i = 0; i < xv.Length; i++)
        {
            dx[i] += dy[(int)o] * T.Partial(xv[i], yv[(int)o], count);
            for (int d = xs.Length - 1; d >= 0; d--)
            {
                o += stride[d];
                if (++idx[d] < xs[d]) break;
                o -= stride[d] * xs[d];
                idx[d] = 0;
            }
        }
    }
}
