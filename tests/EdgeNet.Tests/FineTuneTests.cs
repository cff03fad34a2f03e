using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using EdgeNet.Converter;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Io;
using EdgeNet.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// Fine-tuning against PyTorch's own trajectories (../shared/fixtures, manifest → finetune_reference): the loss before
/// each of 5 steps, every gradient at step 0, every parameter after step 5, and the saved model's logits.
/// </summary>
public class FineTuneTests(ITestOutputHelper output)
{
    static string F(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "finetune", file);
    static readonly JsonElement References = JsonDocument.Parse(File.ReadAllText(F("manifest.json"))).RootElement.GetProperty("finetune_reference");

    public static TheoryData<string> Cases() => new(References.EnumerateObject().Select(p => p.Name));

    internal static Dictionary<string, float[]> Npz(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        return zip.Entries.ToDictionary(e => e.Name[..^4], e =>
        {
            using var s = e.Open(); using var ms = new MemoryStream(); s.CopyTo(ms);
            return Npy.Parse(ms.ToArray()).Floats!;
        });
    }

    /// <summary>EdgeNet's parameters under PyTorch's names (ONNX LSTM gate order i,o,f,c back to PyTorch's i,f,g,o).</summary>
    static Dictionary<string, float[]> AsTorch(Parameter[] ps, string[] torchNames, Func<Parameter, float[]> pick)
    {
        var r = new Dictionary<string, float[]>();
        if (ps.Length == torchNames.Length) { for (int i = 0; i < ps.Length; i++) r[torchNames[i]] = pick(ps[i]); return r; }
        // LSTM: W, R, B then the head's weight and bias.
        float[] w = pick(ps[0]), rr = pick(ps[1]), b = pick(ps[2]);
        int h4 = ps[0].Shape[1];
        r[torchNames[0]] = Reorder(w, h4); r[torchNames[1]] = Reorder(rr, h4);
        r[torchNames[2]] = Reorder(b[..h4], h4); r[torchNames[3]] = Reorder(b[h4..], h4);
        r[torchNames[4]] = pick(ps[3]); r[torchNames[5]] = pick(ps[4]);
        return r;
    }

    static float[] Reorder(float[] onnx, int h4)
    {
        int h = h4 / 4, per = onnx.Length / h4;
        var t = new float[onnx.Length];
        int[] torchFromOnnx = [0, 2, 3, 1];   // torch block k (i, f, g, o) is onnx block (i, f, c, o) = (0, 2, 3, 1)
        for (int k = 0; k < 4; k++) Array.Copy(onnx, torchFromOnnx[k] * h * per, t, k * h * per, h * per);
        return t;
    }

