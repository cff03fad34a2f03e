using System.Text.Json;
using EdgeNet.Format;
using EdgeNet.Training;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// GRU and stacked RNN training against PyTorch (tools/refgen: 5 SGD-momentum steps), and finite-difference checks of
/// every backward pass on exported models: bidirectional/stacked LSTM, GRU, ReLU-RNN, a CNN with LeakyReLU, AvgPool,
/// Tanh, Sigmoid, ReLU6, MaxPool, depthwise and dilated convolutions and Softmax, and explicit BatchNorm.
/// </summary>
public class RecurrentAndGradientTests(ITestOutputHelper output)
{
    static readonly JsonElement Manifest = JsonDocument.Parse(File.ReadAllText(Fixtures.Exported("manifest.json"))).RootElement.GetProperty("models");

    /// <summary>PyTorch's gate blocks from ONNX's: GRU onnx (z, r, h) → torch (r, z, n); RNN has one gate.</summary>
    static float[] TorchOrder(float[] onnx, int blocks, int[] torchFromOnnx)
    {
        if (blocks == 1) return onnx;
        int per = onnx.Length / blocks;
        var t = new float[onnx.Length];
        for (int k = 0; k < blocks; k++) Array.Copy(onnx, torchFromOnnx[k] * per, t, k * per, per);
        return t;
    }

    [Theory]
    [InlineData("gru1", 3)]
    [InlineData("rnn_tanh2", 1)]
    public void Five_sgd_steps_match_pytorch(string name, int gates)
    {
        var train = Manifest.GetProperty(name).GetProperty("train");
        var model = Fixtures.Convert(Fixtures.Exported(name + ".onnx"));
        var x = Fixtures.Floats(Fixtures.Exported(name + "_train_x.npy")); var y = Fixtures.Longs(Fixtures.Exported(name + "_train_y.npy"));
        var s = new TrainingSession(model, 8);
        var o = new FineTuneOptions { Optimizer = new OptimizerOptions { LearningRate = 0.05f, Momentum = 0.9f } };
        var opt = new Optimizer(o.Optimizer);
        var losses = train.GetProperty("losses").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var names = train.GetProperty("param_names").EnumerateArray().Select(e => e.GetString()!).ToArray();
        long sample = model.Input().Elements(1);
        int[] order = [1, 0, 2];   // torch r, z, n ← onnx blocks z(0), r(1), h(2)
        Dictionary<string, float[]> Torch(Func<Parameter, float[]> pick)
        {
            var d = new Dictionary<string, float[]>();
            int ni = 0;
            foreach (var p in s.Parameters)
            {
                var v = pick(p);
                if (p.Shape.Length == 2 && p.Shape[0] == 1 && names[ni].Contains("bias_ih"))   // B [1, 2·G·H] → bias_ih, bias_hh
                {
                    int half = v.Length / 2;
                    d[names[ni++]] = TorchOrder(v[..half], gates, order); d[names[ni++]] = TorchOrder(v[half..], gates, order);
                }
                else if (p.Shape.Length == 3) d[names[ni++]] = TorchOrder(v, gates, order);   // W or R [1, G·H, ·]
                else d[names[ni++]] = v;
            }
            return d;
        }
        for (int k = 0; k < 5; k++)
        {
            float loss = FineTuner.Step(s, x.AsSpan((int)(8 * k * sample), (int)(8 * sample)), y.AsSpan(8 * k, 8), 8, opt, 0.05f, o);
            output.WriteLine($"{name} step {k}: loss {loss} (PyTorch {losses[k]})");
            Assert.True(Math.Abs(loss - losses[k]) <= 1e-4 * Math.Abs(losses[k]), $"step {k}: {loss} vs {losses[k]}");
            if (k == 0)
            {
                var g0 = FineTuneTests.Npz(Fixtures.Exported(name + "_grads0.npz"));
                foreach (var (pn, g) in Torch(p => p.Grad)) Golden.Close(g0[pn], g, 1e-4f, 0, $"grad {pn}");
            }
        }
        var after = FineTuneTests.Npz(Fixtures.Exported(name + "_params5.npz"));
        foreach (var (pn, v) in Torch(p => p.Value)) Golden.Close(after[pn], v, 1e-4f, 0, $"param {pn}");
    }

