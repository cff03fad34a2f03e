using System.Diagnostics;
using System.Text;
using EdgeNet.Converter;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Io;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNet.Bench;

/// <summary>
/// EdgeNet against ONNX Runtime on the same inputs, in the same process, runs interleaved (one of each in turn) so
/// that machine noise hits both alike. Prints p50/p90 and the EdgeNet/ORT ratio; writes markdown and a PNG chart.
/// </summary>
public static class Compare
{
    public sealed record Case(string Name, string Onnx, string? OrtOnnx, string? Input, int Batch)
    {
        /// <summary>Quantize EdgeNet's model with its own PTQ (calibrated on the input) before timing.</summary>
        public bool Ptq { get; init; }
        /// <summary>Convert with the first input's shape taken from <see cref="Input"/>'s .npy (symbolic dimensions made concrete).</summary>
        public bool FixInputShape { get; init; }
        /// <summary>Several graph inputs by name, each from its .npy (float32 or int64) at the file's exact shape, made
        /// concrete at conversion; replaces <see cref="Input"/>. Every output is bound for ORT and compared by name.</summary>
        public (string Name, string Npy)[]? Inputs { get; init; }
        /// <summary>Inputs of <see cref="Inputs"/> whose value is folded at conversion (`edgenet-convert --input-value`:
        /// Silero VAD's sample rate, which selects an If branch).</summary>
        public string[] FixedValues { get; init; } = [];
    }
    public sealed record Row(string Model, int Threads, double EdgeP50, double EdgeP90, double OrtP50, double OrtP90, long AllocatedPerRun, double MaxAbsDiff)
    {
        public double Ratio => EdgeP50 / OrtP50;
    }

    public static List<Case> DefaultCases(string shared)
    {
        string perf = Path.Combine(shared, "perf"), fx = Path.Combine(shared, "fixtures");
        return
        [
            new("digits MLP b1", Path.Combine(fx, "mlp_digits.onnx"), null, null, 1),
            new("digits CNN b1", Path.Combine(fx, "cnn_digits.onnx"), null, null, 1),
            new("digits LSTM b1", Path.Combine(fx, "lstm_digits.onnx"), null, null, 1),
            new("HAR LSTM fp32", Path.Combine(perf, "har_lstm_128x9.onnx"), null, Path.Combine(perf, "har_lstm_128x9_input.npy"), 1),
            new("MobileNetV2-0.35-96 fp32", Path.Combine(perf, "mobilenetv2_035_96.onnx"), null, Path.Combine(perf, "mobilenetv2_035_96_input.npy"), 1),
            new("MobileNetV2-1.0-224 fp32", Path.Combine(perf, "mobilenetv2_100_224.onnx"), null, Path.Combine(perf, "mobilenetv2_100_224_input.npy"), 1),
        ];
    }

