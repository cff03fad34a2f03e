using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Training;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>Whole training runs: transfer learning, training from scratch, and the guards against bad numerics.</summary>
public class TrainingBehaviourTests(ITestOutputHelper output)
{
    static string F(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "finetune", file);
    static float[] TestX => Fixtures.Floats(Fixtures.Digits("digits_test_x.npy"));
    static long[] TestY => Fixtures.Longs(Fixtures.Digits("digits_test_y.npy"));

    static double Accuracy(Model m)
    {
        using var s = new Session(m, 64);
        return FixtureModelTests.Accuracy(BatchRunner.RunAll(s, TestX, out _), TestY);
    }

    [Theory]
    [InlineData("head", 0.05f, 0.80)]
    [InlineData("all", 0.01f, 0.90)]
    public void Transfer_learning_on_new_classes(string train, float lr, double atLeast)
    {
        // The CNN pretrained on digits 0-4 meets all ten classes: 200 rows in file order, batch 8, 10 epochs, momentum 0.9.
        var model = Fixtures.Convert(F("cnn_digits04.onnx"));
        var o = new FineTuneOptions { Epochs = 10, Batch = 8, Shuffle = false, Train = TrainSelection.Parse(train), Optimizer = new OptimizerOptions { LearningRate = lr, Momentum = 0.9f } };
        var result = FineTuner.Fit(model, Fixtures.Floats(F("finetune_x.npy")), Fixtures.Longs(F("finetune_y.npy")), o);
        double before = Accuracy(model), after = Accuracy(result.Model);
        output.WriteLine($"train {train}, lr {lr}: test accuracy {before:F4} -> {after:F4}, backbone cached: {result.BackboneCached}, peak memory {result.PeakMemoryBytes:N0} bytes");
        Assert.True(after >= atLeast, $"accuracy after {after}");
        Assert.Equal(train == "head", result.BackboneCached);
        if (train == "head")   // the frozen layers are bit-for-bit unchanged
        {
            var headParams = model.Nodes.Last(n => n.Op == OpType.Dense).Inputs.Skip(1).ToHashSet();
            for (int t = 0; t < model.Tensors.Count; t++)
                if (model.Tensors[t].IsConstant && !headParams.Contains(t))
                    Assert.Equal(model.Tensors[t].Data!.Value.ToArray(), result.Model.Tensors[t].Data!.Value.ToArray());
        }
    }

    [Theory]
    [InlineData("head", 0.05f, 0.80)]
    [InlineData("all", 0.01f, 0.88)]
    public void Int8_model_fine_tunes_with_fp32_masters_and_stays_int8(string train, float lr, double atLeast)
    {
        var fp32 = Fixtures.Convert(F("cnn_digits04.onnx"));
        var calib = Fixtures.Floats(F("digits_train_x.npy"));
        var int8 = EdgeNet.Quant.Quantizer.Quantize(fp32, EdgeNet.Quant.Calibration.Collect(fp32, calib, EdgeNet.Quant.CalibrationMethod.MinMax));
        var o = new FineTuneOptions { Epochs = 10, Batch = 8, Shuffle = false, Train = TrainSelection.Parse(train), Optimizer = new OptimizerOptions { LearningRate = lr, Momentum = 0.9f } };
        var result = FineTuner.Fit(int8, Fixtures.Floats(F("finetune_x.npy")), Fixtures.Longs(F("finetune_y.npy")), o);
        double before = Accuracy(int8), after = Accuracy(result.Model);
        output.WriteLine($"int8 CNN, train {train}: test accuracy {before:F4} -> {after:F4} (backbone cached in int8: {result.BackboneCached})");
        Assert.True(after >= atLeast, $"accuracy {after}");
        // Still an int8 model: every Dense/Conv has int8 weights, and the frozen layers' bytes did not change.
        Assert.All(result.Model.Nodes.Where(n => n.Op is OpType.Dense or OpType.Conv), n => Assert.Equal(DataType.Int8, result.Model.Tensors[n.Inputs[1]].Type));
        if (train == "head")
            foreach (var n in int8.Nodes.Where(n => n.Op == OpType.Conv))
                Assert.Equal(int8.Tensors[n.Inputs[1]].Data!.Value.ToArray(), result.Model.Tensors[n.Inputs[1]].Data!.Value.ToArray());
    }

