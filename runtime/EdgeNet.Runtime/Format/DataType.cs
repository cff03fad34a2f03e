namespace EdgeNet.Format;

/// <summary>Element types a tensor can hold. Values are the on-disk codes of the .enet format.</summary>
public enum DataType : byte
{
    Float32 = 1,
    Int8 = 2,
    Int16 = 3,
    Int32 = 4,
    UInt8 = 5,
    Int64 = 6,
}

public static class DataTypes
{
    public static int SizeOf(DataType t) => t switch
    {
        DataType.Float32 => 4,
        DataType.Int8 => 1,
        DataType.UInt8 => 1,
        DataType.Int16 => 2,
        DataType.Int32 => 4,
        DataType.Int64 => 8,
        _ => throw new ModelFormatException($"unknown data type code {(int)t}"),
    };

    public static bool IsValid(DataType t) => t is >= DataType.Float32 and <= DataType.Int64;
}
