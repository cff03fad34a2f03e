using EdgeNet.Converter;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>The converter at the graph's boundary: every input with a concrete shape, every output under its ONNX
/// name, and one message for all unsupported ops.</summary>
public class GraphBoundaryTests
{
    [Fact]
    public void Every_unsupported_op_is_listed_once_with_its_count_and_first_node()
    {
        var b = new OnnxBuilder().Input("x", -1, 4);
        b.Node("NonMaxSuppression", ["x"], ["a"]).Name = "nms_first";
        b.Node("TfIdfVectorizer", ["a"], ["b"]).Name = "";
        b.Node("NonMaxSuppression", ["b"], ["c"]).Name = "nms_second";
        b.Node("Relu", ["c"], ["y"]);
        b.Output("y");
        string dir = Fixtures.TempDir(), path = b.Save(dir);
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(path));
        Assert.True(e.Unsupported);
        Assert.Contains("2 unsupported ops", e.Message);
        Assert.Contains("NonMaxSuppression ×2 (first: node 'nms_first')", e.Message);
        Assert.Contains("TfIdfVectorizer ×1 (first: node #1)", e.Message);
        var (code, _, stderr) = CliTests.Run("edgenet-convert.dll", path, "-o", Path.Combine(dir, "m.enet"));
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Symbolic_dimensions_are_made_concrete_by_input_shape_and_N_keeps_the_batch()
    {
        var b = new OnnxBuilder().Input("x", -1, 3, -1);   // [N, 3, T]
        b.Node("Relu", ["x"], ["y"]);
        b.Output("y");
        string dir = Fixtures.TempDir(), path = b.Save(dir);
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(path));
        Assert.Contains("--input-shape x=N,3,?", e.Message);

        var batched = OnnxImporter.Convert(path, new ConvertOptions { InputShapes = new Dictionary<string, int[]> { ["x"] = [-1, 3, 16] } });
        Assert.Equal([-1, 3, 16], batched.Input().Shape);
        var fixedBatch = OnnxImporter.Convert(path, new ConvertOptions { InputShapes = new Dictionary<string, int[]> { ["x"] = [2, 3, 16] } });
        Assert.Equal([2, 3, 16], fixedBatch.Input().Shape);

        Assert.Contains("fixes it at 3", Assert.Throws<UsageException>(() => OnnxImporter.Convert(path, new ConvertOptions { InputShapes = new Dictionary<string, int[]> { ["x"] = [1, 4, 16] } })).Message);
        Assert.Contains("its inputs are 'x'", Assert.Throws<UsageException>(() => OnnxImporter.Convert(path, new ConvertOptions { InputShapes = new Dictionary<string, int[]> { ["z"] = [1] } })).Message);

        var (code, stdout, stderr) = CliTests.Run("edgenet-convert.dll", path, "-o", Path.Combine(dir, "m.enet"), "--input-shape", "x=N,3,8");
        Assert.True(code == 0, stderr);
        Assert.Equal([-1, 3, 8], ModelFile.Load(Path.Combine(dir, "m.enet")).Input().Shape);
    }

    [Fact]
    public void Every_output_keeps_its_onnx_name_and_order_even_when_two_are_one_tensor()
    {
        var b = new OnnxBuilder().Input("x", -1, 4);
        b.Node("Relu", ["x"], ["r"]);
        b.Node("Identity", ["r"], ["scores"]);
        b.Node("Sigmoid", ["x"], ["boxes:0"]);
        b.Output("boxes:0").Output("scores").Output("r");
        var m = OnnxImporter.Convert(b.Save(Fixtures.TempDir()));
        Assert.Equal(["boxes:0", "scores", "r"], m.Outputs.Select(o => m.Tensors[o].Name));
        Assert.Equal(3, m.Outputs.Distinct().Count());
    }

    [Fact]
    public void An_initializer_listed_as_a_graph_input_is_a_constant()
    {
        var b = new OnnxBuilder(9).Input("x", 1, 4);
        b.Floats("w", [1f, 2f, 3f, 4f], 4);
        b.Graph.Input.Add(new Converter.Onnx.ValueInfoProto { Name = "w", Type = b.Graph.Input[0].Type });
        b.Node("Mul", ["x", "w"], ["y"]);
        b.Output("y");
        var m = OnnxImporter.Convert(b.Save(Fixtures.TempDir()));
        Assert.Single(m.Inputs);
        Assert.Equal("x", m.Input().Name);
    }
}
