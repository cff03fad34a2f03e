using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// GatherElements with constant indices: data [d0, ..., dr-1], indices [i0, ..., ir-1] (each ≤ the data's, except on
/// "axis") → output of the indices' shape, out[p] = data[p with p[axis] replaced by indices[p]] (negative counts from
/// the end). Both shapes are fixed, so each output element's source offset is worked out once at load.
/// </summary>
internal sealed class GatherElementsKernel : Kernel
{
    readonly int x, y, elementSize;
    readonly int[] source;

    public GatherElementsKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = m.Tensors[x];
        elementSize = DataMovement.ElementSize(this, m, x);
        var xs = xt.Shape;
        int r = xs.Length;
        for (int d = 0; d < r; d++) RequireFixed(xt, d, $"axis {d}");
        int axis = AxisAttribute(r, 0);
        var shape = node.Attributes.Ints("indices_shape", []).Select(v => v is >= 0 and <= int.MaxValue ? (int)v : throw Error($"indices dimension {v} is out of range")).ToArray();
        var indices = node.Attributes.Ints("indices", []);
        if (shape.Length != r) throw Error($"indices of rank {shape.Length} for data of rank {r}");
        long count = 1;
        foreach (var d in shape) count *= d;
        if (count != indices.Length) throw Error($"{indices.Length} indices for shape {Format.Shape.Format(shape)}");
        for (int d = 0; d < r; d++)
            if (d != axis && shape[d] > xs[d]) throw Error($"indices dimension {d} ({shape[d]}) exceeds the data's ({xs[d]})");
        source = new int[indices.Length];
        Span<int> p = stackalloc int[Math.Max(1, r)];
        p.Clear();
        for (int i = 0; i < source.Length; i++)
        {
            long at = indices[i] < 0 ? indices[i] + xs[axis] : indices[i];
            if (at < 0 || at >= xs[axis]) throw Error($"index {indices[i]} is out of range for axis {axis} of size {xs[axis]}");
            long off = 0;
            for (int d = 0; d < r; d++) off = off * xs[d] + (d == axis ? at : p[d]);
            source[i] = (int)off;
            for (int d = r - 1; d >= 0; d--) { if (++p[d] < shape[d]) break; p[d] = 0; }
        }
        ExpectOutput(m, y, shape, xt.Type);
    }

    public override unsafe void Run(Frame f)
    {
        byte* src = (byte*)f.Address[x], dst = (byte*)f.Address[y];
        if (elementSize == 4) { for (int i = 0; i < source.Length; i++) ((int*)dst)[i] = ((int*)src)[source[i]]; return; }
        for (int i = 0; i < source.Length; i++) Buffer.MemoryCopy(src + (long)source[i] * elementSize, dst + (long)i * elementSize, elementSize, elementSize);
    }

    /// <summary>dx[source[i]] += dy[i] (an element gathered twice collects both).</summary>
    internal void Backward(Span<float> dy, Span<float> dx)
    {
        if (dx.IsEmpty) return;
        for (int i = 0; i < source.Length; i++) dx[source[i]] += dy[i];
    }
}
