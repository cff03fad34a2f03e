using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Quant;

namespace EdgeNet.Kernels.Int8;

/// <summary>
/// int8 Concat, the twin of <see cref="ConcatKernel"/>: an input quantized like the output is copied as bytes; any other
/// is requantized on the way, q_y = clamp(round((q_i − z_i)·s_i/s_y) + z_y) (<see cref="QuantMath.Requantize"/>).
/// </summary>
public sealed unsafe class ConcatInt8Kernel : Kernel
{
    readonly int y, axis, zy;
    readonly int[] inputs, zx;
    readonly float[] mult;
    readonly bool[] copy;

    public ConcatInt8Kernel(Model m, Node node) : base(node)
    {
        inputs = node.Inputs; y = node.Outputs[0];
        var first = m.Tensors[inputs[0]];
        int r = first.Shape.Length;
        axis = (int)node.Attributes.Int("axis", 0);
        if (axis < 0) axis += r;
        if (axis < 0 || axis >= r) throw Error($"axis out of range for rank {r}");
        var (sy, zyv) = Int8Tensor.PerTensor(this, m, y, "output"); zy = zyv;
        zx = new int[inputs.Length]; mult = new float[inputs.Length]; copy = new bool[inputs.Length];
        var shape = (int[])first.Shape.Clone();
        shape[axis] = 0;
        for (int k = 0; k < inputs.Length; k++)
        {
            var t = m.Tensors[inputs[k]];
            var (sx, z) = Int8Tensor.PerTensor(this, m, inputs[k], $"input {k}");
            zx[k] = z; mult[k] = sx / sy; copy[k] = sx == sy && z == zy;
            if (t.Shape.Length != r) throw Error("inputs differ in rank");
            for (int d = 0; d < r; d++) if (d != axis && t.Shape[d] != first.Shape[d]) throw Error($"inputs differ in dimension {d}");
            if (t.Shape[axis] < 0 && inputs.Length > 1) throw Error("cannot concatenate along the batch dimension");
            shape[axis] = checked(shape[axis] + t.Shape[axis]);
        }
        if (inputs.Length == 1) shape[axis] = first.Shape[axis];
        ExpectShape(m, y, shape);
    }

    public override void Run(Frame f)
    {
        var s = f.Shape(y);
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= s[d];
        for (int d = axis + 1; d < s.Length; d++) inner *= s[d];
        sbyte* dst = f.I8(y);
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < inputs.Length; k++)
            {
                int block = f.Shape(inputs[k])[axis] * inner;
                sbyte* src = f.I8(inputs[k]) + (long)o * block;
                if (copy[k]) new ReadOnlySpan<sbyte>(src, block).CopyTo(new Span<sbyte>(dst, block));
                else for (int j = 0; j < block; j++) dst[j] = QuantMath.Requantize(src[j] - zx[k], mult[k], zy);
                dst += block;
            }
    }
}
