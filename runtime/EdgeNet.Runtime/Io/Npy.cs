using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using EdgeNet.Format;

namespace EdgeNet.Io;

/// <summary>An array read from or written to NumPy's .npy format: shape plus data as float32 (f4, f8) or int64
/// (i8, i4, u1, i1, b1); <see cref="Dtype"/> is the file's own type.</summary>
public sealed class NpyArray(int[] shape, float[]? floats, long[]? longs, string dtype = "")
{
    /// <summary>The array's dimensions.</summary>
    public int[] Shape { get; } = shape;
    /// <summary>The data of a float array (f4, f8), else null.</summary>
    public float[]? Floats { get; } = floats;
    /// <summary>The data of an integer or bool array (i8, i4, u1, i1, b1), else null.</summary>
    public long[]? Longs { get; } = longs;
    /// <summary>The file's dtype without byte order: f4, f8, i8, i4, u1, i1 or b1 ("" for arrays made in code).</summary>
    public string Dtype { get; } = dtype.Length > 0 ? dtype : floats is not null ? "f4" : "i8";
    /// <summary>The number of elements.</summary>
    public long Length => Floats?.LongLength ?? Longs!.LongLength;

    /// <summary>
    /// The values as little-endian elements of <paramref name="type"/>. A float64 array for float32 or an integer
    /// array of another width for an integer type converts with a <paramref name="note"/>; anything that could
    /// change a value (floats to integers, integers to float32, a value outside the type's range, a bool other
    /// than 0/1) is an <see cref="InvalidDataException"/>.
    /// </summary>
    public byte[] ToBytes(DataType type, out string? note)
    {
        note = null;
        string want = DataTypes.NumpyDescr(type)[1..];
        if (Dtype != want) note = $"{Dtype} array converted to {type}";
        if (type == DataType.Float32)
        {
            if (Floats is null) throw new InvalidDataException($"the array is {Dtype}; the tensor is float32 (integers are not converted to floats)");
            return MemoryMarshal.AsBytes(Floats.AsSpan()).ToArray();
        }
        if (Longs is null) throw new InvalidDataException($"the array is {Dtype}; the tensor is {type} (floats are not converted to integers)");
        (long lo, long hi) = type switch
        {
            DataType.Int8 => (sbyte.MinValue, sbyte.MaxValue), DataType.UInt8 => (0, byte.MaxValue), DataType.Bool => (0, 1),
            DataType.Int16 => (short.MinValue, short.MaxValue), DataType.Int32 => (int.MinValue, int.MaxValue), _ => (long.MinValue, long.MaxValue),
        };
        int size = DataTypes.SizeOf(type);
        var bytes = new byte[Longs.LongLength * size];
        for (long i = 0; i < Longs.LongLength; i++)
        {
            long v = Longs[i];
            if (v < lo || v > hi) throw new InvalidDataException($"value {v} at index {i} does not fit {type}");
            for (int k = 0; k < size; k++) bytes[i * size + k] = (byte)(v >> (8 * k));
        }
        return bytes;
    }
}

