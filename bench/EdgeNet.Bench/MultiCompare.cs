using System.Diagnostics;
using EdgeNet.Converter;
using EdgeNet.Engine;
using EdgeNet.Io;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNet.Bench;

/// <summary>
/// `multi MODEL.onnx L NAME=X.npy ...`: EdgeNet against ONNX Runtime on a model with several int64 inputs of shape
/// [1, T] (token ids, masks: the BERT family), each padded with zeros to [1, L] (a mask of 0 past the real tokens, as
/// the sentences example feeds it). Converted at [1, L]; one thread each; warm-up of 3 s, then 5 rounds of 10 runs
/// of each engine in turn; prints both p50s, their ratio and the largest difference of the first output.
/// </summary>
public static class MultiCompare
{
    public static int Run(string onnx, int length, string[] inputs, TextWriter log)
    {
        var feeds = inputs.Select(a => a.Split('=', 2)).Select(p => (Name: p[0], Values: Pad(Npy.Read(p[1]).Longs!, length))).ToList();
        var model = OnnxImporter.Convert(onnx, new ConvertOptions { InputShapes = feeds.ToDictionary(f => f.Name, _ => new[] { 1, length }) });
        using var session = new Session(model, 1, KernelOptions.Default with { Threads = 1 });
        using var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        using var ort = new InferenceSession(onnx, so);
        var ins = feeds.Select(f => OrtValue.CreateTensorValueFromMemory(f.Values, [1L, length])).ToArray();
        string[] inNames = feeds.Select(f => f.Name).ToArray(), outNames = [ort.OutputMetadata.Keys.First()];
        using var runOpts = new RunOptions();
        void Fill() { foreach (var f in feeds) f.Values.CopyTo(session.Input<long>(f.Name, 1)); }
        float[] RunOrt() { using var r = ort.Run(runOpts, inNames, ins, outNames); return r[0].GetTensorDataAsSpan<float>().ToArray(); }

        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 3000) { Fill(); session.Run(1); RunOrt(); }
        var te = new List<double>(); var to = new List<double>();
        for (int round = 0; round < 5; round++)
        {
            for (int i = 0; i < 10; i++) { Fill(); long t0 = Stopwatch.GetTimestamp(); session.Run(1); te.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds); }
            for (int i = 0; i < 10; i++) { long t0 = Stopwatch.GetTimestamp(); RunOrt(); to.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds); }
        }
        te.Sort(); to.Sort();
        var yOrt = RunOrt(); Fill(); session.Run(1);
        var y = session.Output(session.OutputIndex(outNames[0]));
        double diff = 0, max = 0;
        for (int i = 0; i < y.Length; i++) { diff = Math.Max(diff, Math.Abs(y[i] - yOrt[i])); max = Math.Max(max, Math.Abs(yOrt[i])); }
        double pe = te[te.Count / 2], po = to[to.Count / 2];
        log.WriteLine($"{Path.GetFileNameWithoutExtension(onnx)} L={length}: EdgeNet p50 {pe:F1} µs | ORT p50 {po:F1} µs | EdgeNet/ORT {pe / po:F2} | min ratio {te[0] / to[0]:F2} | max|Δ| {diff:G2} of max {max:G3}");
        foreach (var v in ins) v.Dispose();
        return 0;
    }

    static long[] Pad(long[] v, int length)
    {
        if (v.Length > length) throw new ArgumentException($"{v.Length} tokens do not fit in {length}");
        var p = new long[length];
        v.CopyTo(p, 0);
        return p;
    }
}
