using EdgeNet.Converter.Onnx;
using Google.Protobuf;

namespace EdgeNet.Tests;

/// <summary>Small ONNX graphs built by hand for the hostile-input tests: an input x [N, 4] and whatever nodes a test adds.</summary>
public static class HostileOnnx
{
    public static ModelProto Graph(Action<GraphProto> build, long opset = 17, params long[] inputDims)
    {
        var g = new GraphProto { Name = "g" };
        var input = new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() } } };
        input.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (var d in inputDims.Length == 0 ? [4L] : inputDims) input.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        g.Input.Add(input);
        build(g);
        var m = new ModelProto { IrVersion = 8, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return m;
    }

    public static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attrs)
    {
        var n = new NodeProto { OpType = op, Name = op.ToLowerInvariant() };
        n.Input.AddRange(inputs); n.Output.AddRange(outputs); n.Attribute.AddRange(attrs);
        return n;
    }

    public static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    public static AttributeProto Ints(string name, params long[] v) { var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints }; a.Ints.AddRange(v); return a; }

    public static TensorProto Floats(string name, long[] dims, float[]? data = null)
    {
        var t = new TensorProto { Name = name, DataType = 1 };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(data ?? new float[dims.Aggregate(1L, (a, b) => a * b)]);
        return t;
    }

    public static TensorProto Int64s(string name, params long[] data)
    {
        var t = new TensorProto { Name = name, DataType = 7 };
        t.Dims.Add(data.Length);
        t.Int64Data.AddRange(data);
        return t;
    }

    public static string Save(ModelProto m, string dir, string name = "m.onnx")
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, m.ToByteArray());
        return path;
    }

    /// <summary>x [N,4] · w → y, with w's data in the external file <paramref name="location"/>.</summary>
    public static string External(string dir, string location, long[] dims, Action<TensorProto>? tweak = null)
    {
        var m = Graph(g =>
        {
            var w = new TensorProto { Name = "w", DataType = 1, DataLocation = TensorProto.Types.DataLocation.External };
            w.Dims.AddRange(dims);
            w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            tweak?.Invoke(w);
            g.Initializer.Add(w);
            g.Node.Add(Node("MatMul", ["x", "w"], ["y"]));
            g.Output.Add(new ValueInfoProto { Name = "y" });
        });
        return Save(m, dir);
    }
}
