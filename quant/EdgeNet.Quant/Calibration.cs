using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Quant;

public enum CalibrationMethod { MinMax, Percentile, Entropy }

/// <summary>
/// Runs the fp32 model over calibration rows and records, for every activation tensor, its range: min/max, a
/// percentile (99.99% of |x|, dropping rare outliers), or the entropy method (the clipping threshold whose int8
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
        long sample = model.Input().Elements(1);
        if (x.Length == 0) throw new InvalidDataException("calibration data holds no rows");
        if (x.Length % sample != 0) throw new InvalidDataException($"calibration data has {x.Length} values, not a whole number of samples of {Shape.Format(model.Input().Shape)} ({sample} values each)");
        int rows = (int)(x.Length / sample);
        // One NaN or infinity would make a range infinite or meaningless (NaN slips past min/max): refuse, as training does.
        for (int i = 0; i < x.Length; i++)
            if (!float.IsFinite(x[i])) throw new InvalidDataException($"calibration data holds a non-finite value at row {i / sample} (NaN or infinity)");
        var all = ExposeAll(model);
        using var s = new Session(all, 16);
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

    /// <summary>
    /// KL-divergence calibration, as TensorRT's entropy calibrator does it (NVIDIA's pytorch-quantization has it in
    /// Python): for every threshold i = 128..2048 bins of the |x| histogram, P is the histogram cut at i with the clipped
    /// values added to its last bin, and Q the cut histogram (without them) merged into the int8 grid's levels and spread
    /// back evenly over the non-empty bins; the i with the least KL(P‖Q) wins (the largest, among equals), and the
    /// threshold is that bin's upper edge. As there, the first bin counts as the second: the exact zeros a ReLU writes
    /// are represented exactly by any threshold and would otherwise outweigh the tail the search is about. The grid
    /// has 128 levels for a tensor with both signs and 256 for a one-sided one (ReLU outputs, pixels: unsigned).
    /// </summary>
    static float Entropy(Range r)
    {
        var h = (double[])r.Histogram!.Clone();
        h[0] = h[1];
        int levels = r.Min >= 0 || r.Max <= 0 ? 256 : 128;
        double best = double.PositiveInfinity;
        int bestI = Bins;
        var q = new double[Bins];
        var level = new double[levels]; var nonEmpty = new int[levels];
        double outliers = 0;   // the count in bins [i, Bins)
        for (int b = 128; b < Bins; b++) outliers += h[b];
        for (int i = 128; i <= Bins; outliers -= i < Bins ? h[i] : 0, i++)
        {
            Array.Clear(level); Array.Clear(nonEmpty);
            for (int b = 0; b < i; b++) if (h[b] != 0) { int l = (int)((long)b * levels / i); level[l] += h[b]; nonEmpty[l]++; }
            for (int b = 0; b < i; b++) q[b] = h[b] != 0 ? level[(int)((long)b * levels / i)] / nonEmpty[(int)((long)b * levels / i)] : 0;
            double kl = Divergence(h.AsSpan(0, i), outliers, q.AsSpan(0, i));
            if (kl <= best) { best = kl; bestI = i; }
        }
        return bestI * r.HistMax / Bins;
    }

    /// <summary>KL(P‖Q) for P = the cut histogram with <paramref name="outliers"/> added to its last bin; infinity where Q
    /// misses a value P has.</summary>
    static double Divergence(ReadOnlySpan<double> cut, double outliers, ReadOnlySpan<double> q)
    {
        double sp = outliers, sq = 0;
        foreach (var v in cut) sp += v;
        foreach (var v in q) sq += v;
        if (sp == 0 || sq == 0) return double.PositiveInfinity;
        double kl = 0;
        for (int b = 0; b < cut.Length; b++)
        {
            double p = b == cut.Length - 1 ? cut[b] + outliers : cut[b];
            if (p == 0) continue;
            if (q[b] == 0) return double.PositiveInfinity;
            kl += p / sp * Math.Log(p / sp / (q[b] / sq));
        }
        return kl;
    }
}
