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
        try { return Construct(m, node, o); }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException or InvalidCastException)
        {
            // A kernel's checks missed an inconsistency: still one typed error, never a crash.
            throw new ModelFormatException($"node '{node.Name}' ({node.Op}): inconsistent shapes or attributes ({e.Message})");
        }
    }

    static Kernel Construct(Model m, Node node, KernelOptions o)
    {
        // fp32 and int8 kernels are twins: the input's type picks one.
        bool int8 = node.Inputs.Length > 0 && node.Inputs[0] >= 0 && m.Tensors[node.Inputs[0]].Type == DataType.Int8;
        if (int8 || node.Op == OpType.Quantize)
            return node.Op switch
            {
                OpType.Dense => new Kernels.Int8.DenseInt8Kernel(m, node, o),
                OpType.Conv when node.Attributes.Int(ChannelsLast.Attribute, 0) != 0 => new Kernels.Int8.ConvNhwcInt8Kernel(m, node),
                OpType.Conv => new Kernels.Int8.ConvInt8Kernel(m, node, o),
                OpType.Transpose => new TransposeKernel(m, node),
                OpType.Quantize or OpType.Dequantize => new Kernels.Int8.QuantizeKernel(m, node),
                OpType.Add or OpType.Relu or OpType.Clip or OpType.LeakyRelu or OpType.Sigmoid or OpType.Tanh => new Kernels.Int8.ElementwiseInt8Kernel(m, node),
                OpType.GlobalAveragePool or OpType.AveragePool or OpType.MaxPool => new Kernels.Int8.PoolInt8Kernel(m, node, o),
                OpType.Reshape => new ReshapeKernel(m, node),
                OpType.Concat => new Kernels.Int8.ConcatInt8Kernel(m, node),
                _ => throw new ModelFormatException($"node '{node.Name}': no int8 kernel for {node.Op} (dequantize before it)"),
            };
        bool hasWeights = node.Op is OpType.Dense or OpType.Conv or OpType.Lstm or OpType.Gru or OpType.Rnn;
        foreach (var t in node.Outputs.Concat(hasWeights ? node.Inputs.Take(1) : node.Inputs))
            if (t >= 0 && m.Tensors[t].Type != DataType.Float32)
                throw new ModelFormatException($"node '{node.Name}' ({node.Op}): tensor '{m.Tensors[t].Name}' is {m.Tensors[t].Type}; this fp32 kernel takes float32");
        if (node.Op == OpType.Dequantize) throw new ModelFormatException($"node '{node.Name}': Dequantize needs an int8 input");
        return node.Op switch
        {
            OpType.Dense => new DenseKernel(m, node, o),
            OpType.Conv when node.Attributes.Int(ChannelsLast.Attribute, 0) != 0 => new ConvNhwcKernel(m, node),
            OpType.Conv => new ConvKernel(m, node, o),
            OpType.GlobalAveragePool when node.Attributes.Int(ChannelsLast.Attribute, 0) == 1 => new GlobalAveragePoolNhwcKernel(m, node),
            OpType.MaxPool or OpType.AveragePool or OpType.GlobalAveragePool => new PoolKernel(m, node, o),
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
