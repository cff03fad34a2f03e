using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>Op → kernel by the op table (<see cref="OpTable"/>), resolved once at load. An op without a kernel is a precise error.</summary>
internal static class KernelRegistry
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
        var info = OpTable.Find(node.Op) ?? throw new ModelFormatException($"node '{node.Name}': no kernel for op {node.Op}");
        // fp32 and int8 kernels are twins: the input's type picks one. An int8 tensor without quantization parameters
        // holds plain integers and goes to the typed kernel where the op has one.
        var first = node.Inputs.Length > 0 && node.Inputs[0] >= 0 ? m.Tensors[node.Inputs[0]] : null;
        bool int8 = first?.Type == DataType.Int8 && !(info.Typed is not null && first.Quant is null);
        if (int8) return (info.Int8 ?? throw new ModelFormatException($"node '{node.Name}': no int8 kernel for {node.Op} (dequantize before it)"))(m, node, o);
        // Integer and bool data (in, or out: MaxPool's int64 Indices): the op's typed kernel, which checks its own types.
        if (info.Typed is { } typed && node.Inputs.Concat(node.Outputs).Any(t => t >= 0 && m.Tensors[t].Type != DataType.Float32))
            return typed(m, node, o);
        if (!info.ConvertsTypes)
            foreach (var t in node.Outputs.Concat(info.Parameters.Length > 0 ? node.Inputs.Take(1) : node.Inputs))
                if (t >= 0 && m.Tensors[t].Type != DataType.Float32)
                    throw new ModelFormatException($"node '{node.Name}' ({node.Op}): tensor '{m.Tensors[t].Name}' is {m.Tensors[t].Type}; this fp32 kernel takes float32");
        return info.Fp32(m, node, o);
    }
}
