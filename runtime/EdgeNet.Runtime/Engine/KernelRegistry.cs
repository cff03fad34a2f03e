using EdgeNet.Format;
using EdgeNet.Kernels;

namespace EdgeNet.Engine;

/// <summary>The one table of op → kernel, resolved once at load. An op without a kernel is a precise error.</summary>
public static class KernelRegistry
{
    public static IReadOnlyCollection<OpType> Supported { get; } = Enum.GetValues<OpType>();

    public static Kernel Create(Model m, Node node, KernelOptions o)
    {
        if (node.Version != 1) throw new ModelFormatException($"node '{node.Name}': {node.Op} version {node.Version} is newer than this runtime supports (1)");
        foreach (var t in node.Outputs)
            if (t >= 0 && m.Tensors[t].Type != DataType.Float32)
                throw new ModelFormatException($"node '{node.Name}' ({node.Op}): output '{m.Tensors[t].Name}' is {m.Tensors[t].Type}; no {m.Tensors[t].Type} kernel for this op");
        try { return Construct(m, node, o); }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException or InvalidCastException)
        {
            // A kernel's checks missed an inconsistency: still one typed error, never a crash.
            throw new ModelFormatException($"node '{node.Name}' ({node.Op}): inconsistent shapes or attributes ({e.Message})");
        }
    }

    static Kernel Construct(Model m, Node node, KernelOptions o)
    {
        return node.Op switch
        {
            OpType.Dense => new DenseKernel(m, node, o),
            OpType.Conv => new ConvKernel(m, node, o),
            OpType.MaxPool or OpType.AveragePool or OpType.GlobalAveragePool => new PoolKernel(m, node),
            OpType.ChannelAffine => new ChannelAffineKernel(m, node, o),
            OpType.Relu or OpType.Clip or OpType.LeakyRelu or OpType.Sigmoid or OpType.Tanh => new UnaryKernel(m, node, o),
            OpType.Softmax => new SoftmaxKernel(m, node, o),
            OpType.Add or OpType.Sub or OpType.Mul or OpType.Div => new BinaryKernel(m, node, o),
            OpType.Reshape => new ReshapeKernel(m, node),
            OpType.Transpose => new TransposeKernel(m, node),
            OpType.Concat => new ConcatKernel(m, node),
            OpType.Gather => new GatherKernel(m, node),
            OpType.Slice => new SliceKernel(m, node),
            OpType.Lstm or OpType.Gru or OpType.Rnn => new RecurrentKernel(m, node, o),
            _ => throw new ModelFormatException($"node '{node.Name}': no kernel for op {node.Op}"),
        };
    }
}
