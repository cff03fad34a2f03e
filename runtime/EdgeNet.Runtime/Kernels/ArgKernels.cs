using System.Numerics;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>Shapes of an op along one axis: what precedes it, its length, what follows.</summary>
internal static class AxisSplit
{
    public static (long Outer, int N, long Inner) Of(int[] shape, int axis)
    {
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        return (outer, shape[axis], inner);
    }

    public static int Normalize(long axis, int rank, Func<string, ModelFormatException> error)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw error($"axis {axis} is out of range for rank {rank}");
        return (int)a;
    }
}

/// <summary>
/// ArgMax / ArgMin along "axis" (keepdims, select_last_index): the int64 index of the first (or last) extreme value.
/// X [..., n, ...] -> Y int64 [..., 1 or gone, ...]. NaN never wins (ONNX Runtime's behaviour for finite data).
/// </summary>
internal sealed unsafe class ArgKernel : Kernel
{
    readonly int x, y, axis;
    readonly bool max, last;
    readonly DataType type;

    public ArgKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = TypedTensor(m, x, "input", DataType.Float32, DataType.Int64, DataType.Int32, DataType.Int8, DataType.UInt8);
        if (xt.Quant is not null) throw Error("a quantized input (dequantize it first)");
        type = xt.Type;
        int r = xt.Shape.Length;
        if (r == 0) throw Error("the input is a scalar");
        axis = AxisSplit.Normalize(node.Attributes.Int("axis", 0), r, Error);
        RequireFixed(xt, axis, "the reduced axis");
        max = node.Op == OpType.ArgMax;
        last = node.Attributes.Int("select_last_index", 0) != 0;
        bool keep = node.Attributes.Int("keepdims", 1) != 0;
        var shape = keep ? xt.Shape.Select((d, i) => i == axis ? 1 : d).ToArray() : xt.Shape.Where((_, i) => i != axis).ToArray();
        ExpectOutput(m, y, shape, DataType.Int64);
    }

    public override void Run(Frame f)
    {
        switch (type)
        {
            case DataType.Float32: Go<float>(f); break;
            case DataType.Int64: Go<long>(f); break;
            case DataType.Int32: Go<int>(f); break;
            case DataType.Int8: Go<sbyte>(f); break;
            default: Go<byte>(f); break;
        }
    }

    void Go<T>(Frame f) where T : unmanaged, INumber<T>
    {
        var (outer, n, inner) = AxisSplit.Of(f.Shape(x), axis);
        var src = f.Span<T>(x); var dst = f.Span<long>(y);
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                long base0 = o * n * inner + i;
                int best = -1;
                T bestValue = T.Zero;
                for (int k = 0; k < n; k++)
                {
                    T v = src[(int)(base0 + k * inner)];
                    if (T.IsNaN(v)) continue;
                    bool better = best < 0 || (max ? v > bestValue : v < bestValue) || (last && v == bestValue);
                    if (better) { best = k; bestValue = v; }
                }
                dst[(int)(o * inner + i)] = Math.Max(best, 0);
            }
    }
}

/// <summary>
/// TopK along "axis": the k largest (or smallest, largest = 0) values in order and their int64 indices; equal values
/// keep their order (the lower index first, as ONNX specifies). // X [..., n, ...] -> Values, Indices [..., k, ...].
/// Insertion into a k-long list per slice: O(n·k), k is small where models use it.
/// </summary>
internal sealed unsafe class TopKKernel : Kernel
{
    readonly int x, values, indices, axis, k;
    readonly bool largest;
    readonly DataType type;

    public TopKKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; values = node.Outputs[0]; indices = node.Outputs.Length > 1 ? node.Outputs[1] : -1;
        var xt = TypedTensor(m, x, "input", DataType.Float32, DataType.Int64, DataType.Int32);
        type = xt.Type;
        int r = xt.Shape.Length;
        if (r == 0) throw Error("the input is a scalar");
        axis = AxisSplit.Normalize(node.Attributes.Int("axis", -1), r, Error);
        RequireFixed(xt, axis, "the axis");
        long kk = node.Attributes.Int("k", -1);
        if (kk < 0 || kk > xt.Shape[axis]) throw Error($"k = {kk} is outside 0..{xt.Shape[axis]}");
        k = (int)kk;
        largest = node.Attributes.Int("largest", 1) != 0;
        var shape = xt.Shape.Select((d, i) => i == axis ? k : d).ToArray();
        if (values < 0) throw Error("the Values output is missing");
        ExpectOutput(m, values, shape, type);
        if (indices >= 0) ExpectOutput(m, indices, shape, DataType.Int64);
    }

    public override long ScratchBytes(int batch) => 4L * (k + 1);

    public override void Run(Frame f)
    {
        switch (type)
        {
            case DataType.Float32: Go<float>(f); break;
            case DataType.Int64: Go<long>(f); break;
            default: Go<int>(f); break;
        }
    }

    void Go<T>(Frame f) where T : unmanaged, INumber<T>
    {
        var (outer, n, inner) = AxisSplit.Of(f.Shape(x), axis);
        var src = f.Span<T>(x); var vals = f.Span<T>(values);
        var idx = indices >= 0 ? f.Span<long>(indices) : default;
        var top = new Span<int>(f.Scratch, k + 1);
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                long base0 = o * n * inner + i;
                int count = 0;
                for (int j = 0; j < n; j++)
                {
                    T v = src[(int)(base0 + j * inner)];
                    // position: after every kept value that ranks before v or equals it (stable)
                    int p = count;
                    while (p > 0 && Before(v, src[(int)(base0 + top[p - 1] * inner)])) p--;
                    if (p >= k) continue;
                    int end = Math.Min(count, k - 1);
                    for (int q = end; q > p; q--) top[q] = top[q - 1];
                    top[p] = j;
                    count = Math.Min(count + 1, k);
                }
                long outBase = o * k * inner + i;
                for (int q = 0; q < k; q++)
                {
                    vals[(int)(outBase + q * inner)] = src[(int)(base0 + top[q] * inner)];
                    if (indices >= 0) idx[(int)(outBase + q * inner)] = top[q];
                }
            }
    }

    /// <summary>Whether a ranks strictly before b (NaN ranks as the largest, as NumPy sorts it last-largest).</summary>
    bool Before<T>(T a, T b) where T : INumber<T>
    {
        if (T.IsNaN(a) || T.IsNaN(b)) return largest ? T.IsNaN(a) && !T.IsNaN(b) : !T.IsNaN(a) && T.IsNaN(b);
        return largest ? a > b : a < b;
    }
}