    [Theory]
    [InlineData("lstm_bi2")]
    [InlineData("gru_bi2")]
    [InlineData("rnn_relu_bi")]
    [InlineData("acts_cnn")]
    [InlineData("bn_explicit")]
    [InlineData("elementwise")]
    public void Gradients_match_finite_differences(string name)
    {
        var model = Fixtures.Convert(Fixtures.Exported(name + ".onnx"));
        var x = Fixtures.Floats(Fixtures.Exported(name + "_input.npy"));
        int rows = (int)(x.Length / model.Input().Elements(1));
        int classes = (int)model.Output().Elements(1);
        var y = Enumerable.Range(0, rows).Select(i => (long)(i * 7 % classes)).ToArray();
        var s = new TrainingSession(model, rows);
        float Loss()
        {
            x.CopyTo(s.Input(rows));
            s.Forward();
            s.ZeroGrad(false);
            return Training.Loss.CrossEntropy(s.Output(), y, classes, s.OutputGrad());
        }
        Loss(); s.Backward();
        var analytic = s.Parameters.Select(p => (float[])p.Grad.Clone()).ToArray();
        var rng = new Random(3);
        int checkedCount = 0; double worst = 0;
        for (int pi = 0; pi < s.Parameters.Length; pi++)
        {
            var p = s.Parameters[pi];
            for (int trial = 0; trial < Math.Min(12, p.Value.Length); trial++)
            {
                int i = rng.Next(p.Value.Length);
                float keep = p.Value[i], h = 2e-3f * Math.Max(1, Math.Abs(keep));   // small: ReLU kinks nearby bend wider differences
                p.Value[i] = keep + h; double up = Loss();
                p.Value[i] = keep - h; double down = Loss();
                p.Value[i] = keep;
                double numeric = (up - down) / (2 * h), a = analytic[pi][i];
                double err = Math.Abs(numeric - a) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(a));
                worst = Math.Max(worst, err); checkedCount++;
                if (err >= 0.05)
                {
                    // A ReLU kink inside ±h makes the central difference wrong; confirm with a smaller step before failing.
                    float h2 = h / 8;
                    p.Value[i] = keep + h2; double up2 = Loss();
                    p.Value[i] = keep - h2; double down2 = Loss();
                    p.Value[i] = keep;
                    double numeric2 = (up2 - down2) / (2 * h2);
                    output.WriteLine($"{p.Name}[{i}]: analytic {a}, numeric {numeric} (h {h}), {numeric2} (h {h2})");
                    err = Math.Abs(numeric2 - a) / Math.Max(1e-2, Math.Abs(numeric2) + Math.Abs(a));
                }
                Assert.True(err < 0.05, $"{p.Name}[{i}]: analytic {a}, numeric {numeric}");
            }
        }
        output.WriteLine($"{name}: {checkedCount} parameter elements, worst relative error {worst:G3}");
    }
}

