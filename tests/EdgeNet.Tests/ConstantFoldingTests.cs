using EdgeNet.Converter;
using EdgeNet.Converter.Onnx;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>Subgraphs over values known at conversion (weights sliced and transposed, Range, Size, Equal, Where) are
/// evaluated by the converter, and the model still matches ONNX Runtime.</summary>
public class ConstantFoldingTests
{
    static string I64(OnnxBuilder b, string name, params long[] v) => b.Ints(name, TensorProto.Types.DataType.Int64, v, v.Length);

    [Trait("Needs", "OnnxRuntime")]
    [Fact]
    public void Constant_subgraphs_fold_and_the_model_matches_ort()
    {
        var r = new Random(5);
        var b = new OnnxBuilder().Input("x", 2, 4);
        b.Floats("w", OnnxBuilder.Random(r, 24, -1, 1), 4, 6);
        b.Node("Slice", ["w", I64(b, "starts", 0, 2), I64(b, "ends", 4, 6), I64(b, "axes", 0, 1)], ["ws"]);   // [4,4]
        b.Node("Transpose", ["ws"], ["wt"]);
        b.Node("MatMul", ["x", "wt"], ["y1"]);
        b.Node("Range", [b.Ints("r0", TensorProto.Types.DataType.Int64, [0]), b.Ints("r1", TensorProto.Types.DataType.Int64, [4]), b.Ints("r2", TensorProto.Types.DataType.Int64, [1])], ["range"]);
        b.Node("Cast", ["range"], ["rangef"], OnnxBuilder.Int("to", 1));
        b.Node("Add", ["y1", "rangef"], ["y2"]);
        b.Node("Size", ["w"], ["size"]);
        b.Node("Equal", ["size", b.Ints("n24", TensorProto.Types.DataType.Int64, [24])], ["is24"]);
        b.Node("Not", ["is24"], ["not24"]);
        b.Node("Where", ["not24", b.Floats("three", [3f]), b.Floats("two", [2f])], ["scale"]);
        b.Node("Mul", ["y2", "scale"], ["y"]);
        b.Output("y");
        string path = b.Save(Fixtures.TempDir());
        var x = OnnxBuilder.Random(r, 8, -1, 1);
        var expected = OnnxBuilder.RunOrt(path, x, [2, 4])[0];

        var m = OnnxImporter.Convert(path);
        Assert.DoesNotContain(m.Nodes, n => n.Op is OpType.Slice or OpType.Transpose);
        using var s = new EdgeNet.Engine.Session(m);
        x.CopyTo(s.Input(0, 1));
        s.Run(1);
        Assert.True(Golden.MaxAbsDiff(expected, s.Output().ToArray()) < 1e-5f);
    }

    [Fact]
    public void Logic_on_a_computed_tensor_is_refused_in_one_line()
    {
        var b = new OnnxBuilder().Input("x", -1, 4);
        b.Node("Relu", ["x"], ["r"]);
        b.Node("Size", ["r"], ["size"]);
        b.Node("Range", [b.Ints("r0", TensorProto.Types.DataType.Int64, [0]), "size", b.Ints("r2", TensorProto.Types.DataType.Int64, [1])], ["range"]);
        b.Node("Cast", ["range"], ["y"], OnnxBuilder.Int("to", 1));
        b.Output("y");
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(b.Save(Fixtures.TempDir())));
        Assert.Contains("Range", e.Message);
    }
}
