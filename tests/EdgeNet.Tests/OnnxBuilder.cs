using EdgeNet.Converter.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeNet.Tests;

/// <summary>Small ONNX models built in code (the converter's protobuf classes), and ONNX Runtime's output for them.</summary>
public sealed class OnnxBuilder(long opset = 13)
{
    public readonly GraphProto Graph = new() { Name = "g" };

    /// <summary>A float32 graph input; a negative dimension is symbolic ("N").</summary>
    public OnnxBuilder Input(string name, params long[] dims) { Graph.Input.Add(Value(name, 1, dims)); return this; }
    public OnnxBuilder Output(string name) { Graph.Output.Add(new ValueInfoProto { Name = name }); return this; }

    static ValueInfoProto Value(string name, int type, long[] dims)
    {
        var v = new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = type, Shape = new TensorShapeProto() } } };
        foreach (var d in dims)
            v.Type.TensorType.Shape.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = d });
        return v;
    }

    public string Floats(string name, float[] data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims); t.FloatData.AddRange(data);
        Graph.Initializer.Add(t);
        return name;
    }

    /// <summary>An integer initializer of an ONNX type (int8, uint8 and int32 held in int32_data; int64 in int64_data).</summary>
    public string Ints(string name, TensorProto.Types.DataType type, long[] data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)type };
        t.Dims.AddRange(dims);
        if (type == TensorProto.Types.DataType.Int64) t.Int64Data.AddRange(data); else t.Int32Data.AddRange(data.Select(v => (int)v));
        Graph.Initializer.Add(t);
        return name;
    }

    public NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attrs)
    {
        var n = new NodeProto { OpType = op, Name = $"{op}_{Graph.Node.Count}" };
        n.Input.AddRange(inputs); n.Output.AddRange(outputs); n.Attribute.AddRange(attrs);
        if (op.StartsWith("QGemm", StringComparison.Ordinal)) n.Domain = "com.microsoft";
        Graph.Node.Add(n);
        return n;
    }

    public static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    public static AttributeProto String(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };
    public static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    public ModelProto Model()
    {
        var m = new ModelProto { IrVersion = 8, Graph = Graph, ProducerName = "EdgeNet.Tests" };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        if (Graph.Node.Any(n => n.Domain == "com.microsoft")) m.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        return m;
    }

    public string Save(string dir, string name = "m.onnx")
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, Model().ToByteArray());
        return path;
    }

    /// <summary>ONNX Runtime's outputs (float32) for one float32 input, one thread.</summary>
    public static float[][] RunOrt(string path, float[] x, int[] shape)
    {
        using var opts = new SessionOptions { IntraOpNumThreads = 1 };
        using var ort = new InferenceSession(path, opts);
        var feed = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor(ort.InputMetadata.Keys.First(), new DenseTensor<float>(x, shape)) };
        using var results = ort.Run(feed);
        return results.Select(r => r.AsEnumerable<float>().ToArray()).ToArray();
    }

    public static float[] Random(Random r, int n, float lo, float hi) => Enumerable.Range(0, n).Select(_ => lo + (float)r.NextDouble() * (hi - lo)).ToArray();
}
