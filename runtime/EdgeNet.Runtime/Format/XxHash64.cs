using System.Buffers.Binary;
using System.Numerics;

namespace EdgeNet.Format;

/// <summary>
/// XXH64 with seed 0 (Yann Collet's xxHash, the 64-bit variant): the checksum of each .enet section. Written here so the
/// runtime package depends on nothing beyond the BCL and System.Numerics.Tensors; the tests hold it to
/// System.IO.Hashing.XxHash64 on every length class (empty, under 4, 8, 32, and long inputs with odd tails).
/// </summary>
static class XxHash64
{
    const ulong P1 = 0x9E3779B185EBCA87, P2 = 0xC2B2AE3D27D4EB4F, P3 = 0x165667B19E3779F9,
        P4 = 0x85EBCA77C2B2AE63, P5 = 0x27D4EB2F165667C5;

    /// <summary>The XXH64 (seed 0) of <paramref name="data"/>.</summary>
    public static ulong Hash(ReadOnlySpan<byte> data)
    {
        int n = data.Length, i = 0;
        ulong h;
        if (n >= 32)
        {
            ulong v1 = unchecked(P1 + P2), v2 = P2, v3 = 0, v4 = unchecked(0 - P1);
            for (; i + 32 <= n; i += 32)
            {
                v1 = Round(v1, Read64(data, i));
                v2 = Round(v2, Read64(data, i + 8));
                v3 = Round(v3, Read64(data, i + 16));
                v4 = Round(v4, Read64(data, i + 24));
            }
            h = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7)
              + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
            h = Merge(Merge(Merge(Merge(h, v1), v2), v3), v4);
        }
        else h = P5;

        h += (ulong)n;
        for (; i + 8 <= n; i += 8)
            h = BitOperations.RotateLeft(h ^ Round(0, Read64(data, i)), 27) * P1 + P4;
        if (i + 4 <= n)
        {
            h = BitOperations.RotateLeft(h ^ BinaryPrimitives.ReadUInt32LittleEndian(data[i..]) * P1, 23) * P2 + P3;
            i += 4;
        }
        for (; i < n; i++)
            h = BitOperations.RotateLeft(h ^ data[i] * P5, 11) * P1;

        h ^= h >> 33; h *= P2;
        h ^= h >> 29; h *= P3;
        return h ^ (h >> 32);
    }

    static ulong Read64(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);
    static ulong Round(ulong acc, ulong lane) => BitOperations.RotateLeft(acc + lane * P2, 31) * P1;
    static ulong Merge(ulong h, ulong v) => (h ^ Round(0, v)) * P1 + P4;
}
