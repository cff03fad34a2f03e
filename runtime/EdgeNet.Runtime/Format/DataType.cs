namespace EdgeNet.Format;

/// <summary>Element types a tensor can hold. Values are the on-disk codes of the .enet format.</summary>
public enum DataType : byte
{
    /// <summary>32-bit IEEE float (C# float).</summary>
    Float32 = 1,
    /// <summary>Signed byte (C# sbyte): int8 quantized tensors carry <see cref="TensorDesc.Quant"/>.</summary>
    Int8 = 2,
    /// <summary>16-bit signed integer (C# short).</summary>
    Int16 = 3,
    /// <summary>32-bit signed integer (C# int).</summary>
    Int32 = 4,
    /// <summary>Unsigned byte (C# byte).</summary>
    UInt8 = 5,
    /// <summary>64-bit signed integer (C# long): token ids, indices, shapes.</summary>
    Int64 = 6,
    /// <summary>One byte per element, 0 or 1 (ONNX bool, numpy |b1).</summary>
    Bool = 7,
}

/// <summary>Facts about <see cref="DataType"/> codes.</summary>
public static class DataTypes
{
    /// <summary>Bytes per element.</summary>
    /// <exception cref="ModelFormatException">An unknown code (a damaged file).</exception>
    public static int SizeOf(DataType t) => t switch
    {
        DataType.Float32 => 4,
        DataType.Int8 => 1,
        DataType.UInt8 => 1,
        DataType.Bool => 1,
        DataType.Int16 => 2,
        DataType.Int32 => 4,
        DataType.Int64 => 8,
        _ => throw new ModelFormatException($"unknown data type code {(int)t}"),
    };

    /// <summary>Whether <paramref name="t"/> is a code this runtime knows.</summary>
    public static bool IsValid(DataType t) => t is >= DataType.Float32 and <= DataType.Bool;

    /// <summary>Whether a span of <typeparamref name="T"/> may view a tensor of type <paramref name="t"/>
    /// (float ↔ Float32, long ↔ Int64, int ↔ Int32, short ↔ Int16, byte ↔ UInt8/Bool, sbyte ↔ Int8).</summary>
    public static bool Holds<T>(DataType t) where T : unmanaged => t switch
    {
        DataType.Float32 => typeof(T) == typeof(float),
        DataType.Int64 => typeof(T) == typeof(long),
        DataType.Int32 => typeof(T) == typeof(int),
        DataType.Int16 => typeof(T) == typeof(short),
        DataType.UInt8 or DataType.Bool => typeof(T) == typeof(byte) || (t == DataType.Bool && typeof(T) == typeof(bool)),
        DataType.Int8 => typeof(T) == typeof(sbyte),
        _ => false,
    };

    /// <summary>The element type a C# type stands for (bool and byte: <see cref="DataType.Bool"/> and <see cref="DataType.UInt8"/>).</summary>
    public static DataType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DataType.Float32 : typeof(T) == typeof(long) ? DataType.Int64 : typeof(T) == typeof(int) ? DataType.Int32
        : typeof(T) == typeof(short) ? DataType.Int16 : typeof(T) == typeof(byte) ? DataType.UInt8 : typeof(T) == typeof(sbyte) ? DataType.Int8
        : typeof(T) == typeof(bool) ? DataType.Bool : throw new ArgumentException($"{typeof(T).Name} is not a tensor element type");

    /// <summary>NumPy's dtype string of a type ("&lt;f4", "|b1", ...).</summary>
    public static string NumpyDescr(DataType t) => t switch
    {
        DataType.Float32 => "<f4", DataType.Int8 => "|i1", DataType.UInt8 => "|u1", DataType.Bool => "|b1",
        DataType.Int16 => "<i2", DataType.Int32 => "<i4", DataType.Int64 => "<i8",
        _ => throw new ModelFormatException($"unknown data type code {(int)t}"),
    };

    /// <summary>Integer types (the ones integer arithmetic, comparisons and indices run on).</summary>
    public static bool IsInteger(DataType t) => t is DataType.Int8 or DataType.UInt8 or DataType.Int16 or DataType.Int32 or DataType.Int64;
}
