using EdgeNet.Format;

namespace EdgeNet.Converter;

/// <summary>An integer known at conversion time up to the batch: Coef · N^Pow (shape arithmetic around the batch).</summary>
public readonly record struct Sym(long Coef, int Pow)
{
    public static Sym FromDim(int d) => d >= 0 ? new(d, 0) : new(-(long)d, 1);
    public bool IsConstant => Pow == 0;
    public int ToDim(string where) => Pow switch
    {
        0 when Coef is >= 0 and <= int.MaxValue => (int)Coef,
        1 when Coef is > 0 and <= ModelValidator.MaxBatchFactor => (int)-Coef,
        _ => throw new ModelFormatException($"{where}: dimension {this} is not supported (only one batch factor per shape)"),
    };
    public static Sym operator *(Sym a, Sym b) => new(checked(a.Coef * b.Coef), a.Pow + b.Pow);
    public override string ToString() => Pow == 0 ? Coef.ToString() : Pow == 1 ? $"{Coef}N" : $"{Coef}N^{Pow}";
}

/// <summary>What the importer knows about one ONNX value: a runtime tensor, a constant, or a batch-sized zero state.</summary>
public sealed class ImportValue
{
    /// <summary>Index in the model being built, or -1 while the value has not been materialized as a tensor.</summary>
    public int Tensor { get; set; } = -1;
    public required int[] Shape { get; init; }
    public float[]? Floats { get; init; }
    public Sym[]? Ints { get; init; }
    /// <summary>ConstantOfShape(0) over a batch-dependent shape: an RNN initial state that is all zeros.</summary>
    public bool ZeroState { get; init; }
    public bool IsConstant => Floats is not null || Ints is not null;
    /// <summary>For DequantizeLinear of a computed int8 tensor: that tensor (its fp32 value is made only if asked for).</summary>
    public int QTensor { get; set; } = -1;
    /// <summary>For DequantizeLinear of a constant: the integer data and its parameters.</summary>
    public QuantConstant? QConst { get; init; }

    /// <summary>Elements a constant made at conversion time (ConstantOfShape, Expand) may have: 64 MiB of float32.
    /// Real models make masks and states this way; a 200-byte file must not make the converter allocate gigabytes.</summary>
    public const int MaxComputedElements = 1 << 24;

    /// <summary>The element count of a computed constant's shape, refused before anything is allocated when a
    /// dimension is negative or the count exceeds <see cref="MaxComputedElements"/>.</summary>
    public static int ComputedElements(int[] shape)
    {
        if (shape.Contains(0)) return 0;
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ModelFormatException($"dimension {d} of {Format.Shape.Format(shape)} is negative");
            n *= d;
            if (n > MaxComputedElements) throw new ModelFormatException($"a constant of shape {Format.Shape.Format(shape)} exceeds the {MaxComputedElements}-element limit of constants computed while converting");
        }
        return (int)n;
    }
}

/// <summary>A quantized constant as the file holds it: int8 weights (or int32 biases) with scales and zero points.</summary>
public sealed record QuantConstant(long[] Data, float[] Scales, int[] ZeroPoints, int Axis, bool Unsigned, bool Int32);