    static OptimizerOptions Optimizer(JsonElement r)
    {
        var h = r.GetProperty("hyper");
        float Get(string k) => h.TryGetProperty(k, out var v) ? v.GetSingle() : 0f;
        return new OptimizerOptions
        {
            Kind = r.GetProperty("optimizer").GetString() switch { "Adam" => OptimizerKind.Adam, "RMSprop" => OptimizerKind.RmsProp, _ => OptimizerKind.Sgd },
            LearningRate = Get("lr"), Momentum = Get("momentum"), WeightDecay = Get("weight_decay"),
        };
    }

    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [MemberData(nameof(Cases))]
    public void Five_steps_match_pytorch(string name)
    {
        var r = References.GetProperty(name);
        var model = OnnxImporter.Convert(F(r.GetProperty("start").GetString()!));
        var x = Fixtures.Floats(F("finetune_x.npy")); var y = Fixtures.Longs(F("finetune_y.npy"));
        long sample = model.Input().Elements(1);
        var s = new Training.TrainingSession(model, 8);
        var opts = new FineTuneOptions { Optimizer = Optimizer(r) };
        var opt = new Training.Optimizer(opts.Optimizer);
        var torchNames = r.GetProperty("param_names").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var losses = r.GetProperty("loss_before_each_step").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        for (int k = 0; k < 5; k++)
        {
            float loss = FineTuner.Step(s, x.AsSpan((int)(8 * k * sample), (int)(8 * sample)), y.AsSpan(8 * k, 8), 8, opt, opts.Optimizer.LearningRate, opts);
            output.WriteLine($"{name} step {k}: loss {loss} (PyTorch {losses[k]}, rel {Math.Abs(loss - losses[k]) / losses[k]:G3})");
            Assert.True(Math.Abs(loss - losses[k]) <= 1e-4 * Math.Abs(losses[k]), $"step {k}: loss {loss} vs {losses[k]}");
            if (k == 0 && r.GetProperty("grads_step0").ValueKind == JsonValueKind.String)
            {
                var expected = Npz(F(r.GetProperty("grads_step0").GetString()!));
                foreach (var (pn, g) in AsTorch(s.Parameters, torchNames, p => p.Grad))
                {
                    output.WriteLine($"  grad {pn}: max |diff| {Golden.MaxAbsDiff(expected[pn], g):G3}");
                    Golden.Close(expected[pn], g, 1e-4f, 0, $"grad {pn}");
                }
            }
        }
        var after = Npz(F(r.GetProperty("params_after").GetString()!));
        bool adaptive = opts.Optimizer.Kind != OptimizerKind.Sgd;
        foreach (var (pn, v) in AsTorch(s.Parameters, torchNames, p => p.Value))
        {
            int over = Enumerable.Range(0, v.Length).Count(i => Math.Abs(v[i] - after[pn][i]) > 1e-4f);
            output.WriteLine($"  param {pn} after 5 steps: max |diff| {Golden.MaxAbsDiff(after[pn], v):G3}, {over} of {v.Length} elements over 1e-4");
            // RMSprop and Adam divide by the gradient's running magnitude, so a weight whose gradient is at the float
            // noise floor (|g| ~ 1e-7, next to eps = 1e-8) moves by amounts that depend on rounding: allow 0.1% of
            // elements up to 1e-3. SGD must match everywhere.
            if (adaptive && over <= v.Length / 1000) Golden.Close(after[pn], v, 1e-3f, 0, $"param {pn}");
            else Golden.Close(after[pn], v, 1e-4f, 0, $"param {pn}");
        }

        // The saved model's logits on the test set against ONNX Runtime running PyTorch's 5-step model.
        var dir = Fixtures.TempDir();
        ModelFile.Save(s.Export(), Path.Combine(dir, "tuned.enet"));
        SavedLogitsMatchPytorch(Path.Combine(dir, "tuned.enet"), F(r.GetProperty("after").GetString()!));
    }

    /// <summary>The saved model's logits on the test set against ONNX Runtime running PyTorch's 5-step model.</summary>
    void SavedLogitsMatchPytorch(string enet, string afterOnnx)
    {
        Assert.True(File.Exists(afterOnnx), $"reference {afterOnnx} is missing (copy it from ../shared/fixtures)");
        var tuned = ModelFile.Load(enet);
        var testX = Fixtures.Floats(Fixtures.Digits("digits_test_x.npy"));
        using var sess = new Session(tuned, 64);
        var ours = BatchRunner.RunAll(sess, testX, out int rows);
        using var ort = new InferenceSession(afterOnnx);
        var shape = tuned.Input().Shape.Select(d => d < 0 ? rows : d).ToArray();
        using var res = ort.Run([NamedOnnxValue.CreateFromTensor(ort.InputMetadata.Keys.First(), new DenseTensor<float>(testX, shape))]);
        var theirs = res.First().AsEnumerable<float>().ToArray();
        output.WriteLine($"  saved model logits vs ORT(PyTorch 5-step model): max |diff| {Golden.MaxAbsDiff(theirs, ours):G3}");
        Golden.Close(theirs, ours, 1e-3f, 0, "logits after 5 steps");
    }

