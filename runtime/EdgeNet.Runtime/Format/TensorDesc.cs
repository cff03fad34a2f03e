namespace EdgeNet.Format;

/// <summary>Quantization parameters: per tensor (one scale) or per channel along <see cref="Axis"/>.</summary>
public sealed record QuantParams(float[] Scale, int[] ZeroPoint, int Axis);

/// <summary>
/// One tensor of the graph: a constant (weights, with <see cref="Data"/>), a graph input/output, or an
/// intermediate activation whose storage the memory planner assigns.
/// </summary>
public sealed class TensorDesc(string name, DataType type, int[] shape)
{
    /// <summary>The tensor's name (unique in the model; the ONNX name).</summary>
    public string Name { get; } = name;
    /// <summary>Settable by kernels while the converter infers an output (see Kernel.ExpectOutput).</summary>
    public DataType Type { get; internal set; } = type;
    /// <summary>Shape template; negative dimensions are multiples of the batch (see <see cref="Format.Shape"/>).</summary>
    public int[] Shape { get; internal set; } = shape;
    /// <summary>Marks an output whose shape the converter lets the kernel infer (see Kernel.ExpectShape).</summary>
    public static int[] UnknownShape => [int.MinValue];
    /// <summary>False only while the converter has yet to infer this tensor's shape.</summary>
    public bool IsShapeKnown => !(Shape.Length == 1 && Shape[0] == int.MinValue);
    /// <summary>Scale and zero point of an int8 tensor; null for float and integer tensors.</summary>
    public QuantParams? Quant { get; init; }
    /// <summary>Raw little-endian bytes of a constant; null for activations.</summary>
    public ReadOnlyMemory<byte>? Data { get; init; }

    /// <summary>Whether the tensor is a constant (weights) with <see cref="Data"/>.</summary>
    public bool IsConstant => Data is not null;
    /// <summary>Elements at batch <paramref name="batch"/>.</summary>
    public long Elements(int batch) => Format.Shape.Elements(Shape, batch);
    /// <summary>Bytes at batch <paramref name="batch"/>.</summary>
    public long Bytes(int batch) => Elements(batch) * DataTypes.SizeOf(Type);

    /// <summary>A float32 constant's values.</summary>
    /// <exception cref="ModelFormatException">The tensor is not a float32 constant.</exception>
    public ReadOnlySpan<float> Floats()
    {
        if (Data is not { } d || Type != DataType.Float32)
            throw new ModelFormatException($"tensor '{Name}' is not a float32 constant");
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(d.Span);
    }

    /// <summary>Name, type and shape, as messages quote a tensor.</summary>
    public override string ToString() => $"{Name}: {Type} {Format.Shape.Format(Shape)}";
}
