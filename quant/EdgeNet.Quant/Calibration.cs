using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Quant;

public enum CalibrationMethod { MinMax, Percentile, Entropy }

/// <summary>
/// Runs the fp32 model over calibration rows and records, for every activation tensor, its range: min/max, a
/// percentile (99.99% of |x|, dropping rare outliers), or the entropy method (the clipping threshold whose 128-level
/// histogram is closest in KL divergence to the full one, as TensorRT does).
/// </summary>
public static class Calibration
{
    public const int Bins = 2048;

    public sealed class Range
    {
        public float Min = float.PositiveInfinity, Max = float.NegativeInfinity;
        public double[]? Histogram;   // of |x| over [0, HistMax)
        public float HistMax;
    }

    /// <summary>The model with every computed tensor made a graph output, so one run sees them all.</summary>
    public static Model ExposeAll(Model m)
    {
        var r = new Model { Metadata = m.Metadata };
        r.Tensors.AddRange(m.Tensors); r.Nodes.AddRange(m.Nodes); r.Inputs.AddRange(m.Inputs);
        foreach (var n in m.Nodes) foreach (var t in n.Outputs) if (t >= 0 && m.Tensors[t].Type == DataType.Float32 && !r.Outputs.Contains(t)) r.Outputs.Add(t);
        return r;
    }

    public static Dictionary<int, Range> Collect(Model model, float[] x, CalibrationMethod method, Action<int, int>? progress = null)
    {
        var all = ExposeAll(model);
        using var s = new Session(all, 16);
        long sample = model.Input().Elements(1);
        int rows = (int)(x.Length / sample);
        var ranges = all.Outputs.Concat(model.Inputs).Distinct().ToDictionary(t => t, _ => new Range());
        void Observe(int t, ReadOnlySpan<float> v, bool second)
        {
            var r = ranges[t];
            if (!second) foreach (var f in v) { if (f < r.Min) r.Min = f; if (f > r.Max) r.Max = f; }
            else
            {
                r.Histogram ??= new double[Bins];
                foreach (var f in v) { int b = (int)(Math.Abs(f) / r.HistMax * Bins); r.Histogram[Math.Min(b, Bins - 1)]++; }
            }
        }
        int passes = method == CalibrationMethod.MinMax ? 1 : 2;   // histograms need the range first
        for (int pass = 0; pass < passes; pass++)
        {
            if (pass == 1) foreach (var r in ranges.Values) r.HistMax = Math.Max(1e-12f, Math.Max(Math.Abs(r.Min), Math.Abs(r.Max)));
            for (int start = 0; start < rows; start += s.MaxBatch)
            {
                int n = Math.Min(s.MaxBatch, rows - start);
                x.AsSpan((int)(start * sample), (int)(n * sample)).CopyTo(s.Input(0, n));
                s.Run(n);
                Observe(model.Inputs[0], x.AsSpan((int)(start * sample), (int)(n * sample)), pass == 1);
                for (int o = 0; o < all.Outputs.Count; o++) Observe(all.Outputs[o], s.Output(o), pass == 1);
                progress?.Invoke(pass * rows + start + n, passes * rows);
            }
        }
        if (method != CalibrationMethod.MinMax)
            foreach (var r in ranges.Values)
            {
                float t = method == CalibrationMethod.Percentile ? Percentile(r, 0.9999) : Entropy(r);
                r.Min = Math.Max(r.Min, -t); r.Max = Math.Min(r.Max, t);
            }
        return ranges;
    }

    static float Percentile(Range r, double p)
    {
        double total = r.Histogram!.Sum(), acc = 0;
        for (int b = 0; b < Bins; b++) { acc += r.Histogram![b]; if (acc >= p * total) return (b + 1) * r.HistMax / Bins; }
        return r.HistMax;
    }

    /// <summary>KL-divergence calibration: the threshold bin count i whose histogram, folded to 128 levels, loses least.</summary>
    static float Entropy(Range r)
    {
        var h = r.Histogram!;
        double best = double.PositiveInfinity; int bestI = Bins;
        const int levels = 128;
        for (int i = levels; i <= Bins; i += 16)
        {
            var p = new double[i];
            Array.Copy(h, p, i);
            for (int b = i; b < Bins; b++) p[i - 1] += h[b];   // outliers clip into the last bin
            double total = p.Sum();
            if (total == 0) continue;
            var q = new double[i];
            double per = (double)i / levels;
            for (int l = 0; l < levels; l++)
            {
                int a = (int)(l * per), z = (int)((l + 1) * per);
                double sum = 0; int nonzero = 0;
                for (int b = a; b < z; b++) { sum += h[b]; if (h[b] != 0) nonzero++; }
                for (int b = a; b < z; b++) q[b] = h[b] != 0 ? sum / nonzero : 0;
            }
            double qTotal = q.Sum(), kl = 0;
            for (int b = 0; b < i; b++)
                if (p[b] > 0) kl += p[b] / total * Math.Log((p[b] / total) / Math.Max(q[b] / Math.Max(qTotal, 1e-12), 1e-12));
            if (kl < best) { best = kl; bestI = i; }
        }
        return bestI * r.HistMax / Bins;
    }
}
