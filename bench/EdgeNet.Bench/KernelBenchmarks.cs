using BenchmarkDotNet.Attributes;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Training;

namespace EdgeNet.Bench;

/// <summary>Each kernel against its reference at the shapes that matter: MobileNetV2's pointwise and depthwise
/// layers, an LSTM(64) over 128 steps, Dense at batch 1 and 8; and one fine-tuning step of the digits CNN.</summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    Session fast = null!, slow = null!;
    [Params("pointwise 56x56 24->144", "depthwise 3x3 112x112x32", "depthwise 3x3 s2 56x56x144", "lstm64 x128", "dense 1280->1000 b1", "dense 512->512 b8")]
    public string Shape { get; set; } = "";

    static float[] R(int n, int seed) { var r = new Random(seed); return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray(); }

    [GlobalSetup]
    public void Setup()
    {
        var g = new GraphBuilder();
        int y;
        switch (Shape)
        {
            case "pointwise 56x56 24->144": { int x = g.Input("x", 1, 24, 56, 56); y = g.Add(OpType.Conv, [x, g.Constant("w", R(144 * 24, 1), 144, 24, 1, 1), g.Constant("b", R(144, 2), 144)], new Attributes().Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f)); break; }
            case "depthwise 3x3 112x112x32": { int x = g.Input("x", 1, 32, 112, 112); y = g.Add(OpType.Conv, [x, g.Constant("w", R(32 * 9, 1), 32, 1, 3, 3), g.Constant("b", R(32, 2), 32)], new Attributes().Set("group", 32L).Set("pads", new long[] { 1, 1, 1, 1 })); break; }
            case "depthwise 3x3 s2 56x56x144": { int x = g.Input("x", 1, 144, 56, 56); y = g.Add(OpType.Conv, [x, g.Constant("w", R(144 * 9, 1), 144, 1, 3, 3), g.Constant("b", R(144, 2), 144)], new Attributes().Set("group", 144L).Set("pads", new long[] { 1, 1, 1, 1 }).Set("strides", new long[] { 2, 2 })); break; }
            case "lstm64 x128": { int x = g.Input("x", 128, 1, 64); y = g.Add(OpType.Lstm, [x, g.Constant("W", R(256 * 64, 1), 1, 256, 64), g.Constant("R", R(256 * 64, 2), 1, 256, 64), g.Constant("B", R(512, 3), 1, 512)], new Attributes().Set("hidden_size", 64L), outputs: 3); break; }
            case "dense 1280->1000 b1": { int x = g.Input("x", 1, 1280); y = g.Add(OpType.Dense, [x, g.Constant("w", R(1000 * 1280, 1), 1000, 1280), g.Constant("b", R(1000, 2), 1000)]); break; }
            default: { int x = g.Input("x", 8, 512); y = g.Add(OpType.Dense, [x, g.Constant("w", R(512 * 512, 1), 512, 512), g.Constant("b", R(512, 2), 512)]); break; }
        }
        var m = g.Build(y);
        fast = new Session(m, 1); slow = new Session(m, 1, KernelOptions.Default with { Reference = true });
        R((int)fast.InputSampleSize(), 9).CopyTo(fast.Input(0, 1)); R((int)slow.InputSampleSize(), 9).CopyTo(slow.Input(0, 1));
    }

    [Benchmark(Baseline = true)] public void Reference() => slow.Run(1);
    [Benchmark] public void Vectorized() => fast.Run(1);
}

/// <summary>One SGD step (forward, backward, update) of the digits CNN at batch 8.</summary>
[MemoryDiagnoser]
public class FineTuneStepBenchmark
{
    TrainingSession s = null!; Optimizer opt = null!; float[] x = null!; long[] y = null!; FineTuneOptions o = null!;

