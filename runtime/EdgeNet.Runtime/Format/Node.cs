namespace EdgeNet.Format;

/// <summary>One operation of the graph. Inputs and outputs index <see cref="Model.Tensors"/>; -1 is an absent optional input.</summary>
public sealed class Node(OpType op, string name, int[] inputs, int[] outputs, Attributes? attributes = null, ushort version = 1)
{
    public OpType Op { get; } = op;
    public ushort Version { get; } = version;
    public string Name { get; } = name;
    public int[] Inputs { get; } = inputs;
    public int[] Outputs { get; } = outputs;
    public Attributes Attributes { get; } = attributes ?? new Attributes();

    public override string ToString() => $"{Op} '{Name}'";
}
