using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// Split along one axis into consecutive parts: input [..., L, ...] → output k [..., split[k], ...], Σ split = L
/// (attribute "split", one length per output; the converter resolves ONNX's split input, attribute and num_outputs).
/// Copies bytes, so it serves every element type. An unnamed output (-1) is skipped. An output may lie inside a Concat's
/// wider rows (<see cref="ConcatInPlace"/>, <see cref="IWritesRows"/>): its blocks then land a Concat row apart.
/// </summary>
internal sealed class SplitKernel : Kernel, IWritesRows
{
    readonly int x, axis, elementSize;
    readonly int[] outputs, sizes;
    readonly long[] pitch;   // per output: elements from one of its blocks to the next (0: packed, the block itself)

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
        pitch = new long[outputs.Length];
    }

    /// <summary>Output <paramref name="output"/>'s blocks (one per index before the axis) are <paramref name="width"/>
    /// elements: they can land <paramref name="stride"/> apart (a float output, fixed dimensions from the axis on).</summary>
    public bool TryWriteRows(Model m, int output, long width, long stride)
    {
        int k = Array.IndexOf(outputs, output);
        var shape = m.Tensors[output].Shape;
        if (k < 0 || Array.LastIndexOf(outputs, output) != k || m.Tensors[output].Type != DataType.Float32 || stride < width) return false;
        long block = 1;
        for (int d = axis; d < shape.Length; d++) { if (shape[d] <= 0) return false; block *= shape[d]; }
        if (block != width) return false;
        pitch[k] = stride;
        return true;
    }

    public override unsafe void Run(Frame f)
    {
        var s = f.Shape(x);
        long outer = 1, inner = elementSize;
        for (int d = 0; d < axis; d++) outer *= s[d];
        for (int d = axis + 1; d < s.Length; d++) inner *= s[d];
        byte* src = (byte*)f.Address[x];
        // Outer index by outer index, each output's block in turn (the input read once, front to back). Short blocks
        // (YOLOv5's head: rows of 85 into 2, 2 and 81; a C2f's pixels of 32 channels into 16 and 16) by vector loads and
        // stores in the loop: Buffer.MemoryCopy is a call per block, most of the node's time at such sizes.
        for (long o = 0; o < outer; o++)
            for (int k = 0; k < outputs.Length; k++)
            {
                long block = sizes[k] * inner;
                if (outputs[k] >= 0)
                {
                    byte* dst = (byte*)f.Address[outputs[k]] + o * (pitch[k] == 0 ? block : pitch[k] * elementSize);
                    if (block <= DataMovement.SmallBlock) DataMovement.CopySmall(src, dst, block);
                    else Buffer.MemoryCopy(src, dst, block, block);
                }
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
