using System.Numerics.Tensors;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>y = x·scale[c] + shift[c] over [N, C, ...]: inference BatchNormalization that had no Conv/Dense to fold into
/// (DenseNet's pre-activation BN after a Concat). Channels-last ([N, H, W, C], the planner's <c>channels_last</c>):
/// one fused multiply-add per pixel row of C.</summary>
internal sealed class ChannelAffineKernel : Kernel
{
    readonly int x, y, channels;
    readonly float[] scale, shift;
    readonly bool reference, nhwc;

    public ChannelAffineKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        if (xt.Shape.Length < 2) throw Error("input must be [N, C, ...]");
        nhwc = node.Attributes.Int(ChannelsLast.Attribute, 0) != 0;
        int axis = nhwc ? xt.Shape.Length - 1 : 1;
        RequireFixed(xt, axis, "channels");
        channels = xt.Shape[axis];
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
        if (nhwc)
        {
            for (int p = 0; p < xs.Length; p += channels) TensorPrimitives.MultiplyAdd(xs.Slice(p, channels), scale, shift, ys.Slice(p, channels));
            return;
        }
        int inner = xs.Length / Math.Max(1, f.Shape(x)[0] * channels);
        for (int i = 0, p = 0; p < xs.Length; i++, p += inner)
        {
            int c = i % channels;
            if (reference) for (int j = p; j < p + inner; j++) ys[j] = xs[j] * scale[c] + shift[c];
            else { var d = ys.Slice(p, inner); TensorPrimitives.Multiply(xs.Slice(p, inner), scale[c], d); TensorPrimitives.Add(d, shift[c], d); }
        }
    }
}
