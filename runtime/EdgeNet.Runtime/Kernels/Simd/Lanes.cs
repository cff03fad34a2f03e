using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeNet.Kernels.Simd;

/// <summary>One vector width of float lanes for the width-generic kernels (the JIT specializes each struct).</summary>
internal unsafe interface ILanes<TV> where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Load(float* p);
    static abstract TV Splat(float v);
    static abstract TV Fma(TV x, TV w, TV acc);
    static abstract TV Add(TV a, TV b);
    static abstract TV Sub(TV a, TV b);
    static abstract TV Mul(TV a, TV b);
    static abstract TV Div(TV a, TV b);
    /// <summary>IEEE 754-2019 maximum (NaN wins, +0 over −0), as Math.Max.</summary>
    static abstract TV Max(TV a, TV b);
    static abstract void Store(float* p, TV v);
    /// <summary>Clamps to [lo, hi] and stores.</summary>
    static abstract void Store(float* p, TV v, TV lo, TV hi);
}

/// <summary>16 lanes (AVX-512).</summary>
internal readonly unsafe struct Lanes512 : ILanes<Vector512<float>>
{
    public static int Count => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Splat(float v) => Vector512.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Fma(Vector512<float> x, Vector512<float> w, Vector512<float> acc) => Vector512.FusedMultiplyAdd(x, w, acc);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Div(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> v, Vector512<float> lo, Vector512<float> hi) => Clamp.Of(v, lo, hi).Store(p);
}

/// <summary>The machine's Vector&lt;float&gt; (8 lanes with AVX2, 4 with NEON).</summary>
internal readonly unsafe struct LanesNative : ILanes<Vector<float>>
{
    public static int Count => Vector<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<float> Load(float* p) => Vector.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<float> Splat(float v) => new(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<float> Fma(Vector<float> x, Vector<float> w, Vector<float> acc) => Vector.FusedMultiplyAdd(x, w, acc);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<float> Add(Vector<float> a, Vector<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<float> Sub(Vector<float> a, Vector<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<float> Mul(Vector<float> a, Vector<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<float> Div(Vector<float> a, Vector<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<float> Max(Vector<float> a, Vector<float> b) => Vector.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector<float> v, Vector<float> lo, Vector<float> hi) => Clamp.Of(v, lo, hi).Store(p);
}
