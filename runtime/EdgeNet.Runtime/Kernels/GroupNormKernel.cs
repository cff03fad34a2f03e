using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// GroupNormalization over X [N, C, ...]: the C/num_groups channels of a group (with all their positions) are
/// normalized together to zero mean and unit variance (epsilon), then each channel is scaled and shifted by
/// Scale[c], B[c]. InstanceNormalization is num_groups = C. Scale and B are read through the frame at run time, so
/// training updates reach them.
/// </summary>
internal sealed class GroupNormKernel : Kernel
{
    readonly int x, scale, bias, y, groups, channels;
    readonly float epsilon;

    public GroupNormKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; scale = node.Inputs[1]; bias = node.Inputs[2]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "X");
        if (xt.Shape.Length < 2) throw Error("X must be [N, C, ...]");
        for (int d = 1; d < xt.Shape.Length; d++) RequireFixed(xt, d, $"dimension {d}");
        channels = xt.Shape[1];
        groups = (int)node.Attributes.Int("num_groups", channels);
        if (groups < 1 || channels % groups != 0) throw Error($"num_groups {groups} does not divide {channels} channels");
        epsilon = node.Attributes.Float("epsilon", 1e-5f);
        if (!(epsilon >= 0)) throw Error($"epsilon {epsilon} must not be negative");
        if (FloatTensor(m, scale, "scale").Elements(1) != channels) throw Error($"scale has {m.Tensors[scale].Elements(1)} values for {channels} channels");
        if (FloatTensor(m, bias, "B").Elements(1) != channels) throw Error($"B has {m.Tensors[bias].Elements(1)} values for {channels} channels");
        ExpectShape(m, y, xt.Shape);
    }

    public override void Run(Frame f)
    {
        var xs = f.Span(x); var ys = f.Span(y); var g = f.Span(scale); var b = f.Span(bias);
        int n = f.Shape(x)[0], inner = xs.Length / (n * channels), per = channels / groups, block = per * inner;
        for (int p = 0, k = 0; p < xs.Length; p += block, k++)
        {
            var (mu, inv) = LayerNormKernel.Stats(xs.Slice(p, block), epsilon);
            for (int c = 0; c < per; c++)
            {
                int ch = k % groups * per + c;
                float sc = g[ch] * inv, sh = b[ch] - mu * sc;
                var xr = xs.Slice(p + c * inner, inner); var yr = ys.Slice(p + c * inner, inner);
                for (int j = 0; j < inner; j++) yr[j] = xr[j] * sc + sh;
            }
        }
    }

    /// <summary>dX, dScale, dB of y = x̂·g[c] + b[c] with x̂ normalized over each group.</summary>
    internal void Backward(ReadOnlySpan<float> xs, ReadOnlySpan<float> g, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dg, Span<float> db, int n)
    {
        int inner = xs.Length / (n * channels), per = channels / groups, block = per * inner;
        for (int p = 0, k = 0; p < xs.Length; p += block, k++)
        {
            var (mu, inv) = LayerNormKernel.Stats(xs.Slice(p, block), epsilon);
            float meanD = 0, meanDx = 0;
            for (int j = 0; j < block; j++)
            {
                int ch = k % groups * per + j / inner;
                float xh = (xs[p + j] - mu) * inv, d = dy[p + j] * g[ch];
                meanD += d; meanDx += d * xh;
                if (!dg.IsEmpty) dg[ch] += dy[p + j] * xh;
                if (!db.IsEmpty) db[ch] += dy[p + j];
            }
            meanD /= block; meanDx /= block;
            if (dx.IsEmpty) continue;
            for (int j = 0; j < block; j++)
            {
                int ch = k % groups * per + j / inner;
                float xh = (xs[p + j] - mu) * inv;
                dx[p + j] += inv * (dy[p + j] * g[ch] - meanD - xh * meanDx);
            }
        }
    }
}