    /// <summary>
    /// Which axis holds the batch: moved by a Transpose, kept by a Reshape that adds or drops unit dimensions or keeps
    /// each sample contiguous, lost by one that regroups a strided tensor; rows round-trip through a batch along it.
    /// </summary>
    [Fact]
    public void Batch_axis_is_tracked_through_transposes_and_reshapes()
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 3, 2);
        int t = g.Add(OpType.Transpose, [x], new Attributes().Set("perm", new long[] { 1, 0, 2 }));   // [3, N, 2]
        int unit = g.Reshape(t, [3, 1, -1, 2]);
        int mixed = g.Reshape(t, [-1, 6]);          // [3N, 2] read as N rows of 6: samples interleaved
        int flat = g.Reshape(x, [-3, 2]);           // [3N, 2] from the batch-first input: each sample 3 contiguous rows
        var m = g.Build(unit, mixed, flat);
        var axes = BatchAxis.Track(m, m.Nodes);
        Assert.Equal(new BatchAxis(1, 3, 2), axes[t]);
        Assert.Equal(new BatchAxis(2, 3, 2), axes[unit]);
        Assert.False(axes.ContainsKey(mixed));
        Assert.Equal(new BatchAxis(0, 1, 6), axes[flat]);

        // Two samples (0..5 and 10..15) laid out [3, 2, 2] along axis 1, and back.
        float[] rows = [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15];
        var batch = new float[12];
        axes[t].FromRows(rows, [0, 1], batch);
        Assert.Equal([0, 1, 10, 11, 2, 3, 12, 13, 4, 5, 14, 15], batch);
        var back = new float[12];
        axes[t].ToRows(batch, 2, back);
        Assert.Equal(rows, back);
    }

    /// <summary>
    /// `edgenet finetune --train all --no-shuffle` itself, one epoch over the 40 rows of the 5 reference steps: the loss
    /// of every step against PyTorch's, and the written model's logits against PyTorch's 5-step model. The LSTM starts
    /// with a Transpose to [T, N, I] (batch_first), which the CLI runs once as a frozen backbone: its cached output must
    /// be cut along the batch axis, not along time.
    /// </summary>
    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [InlineData("mlp_digits04_sgd_m09")]
    [InlineData("cnn_digits04_sgd_m09")]
    [InlineData("lstm_digits04_sgd_m09")]
    public void Cli_finetune_follows_pytorch(string name)
    {
        var r = References.GetProperty(name);
        var hyper = r.GetProperty("hyper");
        var losses = r.GetProperty("loss_before_each_step").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        string tuned = CliFiveSteps(F(r.GetProperty("start").GetString()!), Fixtures.Floats(F("finetune_x.npy")), Fixtures.Longs(F("finetune_y.npy")),
            hyper.GetProperty("lr").GetSingle(), hyper.GetProperty("momentum").GetSingle(), losses);
        SavedLogitsMatchPytorch(tuned, F(r.GetProperty("after").GetString()!));
    }

    /// <summary>The same for PyTorch's batch_first GRU and stacked RNN (tools/refgen: 5 SGD-momentum steps, their own rows).</summary>
    [Theory]
    [InlineData("gru1")]
    [InlineData("rnn_tanh2")]
    public void Cli_finetune_of_batch_first_recurrent_models_follows_pytorch(string name)
    {
        var train = JsonDocument.Parse(File.ReadAllText(Fixtures.Exported("manifest.json"))).RootElement.GetProperty("models").GetProperty(name).GetProperty("train");
        var losses = train.GetProperty("losses").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        CliFiveSteps(Fixtures.Exported(name + ".onnx"), Fixtures.Floats(Fixtures.Exported(name + "_train_x.npy")), Fixtures.Longs(Fixtures.Exported(name + "_train_y.npy")),
            train.GetProperty("lr").GetSingle(), train.GetProperty("momentum").GetSingle(), losses);
    }

    /// <summary>Runs `edgenet finetune` for 5 SGD steps of 8 rows and checks each step's loss; returns the written model.</summary>
    string CliFiveSteps(string onnx, float[] x, long[] y, float lr, float momentum, float[] losses)
    {
        var dir = Fixtures.TempDir();
        var model = OnnxImporter.Convert(onnx);
        long sample = model.Input().Elements(1);
        string m = Path.Combine(dir, "start.enet"), xf = Path.Combine(dir, "x.npy"), yf = Path.Combine(dir, "y.npy"), outFile = Path.Combine(dir, "tuned.enet");
        ModelFile.Save(model, m);
        Npy.Write(xf, x.AsSpan(0, (int)(40 * sample)), [40, (int)sample]);
        File.WriteAllBytes(yf, Npy.Serialize(y.AsSpan(0, 40), [40]));
        var (code, stdout, stderr) = Edgenet("finetune", m, "--data", xf, "--labels", yf, "-o", outFile, "--train", "all", "--no-shuffle",
            "--epochs", "1", "--batch", "8", "--lr", lr.ToString("R", CultureInfo.InvariantCulture), "--momentum", momentum.ToString("R", CultureInfo.InvariantCulture), "--log-steps");
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        var cli = stdout.Split('\n').Where(l => l.StartsWith("step ")).Select(l => float.Parse(l.Split(' ')[3], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(5, cli.Length);
        for (int k = 0; k < 5; k++)
            Assert.True(Math.Abs(cli[k] - losses[k]) <= 1e-4 * Math.Abs(losses[k]), $"step {k}: loss {cli[k]} vs PyTorch {losses[k]}");
        return outFile;
    }

    static (int code, string stdout, string stderr) Edgenet(params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "edgenet.dll"), .. args]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err.Result);
    }

    // ---- `edgenet finetune --train all` through the blocks of today's edge models (issue 13's "must show") -------

    static float[] Rand(Random rng, int n, float scale) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();

    /// <summary>A MobileNetV3 block: 1×1 expand, HardSwish, depthwise 3×3, HardSwish, squeeze-excite (GlobalAveragePool,
    /// 1×1, Relu, 1×1, HardSigmoid, Mul), 1×1 project, pooled into a 3-class Gemm.</summary>
    static OnnxBuilder MobileNetV3Block()
    {
        var rng = new Random(21);
        var b = new OnnxBuilder(14).Input("x", -1, 3, 8, 8).Output("y");
        b.Node("Conv", ["x", b.Floats("we", Rand(rng, 24, 0.5f), 8, 3, 1, 1), b.Floats("be", Rand(rng, 8, 0.1f), 8)], ["e"]);
        b.Node("HardSwish", ["e"], ["ea"]);
        b.Node("Conv", ["ea", b.Floats("wd", Rand(rng, 72, 0.4f), 8, 1, 3, 3), b.Floats("bd", Rand(rng, 8, 0.1f), 8)], ["d"],
            OnnxBuilder.Int("group", 8), OnnxBuilder.Ints("pads", 1, 1, 1, 1));
        b.Node("HardSwish", ["d"], ["da"]);
        b.Node("GlobalAveragePool", ["da"], ["s"]);
        b.Node("Conv", ["s", b.Floats("ws1", Rand(rng, 32, 0.5f), 4, 8, 1, 1), b.Floats("bs1", Rand(rng, 4, 0.1f), 4)], ["s1"]);
        b.Node("Relu", ["s1"], ["s1r"]);
        b.Node("Conv", ["s1r", b.Floats("ws2", Rand(rng, 32, 0.5f), 8, 4, 1, 1), b.Floats("bs2", Rand(rng, 8, 0.1f), 8)], ["s2"]);
        b.Node("HardSigmoid", ["s2"], ["s2h"]);
        b.Node("Mul", ["da", "s2h"], ["se"]);
        b.Node("Conv", ["se", b.Floats("wp", Rand(rng, 48, 0.5f), 6, 8, 1, 1), b.Floats("bp", Rand(rng, 6, 0.1f), 6)], ["p"]);
        b.Node("GlobalAveragePool", ["p"], ["g"]);
        b.Node("Flatten", ["g"], ["f"]);
        b.Node("Gemm", ["f", b.Floats("wc", Rand(rng, 18, 0.5f), 3, 6), b.Floats("bc", Rand(rng, 3, 0.1f), 3)], ["y"], OnnxBuilder.Int("transB", 1));
        return b;
    }

    /// <summary>A pre-norm transformer encoder block over [N, 4, 8]: LayerNorm, Q/K/V projections, softmax(QKᵀ/√8)·V,
    /// output projection and residual, LayerNorm, a GELU MLP and residual; mean over the tokens into a 3-class Gemm.</summary>
    static OnnxBuilder TransformerBlock()
    {
        var rng = new Random(22);
        var b = new OnnxBuilder(20).Input("x", -1, 4, 8).Output("y");
        b.Node("LayerNormalization", ["x", b.Floats("g1", Rand(rng, 8, 0.2f).Select(v => 1 + v).ToArray(), 8), b.Floats("b1", Rand(rng, 8, 0.1f), 8)], ["ln1"]);
        foreach (var p in new[] { "q", "k", "v" }) b.Node("MatMul", ["ln1", b.Floats("w" + p, Rand(rng, 64, 0.5f), 8, 8)], [p]);
        b.Node("Transpose", ["k"], ["kt"], OnnxBuilder.Ints("perm", 0, 2, 1));
        b.Node("MatMul", ["q", "kt"], ["sc"]);
        b.Node("Mul", ["sc", b.Floats("scale", [1 / MathF.Sqrt(8)])], ["scs"]);
        b.Node("Softmax", ["scs"], ["att"], OnnxBuilder.Int("axis", -1));
        b.Node("MatMul", ["att", "v"], ["av"]);
        b.Node("MatMul", ["av", b.Floats("wo", Rand(rng, 64, 0.5f), 8, 8)], ["o"]);
        b.Node("Add", ["x", "o"], ["r1"]);
        b.Node("LayerNormalization", ["r1", b.Floats("g2", Rand(rng, 8, 0.2f).Select(v => 1 + v).ToArray(), 8), b.Floats("b2", Rand(rng, 8, 0.1f), 8)], ["ln2"]);
        b.Node("MatMul", ["ln2", b.Floats("w1", Rand(rng, 128, 0.5f), 8, 16)], ["h"]);
        b.Node("Gelu", ["h"], ["hg"]);
        b.Node("MatMul", ["hg", b.Floats("w2", Rand(rng, 128, 0.3f), 16, 8)], ["h2"]);
        b.Node("Add", ["r1", "h2"], ["r2"]);
        b.Node("ReduceMean", ["r2", b.Ints("axes", Converter.Onnx.TensorProto.Types.DataType.Int64, [1], 1)], ["pooled"], OnnxBuilder.Int("keepdims", 0));
        b.Node("Gemm", ["pooled", b.Floats("wc", Rand(rng, 24, 0.5f), 3, 8), b.Floats("bc", Rand(rng, 3, 0.1f), 3)], ["y"], OnnxBuilder.Int("transB", 1));
        return b;
    }

    /// <summary>A DCGAN-style generator from a 16-value code: Gemm, Relu, Reshape to [8, 2, 2], ConvTranspose (stride 2),
    /// Relu, nearest Resize ×2 and a 3×3 Conv, ConvTranspose with output_padding to [3, 16, 16], Tanh; a 3-class Gemm
    /// head on the image stands in for the discriminator.</summary>
    static OnnxBuilder Generator()
    {
        var rng = new Random(23);
        var b = new OnnxBuilder(13).Input("z", -1, 16).Output("y");
        b.Node("Gemm", ["z", b.Floats("w0", Rand(rng, 512, 0.3f), 32, 16), b.Floats("b0", Rand(rng, 32, 0.1f), 32)], ["h0"], OnnxBuilder.Int("transB", 1));
        b.Node("Relu", ["h0"], ["h0r"]);
        b.Node("Reshape", ["h0r", b.Ints("shape", Converter.Onnx.TensorProto.Types.DataType.Int64, [-1, 8, 2, 2], 4)], ["h1"]);
        b.Node("ConvTranspose", ["h1", b.Floats("wt1", Rand(rng, 8 * 6 * 16, 0.3f), 8, 6, 4, 4), b.Floats("bt1", Rand(rng, 6, 0.1f), 6)], ["u1"],
            OnnxBuilder.Ints("strides", 2, 2), OnnxBuilder.Ints("pads", 1, 1, 1, 1));
        b.Node("Relu", ["u1"], ["u1r"]);
        b.Node("Resize", ["u1r", "", b.Floats("scales", [1, 1, 2, 2], 4)], ["u2"], OnnxBuilder.String("mode", "nearest"));
        b.Node("Conv", ["u2", b.Floats("wc1", Rand(rng, 4 * 6 * 9, 0.3f), 4, 6, 3, 3), b.Floats("bc1", Rand(rng, 4, 0.1f), 4)], ["c1"], OnnxBuilder.Ints("pads", 1, 1, 1, 1));
        b.Node("Relu", ["c1"], ["c1r"]);
        b.Node("ConvTranspose", ["c1r", b.Floats("wt2", Rand(rng, 4 * 3 * 9, 0.3f), 4, 3, 3, 3), b.Floats("bt2", Rand(rng, 3, 0.1f), 3)], ["img0"],
            OnnxBuilder.Ints("strides", 2, 2), OnnxBuilder.Ints("pads", 1, 1, 1, 1), OnnxBuilder.Ints("output_padding", 1, 1));
        b.Node("Tanh", ["img0"], ["img"]);
        b.Node("Flatten", ["img"], ["f"]);
        b.Node("Gemm", ["f", b.Floats("wd", Rand(rng, 3 * 768, 0.05f), 3, 768), b.Floats("bd", Rand(rng, 3, 0.1f), 3)], ["y"], OnnxBuilder.Int("transB", 1));
        return b;
    }

    [Theory]
    [InlineData("mobilenetv3_block")]
    [InlineData("transformer_block")]
    [InlineData("convtranspose_generator")]
    public void Cli_finetune_trains_every_layer_of_modern_blocks(string name)
    {
        var dir = Fixtures.TempDir();
        var onnx = (name switch { "mobilenetv3_block" => MobileNetV3Block(), "transformer_block" => TransformerBlock(), _ => Generator() }).Save(dir);
        var model = OnnxImporter.Convert(onnx);
        string m = Path.Combine(dir, "start.enet"), xf = Path.Combine(dir, "x.npy"), yf = Path.Combine(dir, "y.npy"), outFile = Path.Combine(dir, "tuned.enet");
        ModelFile.Save(model, m);
        // 64 rows whose class is the largest of three fixed projections of the input: learnable, not memorized noise
        // (for the pooled MobileNet block, the largest of the three channel means).
        var rng = new Random(5);
        int sample = (int)model.Input().Elements(1), rows = 64;
        var x = Rand(rng, rows * sample, 1f);
        var proj = name == "mobilenetv3_block" ? Enumerable.Range(0, 3 * sample).Select(i => i / sample == i % sample / (sample / 3) ? 1f : 0f).ToArray() : Rand(rng, 3 * sample, 1f);
        var y = new long[rows];
        for (int r = 0; r < rows; r++)
        {
            var score = Enumerable.Range(0, 3).Select(k => Enumerable.Range(0, sample).Sum(i => x[r * sample + i] * proj[k * sample + i])).ToArray();
            y[r] = Array.IndexOf(score, score.Max());
        }
        Npy.Write(xf, x, [rows, sample]);
        File.WriteAllBytes(yf, Npy.Serialize(y, [rows]));
        var (code, stdout, stderr) = Edgenet("finetune", m, "--data", xf, "--labels", yf, "-o", outFile, "--train", "all",
            "--epochs", "12", "--batch", "8", "--optimizer", "adam", "--lr", "0.01");
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        var losses = stdout.Split('\n').Where(l => l.StartsWith("epoch ", StringComparison.Ordinal))
            .Select(l => float.Parse(l.Split("loss ")[1].Split(' ')[0], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(12, losses.Length);
        Assert.True(losses[^1] < 0.7f * losses[0], $"{name}: loss {losses[0]} -> {losses[^1]} (per epoch: {string.Join(", ", losses)})");
        // every parameter moved, and the tuned model runs
        var tuned = ModelFile.Load(outFile);
        foreach (var t in model.Tensors.Where(t => t.IsConstant && t.Type == DataType.Float32 && t.Elements(1) > 1 && model.Nodes.Any(n => OpTable.Get(n.Op).Parameters.Select(s => s < n.Inputs.Length ? n.Inputs[s] : -1).Contains(model.Tensors.IndexOf(t)))))
            Assert.False(t.Floats().SequenceEqual(tuned.Tensors.First(u => u.Name == t.Name).Floats()), $"{name}: parameter '{t.Name}' did not change");
        using var s = new Session(tuned, 2);
        x.AsSpan(0, 2 * sample).CopyTo(s.Input(0, 2));
        s.Run(2);
        Assert.All(s.Output().ToArray(), v => Assert.True(float.IsFinite(v)));
    }
}
