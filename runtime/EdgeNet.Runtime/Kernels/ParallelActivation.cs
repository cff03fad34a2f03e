using EdgeNet.Engine;

namespace EdgeNet.Kernels;

/// <summary>
/// An activation pass over a whole tensor (a standalone elementwise node, or the non-clamp activation a conv applies
/// after its parallel parts) split across the intra-op threads into contiguous 64-byte-aligned ranges
/// (<see cref="IntraOpPool.ElementRange"/>): every element meets the same vector or tail code as on one thread, so the
/// bits are the same. One per kernel (it holds the call in flight); nothing allocated per run.
/// </summary>
internal sealed unsafe class ParallelActivation : IParallelWork
{
    Activation act;
    float* x, y;
    long n;
    int parts;

    /// <summary>y = act(x) over n elements (x and y may be the same).</summary>
    public void Run(IntraOpPool? pool, in Activation a, float* src, float* dst, long count)
    {
        int p = IntraOpPool.ElementParts(pool, count);
        if (p == 1) { a.Apply(new ReadOnlySpan<float>(src, checked((int)count)), new Span<float>(dst, (int)count)); return; }
        act = a; x = src; y = dst; n = count; parts = p;
        pool!.Run(this, p);
        act = default;
    }

    public void Execute(int part)
    {
        var (s, e) = IntraOpPool.ElementRange(part, parts, n);
        if (s < e) act.Apply(new ReadOnlySpan<float>(x + s, (int)(e - s)), new Span<float>(y + s, (int)(e - s)));
    }
}
