using EdgeNet.Converter.Onnx;
using EdgeNet.Format;
using Google.Protobuf;

namespace EdgeNet.Converter;

/// <summary>Reads an ONNX file and the tensor data it holds inline or in external data files next to it.</summary>
public sealed class OnnxFile
{
    public const long MaxModelBytes = 2L << 30;
    /// <summary>The largest tensor the converter reads or computes: a .NET array and an .enet weights section hold at most this.</summary>
    public const long MaxTensorBytes = int.MaxValue;
    public ModelProto Proto { get; }
    public string Path { get; }
    public byte[] Bytes { get; }
    readonly string folder;

    OnnxFile(string path, byte[] bytes, ModelProto proto)
    {
        Path = path; Bytes = bytes; Proto = proto;
        folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
    }

    public static OnnxFile Load(string path)
    {
        byte[] bytes;
        try { bytes = Io.RegularFile.ReadAll(path, MaxModelBytes); }
        catch (FileNotFoundException) { throw new ModelFormatException($"'{path}' does not exist"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelFormatException($"cannot read '{path}': {e.Message}"); }
        ModelProto proto;
        try { proto = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e) { throw new ModelFormatException($"'{path}' is not a valid ONNX file: {e.Message}"); }
        if (proto.Graph is null) throw new ModelFormatException($"'{path}' has no graph");
        return new OnnxFile(path, bytes, proto);
    }

    public long Opset => Proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();

    /// <summary>The tensor's dims, refused before any allocation when they are negative or their product is huge.</summary>
    public static int[] Dims(TensorProto t)
    {
        long n = 1;
        var dims = new int[t.Dims.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            long d = t.Dims[i];
            if (d < 0 || d > int.MaxValue) throw new ModelFormatException($"initializer '{t.Name}': dimension {d} is out of range");
            n *= Math.Max(d, 1);
            if (n > ModelValidator.MaxElements) throw new ModelFormatException($"initializer '{t.Name}': {string.Join("x", t.Dims)} elements exceed the limit");
            dims[i] = (int)d;
        }
        return dims;
    }

    static long Count(int[] dims) { long n = 1; foreach (var d in dims) n *= d; return n; }

    /// <summary>The raw little-endian bytes of a tensor's data, from raw_data or an external file.</summary>
    ReadOnlySpan<byte> Raw(TensorProto t, int elementSize, long count)
    {
        long bytes = count * elementSize;
        if (bytes > MaxTensorBytes) throw new ModelFormatException($"initializer '{t.Name}': {bytes} bytes of data exceed the {MaxTensorBytes}-byte limit of one tensor");
        if (t.DataLocation == TensorProto.Types.DataLocation.External) return External(t, bytes);
        if (t.RawData.Length != count * elementSize) throw new ModelFormatException($"initializer '{t.Name}': raw data is {t.RawData.Length} bytes; {count * elementSize} expected");
        return t.RawData.Span;
    }

    /// <summary>External data: the path is resolved through every symlink before it must lie inside the model's own
    /// (also resolved) folder, it must be a regular file, and exactly the tensor's bytes are read from it.</summary>
    byte[] External(TensorProto t, long bytes)
    {
        var kv = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in t.ExternalData)
            if (!kv.TryAdd(e.Key, e.Value)) throw new ModelFormatException($"initializer '{t.Name}': external data key '{e.Key}' appears twice");
        if (!kv.TryGetValue("location", out var loc) || loc.Length == 0) throw new ModelFormatException($"initializer '{t.Name}': external data has no location");
        if (loc.Contains('\0')) throw new ModelFormatException($"initializer '{t.Name}': external data path holds a NUL character");
        if (System.IO.Path.IsPathRooted(loc)) throw new ModelFormatException($"initializer '{t.Name}': external data path '{loc}' is absolute; only paths inside the model's folder are allowed");
        long offset = Number(t, kv, "offset", 0), length = Number(t, kv, "length", bytes);
        if (length != bytes) throw new ModelFormatException($"initializer '{t.Name}': external data length {length} is not the tensor's {bytes} bytes");
        if (!System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, loc)).StartsWith(folder + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ModelFormatException($"initializer '{t.Name}': external data path '{loc}' leaves the model's folder");
        string real, home;
        try { home = Io.RegularFile.RealPath(folder); real = Io.RegularFile.RealPath(System.IO.Path.Combine(folder, loc)); }
        catch (FileNotFoundException) { throw new ModelFormatException($"initializer '{t.Name}': external data file '{loc}' is missing"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelFormatException($"initializer '{t.Name}': external data file '{loc}': {e.Message}"); }
        if (!real.StartsWith(home.EndsWith('/') ? home : home + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ModelFormatException($"initializer '{t.Name}': external data path '{loc}' leaves the model's folder (it resolves to '{real}')");
        try { return Io.RegularFile.ReadRange(real, offset, length); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelFormatException($"initializer '{t.Name}': external data file '{loc}': {e.Message}"); }
    }

    static long Number(TensorProto t, Dictionary<string, string> kv, string key, long fallback) =>
        !kv.TryGetValue(key, out var s) ? fallback
        : long.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v
        : throw new ModelFormatException($"initializer '{t.Name}': external data {key} '{s}' is not a non-negative integer");

    public bool HasInlineTypedData(TensorProto t) => t.RawData.Length == 0 && t.DataLocation != TensorProto.Types.DataLocation.External;

    public float[] Floats(TensorProto t)
    {
        var dims = Dims(t); long n = Count(dims);
        var type = (TensorProto.Types.DataType)t.DataType;
        float[] r;
        switch (type)
        {
            case TensorProto.Types.DataType.Float:
                if (HasInlineTypedData(t)) { if (t.FloatData.Count != n) throw Mismatch(t, t.FloatData.Count, n); return t.FloatData.ToArray(); }
                return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Raw(t, 4, n)).ToArray();
            case TensorProto.Types.DataType.Double:
                if (HasInlineTypedData(t)) { if (t.DoubleData.Count != n) throw Mismatch(t, t.DoubleData.Count, n); return t.DoubleData.Select(d => (float)d).ToArray(); }
                var dd = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(Raw(t, 8, n));
                r = new float[n]; for (int i = 0; i < n; i++) r[i] = (float)dd[i]; return r;
            case TensorProto.Types.DataType.Float16:
                if (HasInlineTypedData(t)) { if (t.Int32Data.Count != n) throw Mismatch(t, t.Int32Data.Count, n); return t.Int32Data.Select(v => (float)BitConverter.UInt16BitsToHalf((ushort)v)).ToArray(); }
                var hh = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(Raw(t, 2, n));
                r = new float[n]; for (int i = 0; i < n; i++) r[i] = (float)hh[i]; return r;
            default:
                return Ints(t).Select(v => (float)v).ToArray();
        }
    }

    public long[] Ints(TensorProto t)
    {
        var dims = Dims(t); long n = Count(dims);
        var type = (TensorProto.Types.DataType)t.DataType;
        bool inline = HasInlineTypedData(t);
        switch (type)
        {
            case TensorProto.Types.DataType.Int64:
                if (inline) { if (t.Int64Data.Count != n) throw Mismatch(t, t.Int64Data.Count, n); return t.Int64Data.ToArray(); }
                return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(Raw(t, 8, n)).ToArray();
            case TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Int8
                or TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Uint16 or TensorProto.Types.DataType.Bool:
                if (inline) { if (t.Int32Data.Count != n) throw Mismatch(t, t.Int32Data.Count, n); return t.Int32Data.Select(v => (long)v).ToArray(); }
                int size = type is TensorProto.Types.DataType.Int32 ? 4 : type is TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Uint16 ? 2 : 1;
                var raw = Raw(t, size, n);
                var r = new long[n];
                for (int i = 0; i < n; i++)
                    r[i] = type switch
                    {
                        TensorProto.Types.DataType.Int32 => BitConverter.ToInt32(raw.Slice(i * 4, 4)),
                        TensorProto.Types.DataType.Int16 => BitConverter.ToInt16(raw.Slice(i * 2, 2)),
                        TensorProto.Types.DataType.Uint16 => BitConverter.ToUInt16(raw.Slice(i * 2, 2)),
                        TensorProto.Types.DataType.Int8 => (sbyte)raw[i],
                        _ => raw[i],
                    };
                return r;
            case TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double:
                return Floats(t).Select(v => (long)v).ToArray();
            default:
                throw new ModelFormatException($"initializer '{t.Name}': data type {type} is not supported");
        }
    }

    public static bool IsFloat(TensorProto t) => (TensorProto.Types.DataType)t.DataType is TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Float16;

    static ModelFormatException Mismatch(TensorProto t, int have, long want) => new($"initializer '{t.Name}': {have} values for {want} elements");
}