    public static List<Row> Run(IEnumerable<Case> cases, int[] threads, int iters, TextWriter log)
    {
        var rows = new List<Row>();
        foreach (var c in cases)
        {
            if (!File.Exists(c.Onnx)) { log.WriteLine($"skip {c.Name}: {c.Onnx} not found"); continue; }
            if (c.Inputs is not null) { rows.AddRange(RunNamed(c, threads, iters, log)); continue; }
            var options = new ConvertOptions();
            if (c.FixInputShape && c.Input is not null)
            {
                using var probe = new InferenceSession(c.OrtOnnx ?? c.Onnx);
                options = new ConvertOptions { InputShapes = new Dictionary<string, int[]> { [probe.InputMetadata.Keys.First()] = Npy.Read(c.Input).Shape } };
            }
            var model = OnnxImporter.Convert(c.Onnx, options);
            if (c.Ptq && c.Input is not null)
                model = EdgeNet.Quant.Quantizer.Quantize(model, EdgeNet.Quant.Calibration.Collect(model, Npy.Read(c.Input).Floats!, EdgeNet.Quant.CalibrationMethod.MinMax));
            int batch = Shape.HasBatch(model.Input().Shape) ? c.Batch : 1;
            var shape = model.Input().Shape.Select(d => Shape.Resolve(d, batch)).ToArray();
            long count = shape.Aggregate(1L, (a, d) => a * d);
            float[] x = c.Input is not null ? Npy.Read(c.Input).Floats! : RandomInput(count);
            foreach (int t in threads)
            {
                using var session = new Session(model, batch, KernelOptions.Default with { Threads = t });   // the same intra-op threads as ORT
                using var so = new SessionOptions { IntraOpNumThreads = t, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
                so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
                using var ort = new InferenceSession(c.OrtOnnx ?? c.Onnx, so);
                var outShape = ort.OutputMetadata.Values.First().Dimensions.Select(d => d < 0 ? batch : d).Select(d => (long)d).ToArray();
                if (ort.OutputMetadata.Values.First().Dimensions.Skip(1).Any(d => d < 0))   // symbolic beyond the batch: ask ORT once
                {
                    using var probeIn = OrtValue.CreateTensorValueFromMemory(x, shape.Select(d => (long)d).ToArray());
                    using var probeOut = ort.Run(new RunOptions(), [ort.InputMetadata.Keys.First()], [probeIn], [ort.OutputMetadata.Keys.First()]);
                    outShape = probeOut[0].GetTensorTypeAndShape().Shape;
                }
                var yOrt = new float[outShape.Aggregate(1L, (a, d) => a * d)];
                using var inVal = OrtValue.CreateTensorValueFromMemory(x, shape.Select(d => (long)d).ToArray());
                using var outVal = OrtValue.CreateTensorValueFromMemory(yOrt, outShape);
                using var runOpts = new RunOptions();
                string[] inNames = [ort.InputMetadata.Keys.First()], outNames = [ort.OutputMetadata.Keys.First()];
                OrtValue[] ins = [inVal], outs = [outVal];

                // Each engine reads the input where the caller put it: ORT from the bound OrtValue over x, EdgeNet from
                // its session's input tensor, filled before the clock starts (a copy of MobileNetV2's 600 KB input
                // is 20-30 µs, which ORT's timing does not include either).
                void Fill() => x.AsSpan().CopyTo(session.Input(0, batch));
                void RunEdge() => session.Run(batch);
                void RunOrt() => ort.Run(runOpts, inNames, ins, outNames, outs);

                var (te, to, alloc) = Time(Fill, RunEdge, RunOrt, iters);
                var edgeOut = session.Output(0);
                double diff = 0;
                for (int i = 0; i < Math.Min(edgeOut.Length, yOrt.Length); i++) diff = Math.Max(diff, Math.Abs(edgeOut[i] - yOrt[i]));
                rows.Add(Report(c.Name, t, te, to, alloc, diff, log));
            }
        }
        return rows;
    }

    /// <summary>Warms both engines up (JIT tiers, caches), then runs them interleaved; returns both sorted times (µs)
    /// and EdgeNet's bytes allocated per run.</summary>
    static (double[] Edge, double[] Ort, long Alloc) Time(Action fill, Action runEdge, Action runOrt, int iters)
    {
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 300) { fill(); runEdge(); runOrt(); }
        int n = iters > 0 ? iters : Math.Clamp((int)(2000.0 / Math.Max(0.001, warm.Elapsed.TotalMilliseconds / 50)), 50, 5000);
        var te = new double[n]; var to = new double[n];
        long alloc = 0;
        for (int i = 0; i < n; i++)
        {
            fill();
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            long s0 = Stopwatch.GetTimestamp();
            runEdge();
            te[i] = Stopwatch.GetElapsedTime(s0).TotalMicroseconds;
            alloc += GC.GetAllocatedBytesForCurrentThread() - a0;
            long s1 = Stopwatch.GetTimestamp();
            runOrt();
            to[i] = Stopwatch.GetElapsedTime(s1).TotalMicroseconds;
        }
        Array.Sort(te); Array.Sort(to);
        return (te, to, alloc / n);
    }

    static Row Report(string name, int threads, double[] te, double[] to, long alloc, double diff, TextWriter log)
    {
        var row = new Row(name, threads, P(te, 0.5), P(te, 0.9), P(to, 0.5), P(to, 0.9), alloc, diff);
        log.WriteLine($"{row.Model,-28} threads {threads}: EdgeNet p50 {row.EdgeP50,9:F1} µs p90 {row.EdgeP90,9:F1} | ORT p50 {row.OrtP50,9:F1} µs p90 {row.OrtP90,9:F1} | ratio {row.Ratio,5:F2} | alloc {row.AllocatedPerRun} B | max|Δ| {row.MaxAbsDiff:G2} | p10 ratio {P(te, 0.1) / P(to, 0.1):F2}");   // the fast tail: least disturbed on a loaded machine
        return row;
    }

