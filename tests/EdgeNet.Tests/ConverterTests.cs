using EdgeNet.Converter;
using EdgeNet.Converter.Onnx;
using EdgeNet.Format;
using Google.Protobuf;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>The converter's refusals: precise messages for unsupported ops and unsafe external data.</summary>
public class ConverterTests
{
    static string Save(ModelProto m, string dir, string name = "m.onnx")
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, m.ToByteArray());
        return path;
    }

    static ModelProto Graph(Action<GraphProto> build, long opset = 17)
    {
        var g = new GraphProto { Name = "g" };
        var input = new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() } } };
        input.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        input.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 4 });
        g.Input.Add(input);
        build(g);
        var m = new ModelProto { IrVersion = 8, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return m;
    }

    static NodeProto Node(string op, string name, string[] inputs, string[] outputs)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs); n.Output.AddRange(outputs);
        return n;
    }

    [Fact]
    public void Unsupported_op_names_type_node_opset_and_supported_list()
    {
        var m = Graph(g => { g.Node.Add(Node("NonMaxSuppression", "my_nms", ["x"], ["y"])); g.Output.Add(new ValueInfoProto { Name = "y" }); });
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(Save(m, Fixtures.TempDir())));
        Assert.Contains("1 unsupported op", e.Message);
        Assert.Contains("NonMaxSuppression ×1 (first: node 'my_nms')", e.Message);
        Assert.Contains("opset 17", e.Message);
        Assert.Contains("LSTM", e.Message);
    }

    [Theory]
    [InlineData("../outside.bin")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/../../outside.bin")]
    public void External_data_outside_the_model_folder_is_refused(string location)
    {
        var m = Graph(g =>
        {
            var w = new TensorProto { Name = "w", DataType = 1, DataLocation = TensorProto.Types.DataLocation.External };
            w.Dims.Add(3); w.Dims.Add(4);
            w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            g.Initializer.Add(w);
            g.Node.Add(Node("MatMul", "mm", ["x", "w"], ["y"]));
            g.Output.Add(new ValueInfoProto { Name = "y" });
        });
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(Save(m, Fixtures.TempDir())));
        Assert.True(e.Message.Contains("leaves the model's folder") || e.Message.Contains("absolute"), e.Message);
    }

    [Fact]
    public void Huge_declared_dims_are_refused_before_allocating()
    {
        var m = Graph(g =>
        {
            var w = new TensorProto { Name = "w", DataType = 1 };
            w.Dims.Add(1L << 40); w.Dims.Add(1L << 40);
            g.Initializer.Add(w);
            g.Node.Add(Node("MatMul", "mm", ["x", "w"], ["y"]));
            g.Output.Add(new ValueInfoProto { Name = "y" });
        });
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(Save(m, Fixtures.TempDir())));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000);
    }

    [Fact]
    public void Not_an_onnx_file_is_a_format_error()
    {
        var dir = Fixtures.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "bad.onnx"), [0xff, 0xff, 0xff, 0x01, 0x02]);
        Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(Path.Combine(dir, "bad.onnx")));
    }

    // ---- models the converter refuses with one clear line (issue 12.6, 12.7) ----------------------------------

    [Fact]
    public void Model_without_graph_inputs_is_an_unsupported_model()
    {
        var b = new OnnxBuilder();
        b.Floats("c", [1f, -2f], 2);
        b.Node("Relu", ["c"], ["y"]);
        b.Output("y");
        string dir = Fixtures.TempDir(), path = b.Save(dir);
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(path));
        Assert.True(e.Unsupported);
        Assert.Contains("no graph inputs", e.Message);
        var (code, _, stderr) = CliTests.Run("edgenet-convert.dll", path, "-o", Path.Combine(dir, "m.enet"));
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void Zero_size_input_dimension_is_refused_not_taken_for_the_batch()
    {
        var b = new OnnxBuilder().Input("x", 0, 4);
        b.Node("Relu", ["x"], ["y"]);
        b.Output("y");
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(b.Save(Fixtures.TempDir())));
        Assert.Contains("zero-size", e.Message);
    }

    [Theory]
    [InlineData(TensorProto.Types.DataType.Double)]
    [InlineData(TensorProto.Types.DataType.Float16)]
    public void Cast_of_a_computed_tensor_to_another_float_type_is_refused(TensorProto.Types.DataType to)
    {
        var b = new OnnxBuilder().Input("x", -1, 4);
        b.Node("Relu", ["x"], ["r"]);
        b.Node("Cast", ["r"], ["y"], OnnxBuilder.Int("to", (long)to));
        b.Output("y");
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(b.Save(Fixtures.TempDir())));
        Assert.Contains($"to {to} is not supported", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Dropout_in_training_mode_is_refused_and_in_eval_mode_is_identity(bool training)
    {
        var b = new OnnxBuilder().Input("x", -1, 4);
        b.Floats("ratio", [0.5f]);
        b.Ints("training", TensorProto.Types.DataType.Bool, [training ? 1 : 0]);
        b.Node("Dropout", ["x", "ratio", "training"], ["d"]);
        b.Node("Relu", ["d"], ["y"]);
        b.Output("y");
        string path = b.Save(Fixtures.TempDir());
        if (!training) { Assert.Single(OnnxImporter.Convert(path).Nodes); return; }
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(path));
        Assert.Contains("training_mode", e.Message);
    }

    // ---- recurrent layers whose Y is unnamed (issue 12.8) -----------------------------------------------------

    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [InlineData("LSTM", 4)]
    [InlineData("GRU", 3)]
    [InlineData("RNN", 1)]
    public void Recurrent_layer_with_only_Y_h_named_converts_and_matches_ort(string op, int gates)
    {
        const int T = 5, N = 2, I = 3, H = 4;
        var r = new Random(3);
        var b = new OnnxBuilder().Input("X", T, N, I);
        b.Floats("W", OnnxBuilder.Random(r, gates * H * I, -0.5f, 0.5f), 1, gates * H, I);
        b.Floats("R", OnnxBuilder.Random(r, gates * H * H, -0.5f, 0.5f), 1, gates * H, H);
        b.Floats("B", OnnxBuilder.Random(r, 2 * gates * H, -0.2f, 0.2f), 1, 2 * gates * H);
        b.Node(op, ["X", "W", "R", "B"], ["", "Y_h"], OnnxBuilder.Int("hidden_size", H));
        b.Output("Y_h");
        string path = b.Save(Fixtures.TempDir());
        var x = OnnxBuilder.Random(r, T * N * I, -1, 1);
        var expected = OnnxBuilder.RunOrt(path, x, [T, N, I])[0];

        using var s = new EdgeNet.Engine.Session(OnnxImporter.Convert(path));
        x.CopyTo(s.Input(0, 1));
        s.Run(1);
        Assert.Equal(N * H, s.Output().Length);
        Assert.True(Golden.MaxAbsDiff(expected, s.Output().ToArray()) < 1e-5f);
    }
}
