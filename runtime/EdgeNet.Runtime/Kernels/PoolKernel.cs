using System.Numerics.Tensors;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels;

/// <summary>MaxPool, AveragePool (count_include_pad, ceil_mode, dilations for max), GlobalAveragePool and GlobalMaxPool over NCHW.</summary>
internal sealed unsafe class PoolKernel : Kernel
{
    readonly int x, y;
    readonly ConvGeometry g;
    readonly bool countIncludePad;
    readonly int padBottom, padRight;
    readonly bool max2x2;   // the vector 2×2/stride-2 MaxPool instead of the reference loop

    public PoolKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        if (xt.Shape.Length != 4) throw Error($"input must be NCHW, got {Format.Shape.Format(xt.Shape)}");
        for (int d = 1; d < 4; d++) RequireFixed(xt, d, $"dimension {d}");
        var a = node.Attributes;
        if (node.Op is OpType.GlobalAveragePool or OpType.GlobalMaxPool)
        {
            g = new ConvGeometry(xt.Shape[1], xt.Shape[2], xt.Shape[3], xt.Shape[1], 1, 1, xt.Shape[2], xt.Shape[3], 1, 1, 0, 0, 1, 1, xt.Shape[1]);
        }
        else
        {
            var k = a.Ints("kernel_shape", []);
            if (k.Length != 2) throw Error("kernel_shape must have 2 values");
            g = Window.Geometry(this, a, xt.Shape, xt.Shape[1], [(int)k[0], (int)k[1]], xt.Shape[1], ceil: a.Int("ceil_mode", 0) != 0);
            var pads = a.Ints("pads", [0, 0, 0, 0]);
            padBottom = (int)pads[2]; padRight = (int)pads[3];
            countIncludePad = a.Int("count_include_pad", 0) != 0;
        }
        ExpectShape(m, y, [xt.Shape[0], g.C, g.OH, g.OW]);
        max2x2 = !o.Reference && node.Op == OpType.MaxPool && Simd.MaxPool2x2.Supports(g);
    }

    public override void Run(Frame f)
    {
        int n = f.Shape(x)[0];
        switch (Node.Op)
        {
            case OpType.MaxPool when max2x2: Simd.MaxPool2x2.Run(f.F(x), f.F(y), n * g.C, g); break;
            case OpType.MaxPool: Pool.Max(f.Span(x), f.Span(y), n, g); break;
            case OpType.AveragePool: Pool.Average(f.Span(x), f.Span(y), n, g, countIncludePad, padBottom, padRight); break;
            case OpType.GlobalMaxPool:
                var xm = f.Span(x); var ym = f.Span(y);
                for (int i = 0; i < n * g.C; i++) ym[i] = TensorPrimitives.Max(xm.Slice(i * g.H * g.W, g.H * g.W));
                break;
            default:
                var xs = f.Span(x); var ys = f.Span(y);
                int hw = g.H * g.W;
                for (int i = 0; i < n * g.C; i++) ys[i] = TensorPrimitives.Sum(xs.Slice(i * hw, hw)) / hw;
                break;
        }
    }
}
