using System.Numerics;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// CumSum along "axis": y[.., i, ..] = Σ x[.., j, ..] over j ≤ i (j &lt; i with "exclusive"; from the end with
/// "reverse"), shape unchanged. float32, int32 and int64 (integers wrap as ONNX Runtime's do). The gradient is the
/// same sum of dy taken the other way.
/// </summary>
internal sealed class CumSumKernel : Kernel
{
    readonly int x, y, axis;
    readonly bool exclusive, reverse;
    readonly DataType type;

    public CumSumKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = m.Tensors[x];
        type = xt.Type;
        if (type is not (DataType.Float32 or DataType.Int32 or DataType.Int64)) throw Error($"input '{xt.Name}' is {type}; CumSum takes float32, int32 or int64");
        int r = xt.Shape.Length;
        axis = AxisAttribute(r, 0);
        exclusive = node.Attributes.Int("exclusive", 0) != 0;
        reverse = node.Attributes.Int("reverse", 0) != 0;
        ExpectOutput(m, y, xt.Shape, type);
    }

    public override unsafe void Run(Frame f)
    {
        var s = f.Shape(x);
        long n = f.Size(x);
        switch (type)
        {
            case DataType.Float32: Sum(new ReadOnlySpan<float>((void*)f.Address[x], (int)n), new Span<float>((void*)f.Address[y], (int)n), s, axis, exclusive, reverse); break;
            case DataType.Int32: Sum(new ReadOnlySpan<int>((void*)f.Address[x], (int)n), new Span<int>((void*)f.Address[y], (int)n), s, axis, exclusive, reverse); break;
            default: Sum(new ReadOnlySpan<long>((void*)f.Address[x], (int)n), new Span<long>((void*)f.Address[y], (int)n), s, axis, exclusive, reverse); break;
        }
    }

    /// <summary>The reference: for each (outer, inner) line along the axis, a running sum in the line's direction.</summary>
    static void Sum<T>(ReadOnlySpan<T> xs, Span<T> ys, int[] s, int axis, bool exclusive, bool reverse) where T : INumber<T>
    {
        int len = s[axis], inner = 1;
        for (int d = axis + 1; d < s.Length; d++) inner *= s[d];
        if (len == 0 || inner == 0) return;
        for (int start = 0; start < xs.Length; start += len * inner)
            for (int j = 0; j < inner; j++)
            {
                T acc = T.Zero;
                for (int step = 0; step < len; step++)
                {
                    int at = start + (reverse ? len - 1 - step : step) * inner + j;
                    T v = xs[at];
                    if (exclusive) { ys[at] = acc; acc += v; }
                    else { acc += v; ys[at] = acc; }
                }
            }
    }

    /// <summary>dx += the cumulative sum of dy in the opposite direction (same exclusivity).</summary>
    internal void Backward(Span<float> dy, Span<float> dx, int[] shape, Span<float> scratch)
    {
        if (dx.IsEmpty) return;
        var t = scratch[..dy.Length];
        Sum<float>(dy, t, shape, axis, exclusive, !reverse);
        System.Numerics.Tensors.TensorPrimitives.Add(dx, t, dx);
    }
}
