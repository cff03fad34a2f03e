using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// Models exported from PyTorch beside the fixtures (tools/refgen/make_reference_models.py): GRU/RNN/LSTM stacked and
/// bidirectional, every activation and pooling, explicit BatchNormalization, broadcasting arithmetic, TorchScript and
/// dynamo exporters, opset 17 and 18, external data. Each must match ONNX Runtime's output.
/// </summary>
public class ExportedModelTests(ITestOutputHelper output)
{
    public static TheoryData<string> Models() => new(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fixtures", "exported"), "*.onnx")
        .Select(Path.GetFileNameWithoutExtension).Order().Select(n => n!));

    [Theory]
    [MemberData(nameof(Models))]
    public void Matches_onnx_runtime(string name)
    {
        var model = ModelFile.Read(ModelFile.Write(Fixtures.Convert(Fixtures.Exported(name + ".onnx"))));
        var x = Fixtures.Floats(Fixtures.Exported(name + "_input.npy"));
        var expected = Fixtures.Floats(Fixtures.Exported(name + "_output_ort.npy"));
        foreach (var reference in new[] { false, true })
        {
            using var s = new Session(model, 8, KernelOptions.Default with { Reference = reference });
            var y = BatchRunner.RunAll(s, x, out _);
            output.WriteLine($"{name} ({(reference ? "reference" : "vectorized")}): max |EdgeNet - ORT| = {Golden.MaxAbsDiff(expected, y):G3}");
            Golden.Close(expected, y, 1e-5f, 1e-4f, name);
        }
    }

    [Fact]
    public void Expected_rewrites_happen()
    {
        // BatchNorm after ReLU stays (ChannelAffine); activations fuse into Conv/Dense; MatMul+Add becomes one Dense.
        var bn = Fixtures.Convert(Fixtures.Exported("bn_explicit.onnx"));
        Assert.Equal(2, bn.Nodes.Count(n => n.Op == OpType.ChannelAffine));
        var acts = Fixtures.Convert(Fixtures.Exported("acts_cnn.onnx"));
        Assert.DoesNotContain(acts.Nodes, n => n.Op is OpType.LeakyRelu or OpType.Tanh or OpType.Sigmoid or OpType.Clip);
        var ew = Fixtures.Convert(Fixtures.Exported("elementwise_dynamo18.onnx"));
        Assert.Single(ew.Nodes, n => n.Op == OpType.Dense);
        Assert.DoesNotContain(ew.Nodes, n => n.Op == OpType.Add && ew.Tensors[n.Inputs[1]].IsConstant && ew.Tensors[n.Inputs[1]].Shape.SequenceEqual([5]));
        var cnn = Fixtures.Convert(Fixtures.Digits("cnn_digits.onnx"));
        Assert.All(cnn.Nodes.Where(n => n.Op == OpType.Conv), n => Assert.Equal("relu", n.Attributes.String("activation", "")));
    }
}
