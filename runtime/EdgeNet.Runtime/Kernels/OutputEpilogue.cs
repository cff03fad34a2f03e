using System.Runtime.Intrinsics;
using EdgeNet.Engine;

namespace EdgeNet.Kernels;

/// <summary>
/// What a conv or Dense does to its output after the GEMM or window kernel wrote it, part by part while the part is still
/// in cache (the kernel's own thread, right after the part): y += sum (a residual Add fused into the conv,
/// <see cref="ConvSumFusion"/>), then the activation. With no sum only a non-clamp activation (Swish, HardSwish,
/// Sigmoid, GELU...) needs this pass; a clamp stays in the kernel's registers (<see cref="Lo"/>, <see cref="Hi"/>),
/// except after a sum, which it must follow.
/// Bits: the sum is exact per element. The activation must meet each element with the code one pass over the whole
/// tensor gives it (<see cref="Elementwise.Map"/>: full vectors from element 0, the scalar formula for the tail), so a
/// part activates only the chunks of 16 floats (a multiple of every vector width) that lie wholly inside it, and
/// <see cref="Seams"/> does the chunks that straddle two parts once both are written. A sum followed by a clamp (or
/// a clamp is one pass, y = clamp(y + sum), with the clamp the kernels' registers use (<see cref="Simd.Clamp"/>); a sum
/// alone is the Add node's TensorPrimitives.Add.
/// Rows further apart than their width (a conv writing into a Concat's wider pixels, <see cref="ConcatInPlace"/>): the
/// parts' element ranges are of the rows as if packed, each row's run found at its place; the width is then a multiple
/// of the chunk (<see cref="Chunk"/>), so every part is whole chunks and the bits are those of the packed output.
/// </summary>
internal sealed unsafe class OutputEpilogue(Activation act, bool hasSum) : IParallelWork
{
    public const int Chunk = 16;
    float* y, sum;
    long total, width, stride;   // rows of width elements, stride floats apart in y
    int parts;
    readonly bool addClamp = hasSum && act.Op is not null && act.IsClamp;   // the sum and the clamp in one pass

    /// <summary>False when the kernel's registers do everything (no sum, a clamp or no activation).</summary>
    public bool Active { get; } = hasSum || !act.IsClamp;
    /// <summary>True when rows apart cost about what the packed pass does on any width: SiLU/Swish alone, whose rows
    /// are one loop (<see cref="SwishOp.ApplyRows"/>); a sum and the other activations take a call per row.</summary>
    public bool RowsInOneLoop { get; } = !hasSum && act.Op?.Op == Format.OpType.Swish;
    /// <summary>The clamp the kernel applies in registers: the activation's, unless a sum comes before it.</summary>
    public float Lo => hasSum ? float.NegativeInfinity : act.ClampMin;
    public float Hi => hasSum ? float.PositiveInfinity : act.ClampMax;

    /// <summary>Before the parts of one run: the output (and sum, packed) of <paramref name="count"/> elements, in rows of
    /// <paramref name="rowWidth"/> elements <paramref name="rowStride"/> floats apart (a multiple of <see cref="Chunk"/>
    /// wide when apart; 0, 0: packed).</summary>
    public void Begin(float* output, float* summand, long count, long rowWidth = 0, long rowStride = 0)
    {
        y = output; sum = summand; total = count;
        (width, stride) = rowStride > rowWidth ? (rowWidth, rowStride) : (count, count);
    }

    /// <summary>Elements [s, e) are written: add the sum, activate the whole chunks.</summary>
    public void Part(long s, long e)
    {
        if (stride == width) { Range(y + s, s, e); return; }
        // Rows apart: a part's broken rows one by one, its whole rows at once (one call, not one per row of 16 floats).
        long r0 = (s + width - 1) / width, r1 = e / width;
        if (r0 > r1) { Range(y + r1 * stride + (s - r1 * width), s, e); return; }   // inside one row
        if (s < r0 * width) Range(y + (r0 - 1) * stride + (s - (r0 - 1) * width), s, r0 * width);
        if (r0 < r1) Rows(r0, r1);
        if (r1 * width < e) Range(y + r1 * stride, r1 * width, e);
    }

