using EdgeNet.Format;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Engine;

/// <summary>How kernels are chosen at load.</summary>
public sealed record KernelOptions
{
    /// <summary>Run the plain scalar reference kernels (the specification tests compare against).</summary>
    public bool Reference { get; init; }
    /// <summary>Plan depthwise-separable networks channels-last (<see cref="ChannelsLast"/>); off with Reference.</summary>
    public bool ChannelsLast { get; init; } = true;
    /// <summary>Intra-op threads (1: the caller only). GEMMs and depthwise convolutions split across them.</summary>
    public int Threads { get; init; } = 1;
    /// <summary>The int8 kernels' instruction set (GEMM, depthwise, stem): this machine's best, or another it runs, so
    /// that one process can hold every path against the others (tests); one <see cref="GemmInt8.Runnable"/> lists.</summary>
    internal GemmInt8.Isa Int8Isa
    {
        get => int8Isa;
        init => int8Isa = GemmInt8.Runnable().Contains(value) ? value : throw new ArgumentException($"this machine does not run the int8 ISA {value}", nameof(Int8Isa));
    }
    readonly GemmInt8.Isa int8Isa = GemmInt8.Selected;
    /// <summary>Optimized kernels, channels-last planning, one thread.</summary>
    public static readonly KernelOptions Default = new();
}

/// <summary>
/// A prepared operator. The constructor is Prepare (validate attributes and shapes, pack weights, size scratch);
/// <see cref="Run"/> is Eval and neither allocates nor validates.
/// </summary>
internal abstract unsafe class Kernel(Node node)
{
    public Node Node { get; } = node;
    /// <summary>Bytes of scratch this kernel needs at batch <paramref name="batch"/> (shared by all kernels; they run one at a time).</summary>
    public virtual long ScratchBytes(int batch) => 0;
    public abstract void Run(Frame f);

    protected ModelFormatException Error(string message) => new($"node '{Node.Name}' ({Node.Op}): {message}");

    /// <summary>The node's "axis" attribute (ONNX's default <paramref name="fallback"/>), negative from the end,
    /// checked against <paramref name="rank"/>.</summary>
    internal int AxisAttribute(int rank, long fallback)
    {
        long axis = Node.Attributes.Int("axis", fallback);   // as int64: a cut (int) would turn 2^40 into axis 0
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) throw Error($"axis {Node.Attributes.Int("axis", fallback)} is out of range for rank {rank}");
        return (int)axis;
    }

    /// <summary>Checks that the file's declared output shape equals what this op computes from its inputs.</summary>
    protected void ExpectShape(Model m, int tensor, int[] expected)
    {
        var declared = m.Tensors[tensor].Shape;
        if (!m.Tensors[tensor].IsShapeKnown) { m.Tensors[tensor].Shape = expected; return; }   // converter: infer
        if (!declared.AsSpan().SequenceEqual(expected))
            throw Error($"output '{m.Tensors[tensor].Name}' is declared {Format.Shape.Format(declared)} but the op computes {Format.Shape.Format(expected)}");
    }

    /// <summary>Like <see cref="ExpectShape"/> for an output of element type <paramref name="type"/>: the converter's
    /// inferred output takes that type; a loaded file's declared type must be it.</summary>
    protected void ExpectOutput(Model m, int tensor, int[] shape, DataType type)
    {
        var t = m.Tensors[tensor];
        if (!t.IsShapeKnown) t.Type = type;
        else if (t.Type != type) throw Error($"output '{t.Name}' is declared {t.Type} but the op computes {type}");
        ExpectShape(m, tensor, shape);
    }

    /// <summary>A non-constant-or-constant tensor of one of <paramref name="allowed"/> types, or a clear error.</summary>
    protected TensorDesc TypedTensor(Model m, int tensor, string role, params DataType[] allowed)
    {
        if (tensor < 0) throw Error($"{role} is missing");
        var t = m.Tensors[tensor];
        if (Array.IndexOf(allowed, t.Type) < 0) throw Error($"{role} '{t.Name}' is {t.Type}; this op takes {string.Join(", ", allowed)}");
        return t;
    }

    protected TensorDesc ConstantFloat(Model m, int tensor, string role)
    {
        if (tensor < 0) throw Error($"{role} is missing");
        var t = m.Tensors[tensor];
        if (!t.IsConstant || t.Type != DataType.Float32) throw Error($"{role} '{t.Name}' must be a float32 constant");
        return t;
    }

    protected TensorDesc FloatTensor(Model m, int tensor, string role)
    {
        var t = m.Tensors[tensor];
        if (t.Type != DataType.Float32) throw Error($"{role} '{t.Name}' is {t.Type}; this kernel takes float32");
        return t;
    }

    protected void RequireFixed(TensorDesc t, int axis, string what)
    {
        if (t.Shape[axis] < 0) throw Error($"{what} of '{t.Name}' must not depend on the batch");
    }
}
