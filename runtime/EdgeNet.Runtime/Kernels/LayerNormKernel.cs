using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// LayerNormalization (ONNX opset 17): each row of X over the axes from "axis" on is normalized to zero mean and
/// unit variance (epsilon), then scaled and shifted; the optional outputs Mean and InvStdDev keep a 1 for each
/// normalized axis. Scale and B are read through the frame at run time, so training updates reach them.
/// The reference is the scalar loop; the fast path sums with TensorPrimitives and normalizes a vector at a time.
/// </summary>
internal sealed class LayerNormKernel : Kernel
{
    readonly int x, scale, bias = -1, y, mean = -1, invStd = -1, axis;
    readonly float epsilon;
    readonly bool reference;

    public LayerNormKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; scale = node.Inputs[1]; y = node.Outputs[0];
        if (node.Inputs.Length > 2 && node.Inputs[2] >= 0) bias = node.Inputs[2];
        var xs = FloatTensor(m, x, "X").Shape;
        axis = AxisAttribute(xs.Length, -1);
        epsilon = node.Attributes.Float("epsilon", 1e-5f);
        reference = o.Reference;
        if (!(epsilon >= 0)) throw Error($"epsilon {epsilon} must not be negative");
        long inner = 1;
        for (int d = axis; d < xs.Length; d++) { RequireFixed(m.Tensors[x], d, $"normalized dimension {d}"); inner *= xs[d]; }
        foreach (int t in bias >= 0 ? [scale, bias] : new[] { scale })   // Run takes a row's length from Scale: a batch-sized one would misread X
            for (int d = 0; d < m.Tensors[t].Shape.Length; d++) RequireFixed(m.Tensors[t], d, $"dimension {d}");
        if (FloatTensor(m, scale, "Scale").Elements(1) != inner) throw Error($"Scale has {m.Tensors[scale].Elements(1)} values for {inner} normalized elements");
        if (bias >= 0 && FloatTensor(m, bias, "B").Elements(1) != inner) throw Error($"B has {m.Tensors[bias].Elements(1)} values for {inner} normalized elements");
        ExpectShape(m, y, xs);
        var stats = xs.Select((d, i) => i >= axis ? 1 : d).ToArray();
        if (node.Outputs.Length > 1 && node.Outputs[1] >= 0) { mean = node.Outputs[1]; ExpectShape(m, mean, stats); }
        if (node.Outputs.Length > 2 && node.Outputs[2] >= 0) { invStd = node.Outputs[2]; ExpectShape(m, invStd, stats); }
    }

    public int Axis => axis;
    public float Epsilon => epsilon;

    /// <summary>Mean and 1/√(variance + ε) of one row.</summary>
    internal static (float Mean, float Inv) Stats(ReadOnlySpan<float> row, float epsilon)
    {
        float s = 0;
        for (int k = 0; k < row.Length; k++) s += row[k];
        float mu = s / row.Length, v = 0;
        for (int k = 0; k < row.Length; k++) { float d = row[k] - mu; v += d * d; }
        return (mu, 1 / MathF.Sqrt(v / row.Length + epsilon));
    }

    /// <summary><see cref="Stats"/> a vector at a time.</summary>
    static (float Mean, float Inv) VectorStats(ReadOnlySpan<float> row, float epsilon)
    {
        float mu = TensorPrimitives.Sum(row) / row.Length;
        var vr = MemoryMarshal.Cast<float, Vector<float>>(row);
        var m = new Vector<float>(mu);
        var acc = Vector<float>.Zero;
        foreach (var v in vr) { var d = v - m; acc += d * d; }
        float s = Vector.Sum(acc);
        for (int k = vr.Length * Vector<float>.Count; k < row.Length; k++) { float d = row[k] - mu; s += d * d; }
        return (mu, 1 / MathF.Sqrt(s / row.Length + epsilon));
    }

    /// <summary>y = (x − μ)·inv·g + b over one row of n, a vector at a time, the tail by the scalar formula. Pointers
    /// and the bias test outside the loop: through span slices each vector was ~37 arm64 instructions (bounds checks,
    /// the test per vector), now 11; the same operations in the same order (no fused multiply-add), so the same bits.</summary>
    static unsafe void Normalize(float* row, float* y, float* g, float* b, int n, float mu, float inv)
    {
        int k = 0, w = Vector<float>.Count;
        Vector<float> m = new(mu), s = new(inv);
        if (b != null)
            for (; k <= n - w; k += w) Vector.Store((Vector.Load(row + k) - m) * s * Vector.Load(g + k) + Vector.Load(b + k), y + k);
        else
            for (; k <= n - w; k += w) Vector.Store((Vector.Load(row + k) - m) * s * Vector.Load(g + k), y + k);
        for (; k < n; k++) y[k] = (row[k] - mu) * inv * g[k] + (b == null ? 0 : b[k]);
    }

    public override void Run(Frame f)
    {
        var xs = f.Span(x); var ys = f.Span(y); var g = f.Span(scale);
        var b = bias >= 0 ? f.Span(bias) : default;
        int inner = g.Length;
        for (int r = 0, p = 0; p < xs.Length; r++, p += inner)
        {
            var row = xs.Slice(p, inner);
            float mu, inv;
            if (reference)
            {
                (mu, inv) = Stats(row, epsilon);
                for (int k = 0; k < inner; k++) ys[p + k] = (row[k] - mu) * inv * g[k] + (b.IsEmpty ? 0 : b[k]);
            }
            else
            {
                (mu, inv) = VectorStats(row, epsilon);
                unsafe
                {
                    fixed (float* px = row) fixed (float* py = ys.Slice(p, inner)) fixed (float* pg = g) fixed (float* pb = b)
                        Normalize(px, py, pg, pb, inner, mu, inv);
                }
            }
            if (mean >= 0) f.Span(mean)[r] = mu;
            if (invStd >= 0) f.Span(invStd)[r] = inv;
        }
    }

    /// <summary>dX, dScale, dB of y = x̂·g + b with x̂ = (x − μ)·inv, row by row.</summary>
    internal void Backward(ReadOnlySpan<float> xv, ReadOnlySpan<float> g, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dg, Span<float> db)
    {
        int inner = g.Length;
        for (int p = 0; p < xv.Length; p += inner)
        {
            var row = xv.Slice(p, inner);
            var (mu, inv) = Stats(row, epsilon);
            float meanD = 0, meanDx = 0;
            for (int k = 0; k < inner; k++)
            {
                float xh = (row[k] - mu) * inv, d = dy[p + k] * g[k];
                meanD += d; meanDx += d * xh;
                if (!dg.IsEmpty) dg[k] += dy[p + k] * xh;
                if (!db.IsEmpty) db[k] += dy[p + k];
            }
            meanD /= inner; meanDx /= inner;
            if (dx.IsEmpty) continue;
            for (int k = 0; k < inner; k++)
            {
                float xh = (row[k] - mu) * inv;
                dx[p + k] += inv * (dy[p + k] * g[k] - meanD - xh * meanDx);
            }
        }
    }
}
