using EdgeNet.Converter;
using EdgeNet.Converter.Onnx;
using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;
using DT = EdgeNet.Converter.Onnx.TensorProto.Types.DataType;

namespace EdgeNet.Tests;

/// <summary>
/// ONNX Runtime's QOperator format puts value-preserving ops (MaxPool, Reshape, Transpose, Slice, Gather, Concat...)
/// between QLinear ops on the uint8 tensors themselves, with no quantization parameters of their own: the input's flow
/// through. A small CNN of that form per op, converted and compared with ONNX Runtime on the same file.
/// </summary>
public class QOperatorPassThroughTests(ITestOutputHelper output)
{
    const float Sx = 1f / 255, S1 = 8f / 255, S2 = 0.3f;

    /// <summary>x → Q → QLinearConv(4) → MaxPool → QLinearConv(8) → [op] → DQ: y2 is [N, 8, 4, 4] uint8.</summary>
    static OnnxBuilder Cnn(string op)
    {
        var r = new Random(5);
        long[] W(int n) => Enumerable.Range(0, n).Select(_ => (long)r.Next(-127, 128)).ToArray();
        long[] Bias(int n) => Enumerable.Range(0, n).Select(_ => (long)r.Next(-2000, 2000)).ToArray();
        var b = new OnnxBuilder().Input("x", -1, 1, 8, 8);
        b.Floats("sx", [Sx]); b.Ints("zx", DT.Uint8, [0]);
        b.Floats("s1", [S1]); b.Ints("z1", DT.Uint8, [128]);
        b.Floats("s2", [S2]); b.Ints("z2", DT.Uint8, [128]);
        b.Floats("sw", [0.01f]); b.Ints("zw", DT.Int8, [0]);
        b.Ints("w1", DT.Int8, W(4 * 9), 4, 1, 3, 3); b.Ints("b1", DT.Int32, Bias(4), 4);
        b.Ints("w2", DT.Int8, W(8 * 4 * 9), 8, 4, 3, 3); b.Ints("b2", DT.Int32, Bias(8), 8);
        var pad1 = OnnxBuilder.Ints("pads", 1, 1, 1, 1);
        var pool = new[] { OnnxBuilder.Ints("kernel_shape", 2, 2), OnnxBuilder.Ints("strides", 2, 2) };
        b.Node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]);
        b.Node("QLinearConv", ["xq", "sx", "zx", "w1", "sw", "zw", "s1", "z1", "b1"], ["y1"], pad1);
        b.Node("MaxPool", ["y1"], ["MaxPool_output_0_quantized"], pool);
        b.Node("QLinearConv", ["MaxPool_output_0_quantized", "s1", "z1", "w2", "sw", "zw", "s2", "z2", "b2"], ["y2"], pad1);
        string z = "z";
        switch (op)
        {
            case "none": z = "y2"; break;
            case "MaxPool": b.Node("MaxPool", ["y2"], [z], pool); break;
            case "Reshape": b.Ints("shape", DT.Int64, [-1, 8, 16], 3); b.Node("Reshape", ["y2", "shape"], [z]); break;
            case "Flatten": b.Node("Flatten", ["y2"], [z], OnnxBuilder.Int("axis", 1)); break;
            case "Transpose": b.Node("Transpose", ["y2"], [z], OnnxBuilder.Ints("perm", 0, 2, 3, 1)); break;
            case "TransposeHW": b.Node("Transpose", ["y2"], [z], OnnxBuilder.Ints("perm", 0, 1, 3, 2)); break;
            case "Unsqueeze+Squeeze":
                b.Ints("axes", DT.Int64, [2], 1);
                b.Node("Unsqueeze", ["y2", "axes"], ["u"]); b.Node("Squeeze", ["u", "axes"], [z]); break;
            case "Slice":
                b.Ints("starts", DT.Int64, [2], 1); b.Ints("ends", DT.Int64, [6], 1); b.Ints("sl_axes", DT.Int64, [1], 1);
                b.Node("Slice", ["y2", "starts", "ends", "sl_axes"], [z]); break;
            case "Gather": b.Ints("idx", DT.Int64, [0, 3, 5], 3); b.Node("Gather", ["y2", "idx"], [z], OnnxBuilder.Int("axis", 1)); break;
            case "Concat": b.Node("Concat", ["y2", "y2"], [z], OnnxBuilder.Int("axis", 1)); break;
            default: throw new ArgumentException(op);
        }
        b.Node("DequantizeLinear", [z, "s2", "z2"], ["y"]);
        b.Output("y");
        return b;
    }

    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [InlineData("none")]
    [InlineData("MaxPool")]
    [InlineData("Reshape")]
    [InlineData("Flatten")]
    [InlineData("Transpose")]
    [InlineData("TransposeHW")]
    [InlineData("Unsqueeze+Squeeze")]
    [InlineData("Slice")]
    [InlineData("Gather")]
    [InlineData("Concat")]
    public void Quantized_tensors_flow_through_value_preserving_ops_as_in_ort(string op)
    {
        string path = Cnn(op).Save(Fixtures.TempDir());
        var x = Fixtures.Floats(Fixtures.Digits("digits_test_x.npy"))[..(3 * 64)];
        var expected = OnnxBuilder.RunOrt(path, x, [3, 1, 8, 8])[0];

        var m = OnnxImporter.Convert(path);
        Assert.All(m.Nodes.Where(n => n.Op == OpType.Conv), n => Assert.Equal(DataType.Int8, m.Tensors[n.Inputs[0]].Type));
        Assert.All(m.Nodes.Where(n => n.Op == OpType.MaxPool), n => Assert.Equal(DataType.Int8, m.Tensors[n.Outputs[0]].Type));
        using var s = new Session(ModelFile.Read(ModelFile.Write(m)), 3);
        var ours = BatchRunner.RunAll(s, x, out _);
        Assert.Equal(expected.Length, ours.Length);
        int within = Enumerable.Range(0, ours.Length).Count(i => Math.Abs(expected[i] - ours[i]) <= S2 * 1.001f);
        output.WriteLine($"{op}: {m.Nodes.Count} nodes ({string.Join(" ", m.Nodes.Select(n => n.Op))}); {within} of {ours.Length} within one step of ORT, max |diff| {Golden.MaxAbsDiff(expected, ours)}, {expected.Distinct().Count()} distinct values");
        Assert.True(within >= 0.99 * ours.Length, $"{within} of {ours.Length} within one step");
        Assert.True(Golden.MaxAbsDiff(expected, ours) <= 3 * S2);
        Assert.True(expected.Distinct().Count() > 20, "the model should not saturate");
    }

    [Fact]
    public void Concat_of_int8_tensors_with_different_scales_is_refused()
    {
        var b = Cnn("none");
        b.Floats("s3", [0.5f]);
        b.Node("QuantizeLinear", ["y", "s3", "z2"], ["y3"]);
        b.Node("Concat", ["y2", "y3"], ["c"], OnnxBuilder.Int("axis", 1));
        b.Node("DequantizeLinear", ["c", "s2", "z2"], ["cy"]);
        b.Graph.Output.Clear(); b.Output("cy");
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(b.Save(Fixtures.TempDir())));
        Assert.Contains("different scales", e.Message);
    }
}