    [GlobalSetup]
    public void Setup()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "EdgeNet.sln"))) root = root.Parent!;
        var fx = Path.Combine(root.FullName, "tests", "fixtures", "finetune");
        s = new TrainingSession(EdgeNet.Converter.OnnxImporter.Convert(Path.Combine(fx, "cnn_digits04.onnx")), 8);
        o = new FineTuneOptions { Optimizer = new OptimizerOptions { LearningRate = 0.01f, Momentum = 0.9f } };
        opt = new Optimizer(o.Optimizer);
        x = EdgeNet.Io.Npy.Read(Path.Combine(fx, "finetune_x.npy")).Floats!.AsSpan(0, 8 * 64).ToArray();
        y = EdgeNet.Io.Npy.Read(Path.Combine(fx, "finetune_y.npy")).Longs!.AsSpan(0, 8).ToArray();
    }

    [Benchmark] public float CnnStepBatch8() => FineTuner.Step(s, x, y, 8, opt, 0.001f, o);
}

/// <summary>The int8 kernels against their references (the NCHW scalar kernels) on MobileNetV2-shaped layers,
/// quantized by EdgeNet's own PTQ: the stem with the depthwise conv after it (channels-last plan: VNNI stem and
/// int8 depthwise), an inverted-residual block at 56×56 (pointwise 24→144, depthwise, 144→24), Dense at batch 8.</summary>
[MemoryDiagnoser]
public class Int8KernelBenchmarks
{
    Session fast = null!, slow = null!;
    [Params("stem 3x224x224->32 s2 + dw", "block 56x56 24->144->24", "dense 1280->1000 b8")]
    public string Shape { get; set; } = "";

    static float[] R(int n, int seed) { var r = new Random(seed); return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray(); }

    [GlobalSetup]
    public void Setup()
    {
        var g = new GraphBuilder();
        var relu6 = new Attributes().Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f);
        int y, batch = 1;
        switch (Shape)
        {
            case "stem 3x224x224->32 s2 + dw":
            {
                int x = g.Input("x", -1, 3, 224, 224);
                int s = g.Add(OpType.Conv, [x, g.Constant("ws", R(32 * 27, 1), 32, 3, 3, 3), g.Constant("bs", R(32, 2), 32)], new Attributes().Set("strides", new long[] { 2, 2 }).Set("pads", new long[] { 1, 1, 1, 1 }).Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f));
                y = g.Add(OpType.Conv, [s, g.Constant("wd", R(32 * 9, 3), 32, 1, 3, 3), g.Constant("bd", R(32, 4), 32)], new Attributes().Set("group", 32L).Set("pads", new long[] { 1, 1, 1, 1 }));
                break;
            }
            case "block 56x56 24->144->24":
            {
                int x = g.Input("x", -1, 24, 56, 56);
                int e = g.Add(OpType.Conv, [x, g.Constant("we", R(144 * 24, 1), 144, 24, 1, 1), g.Constant("be", R(144, 2), 144)], relu6);
                int d = g.Add(OpType.Conv, [e, g.Constant("wd", R(144 * 9, 3), 144, 1, 3, 3), g.Constant("bd", R(144, 4), 144)], new Attributes().Set("group", 144L).Set("pads", new long[] { 1, 1, 1, 1 }).Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f));
                y = g.Add(OpType.Conv, [d, g.Constant("wp", R(24 * 144, 5), 24, 144, 1, 1), g.Constant("bp", R(24, 6), 24)]);
                break;
            }
            default:
            {
                batch = 8;
                int x = g.Input("x", -1, 1280);
                y = g.Add(OpType.Dense, [x, g.Constant("w", R(1000 * 1280, 1), 1000, 1280), g.Constant("b", R(1000, 2), 1000)]);
                break;
            }
        }
        var fp32 = g.Build(y);
        var rows = R((int)(fp32.Input().Elements(1) * 8), 7);   // calibration rows, and the input of up to 8 samples
        var m = EdgeNet.Quant.Quantizer.Quantize(fp32, EdgeNet.Quant.Calibration.Collect(fp32, rows, EdgeNet.Quant.CalibrationMethod.MinMax));
        fast = new Session(m, batch); slow = new Session(m, batch, KernelOptions.Default with { Reference = true });
        rows.AsSpan(0, (int)fast.InputSampleSize() * batch).CopyTo(fast.Input(0, batch)); rows.AsSpan(0, (int)slow.InputSampleSize() * batch).CopyTo(slow.Input(0, batch));
        this.batch = batch;
    }

    int batch;
    [Benchmark(Baseline = true)] public void Reference() => slow.Run(batch);
    [Benchmark] public void Vectorized() => fast.Run(batch);
}