    /// <summary>A case with named inputs (<see cref="Case.Inputs"/>): float32 and int64 feeds at their files' shapes,
    /// every output bound for ORT (preallocated, shapes from one probe run) and compared with EdgeNet's by name.</summary>
    static List<Row> RunNamed(Case c, int[] threads, int iters, TextWriter log)
    {
        var rows = new List<Row>();
        var feeds = c.Inputs!.Select(f => (f.Name, Data: Npy.Read(f.Npy))).ToList();
        static double[] Values(NpyArray a) => a.Floats?.Select(v => (double)v).ToArray() ?? a.Longs!.Select(v => (double)v).ToArray();
        var model = OnnxImporter.Convert(c.Onnx, new ConvertOptions
        {
            InputShapes = feeds.Where(f => f.Data.Shape.Length > 0).ToDictionary(f => f.Name, f => f.Data.Shape),
            InputValues = feeds.Where(f => c.FixedValues.Contains(f.Name)).ToDictionary(f => f.Name, f => Values(f.Data)),
        });
        foreach (int t in threads)
        {
            using var session = new Session(model, 1, KernelOptions.Default with { Threads = t });
            using var so = new SessionOptions { IntraOpNumThreads = t, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            using var ort = new InferenceSession(c.OrtOnnx ?? c.Onnx, so);
            // An input the converter found unused is not EdgeNet's (ORT still takes it).
            var edgeNames = Enumerable.Range(0, model.Inputs.Count).Select(i => model.Input(i).Name).ToList();
            var edgeIn = feeds.Where(f => edgeNames.Contains(f.Name))
                .Select(f => (Index: session.InputIndex(f.Name), Bytes: f.Data.ToBytes(session.InputType(session.InputIndex(f.Name)), out _))).ToArray();
            var ins = feeds.Select(f =>
            {
                long[] shape = f.Data.Shape.Select(d => (long)d).ToArray();
                return f.Data.Floats is { } x ? OrtValue.CreateTensorValueFromMemory(x, shape) : OrtValue.CreateTensorValueFromMemory(f.Data.Longs!, shape);
            }).ToArray();
            string[] inNames = feeds.Select(f => f.Name).ToArray(), outNames = ort.OutputNames.ToArray();
            using var runOpts = new RunOptions();
            long[][] outShapes;
            using (var probe = ort.Run(runOpts, inNames, ins, outNames))   // outputs' shapes (symbolic dimensions made concrete)
                outShapes = probe.Select(v => v.GetTensorTypeAndShape().Shape).ToArray();
            var yOrt = outShapes.Select(s => new float[s.Aggregate(1L, (a, d) => a * d)]).ToArray();
            var outs = yOrt.Select((y, k) => OrtValue.CreateTensorValueFromMemory(y, outShapes[k])).ToArray();

            void Fill() { foreach (var (index, bytes) in edgeIn) bytes.CopyTo(session.InputBytes(index, 1)); }
            void RunEdge() => session.Run(1);
            void RunOrt() => ort.Run(runOpts, inNames, ins, outNames, outs);
            var (te, to, alloc) = Time(Fill, RunEdge, RunOrt, iters);

            double diff = 0;
            for (int k = 0; k < outNames.Length; k++)
            {
                var y = session.Output(session.OutputIndex(outNames[k]));
                for (int i = 0; i < Math.Min(y.Length, yOrt[k].Length); i++) diff = Math.Max(diff, Math.Abs(y[i] - yOrt[k][i]));
            }
            rows.Add(Report(c.Name, t, te, to, alloc, diff, log));
            foreach (var v in ins) v.Dispose();
            foreach (var v in outs) v.Dispose();
        }
        return rows;
    }

    static double P(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    static float[] RandomInput(long n)
    {
        var rng = new Random(0);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)rng.NextDouble();
        return a;
    }

    public static string Markdown(List<Row> rows, string machine)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# EdgeNet vs ONNX Runtime ({machine}, {DateTime.UtcNow:yyyy-MM-dd})");
        sb.AppendLine();
        sb.AppendLine("EdgeNet and ORT with the same intra-op threads (shown). Latency in µs, interleaved runs, same input.");
        sb.AppendLine();
        sb.AppendLine("| model | threads | EdgeNet p50 | EdgeNet p90 | ORT p50 | ORT p90 | EdgeNet/ORT p50 | bytes allocated per run | max abs diff |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
            sb.AppendLine($"| {r.Model} | {r.Threads} | {r.EdgeP50:F1} | {r.EdgeP90:F1} | {r.OrtP50:F1} | {r.OrtP90:F1} | {r.Ratio:F2} | {r.AllocatedPerRun} | {r.MaxAbsDiff:G2} |");
        return sb.ToString();
    }

    public static void Chart(List<Row> rows, string path)
    {
        var one = rows.Where(r => r.Threads == rows.Min(x => x.Threads)).ToList();
        var plt = new ScottPlot.Plot();
        var bars = one.Select((r, i) => new ScottPlot.Bar { Position = i, Value = r.Ratio, FillColor = r.Ratio <= 1 ? ScottPlot.Colors.SeaGreen : ScottPlot.Colors.IndianRed }).ToList();
        plt.Add.Bars(bars);
        var line = plt.Add.HorizontalLine(1.0);
        line.LinePattern = ScottPlot.LinePattern.Dashed;
        plt.Axes.Bottom.SetTicks(Enumerable.Range(0, one.Count).Select(i => (double)i).ToArray(), one.Select(r => r.Model.Replace(" (vs ORT fp32)", "")).ToArray());
        plt.Axes.Bottom.TickLabelStyle.Rotation = 35;
        plt.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plt.Axes.Bottom.MinimumSize = 150;
        plt.Axes.Margins(bottom: 0);
        plt.YLabel("EdgeNet / ORT, p50 (lower is faster)");
        plt.Title("EdgeNet vs ONNX Runtime, one thread");
        plt.SavePng(path, 900, 520);
    }
}