/// <summary>Reader and writer for .npy (versions 1-3, C order, little-endian f4/f8/i4/i8/u1/i1/b1). Errors are <see cref="InvalidDataException"/>.</summary>
public static class Npy
{
    /// <summary>Reads a .npy file (a regular file; its size bounds what is allocated).</summary>
    /// <exception cref="InvalidDataException">The file cannot be read or is not a .npy array of a supported type.</exception>
    public static NpyArray Read(string path)
    {
        byte[] b;
        try { b = RegularFile.ReadAll(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InvalidDataException($"cannot read '{path}': {e.Message}"); }
        try { return Parse(b); }
        catch (InvalidDataException e) { throw new InvalidDataException($"'{path}': {e.Message}"); }
    }

    /// <summary>Parses the bytes of a .npy file.</summary>
    /// <exception cref="InvalidDataException">Not a .npy array of a supported type, or inconsistent.</exception>
    public static NpyArray Parse(ReadOnlySpan<byte> b)
    {
        if (b.Length < 10 || b[0] != 0x93 || !b.Slice(1, 5).SequenceEqual("NUMPY"u8)) throw new InvalidDataException("not a .npy file (bad magic)");
        int major = b[6];
        int headerLen, start;
        if (major == 1) { headerLen = BinaryPrimitives.ReadUInt16LittleEndian(b[8..]); start = 10; }
        else if (major is 2 or 3) { if (b.Length < 12) throw new InvalidDataException("truncated header"); headerLen = BinaryPrimitives.ReadInt32LittleEndian(b[8..]); start = 12; }
        else throw new InvalidDataException($"unsupported .npy version {major}");
        if (headerLen < 0 || headerLen > b.Length - start) throw new InvalidDataException("truncated header");
        string header = Encoding.Latin1.GetString(b.Slice(start, headerLen));
        string descr = Field(header, "descr").Trim('\'', '"', ' ');
        if (descr.Length != 3 || (descr[0] != '<' && descr[0] != '|') || descr[2] is not ('1' or '4' or '8')) throw new InvalidDataException($"unsupported dtype '{descr}'");
        int size = descr[2] - '0';
        if (Field(header, "fortran_order").Trim() != "False") throw new InvalidDataException("Fortran-ordered arrays are not supported");
        string shapeText = Field(header, "shape").Trim().TrimStart('(').TrimEnd(')');
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new InvalidDataException($"bad shape '{shapeText}'")).ToArray();
        var data = b[(start + headerLen)..];
        // The shape is checked against the bytes the file holds before anything is allocated; dims are ≤ 2^31 and the
        // product is compared as it grows, so it cannot overflow.
        long bytes = shape.Contains(0) ? 0 : size;
        foreach (var d in shape)
        {
            bytes *= d;
            if (bytes > data.Length) throw new InvalidDataException($"shape ({shapeText}) of {descr} needs more than the {data.Length} data bytes the file holds");
        }
        data = data[..(int)bytes];
        switch (descr[1..])
        {
            case "f4": return new(shape, MemoryMarshal.Cast<byte, float>(data).ToArray(), null, "f4");
            case "f8": { var d = MemoryMarshal.Cast<byte, double>(data); var f = new float[d.Length]; for (int i = 0; i < d.Length; i++) f[i] = (float)d[i]; return new(shape, f, null, "f8"); }
            case "i8": return new(shape, null, MemoryMarshal.Cast<byte, long>(data).ToArray(), "i8");
            case "i4": { var d = MemoryMarshal.Cast<byte, int>(data); var l = new long[d.Length]; for (int i = 0; i < d.Length; i++) l[i] = d[i]; return new(shape, null, l, "i4"); }
            case "u1": { var l = new long[data.Length]; for (int i = 0; i < data.Length; i++) l[i] = data[i]; return new(shape, null, l, "u1"); }
            case "i1": { var l = new long[data.Length]; for (int i = 0; i < data.Length; i++) l[i] = (sbyte)data[i]; return new(shape, null, l, "i1"); }
            case "b1":
            {
                var l = new long[data.Length];
                for (int i = 0; i < data.Length; i++) l[i] = data[i] <= 1 ? data[i] : throw new InvalidDataException($"bool value {data[i]} at index {i} is neither 0 nor 1");
                return new(shape, null, l, "b1");
            }
            default: throw new InvalidDataException($"unsupported dtype '{descr}'");
        }
    }

    static string Field(string header, string key)
    {
        int k = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (k < 0) throw new InvalidDataException($"header has no '{key}'");
        int colon = header.IndexOf(':', k);
        if (colon < 0) throw new InvalidDataException($"bad header field '{key}'");
        int end = key == "shape" ? header.IndexOf(')', colon) + 1 : header.IndexOfAny([',', '}'], colon);
        if (end <= colon) throw new InvalidDataException($"bad header field '{key}'");
        return header[(colon + 1)..end];
    }

    /// <summary>A float32 array of <paramref name="shape"/> as .npy bytes.</summary>
    public static byte[] Serialize(ReadOnlySpan<float> data, ReadOnlySpan<int> shape) => Serialize(MemoryMarshal.AsBytes(data), "<f4", shape);
    /// <summary>An int64 array of <paramref name="shape"/> as .npy bytes.</summary>
    public static byte[] Serialize(ReadOnlySpan<long> data, ReadOnlySpan<int> shape) => Serialize(MemoryMarshal.AsBytes(data), "<i8", shape);
    /// <summary>A tensor's raw little-endian bytes of element type <paramref name="type"/> (Session.OutputBytes).</summary>
    public static byte[] Serialize(ReadOnlySpan<byte> data, DataType type, ReadOnlySpan<int> shape) => Serialize(data, DataTypes.NumpyDescr(type), shape);

    /// <summary>Raw little-endian elements of NumPy type <paramref name="descr"/> ("&lt;f4", "|i1", ...).</summary>
    public static byte[] Serialize(ReadOnlySpan<byte> data, string descr, ReadOnlySpan<int> shape)
    {
        var dims = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++) dims[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        string sh = shape.Length == 1 ? dims[0] + "," : string.Join(", ", dims);
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({sh}), }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        ms.Write(BitConverter.GetBytes((ushort)header.Length));
        ms.Write(Encoding.Latin1.GetBytes(header));
        ms.Write(data);
        return ms.ToArray();
    }

    /// <summary>Writes a float32 array to <paramref name="path"/> atomically (a crash leaves the old file or the new one).</summary>
    public static void Write(string path, ReadOnlySpan<float> data, ReadOnlySpan<int> shape) => AtomicFile.Write(path, Serialize(data, shape));
    /// <summary>Writes a tensor's raw bytes of element type <paramref name="type"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, ReadOnlySpan<byte> data, DataType type, ReadOnlySpan<int> shape) => AtomicFile.Write(path, Serialize(data, type, shape));
}
