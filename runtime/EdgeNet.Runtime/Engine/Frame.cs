using System.Runtime.CompilerServices;
using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>
/// What a kernel sees while it runs: the address of every tensor (activations in the arena, constants in their
/// pinned copy), every tensor's shape at the current batch, and a shared scratch area. Allocation-free.
/// </summary>
internal sealed unsafe class Frame
{
    readonly int[][] templates;
    readonly int[][] shapes;
    internal readonly nint[] Address;
    public int Batch { get; private set; } = -1;
    public byte* Scratch { get; internal set; }
    /// <summary>The session's intra-op threads, or null for one thread.</summary>
    public IntraOpPool? Pool { get; internal set; }

    internal Frame(Model model)
    {
        templates = model.Tensors.Select(t => t.Shape).ToArray();
        shapes = templates.Select(t => new int[t.Length]).ToArray();
        Address = new nint[model.Tensors.Count];
    }

    internal void SetBatch(int batch)
    {
        if (batch == Batch) return;
        for (int t = 0; t < templates.Length; t++)
            for (int d = 0; d < templates[t].Length; d++) shapes[t][d] = Format.Shape.Resolve(templates[t][d], batch);
        Batch = batch;
    }

    public float* F(int tensor) => (float*)Address[tensor];
    public sbyte* I8(int tensor) => (sbyte*)Address[tensor];
    public int[] Shape(int tensor) => shapes[tensor];
    // AggressiveInlining: NativeAOT has no profile to tell it these loops are hot and calls them out of line (the JIT inlines them).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Size(int tensor) { long n = 1; foreach (var d in shapes[tensor]) n *= d; return n; }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<float> Span(int tensor) => new(F(tensor), checked((int)Size(tensor)));
    /// <summary>A tensor of any element type as a span of <typeparamref name="T"/> (the kernel chose T by the tensor's type at Prepare).</summary>
    public Span<T> Span<T>(int tensor) where T : unmanaged => new((void*)Address[tensor], checked((int)Size(tensor)));
}
