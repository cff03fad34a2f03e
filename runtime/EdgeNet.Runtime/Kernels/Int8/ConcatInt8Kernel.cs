using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Quant;

namespace EdgeNet.Kernels.Int8;

/// <summary>
/// int8 Concat, the twin of <see cref="ConcatKernel"/>: an input quantized like the output is copied as bytes; any other
/// is requantized on the way, q_y = clamp(round((q_i − z_i)·s_i/s_y) + z_y) (<see cref="QuantMath.Requantize"/>).
/// </summary>
internal sealed unsafe class ConcatInt8Kernel : Kernel
{
    readonly int y, axis, zy;
    readonly int[] inputs, zx;
    readonly float[] mult;
    readonly bool[] copy;

    public ConcatInt8Kernel(Model m, Node node) : base(node)
    {
        inputs = node.Inputs; y = node.Outputs[0];
        var (sy, zyv) = Int8Tensor.PerTensor(this, m, y, "output"); zy = zyv;
        zx = new int[inputs.Length]; mult = new float[inputs.Length]; copy = new bool[inputs.Length];
        for (int k = 0; k < inputs.Length; k++)
        {
            var (sx, z) = Int8Tensor.PerTensor(this, m, inputs[k], $"input {k}");
            zx[k] = z; mult[k] = sx / sy; copy[k] = sx == sy && z == zy;
        }
        int[] shape;
        (shape, axis) = ConcatKernel.OutputShape(this, m);
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
