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
}
