using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>The three PyTorch-trained digits models: EdgeNet's logits equal ONNX Runtime's on all 397 test rows.</summary>
public class FixtureModelTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("mlp_digits", false)]
    [InlineData("cnn_digits", false)]
    [InlineData("lstm_digits", false)]
    [InlineData("mlp_digits", true)]
    [InlineData("cnn_digits", true)]
    [InlineData("lstm_digits", true)]
    public void Logits_and_accuracy_match_onnx_runtime(string name, bool reference)
    {
        var model = ModelFile.Read(ModelFile.Write(Fixtures.Convert(Fixtures.Digits(name + ".onnx"))));   // through the file format
        var x = Fixtures.Floats(Fixtures.Digits("digits_test_x.npy"));
        var y = Fixtures.Longs(Fixtures.Digits("digits_test_y.npy"));
        var expected = Fixtures.Floats(Fixtures.Digits(name + "_test_logits_ort.npy"));

        using var s = new Session(model, maxBatch: 64, KernelOptions.Default with { Reference = reference });
        var logits = BatchRunner.RunAll(s, x, out int rows);
        Assert.Equal(397, rows);
        float diff = Golden.MaxAbsDiff(expected, logits);
        output.WriteLine($"{name} ({(reference ? "reference" : "vectorized")}): max |EdgeNet - ORT| = {diff:G3}");
        Assert.True(diff <= 1e-4f, $"max |diff| {diff}");
        Assert.Equal(Accuracy(expected, y), Accuracy(logits, y));
    }

    [Fact]
    public void Batch_size_does_not_change_results()
    {
        var model = Fixtures.Convert(Fixtures.Digits("cnn_digits.onnx"));
        var x = Fixtures.Floats(Fixtures.Digits("digits_test_x.npy"));
        using var one = new Session(model, 1);
        using var many = new Session(model, 37);   // an odd batch, so the last call is partial
        var a = BatchRunner.RunAll(one, x, out _);
        var b = BatchRunner.RunAll(many, x, out _);
        Golden.Close(a, b, 1e-5f, 1e-6f, what: "batch 1 vs 37");
    }

    [Fact]
    public void Inference_allocates_nothing()
    {
        foreach (var name in new[] { "mlp_digits", "cnn_digits", "lstm_digits" })
        {
            using var s = new Session(Fixtures.Convert(Fixtures.Digits(name + ".onnx")), 8);
            s.Input(0, 8).Fill(0.5f);
            s.Run(8); s.Run(3); s.Run(8);
            Assert.Equal(0, Allocations.Fewest(() => { for (int i = 0; i < 20; i++) s.Run(i % 2 == 0 ? 8 : 3); }));
        }
    }

    internal static double Accuracy(float[] logits, long[] labels)
    {
        int classes = logits.Length / labels.Length, correct = 0;
        for (int i = 0; i < labels.Length; i++)
            if (BatchRunner.ArgMax(logits.AsSpan(i * classes, classes)) == labels[i]) correct++;
        return (double)correct / labels.Length;
    }
}
