using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// LRN across channels over X [N, C, ...]: y = x / (bias + alpha/size · Σ x²)^beta, the sum over channels
/// c − ⌊(size−1)/2⌋ .. c + ⌈(size−1)/2⌉ (clipped to the channels) at the same position.
/// </summary>
internal sealed class LrnKernel : Kernel
{
    readonly int x, y, size, channels;
    readonly float alpha, beta, bias;

    public LrnKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "X");
        if (xt.Shape.Length < 2) throw Error("X must be [N, C, ...]");
        for (int d = 1; d < xt.Shape.Length; d++) RequireFixed(xt, d, $"dimension {d}");
        channels = xt.Shape[1];
        var a = node.Attributes;
        long s = a.Int("size", 0);
        if (s < 1 || s > 4096) throw Error($"size {s} must be 1..4096");
        size = (int)s;
        alpha = a.Float("alpha", 1e-4f); beta = a.Float("beta", 0.75f); bias = a.Float("bias", 1f);
        if (!float.IsFinite(alpha) || !float.IsFinite(beta) || !float.IsFinite(bias)) throw Error("alpha, beta and bias must be finite");
        ExpectShape(m, y, xt.Shape);
    }

    (int Lo, int Hi) Window(int c) => (Math.Max(0, c - (size - 1) / 2), Math.Min(channels - 1, c + size / 2));

    /// <summary>bias + alpha/size · Σ x² over the window of channel c at position j of image i.</summary>
    float Denominator(ReadOnlySpan<float> xs, int i, int c, int j, int inner)
    {
        var (lo, hi) = Window(c);
        float s = 0;
        for (int k = lo; k <= hi; k++) { float v = xs[(i * channels + k) * inner + j]; s += v * v; }
        return bias + alpha / size * s;
    }

    public override void Run(Frame f)
    {
        var xs = f.Span(x); var ys = f.Span(y);
        int n = f.Shape(x)[0], inner = xs.Length / (n * channels);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < channels; c++)
                for (int j = 0; j < inner; j++)
                {
                    int e = (i * channels + c) * inner + j;
                    ys[e] = xs[e] * MathF.Pow(Denominator(xs, i, c, j, inner), -beta);
                }
    }

    /// <summary>dx_k += dy_k·d_k^−β − 2αβ/size · x_k · Σ_{c: k in window(c)} dy_c·x_c·d_c^(−β−1).</summary>
    internal void Backward(ReadOnlySpan<float> xs, ReadOnlySpan<float> dy, Span<float> dx, int n)
    {
        int inner = xs.Length / (n * channels);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < channels; c++)
                for (int j = 0; j < inner; j++)
                {
                    int e = (i * channels + c) * inner + j;
                    float d = Denominator(xs, i, c, j, inner);
                    dx[e] += dy[e] * MathF.Pow(d, -beta);
                    float common = -2 * alpha * beta / size * dy[e] * xs[e] * MathF.Pow(d, -beta - 1);
                    var (lo, hi) = Window(c);
                    for (int k = lo; k <= hi; k++) { int ek = (i * channels + k) * inner + j; dx[ek] += common * xs[ek]; }
                }
    }
}
