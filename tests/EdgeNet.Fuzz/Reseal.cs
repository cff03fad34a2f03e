using System.Buffers.Binary;
using System.IO.Hashing;

namespace EdgeNet.Fuzz;

/// <summary>
/// Re-seals a mutated .enet file: recomputes the declared length and every checksum that still lies in bounds, so
/// mutations get past the checksums and reach the parsers and validators behind them.
/// </summary>
public static class Reseal
{
    public static byte[] Enet(byte[] f)
    {
        if (f.Length < 64) return f;
        BinaryPrimitives.WriteInt64LittleEndian(f.AsSpan(16), f.LongLength);
        int count = BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(8));
        if (count < 1 || count > 64 || 64 + count * 32 > f.Length) return f;
        for (int i = 0; i < count; i++)
        {
            var e = f.AsSpan(64 + i * 32);
            long off = BinaryPrimitives.ReadInt64LittleEndian(e[8..]), len = BinaryPrimitives.ReadInt64LittleEndian(e[16..]);
            if (off < 0 || len < 0 || off > f.Length || len > f.Length - off) continue;
            BinaryPrimitives.WriteUInt64LittleEndian(e[24..], XxHash64.HashToUInt64(f.AsSpan((int)off, (int)len)));
        }
        var h = new XxHash64();
        h.Append(f.AsSpan(0, 24));
        h.Append(f.AsSpan(32, 32 + count * 32));
        BinaryPrimitives.WriteUInt64LittleEndian(f.AsSpan(24), h.GetCurrentHashAsUInt64());
        return f;
    }
}
