using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// Split along one axis into consecutive parts: input [..., L, ...] → output k [..., split[k], ...], Σ split = L
/// (attribute "split", one length per output; the converter resolves ONNX's split input, attribute and num_outputs).
/// Copies bytes, so it serves every element type. An unnamed output (-1) is skipped.
/// </summary>
internal sealed class SplitKernel : Kernel
{
    readonly int x, axis, elementSize;
    readonly int[] outputs, sizes;

    public SplitKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; outputs = node.Outputs;
        var xt = m.Tensors[x];
        elementSize = DataMovement.ElementSize(this, m, x);
        int r = xt.Shape.Length;
        axis = AxisAttribute(r, 0);
        RequireFixed(xt, axis, "the split axis");
        sizes = node.Attributes.Ints("split", []).Select(v => v is >= 0 and <= int.MaxValue ? (int)v : throw Error($"split length {v} is out of range")).ToArray();
        if (sizes.Length != outputs.Length) throw Error($"{sizes.Length} split lengths for {outputs.Length} outputs");
        if (sizes.Sum(v => (long)v) != xt.Shape[axis]) throw Error($"split lengths [{string.Join(",", sizes)}] do not add up to {xt.Shape[axis]}");
        for (int k = 0; k < outputs.Length; k++)
        {
            if (outputs[k] < 0) continue;
            var shape = (int[])xt.Shape.Clone();
            shape[axis] = sizes[k];
            ExpectOutput(m, outputs[k], shape, xt.Type);
        }
    }

    public override unsafe void Run(Frame f)
    {
        var s = f.Shape(x);
        long outer = 1, inner = elementSize;
        for (int d = 0; d < axis; d++) outer *= s[d];
        for (int d = axis + 1; d < s.Length; d++) inner *= s[d];
        byte* src = (byte*)f.Address[x];
        for (long o = 0; o < outer; o++)
            for (int k = 0; k < outputs.Length; k++)
            {
                long block = sizes[k] * inner;
                if (outputs[k] >= 0) Buffer.MemoryCopy(src, (byte*)f.Address[outputs[k]] + o * block, block, block);
                src += block;
            }
    }

    /// <summary>dx: each output's gradient added back into its part of the input (outputs without one skipped).</summary>
    internal void Backward(Training.TrainingSession s, Span<float> dx)
    {
        if (dx.IsEmpty) return;
        var shape = s.Shape(x);
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        int pos = 0;
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < outputs.Length; k++)
            {
                int block = sizes[k] * inner;
                var dy = s.Gr(outputs[k]);
                if (!dy.IsEmpty) System.Numerics.Tensors.TensorPrimitives.Add(dx.Slice(pos, block), dy.Slice(o * block, block), dx.Slice(pos, block));
                pos += block;
            }
    }
}

/// <summary>What the byte-copying data movement kernels share.</summary>
internal static class DataMovement
{
    /// <summary>The element size of <paramref name="x"/>, whose type the outputs take (<c>ExpectOutput</c>). Quantized
    /// int8 is refused: its scale travels with it, and the quantizer dequantizes before these ops.</summary>
    public static int ElementSize(Kernel k, Model m, int x)
    {
        var t = m.Tensors[x];
        if (t.Type == DataType.Int8 && t.Quant is not null) throw new ModelFormatException($"node '{k.Node.Name}' ({k.Node.Op}): input '{t.Name}' is quantized int8; this op takes unquantized tensors");
        return DataTypes.SizeOf(t.Type);
    }
}
