using System.Numerics;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// LayerNormalization (ONNX opset 17): each row of X over the axes from "axis" on is normalized to zero mean and
/// unit variance (epsilon), then scaled and shifted; the optional outputs Mean and InvStdDev keep a 1 for each
/// normalized axis. Scale and B are read through the frame at run time, so training updates reach them.
/// The reference is the scalar loop (two passes); the fast path takes a row's statistics in one pass and normalizes a
/// vector at a time.
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

    /// <summary><see cref="Stats"/> in one pass, a vector at a time: the sums of d = x − x₀ and of d² (x₀ the row's first
    /// value), μ = x₀ + Σd/n, variance Σd²/n − (Σd/n)² (as ONNX Runtime's CPU LayerNorm computes it, from Σx and Σx²;
    /// the shift keeps a row whose mean is far from 0 against its spread from cancelling). Two passes (a sum, then
    /// Σ(x − μ)²) were ~10 arm64 instructions a vector of 4 besides the row's normalization; this is ~4.</summary>
    internal static unsafe (float Mean, float Inv) VectorStats(float* row, int n, float epsilon)
    {
        int w = Vector<float>.Count;
        float x0 = n > 0 ? row[0] : 0f;
        Vector<float> sh = new(x0), s0 = default, s1 = default, q0 = default, q1 = default;
        // A pointer stepping by four vectors (paired loads, no index to scale), then by one, then the scalar tail
        float* p = row, end = row + n;
        for (; p <= end - 4 * w; p += 4 * w)
        {
            var d0 = Vector.Load(p) - sh; var d1 = Vector.Load(p + w) - sh; var d2 = Vector.Load(p + 2 * w) - sh; var d3 = Vector.Load(p + 3 * w) - sh;
            s0 += d0; s1 += d1; q0 = Vector.FusedMultiplyAdd(d0, d0, q0); q1 = Vector.FusedMultiplyAdd(d1, d1, q1);
            s0 += d2; s1 += d3; q0 = Vector.FusedMultiplyAdd(d2, d2, q0); q1 = Vector.FusedMultiplyAdd(d3, d3, q1);
        }
        for (; p <= end - w; p += w) { var d = Vector.Load(p) - sh; s0 += d; q0 = Vector.FusedMultiplyAdd(d, d, q0); }
        float s = Vector.Sum(s0 + s1), q = Vector.Sum(q0 + q1);
        for (; p < end; p++) { float d = *p - x0; s += d; q += d * d; }
        float md = s / n;
        return (x0 + md, 1 / MathF.Sqrt(MathF.Max(q / n - md * md, 0f) + epsilon));
    }

    /// <summary>y = (x − μ)·inv·g + b over one row of n, four vectors at a time, then one, the tail by the scalar formula.
    /// Pointers stepping through the row (paired loads and stores) and the bias test outside the loop: through span
    /// slices each vector was ~37 arm64 instructions (bounds checks, the test per vector), with an index 11-12, now ~8;
    /// the same operations in the same order (no fused multiply-add), so the same bits; without B no + 0 either (a
    /// −0 product stays −0, as ONNX Runtime stores it).</summary>
    static unsafe void Normalize(float* row, float* y, float* g, float* b, int n, float mu, float inv)
    {
        int w = Vector<float>.Count;
        Vector<float> m = new(mu), s = new(inv);
        float* end = row + n;
        if (b != null)
        {
            for (; row <= end - 4 * w; row += 4 * w, y += 4 * w, g += 4 * w, b += 4 * w)
            {
                var y0 = (Vector.Load(row) - m) * s * Vector.Load(g) + Vector.Load(b);
                var y1 = (Vector.Load(row + w) - m) * s * Vector.Load(g + w) + Vector.Load(b + w);
                var y2 = (Vector.Load(row + 2 * w) - m) * s * Vector.Load(g + 2 * w) + Vector.Load(b + 2 * w);
                var y3 = (Vector.Load(row + 3 * w) - m) * s * Vector.Load(g + 3 * w) + Vector.Load(b + 3 * w);
                Vector.Store(y0, y); Vector.Store(y1, y + w); Vector.Store(y2, y + 2 * w); Vector.Store(y3, y + 3 * w);
            }
            for (; row <= end - w; row += w, y += w, g += w, b += w) Vector.Store((Vector.Load(row) - m) * s * Vector.Load(g) + Vector.Load(b), y);
            for (; row < end; row++, y++, g++, b++) *y = (*row - mu) * inv * *g + *b;
        }
        else
        {
            for (; row <= end - 4 * w; row += 4 * w, y += 4 * w, g += 4 * w)
            {
                var y0 = (Vector.Load(row) - m) * s * Vector.Load(g);
                var y1 = (Vector.Load(row + w) - m) * s * Vector.Load(g + w);
                var y2 = (Vector.Load(row + 2 * w) - m) * s * Vector.Load(g + 2 * w);
                var y3 = (Vector.Load(row + 3 * w) - m) * s * Vector.Load(g + 3 * w);
                Vector.Store(y0, y); Vector.Store(y1, y + w); Vector.Store(y2, y + 2 * w); Vector.Store(y3, y + 3 * w);
            }
            for (; row <= end - w; row += w, y += w, g += w) Vector.Store((Vector.Load(row) - m) * s * Vector.Load(g), y);
            for (; row < end; row++, y++, g++) *y = (*row - mu) * inv * *g;
        }
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
                // Without B nothing is added, not even 0: (x − μ)·inv·g's −0 stays −0, as in ONNX Runtime and ONNX's
                // reference (a + 0 turned it +0 here and not in the vector loop).
                for (int k = 0; k < inner; k++) ys[p + k] = b.IsEmpty ? (row[k] - mu) * inv * g[k] : (row[k] - mu) * inv * g[k] + b[k];
            }
            else
            {
                unsafe
                {
                    fixed (float* px = row) fixed (float* py = ys.Slice(p, inner)) fixed (float* pg = g) fixed (float* pb = b)
                    {
                        (mu, inv) = VectorStats(px, inner, epsilon);
                        Normalize(px, py, pg, pb, inner, mu, inv);
                    }
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