/// <summary>The GEMM Conv backward against the scalar reference on every geometry the forward twins cover.</summary>
public class ConvBackwardTwinTests
{
    [Theory]
    [MemberData(nameof(KernelTwinTests.ConvCases), MemberType = typeof(KernelTwinTests))]
    public void Gemm_backward_matches_reference(int c, int oc, int group, int k, int stride, int pad, int dil, int size)
    {
        var g = new EdgeNet.Engine.GraphBuilder();
        int x = g.Input("x", -1, c, size, size + 2);
        var r = new Random(5);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
        var a = new Attributes().Set("group", (long)group).Set("strides", new long[] { stride, stride })
            .Set("pads", new long[] { pad, pad, pad, Math.Max(0, pad - 1) }).Set("dilations", new long[] { dil, dil });
        int x1 = g.Add(OpType.Conv, [x, g.Constant("w0", R(c * c), c, c, 1, 1)]);   // so the conv under test needs dX too
        int y = g.Add(OpType.Conv, [x1, g.Constant("w", R(oc * (c / group) * k * k), oc, c / group, k, k), g.Constant("b", R(oc), oc)], a);
        int yf = g.Reshape(y, [-1, (int)g.Model.Tensors[y].Elements(1)]);
        int z = g.Add(OpType.Dense, [yf, g.Constant("hw", R(3 * (int)g.Model.Tensors[yf].Elements(1)), 3, (int)g.Model.Tensors[yf].Elements(1))]);
        var m = g.Build(z);
        var input = R((int)m.Input().Elements(1) * 2);
        float[][] Grads(bool reference)
        {
            var s = new TrainingSession(m, 2) { ReferenceBackward = reference };
            input.CopyTo(s.Input(2)); s.Forward(); s.ZeroGrad(false);
            Loss.CrossEntropy(s.Output(), [0, 2], 3, s.OutputGrad());
            s.Backward();
            return s.Parameters.Select(p => (float[])p.Grad.Clone()).ToArray();
        }
        var fast = Grads(false); var slow = Grads(true);
        for (int p = 0; p < fast.Length; p++) Golden.Close(slow[p], fast[p], 1e-5f, 1e-4f, $"parameter {p}");
    }
}

/// <summary>The vectorized recurrent forward/backward (TensorPrimitives dot products and rank-1 updates) against the
/// scalar reference loops, on odd sizes, both directions, batch 3, with the input gradient flowing.</summary>
public class RecurrentBackwardTwinTests
{
    [Theory]
    [InlineData(OpType.Lstm, "forward", 0, 9, 5)]
    [InlineData(OpType.Lstm, "bidirectional", 0, 17, 19)]
    [InlineData(OpType.Gru, "forward", 1, 9, 5)]
    [InlineData(OpType.Gru, "reverse", 0, 17, 19)]
    [InlineData(OpType.Gru, "bidirectional", 1, 33, 7)]
    [InlineData(OpType.Rnn, "forward", 0, 9, 5)]
    [InlineData(OpType.Rnn, "bidirectional", 0, 20, 16)]
    public void Vectorized_bptt_matches_reference(OpType op, string direction, int lbr, int H, int I)
    {
        int G = op switch { OpType.Lstm => 4, OpType.Gru => 3, _ => 1 }, D = direction == "bidirectional" ? 2 : 1, S = 5;
        var r = new Random(3);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
        var g = new EdgeNet.Engine.GraphBuilder();
        int x = g.Input("x", -1, S, I);
        int x1 = g.Add(OpType.Relu, [x]);   // something before the recurrent layer, so dX is needed
        var a = new Attributes().Set("hidden_size", (long)H).Set("direction", direction).Set("layout", 1L).Set("linear_before_reset", (long)lbr);
        int y = g.Add(op, [x1, g.Constant("W", R(D * G * H * I), D, G * H, I), g.Constant("R", R(D * G * H * H), D, G * H, H), g.Constant("B", R(D * 2 * G * H), D, 2 * G * H)], a);
        int yf = g.Reshape(y, [-1, S * D * H]);
        int z = g.Add(OpType.Dense, [yf, g.Constant("hw", R(3 * S * D * H), 3, S * D * H)]);
        var m = g.Build(z);
        var input = R(3 * S * I);
        float[][] Grads(bool reference)
        {
            var s = new TrainingSession(m, 3) { ReferenceBackward = reference };
            input.CopyTo(s.Input(3)); s.Forward(); s.ZeroGrad(false);
            Loss.CrossEntropy(s.Output(), [0, 2, 1], 3, s.OutputGrad());
            s.Backward();
            return s.Parameters.Select(p => (float[])p.Grad.Clone()).ToArray();
        }
        var fast = Grads(false); var slow = Grads(true);
        Assert.True(fast.Length >= 3);
        for (int p = 0; p < fast.Length; p++) Golden.Close(slow[p], fast[p], 1e-5f, 1e-4f, $"parameter {p}");
    }
}

