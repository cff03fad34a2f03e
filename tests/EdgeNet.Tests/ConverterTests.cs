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
        var m = Graph(g => { g.Node.Add(Node("Erf", "my_erf", ["x"], ["y"])); g.Output.Add(new ValueInfoProto { Name = "y" }); });
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(Save(m, Fixtures.TempDir())));
        Assert.Contains("unsupported op Erf", e.Message);
        Assert.Contains("my_erf", e.Message);
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
}
