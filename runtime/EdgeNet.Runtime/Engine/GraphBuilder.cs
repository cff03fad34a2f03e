using System.Runtime.InteropServices;
using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>
/// Builds a model node by node in C#, each output's shape inferred by its kernel, so that a model made on the
/// device (or in a test) is the same graph the converter would write.
/// </summary>
internal sealed class GraphBuilder
{
    public Model Model { get; } = new();

    public int Input(string name, params int[] shape) => Input(name, DataType.Float32, shape);

    public int Input(string name, DataType type, params int[] shape)
    {
        int t = Model.AddTensor(new TensorDesc(name, type, shape));
        Model.Inputs.Add(t);
        return t;
    }

    public int Constant(string name, float[] data, params int[] shape) =>
        Model.AddTensor(new TensorDesc(name, DataType.Float32, shape) { Data = MemoryMarshal.AsBytes(data.AsSpan()).ToArray() });

    /// <summary>A constant of any element type (long, int, byte for bool/uint8, sbyte).</summary>
    public int Constant<T>(string name, T[] data, params int[] shape) where T : unmanaged =>
        Model.AddTensor(new TensorDesc(name, DataTypes.Of<T>(), shape) { Data = MemoryMarshal.AsBytes(data.AsSpan()).ToArray() });

    /// <summary>Adds a node and returns its first output. Pass <paramref name="outputs"/> &gt; 1 for LSTM/GRU/RNN states.</summary>
    public int Add(OpType op, int[] inputs, Attributes? attributes = null, string? name = null, int outputs = 1)
    {
        name ??= $"{op}_{Model.Nodes.Count}";
        var outs = Enumerable.Range(0, outputs).Select(i => Model.AddTensor(new TensorDesc($"{name}:{i}", DataType.Float32, TensorDesc.UnknownShape))).ToArray();
        var node = new Node(op, name, inputs, outs, attributes);
        Model.Nodes.Add(node);
        ShapeInference.InferOutputs(Model, node);
        return outs[0];
    }

    public int Reshape(int x, int[] shape, string? name = null) => AddWithShape(OpType.Reshape, [x], shape, null, name);

    /// <summary>A node whose output shape is given rather than inferred (Reshape, Slice: the input's element type); its kernel still checks it.</summary>
    public int AddWithShape(OpType op, int[] inputs, int[] shape, Attributes? attributes = null, string? name = null)
    {
        name ??= $"{op}_{Model.Nodes.Count}";
        int y = Model.AddTensor(new TensorDesc($"{name}:0", Model.Tensors[inputs[0]].Type, shape));
        var node = new Node(op, name, inputs, [y], attributes);
        Model.Nodes.Add(node);
        ShapeInference.InferOutputs(Model, node);
        return y;
    }

    public Model Build(params int[] outputs)
    {
        Model.Outputs.AddRange(outputs);
        ModelValidator.Validate(Model);
        return Model;
    }
}