    [Fact]
    public void Mlp_from_scratch_reaches_95_percent()
    {
        // The classic first network: 64-512-10 ReLU, SGD lr 0.05 momentum 0.9, batch 32, 20 epochs.
        var m = ModelSpec.Build("dense:512,relu,dense:10", [64], seed: 0);
        var o = new FineTuneOptions { Epochs = 20, Batch = 32, Optimizer = new OptimizerOptions { LearningRate = 0.05f, Momentum = 0.9f } };
        var result = FineTuner.Fit(m, Fixtures.Floats(F("digits_train_x.npy")), Fixtures.Longs(F("digits_train_y.npy")), o);
        double acc = Accuracy(result.Model);
        output.WriteLine($"64-512-10 MLP from scratch: test accuracy {acc:F4}, final loss {result.Epochs[^1].MeanLoss:F4}");
        Assert.True(acc >= 0.95, $"accuracy {acc}");
        var bytes = ModelFile.Write(result.Model);   // a model built on the device is an ordinary .enet
        Assert.Equal(acc, Accuracy(ModelFile.Read(bytes)));
    }

    [Fact]
    public void Diverging_learning_rate_is_stopped_and_rolled_back()
    {
        var model = Fixtures.Convert(F("mlp_digits04.onnx"));
        var o = new FineTuneOptions { Epochs = 5, Batch = 8, Shuffle = false, Optimizer = new OptimizerOptions { LearningRate = 1e30f, Momentum = 0.9f } };
        var result = FineTuner.Fit(model, Fixtures.Floats(F("finetune_x.npy")), Fixtures.Longs(F("finetune_y.npy")), o);
        output.WriteLine(result.StopReason ?? "(no stop)");
        Assert.True(result.RolledBack);
        Assert.Contains("rolled back", result.StopReason);
        // Rolled back to the start: no good epoch finished, so the weights are the original ones.
        foreach (var (a, b) in model.Tensors.Zip(result.Model.Tensors).Where(p => p.First.IsConstant))
            Assert.Equal(a.Data!.Value.ToArray(), b.Data!.Value.ToArray());
        Assert.All(result.Model.Tensors.Where(t => t.IsConstant), t => Assert.All(t.Floats().ToArray(), v => Assert.True(float.IsFinite(v))));
    }

    [Fact]
    public void Bad_training_data_is_refused_before_training()
    {
        var model = Fixtures.Convert(F("mlp_digits04.onnx"));
        var x = Fixtures.Floats(F("finetune_x.npy")); var y = Fixtures.Longs(F("finetune_y.npy"));
        var nan = (float[])x.Clone(); nan[100] = float.NaN;
        Assert.Contains("non-finite", Assert.Throws<ArgumentException>(() => FineTuner.Fit(model, nan, y, new())).Message);
        var badLabels = (long[])y.Clone(); badLabels[5] = 10;
        Assert.Contains("outside 0..9", Assert.Throws<ArgumentException>(() => FineTuner.Fit(model, x, badLabels, new())).Message);
        Assert.Contains("labels", Assert.Throws<ArgumentException>(() => FineTuner.Fit(model, x, y[..10], new())).Message);
        Assert.Contains("whole number", Assert.Throws<ArgumentException>(() => FineTuner.Fit(model, x[..100], y, new())).Message);
    }