    /// <summary>Whole rows [r0, r1) of rows apart: as <see cref="Range"/> does each.</summary>
    void Rows(long r0, long r1)
    {
        int w = (int)width;
        if (addClamp || sum != null)
            for (long r = r0; r < r1; r++)
            {
                float* ys = y + r * stride, ss = sum + r * width;
                if (addClamp) AddClamp(ys, ss, w, act.ClampMin, act.ClampMax);
                else System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(ys, w), new ReadOnlySpan<float>(ss, w), new Span<float>(ys, w));
            }
        if (!addClamp) act.ApplyRows(y + r0 * stride, r1 - r0, w, stride);   // whole chunks: the packed pass's code
    }

    /// <summary>Elements [s, e) of the packed output, at <paramref name="ys"/>.</summary>
    void Range(float* ys, long s, long e)
    {
        if (addClamp) { AddClamp(ys, sum + s, e - s, act.ClampMin, act.ClampMax); return; }
        if (sum != null)   // the Add node's own span form
        {
            int n = checked((int)(e - s));
            System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(ys, n), new ReadOnlySpan<float>(sum + s, n), new Span<float>(ys, n));
        }
        if (act.Op is null) return;
        long a = (s + Chunk - 1) / Chunk * Chunk, b = e == total ? e : e / Chunk * Chunk;
        if (a < b) act.Apply(new Span<float>(ys + (a - s), (int)(b - a)));
    }

    /// <summary>After every part: the chunks that straddle the starts of parts 1..parts−1 (ascending), each once.</summary>
    public void Seams(IPartStarts starts, int count)
    {
        if (act.Op is null || addClamp || stride != width) return;   // rows apart: whole chunks only, no seams
        long done = -1;
        for (int i = 1; i < count; i++)
        {
            long s = starts.Start(i);
            if (s % Chunk == 0 || s >= total) continue;
            long a = s / Chunk * Chunk;
            if (a == done) continue;
            done = a;
            act.Apply(new Span<float>(y + a, (int)(Math.Min(a + Chunk, total) - a)));
        }
    }

    /// <summary>The whole output at once, across the pool in 64-byte-aligned ranges (whole chunks: no seams), for
    /// kernels whose parts are not contiguous ranges of the output.</summary>
    public void Whole(IntraOpPool? pool)
    {
        parts = IntraOpPool.ElementParts(pool, total);
        if (parts == 1) Part(0, total);
        else pool!.Run(this, parts);
    }

    /// <summary>y = clamp(y + s, lo, hi) over n elements (Relu: no upper bound, one instruction less a vector).</summary>
    static void AddClamp(float* y, float* s, long n, float lo, float hi)
    {
        if (float.IsPositiveInfinity(hi)) { AddMax(y, s, n, lo); return; }
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> l = Vector512.Create(lo), h = Vector512.Create(hi);
            for (; i + 16 <= n; i += 16) Simd.Clamp.Of(Vector512.Load(y + i) + Vector512.Load(s + i), l, h).Store(y + i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> l = Vector256.Create(lo), h = Vector256.Create(hi);
            for (; i + 8 <= n; i += 8) Simd.Clamp.Of(Vector256.Load(y + i) + Vector256.Load(s + i), l, h).Store(y + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> l = Vector128.Create(lo), h = Vector128.Create(hi);
            for (; i + 4 <= n; i += 4) Simd.Clamp.Of(Vector128.Load(y + i) + Vector128.Load(s + i), l, h).Store(y + i);
        }
        for (; i < n; i++) y[i] = MathF.Min(MathF.Max(y[i] + s[i], lo), hi);
    }

    static void AddMax(float* y, float* s, long n, float lo)
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var l = Vector512.Create(lo);
            for (; i + 16 <= n; i += 16) (System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? System.Runtime.Intrinsics.X86.Avx512F.Max(l, Vector512.Load(y + i) + Vector512.Load(s + i)) : Vector512.Max(Vector512.Load(y + i) + Vector512.Load(s + i), l)).Store(y + i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var l = Vector256.Create(lo);
            for (; i + 8 <= n; i += 8) (System.Runtime.Intrinsics.X86.Avx.IsSupported ? System.Runtime.Intrinsics.X86.Avx.Max(l, Vector256.Load(y + i) + Vector256.Load(s + i)) : Vector256.Max(Vector256.Load(y + i) + Vector256.Load(s + i), l)).Store(y + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var l = Vector128.Create(lo);
            for (; i + 4 <= n; i += 4) (System.Runtime.Intrinsics.X86.Sse.IsSupported ? System.Runtime.Intrinsics.X86.Sse.Max(l, Vector128.Load(y + i) + Vector128.Load(s + i)) : Vector128.Max(Vector128.Load(y + i) + Vector128.Load(s + i), l)).Store(y + i);
        }
        for (; i < n; i++) y[i] = MathF.Max(y[i] + s[i], lo);
    }

    public void Execute(int part)
    {
        var (s, e) = IntraOpPool.ElementRange(part, parts, total);
        if (s < e) Part(s, e);
    }
}

/// <summary>Where part i of a kernel's output begins (elements), for <see cref="OutputEpilogue.Seams"/>.</summary>
internal interface IPartStarts
{
    long Start(int part);
}
