using System.Numerics.Tensors;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>GlobalAveragePool of a channels-last x [N, H, W, C] into y [N, C, 1, 1] (the same bytes as [N, 1, 1, C]).</summary>
internal sealed unsafe class GlobalAveragePoolNhwcKernel : Kernel
{
    readonly int x, y, hw, c;

    public GlobalAveragePoolNhwcKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        if (xt.Shape.Length != 4) throw Error("channels-last GlobalAveragePool needs an NHWC input");
        for (int d = 1; d < 4; d++) RequireFixed(xt, d, $"dimension {d}");
        hw = xt.Shape[1] * xt.Shape[2]; c = xt.Shape[3];
        ExpectShape(m, y, [xt.Shape[0], c, 1, 1]);
    }

    public override void Run(Frame f)
    {
        int n = f.Shape(x)[0];
        float* xs = f.F(x), ys = f.F(y);
        for (int i = 0; i < n; i++)
        {
            var sum = new Span<float>(ys + (long)i * c, c);
            sum.Clear();
            for (int p = 0; p < hw; p++) TensorPrimitives.Add(sum, new ReadOnlySpan<float>(xs + ((long)i * hw + p) * c, c), sum);
            TensorPrimitives.Multiply(sum, 1f / hw, sum);
        }
    }
}
