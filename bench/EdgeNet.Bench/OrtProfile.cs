using System.Text.Json;
using EdgeNet.Io;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNet.Bench;

/// <summary>ONNX Runtime's own per-node profile (its JSON trace, one thread), summed by node and sorted: the other half
/// of `edgenet bench --profile` when a model is slower than ORT and the question is which op loses.</summary>
public static class OrtProfile
{
    public static void Run(string onnx, string? input, int runs, TextWriter log) => Run(onnx, input is null ? [] : [input], runs, log);

    /// <summary>Inputs as "X.npy" (the first graph input) or "NAME=X.npy" each (several inputs, float32 or int64 at the
    /// file's shape: MiniLM's ids and mask, Silero's input/state/sr).</summary>
    public static void Run(string onnx, string[] inputs, int runs, TextWriter log)
    {
        using var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        string prefix = Path.Combine(Path.GetTempPath(), $"ort-profile-{Environment.ProcessId}");
        so.EnableProfiling = true;
        so.ProfileOutputPathPrefix = prefix;
        using var ort = new InferenceSession(onnx, so);
        var meta = ort.InputMetadata.First();
        var names = new List<string>(); var values = new List<OrtValue>();
        if (inputs.Length == 1 && !inputs[0].Contains('='))
        {
            // The input file's shape where given: a model with symbolic dimensions (PP-OCR's [N,3,H,W]) would otherwise run on 1×1.
            var npy = Npy.Read(inputs[0]);
            names.Add(meta.Key); values.Add(OrtValue.CreateTensorValueFromMemory(npy.Floats!, npy.Shape.Select(d => (long)d).ToArray()));
        }
        else if (inputs.Length == 0)
        {
            long[] shape = meta.Value.Dimensions.Select(d => (long)Math.Max(1, d)).ToArray();
            names.Add(meta.Key); values.Add(OrtValue.CreateTensorValueFromMemory(new float[shape.Aggregate(1L, (a, d) => a * d)], shape));
        }
        else
            foreach (var spec in inputs)
            {
                var (name, npy) = (spec[..spec.IndexOf('=')], Npy.Read(spec[(spec.IndexOf('=') + 1)..]));
                long[] shape = npy.Shape.Select(d => (long)d).ToArray();
                names.Add(name);
                values.Add(npy.Floats is { } f ? OrtValue.CreateTensorValueFromMemory(f, shape) : OrtValue.CreateTensorValueFromMemory(npy.Longs!, shape));
            }
        for (int i = 0; i < runs; i++) { using var r = ort.Run(new RunOptions(), names, values, ort.OutputNames); }
        foreach (var v in values) v.Dispose();
        string file = ort.EndProfiling();
        var perNode = new Dictionary<string, (string Op, double Us, int N, double Min)>();
        using (var doc = JsonDocument.Parse(File.ReadAllText(file)))
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node" || !e.GetProperty("name").GetString()!.EndsWith("_kernel_time")) continue;
                string name = e.GetProperty("name").GetString()![..^"_kernel_time".Length];
                string op = e.GetProperty("args").GetProperty("op_name").GetString()!;
                var cur = perNode.GetValueOrDefault(name, (op, 0, 0, double.MaxValue));
                double dur = e.GetProperty("dur").GetDouble();
                perNode[name] = (op, cur.Us + dur, cur.N + 1, Math.Min(cur.Min, dur));
            }
        File.Delete(file);
        // The first runs are warm-up; a node's mean over all runs is close enough for ranking. The fastest run of each
        // node beside it: on a loaded machine the figure to set against conv-probe's minima.
        double total = perNode.Values.Sum(v => v.Us / v.N), fastest = perNode.Values.Sum(v => v.Min);
        log.WriteLine($"{onnx}: ORT, 1 thread, {runs} runs, kernel time {total:F1} µs per run (sum of node minima {fastest:F1}); columns: mean µs, %, min µs");
        foreach (var (name, v) in perNode.OrderByDescending(kv => kv.Value.Us / kv.Value.N))
            log.WriteLine($"{name,-60} {v.Op,-22} {v.Us / v.N,8:F1} {100 * v.Us / v.N / total,6:F1} {v.Min,8:F1}");
    }
}
