using System.Buffers.Binary;
using System.Text;

namespace EdgeNet.Format;

/// <summary>A bounds-checked little-endian cursor: every overrun is a <see cref="ModelFormatException"/> naming the section.</summary>
internal ref struct ByteReader(ReadOnlySpan<byte> data, string section)
{
    readonly ReadOnlySpan<byte> data = data;
    int pos;
    public readonly int Remaining => data.Length - pos;
    public readonly bool AtEnd => pos == data.Length;

    ReadOnlySpan<byte> Take(int n, string what)
    {
        if (n < 0 || n > Remaining)
            throw new ModelFormatException($"{section} section: truncated while reading {what} at byte {pos} (needs {n}, {Remaining} left)");
        var s = data.Slice(pos, n);
        pos += n;
        return s;
    }

    public byte U8(string what) => Take(1, what)[0];
    public ushort U16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
    public int I32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));
    public long I64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));
    public float F32(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));

    /// <summary>A count of items each at least <paramref name="minItemBytes"/> long: refused if the rest of the section cannot hold them,
    /// so a claimed count never drives an allocation.</summary>
    public int Count(string what, int minItemBytes, int max = int.MaxValue)
    {
        int n = I32(what);
        if (n < 0 || n > max || (long)n * minItemBytes > Remaining)
            throw new ModelFormatException($"{section} section: {what} {n} is out of range (at most {Math.Min(max, Remaining / Math.Max(1, minItemBytes))} fit)");
        return n;
    }

    public string Str(string what)
    {
        int n = Count(what + " length", 1, ModelFile.MaxStringBytes);
        try { return new UTF8Encoding(false, true).GetString(Take(n, what)); }
        catch (DecoderFallbackException) { throw new ModelFormatException($"{section} section: {what} is not valid UTF-8"); }
    }

    public int[] I32s(int n, string what) { var a = new int[n]; for (int i = 0; i < n; i++) a[i] = I32(what); return a; }
    public long[] I64s(int n, string what) { var a = new long[n]; for (int i = 0; i < n; i++) a[i] = I64(what); return a; }
    public float[] F32s(int n, string what) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = F32(what); return a; }
}

/// <summary>The writing twin of <see cref="ByteReader"/>.</summary>
internal sealed class ByteWriter
{
    readonly MemoryStream ms = new();
    public long Position => ms.Position;
    public void U8(byte v) => ms.WriteByte(v);
    public void U16(ushort v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); ms.Write(b); }
    public void I32(int v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, v); ms.Write(b); }
    public void I64(long v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, v); ms.Write(b); }
    public void F32(float v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, v); ms.Write(b); }
    public void Bytes(ReadOnlySpan<byte> b) => ms.Write(b);
    public void Str(string s) { var b = Encoding.UTF8.GetBytes(s); I32(b.Length); ms.Write(b); }
    public void Pad(int alignment) { while (ms.Position % alignment != 0) ms.WriteByte(0); }
    public byte[] ToArray() => ms.ToArray();
}
