using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>What the byte-copying data movement kernels share.</summary>
internal static class DataMovement
{
    /// <summary>The element size of <paramref name="x"/>, whose type the outputs take (<c>ExpectOutput</c>). Quantized
    /// int8 is refused: its scale travels with it, and the quantizer dequantizes before these ops.</summary>
    public static int ElementSize(Kernel k, Model m, int x)
    {
        var t = m.Tensors[x];
        if (t.Type == DataType.Int8 && t.Quant is not null) throw new ModelFormatException($"node '{k.Node.Name}' ({k.Node.Op}): input '{t.Name}' is quantized int8; this op takes unquantized tensors");
        return DataTypes.SizeOf(t.Type);
    }

    /// <summary>Blocks up to this many bytes are copied by <see cref="CopySmall"/>, longer ones by a Memmove call:
    /// YOLOv5's head splits rows of 85 floats into 2, 2 and 81 (324 bytes); Concat's pixels of 65-128
    /// channels.</summary>
    public const int SmallBlock = 512;

    /// <summary>A short block of Split or Concat (a channels-last pixel's channels, a detector row's part) by loads and
    /// stores in the caller's loop: Buffer.MemoryCopy and Span.CopyTo are a call to Memmove per block, whose fixed cost
    /// was most of a node's time at such sizes (BlazeFace's Concat_7 pads 4096 pixels of 24 channels with 4 zero
    /// channels; YOLOv5n's Split_134 splits 4800 rows), more under NativeAOT than under the JIT. A block under 16 bytes
    /// tests nothing else: two 8- or 4-byte moves (a block of 2 floats is one; behind the vector loops' tests it took
    /// 1.4 times as long in YOLOv5n's Concat_141). A longer one: the widest vectors first, a tail under 16 bytes by one
    /// 16-byte vector ending at <paramref name="n"/> (over bytes already copied). Ending every block with a whole
    /// 64-byte vector instead made Split_134's blocks of 81 floats 14-18% slower. The source and the destination do not
    /// overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void CopySmall(byte* s, byte* d, long n)
    {
        if (Vector128.IsHardwareAccelerated && n >= 16)
        {
            long i = 0;
            if (Vector512.IsHardwareAccelerated) for (; i <= n - 64; i += 64) Vector512.Load(s + i).Store(d + i);
            if (Vector256.IsHardwareAccelerated) for (; i <= n - 32; i += 32) Vector256.Load(s + i).Store(d + i);
            for (; i <= n - 16; i += 16) Vector128.Load(s + i).Store(d + i);
            if (i < n) Vector128.Load(s + n - 16).Store(d + n - 16);
        }
        else if (n >= 8)
        {
            for (long i = 0; i < n - 8; i += 8) *(ulong*)(d + i) = *(ulong*)(s + i);
            *(ulong*)(d + n - 8) = *(ulong*)(s + n - 8);
        }
        else if (n >= 4) { *(uint*)d = *(uint*)s; *(uint*)(d + n - 4) = *(uint*)(s + n - 4); }
        else for (long i = 0; i < n; i++) d[i] = s[i];
    }
}
