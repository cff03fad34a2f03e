using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>y = x·scale[c] + shift[c] over [N, C, ...]: inference BatchNormalization that had no Conv/Dense to fold into
/// (DenseNet's pre-activation BN after a Concat). Channels-last ([N, H, W, C], the planner's <c>channels_last</c>):
/// vectors along each pixel's row of C (<see cref="Rows"/>).</summary>
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
            if (reference) for (int p = 0; p < xs.Length; p += channels) for (int c = 0; c < channels; c++) ys[p + c] = xs[p + c] * scale[c] + shift[c];
            else Rows(xs, ys);
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

    /// <summary>Channels-last: each pixel's row of C, y = x·scale + shift by vectors along the row (16 lanes, then
    /// Vector&lt;float&gt;), the scalar formula for the row's tail: the reference's operations (a multiply, then an add,
    /// not fused), so its bits on every ISA. Replaces a TensorPrimitives.MultiplyAdd call per pixel (DenseNet-121: 3136
    /// rows of 64-256 channels at 56×56, a call each under the JIT and NativeAOT).</summary>
    unsafe void Rows(ReadOnlySpan<float> xs, Span<float> ys)
    {
        int C = channels;
        fixed (float* px = xs, py = ys, ps = scale, pb = shift)
            for (long p = 0; p < xs.Length; p += C)
            {
                float* xr = px + p, yr = py + p;
                int c = 0;
                if (Vector512.IsHardwareAccelerated)
                    for (; c <= C - 16; c += 16) (Vector512.Load(xr + c) * Vector512.Load(ps + c) + Vector512.Load(pb + c)).Store(yr + c);
                if (Vector.IsHardwareAccelerated)
                    for (; c <= C - Vector<float>.Count; c += Vector<float>.Count) (Vector.Load(xr + c) * Vector.Load(ps + c) + Vector.Load(pb + c)).Store(yr + c);
                for (; c < C; c++) yr[c] = xr[c] * ps[c] + pb[c];
            }
    }
}
