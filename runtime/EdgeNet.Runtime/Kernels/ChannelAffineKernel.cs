using System.Numerics.Tensors;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>y = x·scale[c] + shift[c] over [N, C, ...]: inference BatchNormalization that had no Conv/Dense to fold into.</summary>
internal sealed class ChannelAffineKernel : Kernel
{
    readonly int x, y, channels;
    readonly float[] scale, shift;
    readonly bool reference;

    public ChannelAffineKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        if (xt.Shape.Length < 2) throw Error("input must be [N, C, ...]");
        RequireFixed(xt, 1, "channels");
        channels = xt.Shape[1];
        scale = ConstantFloat(m, node.Inputs[1], "scale").Floats().ToArray();
        shift = ConstantFloat(m, node.Inputs[2], "shift").Floats().ToArray();
        if (scale.Length != channels || shift.Length != channels) throw Error($"scale/shift need {channels} values");
        for (int d = 2; d < xt.Shape.Length; d++) RequireFixed(xt, d, $"dimension {d}");
        ExpectShape(m, y, xt.Shape);
        reference = o.Reference;
    }

    public override void Run(Frame f)
    {
        var xs = f.Span(x); var ys = f.Span(y);
        int inner = xs.Length / Math.Max(1, f.Shape(x)[0] * channels);
        for (int i = 0, p = 0; p < xs.Length; i++, p += inner)
        {
            int c = i % channels;
            if (reference) for (int j = p; j < p + inner; j++) ys[j] = xs[j] * scale[c] + shift[c];
            else { var d = ys.Slice(p, inner); TensorPrimitives.Multiply(xs.Slice(p, inner), scale[c], d); TensorPrimitives.Add(d, shift[c], d); }
        }
    }
}
