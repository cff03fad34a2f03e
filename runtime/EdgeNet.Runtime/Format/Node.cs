namespace EdgeNet.Format;

/// <summary>One operation of the graph. Inputs and outputs index <see cref="Model.Tensors"/>; -1 is an absent optional input.</summary>
public sealed class Node(OpType op, string name, int[] inputs, int[] outputs, Attributes? attributes = null, ushort version = 1)
{
    /// <summary>The operation.</summary>
    public OpType Op { get; } = op;
    /// <summary>The op's version (1 for every op today; a newer form of an op would get a new number).</summary>
    public ushort Version { get; } = version;
    /// <summary>The node's name (the ONNX node's, for messages and profiles).</summary>
    public string Name { get; } = name;
    /// <summary>Indices into <see cref="Model.Tensors"/>; -1 for an absent optional input.</summary>
    public int[] Inputs { get; } = inputs;
    /// <summary>Indices into <see cref="Model.Tensors"/> of what the node writes; -1 for an unused optional output.</summary>
    public int[] Outputs { get; } = outputs;
    /// <summary>The node's attributes (ONNX's names, int64/float/string values).</summary>
    public Attributes Attributes { get; } = attributes ?? new Attributes();

    /// <summary>Op and name, as messages quote a node.</summary>
    public override string ToString() => $"{Op} '{Name}'";
}
