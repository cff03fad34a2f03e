using System.Text;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Quant;

/// <summary>What quantization cost: fp32 and int8 accuracy, top-1 agreement, and each quantized layer's SQNR
/// (10·log10 of signal over error power, its output against the fp32 model's on the evaluation rows).</summary>
public sealed record QuantReport(double Fp32Accuracy, double Int8Accuracy, double Agreement, IReadOnlyList<(string Layer, double SqnrDb)> Layers)
{
    public double Drop => Fp32Accuracy - Int8Accuracy;

    public static QuantReport Evaluate(Model fp32, Model int8, float[] x, long[] y, IReadOnlyList<string> layers)
    {
        using var a = new Session(fp32, 64);
        using var b = new Session(int8, 64);
        var la = BatchRunner.RunAll(a, x, out int rows);
        var lb = BatchRunner.RunAll(b, x, out _);
        int classes = la.Length / rows, okA = 0, okB = 0, agree = 0;
        for (int i = 0; i < rows; i++)
        {
            int pa = BatchRunner.ArgMax(la.AsSpan(i * classes, classes)), pb = BatchRunner.ArgMax(lb.AsSpan(i * classes, classes));
            if (pa == y[i]) okA++;
            if (pb == y[i]) okB++;
            if (pa == pb) agree++;
        }
        return new QuantReport((double)okA / rows, (double)okB / rows, (double)agree / rows, Sqnr(fp32, int8, x, layers));
    }

    /// <summary>Per layer: the fp32 model's output of that node against the int8 model's, dequantized.</summary>
    static List<(string, double)> Sqnr(Model fp32, Model int8, float[] x, IReadOnlyList<string> layers)
    {
        var fa = Calibration.ExposeAll(fp32);
        var probe = new Model { Metadata = int8.Metadata };
        probe.Tensors.AddRange(int8.Tensors); probe.Nodes.AddRange(int8.Nodes); probe.Inputs.AddRange(int8.Inputs); probe.Outputs.AddRange(int8.Outputs);
        var names = new List<(string layer, int fpOut, int qOut)>();
        foreach (var layer in layers)
        {
            var fn = fp32.Nodes.FirstOrDefault(n => n.Name == layer); var qn = int8.Nodes.FirstOrDefault(n => n.Name == layer);
            if (fn is null || qn is null) continue;
            int qo = qn.Outputs[0];
            if (int8.Tensors[qo].Type == DataType.Int8)
            {
                int f = probe.AddTensor(new TensorDesc(int8.Tensors[qo].Name + "_probe", DataType.Float32, int8.Tensors[qo].Shape));
                probe.Nodes.Add(new Node(OpType.Dequantize, layer + "_probe", [qo], [f]));
                qo = f;
            }
            if (!probe.Outputs.Contains(qo)) probe.Outputs.Add(qo);
            names.Add((layer, fa.Outputs.IndexOf(fn.Outputs[0]), probe.Outputs.IndexOf(qo)));
        }
        using var sa = new Session(fa, 16); using var sb = new Session(probe, 16);
        long sample = fp32.Input().Elements(1);
        int rows = (int)(x.Length / sample);
        var signal = new double[names.Count]; var noise = new double[names.Count];
        for (int start = 0; start < rows; start += 16)
        {
            int n = Math.Min(16, rows - start);
            x.AsSpan((int)(start * sample), (int)(n * sample)).CopyTo(sa.Input(0, n)); sa.Run(n);
            x.AsSpan((int)(start * sample), (int)(n * sample)).CopyTo(sb.Input(0, n)); sb.Run(n);
            for (int k = 0; k < names.Count; k++)
            {
                var p = sa.Output(names[k].fpOut); var q = sb.Output(names[k].qOut);
                for (int i = 0; i < p.Length; i++) { signal[k] += (double)p[i] * p[i]; noise[k] += (double)(p[i] - q[i]) * (p[i] - q[i]); }
            }
        }
        return names.Select((t, k) => (t.layer, 10 * Math.Log10(signal[k] / Math.Max(noise[k], 1e-30)))).ToList();
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"fp32 accuracy: {Fp32Accuracy:F4}   int8 accuracy: {Int8Accuracy:F4}   drop: {100 * Drop:F2} points   top-1 agreement: {Agreement:F4}");
        sb.AppendLine("per-layer SQNR (dB, higher is better; below ~20 dB a layer loses visible precision):");
        foreach (var (l, s) in Layers) sb.AppendLine($"  {s,7:F1}  {l}");
        return sb.ToString();
    }
}

/// <summary>PTQ with an accuracy budget: while the drop exceeds it, the layer with the lowest SQNR goes back to fp32.</summary>
public static class AccuracyBudget
{
    /// <summary>
    /// Returns the model that meets the budget, its report, the layers kept in fp32, and the report with every
    /// candidate layer in int8 (its SQNR table says why). Where the budget is met only with no layer left in int8,
    /// the model is the fp32 one and <c>report.Layers</c> is empty: the caller decides whether that is acceptable.
    /// </summary>
    public static (Model model, QuantReport report, List<string> keptFp32, QuantReport allInt8) Fit(Model fp32, Dictionary<int, Calibration.Range> ranges,
        float[] x, long[] y, double maxDropPoints, IEnumerable<string> keepFp32, Action<string>? log = null)
    {
        var keep = keepFp32.ToList();
        QuantReport? first = null;
        while (true)
        {
            var q = Quantizer.Quantize(fp32, ranges, keep);
            var layers = Quantizer.Candidates(fp32).Where(l => !keep.Contains(l)).ToList();
            var report = QuantReport.Evaluate(fp32, q, x, y, layers);
            first ??= report;
            if (100 * report.Drop <= maxDropPoints || layers.Count == 0) return (q, report, keep, first);
            var worst = report.Layers.OrderBy(l => l.SqnrDb).First().Layer;
            log?.Invoke($"drop {100 * report.Drop:F2} points > {maxDropPoints}: keeping '{worst}' in fp32 (SQNR {report.Layers.First(l => l.Layer == worst).SqnrDb:F1} dB)");
            keep.Add(worst);
        }
    }
}
