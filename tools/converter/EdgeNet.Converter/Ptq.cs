using EdgeNet.Format;
using EdgeNet.Engine;
using EdgeNet.Io;
using EdgeNet.Quant;

namespace EdgeNet.Converter;

/// <summary>--quantize int8: calibrate (with a progress bar), quantize, and report accuracy and per-layer SQNR.</summary>
public static class Ptq
{
    /// <param name="acceptFp32">write the fp32 model when the accuracy budget is met only with every layer in fp32 (else refused, exit 4)</param>
    public static Model Run(Model fp32, string kind, FileInfo? calibration, string method, string[] keep, FileInfo? evalData, FileInfo? evalLabels, double? maxDrop, bool acceptFp32 = false)
    {
        if (kind != "int8") throw new UsageException($"--quantize '{kind}': only int8 is supported");
        if (calibration is null) throw new UsageException("--quantize int8 needs --calibration X.npy");
        var m = method switch
        {
            "minmax" => CalibrationMethod.MinMax, "percentile" => CalibrationMethod.Percentile, "entropy" => CalibrationMethod.Entropy,
            _ => throw new UsageException($"--calibration-method '{method}' is not minmax, percentile or entropy"),
        };
        var npy = Npy.Read(calibration.FullName);
        try { ModelData.Rows(npy.Shape, fp32.Input(), "calibration data"); }
        catch (InvalidDataException e) { throw new InvalidDataException($"--calibration {calibration.Name}: {e.Message}"); }
        var x = npy.Floats ?? throw new InvalidDataException("--calibration must hold float32 values");
        foreach (var k in keep) if (!fp32.Nodes.Any(n => n.Name == k)) throw new UsageException($"--keep-fp32 '{k}' is not a node; layers: {string.Join(", ", Quantizer.Candidates(fp32))}");
        if ((evalData is null) != (evalLabels is null)) throw new UsageException("--eval-data and --eval-labels go together");
        if (maxDrop is not null && evalData is null) throw new UsageException("--max-accuracy-drop needs --eval-data and --eval-labels");
        if (acceptFp32 && maxDrop is null) throw new UsageException("--accept-fp32-fallback goes with --max-accuracy-drop");
        bool bar = !Console.IsErrorRedirected;
        Dictionary<int, Calibration.Range> ranges;
        try { ranges = Calibration.Collect(fp32, x, m, (done, total) => { if (bar) Console.Error.Write($"\rcalibrating [{new string('#', done * 30 / total)}{new string('.', 30 - done * 30 / total)}] {done}/{total}"); }); }
        catch (InvalidDataException e) { throw new InvalidDataException($"--calibration {calibration.Name}: {e.Message}"); }
        if (bar) Console.Error.Write("\r" + new string(' ', 60) + "\r");
        if (evalData is null) return Quantizer.Quantize(fp32, ranges, keep);
        var (ex, rows) = ModelData.ReadSamples(evalData.FullName, fp32.Input(), "--eval-data");
        var ey = ModelData.ReadLabels(evalLabels!.FullName, rows, "--eval-labels");
        Model q; QuantReport report; List<string> kept;
        if (maxDrop is { } p)
        {
            (q, report, kept, var allInt8) = AccuracyBudget.Fit(fp32, ranges, ex, ey, p, keep, Console.WriteLine);
            if (report.Layers.Count == 0)
            {
                Console.Write(allInt8);
                string why = $"--max-accuracy-drop {p}: int8 loses {100 * allInt8.Drop:F2} points, and the budget is met only with every layer in fp32";
                if (!acceptFp32) throw new InvalidDataException($"{why}; nothing was written (--accept-fp32-fallback writes the fp32 model)");
                Console.WriteLine($"warning: {why}: writing the fp32 model (--accept-fp32-fallback)");
                return fp32;
            }
        }
        else { q = Quantizer.Quantize(fp32, ranges, keep); kept = [.. keep]; report = QuantReport.Evaluate(fp32, q, ex, ey, Quantizer.Candidates(fp32).Where(l => !keep.Contains(l)).ToList()); }
        Console.Write(report);
        if (kept.Count > 0) Console.WriteLine($"kept in fp32: {string.Join(", ", kept)}");
        return q;
    }
}
