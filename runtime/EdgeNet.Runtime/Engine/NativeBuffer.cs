using System.Runtime.InteropServices;

namespace EdgeNet.Engine;

/// <summary>
/// A 64-byte aligned block of native memory (packed weights, arenas). Freed once, by Dispose or by the finalizer,
/// whichever comes first, so a half-constructed session can never free twice.
/// </summary>
internal sealed unsafe class NativeBuffer : IDisposable
{
    nint pointer;
    public long Bytes { get; }

    public NativeBuffer(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Bytes = bytes;
        pointer = (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 64), 64);
        tracked?.Add((bytes, pointer));
    }

    [ThreadStatic] static List<(long Bytes, nint Address)>? tracked;

    /// <summary>Records every buffer this thread allocates until the returned scope is disposed (its size and address,
    /// in order): `edgenet bench --placement` prints where a session's packed weights landed.</summary>
    internal static Tracking Track() => new(tracked = []);

    internal sealed class Tracking(List<(long Bytes, nint Address)> list) : IDisposable
    {
        public IReadOnlyList<(long Bytes, nint Address)> Buffers => list;
        public void Dispose() { if (ReferenceEquals(tracked, list)) tracked = null; }
    }

    public static NativeBuffer Of(ReadOnlySpan<float> data)
    {
        var b = new NativeBuffer(data.Length * 4L);
        data.CopyTo(new Span<float>(b.Pointer, data.Length));
        return b;
    }

    public byte* Pointer => pointer != 0 ? (byte*)pointer : throw new ObjectDisposedException(nameof(NativeBuffer));
    public float* Floats => (float*)Pointer;

    public void Dispose()
    {
        var p = Interlocked.Exchange(ref pointer, 0);
        if (p != 0) NativeMemory.AlignedFree((void*)p);
        GC.SuppressFinalize(this);
    }

    ~NativeBuffer() => Dispose();
}
