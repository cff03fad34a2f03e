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

    /// <summary>Blocks up to this many bytes are copied by <see cref="CopySmall"/>, longer ones by a Memmove call:
    /// YOLOv5's head splits rows of 85 floats into 2, 2 and 81 (324 bytes); Concat's pixels of 65-128
    /// channels.</summary>
    public const int SmallBlock = 512;

    /// <summary>A short block of Split or Concat (a channels-last pixel's channels, a detector row's part) by loads and
    /// stores in the caller's loop: Buffer.MemoryCopy and Span.CopyTo are a call to Memmove per block, whose fixed cost
    /// was most of a node's time at such sizes (BlazeFace's Concat_7 pads 4096 pixels of 24 channels with 4 zero
    /// channels; YOLOv5n's Split_134 splits 4800 rows), more under NativeAOT than under the JIT. A block under 16 bytes
    /// tests nothing else: two 8- or 4-byte moves (a block of 2 floats is one; behind the vector loops' tests it took
    /// 1.4 times as long in YOLOv5n's Concat_141). A longer one: the widest vectors first, a tail under 16 bytes by one
    /// 16-byte vector ending at <paramref name="n"/> (over bytes already copied). Ending every block with a whole
    /// 64-byte vector instead made Split_134's blocks of 81 floats 14-18% slower. The source and the destination do not
    /// overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void CopySmall(byte* s, byte* d, long n)
    {
        if (Vector128.IsHardwareAccelerated && n >= 16)
        {
            long i = 0;
            if (Vector512.IsHardwareAccelerated) for (; i <= n - 64; i += 64) Vector512.Load(s + i).Store(d + i);
            if (Vector256.IsHardwareAccelerated) for (; i <= n - 32; i += 32) Vector256.Load(s + i).Store(d + i);
            for (; i <= n - 16; i += 16) Vector128.Load(s + i).Store(d + i);
            if (i < n) Vector128.Load(s + n - 16).Store(d + n - 16);
        }
        else if (n >= 8)
        {
            for (long i = 0; i < n - 8; i += 8) *(ulong*)(d + i) = *(ulong*)(s + i);
            *(ulong*)(d + n - 8) = *(ulong*)(s + n - 8);
        }
        else if (n >= 4) { *(uint*)d = *(uint*)s; *(uint*)(d + n - 4) = *(uint*)(s + n - 4); }
        else for (long i = 0; i < n; i++) d[i] = s[i];
    }
}
