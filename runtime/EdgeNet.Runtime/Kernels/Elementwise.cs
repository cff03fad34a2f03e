using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>The (at most two) float attributes of an elementwise op, in the order its <see cref="UnaryOp.Attrs"/> name them.</summary>
internal readonly record struct UnaryParams(float A = 0, float B = 0);

/// <summary>
/// An elementwise op as TensorPrimitives writes its operators: one scalar formula (the reference), one vector form
/// that <see cref="Elementwise.Map"/> drives, and the derivative beside them (llm.c's gelu_forward/gelu_backward).
/// A struct per op, so the shared loop is specialized for each (no call per element; NativeAOT-clean).
/// </summary>
internal interface IUnaryOp<TSelf> where TSelf : struct, IUnaryOp<TSelf>
{
    static abstract TSelf Create(UnaryParams p);
    /// <summary>True when <see cref="Derivative"/> reads x; false when y alone gives it (training then keeps only y).</summary>
    static abstract bool DerivativeNeedsInput { get; }
    /// <summary>Vectorized over a span (usually <see cref="Elementwise.Map"/> over the vector form).</summary>
    static abstract void Apply(in TSelf op, ReadOnlySpan<float> x, Span<float> y);
    float Invoke(float x);
    /// <summary>∂y/∂x at input x with output y.</summary>
    float Derivative(float x, float y);
    /// <summary>Why these attribute values are invalid, or null.</summary>
    static virtual string? Check(UnaryParams p) => null;
    /// <summary>The bounds when the op is a clamp (Relu, Clip), which GEMM epilogues apply in registers; else null.</summary>
    static virtual (float Min, float Max)? Clamp(UnaryParams p) => null;
    /// <summary>In place on <paramref name="rows"/> runs of <paramref name="width"/> floats, <paramref name="stride"/>
    /// apart, each as <see cref="Apply"/> does it (an op may loop over the rows itself, <see cref="SwishOp"/>).</summary>
    static virtual unsafe void ApplyRows(in TSelf op, float* y, long rows, int width, long stride)
    {
        for (long r = 0; r < rows; r++)
        {
            var run = new Span<float>(y + r * stride, width);
            TSelf.Apply(op, run, run);
        }
    }
}

/// <summary>An op with a vector form of its formula.</summary>
internal interface IVectorOp
{
    float Invoke(float x);
    Vector<float> Invoke(Vector<float> x);
}

internal static class Elementwise
{
    /// <summary>The shared loop: full vectors, then the scalar formula for the tail. x and y may be the same span.</summary>
    public static void Map<T>(in T op, ReadOnlySpan<float> x, Span<float> y) where T : struct, IVectorOp
    {
        int n = x.Length, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                op.Invoke(Vector.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref yr, i) = op.Invoke(Unsafe.Add(ref xr, i));
    }

    /// <summary><see cref="Map"/> in place on <paramref name="rows"/> runs of <paramref name="width"/> floats,
    /// <paramref name="stride"/> apart, in one loop (no call per run: a conv's pixels of 16 channels inside a
    /// Concat's wider ones); each run meets the code Map gives it.</summary>
    public static unsafe void MapRows<T>(in T op, float* y, long rows, int width, long stride) where T : struct, IVectorOp
    {
        int full = Vector.IsHardwareAccelerated ? width / Vector<float>.Count * Vector<float>.Count : 0;
        for (long r = 0; r < rows; r++)
        {
            float* p = y + r * stride;
            int i = 0;
            for (; i < full; i += Vector<float>.Count) op.Invoke(Vector.Load(p + i)).Store(p + i);
            for (; i < width; i++) p[i] = op.Invoke(p[i]);
        }
    }
}

/// <summary>
/// The op table's view of an elementwise op: its formula, attributes (names and defaults) and derivative, behind one
/// virtual call per span. Standalone kernels, fused Dense/Conv epilogues, int8 lookup tables and training use it.
/// </summary>
internal abstract class UnaryOp(OpType op, params (string Name, float Default)[] attrs)
{
    public OpType Op { get; } = op;
    /// <summary>The fused-activation name ("activation" attribute of Dense/Conv): the op's name in lower case.</summary>
    public string Name { get; } = op.ToString().ToLowerInvariant();
    public (string Name, float Default)[] Attrs { get; } = attrs;
    public abstract bool DerivativeNeedsInput { get; }

    /// <summary>Reads the op's attributes (fused: with the "act_" prefix) and checks them.</summary>
    public UnaryParams Read(Attributes a, string prefix, string node)
    {
        var p = new UnaryParams(Attrs.Length > 0 ? a.Float(prefix + Attrs[0].Name, Attrs[0].Default) : 0,
                                Attrs.Length > 1 ? a.Float(prefix + Attrs[1].Name, Attrs[1].Default) : 0);
        if (Check(p) is { } why) throw new ModelFormatException($"node '{node}' ({Op}): {why}");
        return p;
    }

    public void Write(Attributes a, string prefix, UnaryParams p)
    {
        if (Attrs.Length > 0) a.Set(prefix + Attrs[0].Name, p.A);
        if (Attrs.Length > 1) a.Set(prefix + Attrs[1].Name, p.B);
    }

    protected abstract string? Check(UnaryParams p);
    /// <summary>The bounds when the op is a clamp (Relu, Clip), which GEMM epilogues apply in registers; else null.</summary>
    public abstract (float Min, float Max)? Clamp(UnaryParams p);

    public abstract float Scalar(float x, UnaryParams p);
    public abstract void ApplyScalar(ReadOnlySpan<float> x, Span<float> y, UnaryParams p);
    public abstract void Apply(ReadOnlySpan<float> x, Span<float> y, UnaryParams p);
    /// <summary>In place on <paramref name="rows"/> runs of <paramref name="width"/> floats, <paramref name="stride"/>
    /// apart (a conv's pixels inside a Concat's wider ones): each run as <see cref="Apply"/> does it, one virtual call.</summary>
    public abstract unsafe void ApplyRows(float* y, long rows, int width, long stride, UnaryParams p);
    /// <summary>dz = dy ⊙ f'(x) from the input x and output y.</summary>
    public abstract void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, UnaryParams p);
}

internal sealed class UnaryOp<T>(OpType op, params (string Name, float Default)[] attrs) : UnaryOp(op, attrs) where T : struct, IUnaryOp<T>
{
    public override bool DerivativeNeedsInput => T.DerivativeNeedsInput;
    protected override string? Check(UnaryParams p) => T.Check(p);
    public override (float Min, float Max)? Clamp(UnaryParams p) => T.Clamp(p);
    public override float Scalar(float x, UnaryParams p) => T.Create(p).Invoke(x);

    public override void ApplyScalar(ReadOnlySpan<float> x, Span<float> y, UnaryParams p)
    {
        var f = T.Create(p);
        for (int i = 0; i < x.Length; i++) y[i] = f.Invoke(x[i]);
    }

    public override void Apply(ReadOnlySpan<float> x, Span<float> y, UnaryParams p) => T.Apply(T.Create(p), x, y);

    public override unsafe void ApplyRows(float* y, long rows, int width, long stride, UnaryParams p) => T.ApplyRows(T.Create(p), y, rows, width, stride);

    public override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, UnaryParams p)
    {
        var f = T.Create(p);
        for (int i = 0; i < dy.Length; i++) dz[i] = dy[i] * f.Derivative(x[i], y[i]);
    }
}