    [Fact]
    public void Optimizer_formulas_match_pytorch_by_hand()
    {
        // Nesterov with dampening and weight decay, and Adam with weight decay, on one weight, against formulas
        // written out from torch.optim's documentation.
        var p = new Parameter("w", 0, [1f], [1]);
        var sgd = new Optimizer(new OptimizerOptions { LearningRate = 0.1f, Momentum = 0.9f, Dampening = 0.5f, Nesterov = true, WeightDecay = 0.01f });
        double w = 1, buf = 0;
        for (int t = 1; t <= 3; t++)
        {
            p.Grad[0] = 0.5f * t;
            sgd.Step([p], 0.1f);
            double g = 0.5 * t + 0.01 * w;
            buf = t == 1 ? g : 0.9 * buf + 0.5 * g;
            w -= 0.1 * (g + 0.9 * buf);
            Assert.Equal(w, p.Value[0], 5);
        }
        var q = new Parameter("w", 0, [1f], [1]);
        var adam = new Optimizer(new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 0.01f, WeightDecay = 0.1f });
        double a = 1, m = 0, v = 0;
        for (int t = 1; t <= 3; t++)
        {
            q.Grad[0] = -0.3f * t;
            adam.Step([q], 0.01f);
            double g = -0.3 * t + 0.1 * a;
            m = 0.9 * m + 0.1 * g; v = 0.999 * v + 0.001 * g * g;
            a -= 0.01 * (m / (1 - Math.Pow(0.9, t))) / (Math.Sqrt(v / (1 - Math.Pow(0.999, t))) + 1e-8);
            Assert.Equal(a, q.Value[0], 5);
        }
    }
}

public class TrainingAllocationTests
{
    [Theory]
    [InlineData("mlp_digits04.onnx")]
    [InlineData("cnn_digits04.onnx")]
    [InlineData("lstm_digits04.onnx")]
    public void Steps_after_the_first_allocate_nothing(string file)
    {
        var model = Fixtures.Convert(Path.Combine(AppContext.BaseDirectory, "fixtures", "finetune", file));
        var x = Fixtures.Floats(Path.Combine(AppContext.BaseDirectory, "fixtures", "finetune", "finetune_x.npy"));
        var y = Fixtures.Longs(Path.Combine(AppContext.BaseDirectory, "fixtures", "finetune", "finetune_y.npy"));
        var s = new TrainingSession(model, 8);
        var o = new FineTuneOptions { Optimizer = new OptimizerOptions { LearningRate = 0.01f, Momentum = 0.9f }, ClipNorm = 5 };
        var opt = new Optimizer(o.Optimizer);
        int sample = (int)model.Input().Elements(1);
        FineTuner.Step(s, x.AsSpan(0, 8 * sample), y.AsSpan(0, 8), 8, opt, 0.01f, o);
        Assert.Equal(0, Allocations.Fewest(() => { for (int k = 1; k < 4; k++) FineTuner.Step(s, x.AsSpan(8 * k * sample, 8 * sample), y.AsSpan(8 * k, 8), 8, opt, 0.01f, o); }));
    }
}

public class LossTests
{
    [Fact]
    public void Mse_gradient_matches_finite_differences_and_training_with_it_learns()
    {
        float[] y = [0.3f, -1.2f, 2f, 0.5f]; float[] t = [0f, 1f, 0f, 0f];
        var g = new float[4];
        float l = Loss.Mse(y, t, g);
        Assert.Equal((0.09f + 4.84f + 4f + 0.25f) / 4, l, 5);
        for (int i = 0; i < 4; i++)
        {
            var p = (float[])y.Clone(); p[i] += 1e-3f; var m = (float[])y.Clone(); m[i] -= 1e-3f;
            Assert.Equal((Loss.Mse(p, t, new float[4]) - Loss.Mse(m, t, new float[4])) / 2e-3f, g[i], 2);
        }
        var model = ModelSpec.Build("dense:32,relu,dense:10", [64], seed: 1);
        var dir = Path.Combine(AppContext.BaseDirectory, "fixtures", "finetune");
        var result = FineTuner.Fit(model, Fixtures.Floats(Path.Combine(dir, "digits_train_x.npy")), Fixtures.Longs(Path.Combine(dir, "digits_train_y.npy")),
            new FineTuneOptions { Epochs = 5, Batch = 32, Loss = LossKind.Mse, Optimizer = new OptimizerOptions { LearningRate = 0.2f, Momentum = 0.9f } });
        Assert.True(result.Epochs[^1].MeanLoss < result.Epochs[0].MeanLoss);
    }
}
