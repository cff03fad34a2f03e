using EdgeNet.Io;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// A keyword-spotting GRU as PyTorch exports it (batch-first input [1, 100, 40]: 100 frames of 40 log-mel features,
/// Transpose, one GRU layer, its last state through a Dense layer to 12 keywords), with random weights: converted and
/// run by the CLI against ONNX Runtime, for both linear_before_reset values (PyTorch's 1 at H = 128, ONNX's default 0
/// at H = 64). With EDGENET_GRU_KWS_OUT set, the model and its input are also written there for bench/armcount.sh.
/// </summary>
public class GruKeywordModelTests(ITestOutputHelper output)
{
    const int Steps = 100, Features = 40, Keywords = 12;

    /// <summary>The model (seeded weights, so the same file every time) and its input.</summary>
    public static (OnnxBuilder model, float[] x) Build(int hidden, bool linearBeforeReset)
    {
        var r = new Random(hidden * 2 + (linearBeforeReset ? 1 : 0));
        float bound = 1f / MathF.Sqrt(hidden);   // PyTorch's GRU initialization range
        var b = new OnnxBuilder(14).Input("mel", 1, Steps, Features).Output("logits");
        b.Node("Transpose", ["mel"], ["x"], OnnxBuilder.Ints("perm", 1, 0, 2));
        b.Node("GRU", ["x", b.Floats("W", OnnxBuilder.Random(r, 3 * hidden * Features, -bound, bound), 1, 3 * hidden, Features),
                       b.Floats("R", OnnxBuilder.Random(r, 3 * hidden * hidden, -bound, bound), 1, 3 * hidden, hidden),
                       b.Floats("B", OnnxBuilder.Random(r, 6 * hidden, -bound, bound), 1, 6 * hidden)],
               ["y", "h"], OnnxBuilder.Int("hidden_size", hidden), OnnxBuilder.Int("linear_before_reset", linearBeforeReset ? 1 : 0));
        b.Node("Squeeze", ["h", b.Ints("axes", Converter.Onnx.TensorProto.Types.DataType.Int64, [0], 1)], ["last"]);
        b.Node("Gemm", ["last", b.Floats("Wd", OnnxBuilder.Random(r, Keywords * hidden, -bound, bound), Keywords, hidden),
                        b.Floats("Bd", OnnxBuilder.Random(r, Keywords, -bound, bound), Keywords)],
               ["logits"], OnnxBuilder.Int("transB", 1));
        // Log-mel-like input: mostly negative, a few units wide.
        var x = OnnxBuilder.Random(new Random(7), Steps * Features, -4, 1);
        return (b, x);
    }

    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [InlineData(128, true)]
    [InlineData(64, false)]
    public void Gru_keyword_model_matches_onnx_runtime_through_the_cli(int hidden, bool linearBeforeReset)
    {
        var (b, x) = Build(hidden, linearBeforeReset);
        string name = $"gru_kws_h{hidden}_lbr{(linearBeforeReset ? 1 : 0)}";
        string dir = Fixtures.TempDir(), onnx = b.Save(dir, name + ".onnx"), enet = Path.Combine(dir, name + ".enet");
        string xFile = Path.Combine(dir, name + ".input.npy"), outDir = Path.Combine(dir, "out");
        int[] shape = [1, Steps, Features];
        Npy.Write(xFile, x, shape);
        if (Environment.GetEnvironmentVariable("EDGENET_GRU_KWS_OUT") is { Length: > 0 } keep)
        {
            Directory.CreateDirectory(keep);
            File.Copy(onnx, Path.Combine(keep, name + ".onnx"), overwrite: true);
            File.Copy(xFile, Path.Combine(keep, name + ".input.npy"), overwrite: true);
        }

        var c = CliTests.Run("edgenet-convert.dll", onnx, "-o", enet);
        Assert.True(c.code == 0, $"edgenet-convert {name}: {c.stderr}");
        var run = CliTests.Run("edgenet.dll", "run", enet, "--input", $"mel={xFile}", "--output-dir", outDir);
        Assert.True(run.code == 0, $"edgenet run {name}: {run.stderr}");
        var got = Npy.Read(Directory.GetFiles(outDir, "*.npy").Single()).Floats!;

        using var opts = new SessionOptions { IntraOpNumThreads = 1 };
        using var ort = new InferenceSession(onnx, opts);
        using var want = ort.Run([NamedOnnxValue.CreateFromTensor("mel", new DenseTensor<float>(x, shape))]);
        var w = want.First().AsEnumerable<float>().ToArray();
        Assert.Equal(w.Length, got.Length);
        double scale = Math.Max(w.Max(v => Math.Abs((double)v)), 1e-30), worst = 0;
        for (int i = 0; i < w.Length; i++) worst = Math.Max(worst, Math.Abs((double)w[i] - got[i]));
        output.WriteLine($"{name}: max |Δ| {worst:G3} of max |ORT| {scale:G3}");
        Assert.True(worst <= 1e-4 * scale, $"{name}: max |EdgeNet - ORT| = {worst:G3}, more than 1e-4 × {scale:G3}");
    }
}
