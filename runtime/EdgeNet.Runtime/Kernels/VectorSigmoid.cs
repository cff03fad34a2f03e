using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Simd;
using static EdgeNet.Kernels.Simd.RecurrentNeon;

namespace EdgeNet.Kernels;

/// <summary>
/// tanh over a <see cref="Vector{T}"/>: the rational approximation of MLAS and Eigen that the LSTM gates use
/// (<see cref="RecurrentNeon.Tanh(float)"/>, |x| clamped at 9, absolute error about 1e-7), for elementwise ops
/// built on σ(v) = ½ + ½·tanh(v/2) (Swish). One division and eleven FMAs a vector; TensorPrimitives.Sigmoid's
/// exp-based form costs about twice that. On AVX-512 (<see cref="Wide"/>, a constant of the JIT or the AOT build, so
/// chosen once) the elementwise passes run 16 lanes with the division replaced by VRCP14PS and one Newton step on the
/// quotient (relative error ~2⁻²⁸ before rounding: within an ulp or two of p/d): Swish over a 56×56×144 map
/// 1.35-1.6× faster than the Vector&lt;float&gt; form's 8 lanes and one division.
/// </summary>
internal static class VectorSigmoid
{
    /// <summary>Inlined into its callers' loops (Swish's Elementwise.Map on NEON and AVX2): a call per vector cost a
    /// return and a load of each of the 13 constants, ~30 instructions a vector on arm64 where the loop keeps them in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Tanh(Vector<float> x)
    {
        x = Clamp.Of(x, new Vector<float>(Lo), new Vector<float>(Hi));
        var s = x * x;
        var p = Vector.FusedMultiplyAdd(s, new Vector<float>(A13), new Vector<float>(A11));
        p = Vector.FusedMultiplyAdd(p, s, new Vector<float>(A9));
        p = Vector.FusedMultiplyAdd(p, s, new Vector<float>(A7));
        p = Vector.FusedMultiplyAdd(p, s, new Vector<float>(A5));
        p = Vector.FusedMultiplyAdd(p, s, new Vector<float>(A3));
        p = Vector.FusedMultiplyAdd(p, s, new Vector<float>(A1));
        p *= x;
        var d = Vector.FusedMultiplyAdd(s, new Vector<float>(B6), new Vector<float>(B4));
        d = Vector.FusedMultiplyAdd(d, s, new Vector<float>(B2));
        d = Vector.FusedMultiplyAdd(d, s, new Vector<float>(B0));
        return p / d;
    }

    /// <summary>True where the 16-lane forms run (AVX-512).</summary>
    public static bool Wide => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary><see cref="Tanh(Vector{float})"/>'s rational function, 16 lanes, p/d by the reciprocal estimate
    /// r = VRCP14PS(d) and q = p·r refined once: q + r·(p − d·q).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var (p, d) = RecurrentX86.TanhTerms(x);
        var r = Avx512F.Reciprocal14(d);
        var q = p * r;
        return Vector512.FusedMultiplyAdd(r, Vector512.FusedMultiplyAdd(-d, q, p), q);
    }

    /// <summary>x·σ(αx) = h + h·tanh(αh), h = x/2 (<see cref="SwishOp"/>'s vector form), 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Swish(Vector512<float> x, Vector512<float> alpha)
    {
        var h = x * Vector512.Create(0.5f);
        return Vector512.FusedMultiplyAdd(h, Tanh(h * alpha), h);
    }

    /// <summary>SiLU, x·σ(x): <see cref="Swish(Vector512{float}, Vector512{float})"/> without the multiply by α = 1
    /// (h·1 = h for every float, NaN included: the same bits, one FMA-pipe operation of 17 fewer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Swish(Vector512<float> x)
    {
        var h = x * Vector512.Create(0.5f);
        return Vector512.FusedMultiplyAdd(h, Tanh(h), h);
    }

    /// <summary>σ(x) = 1/(1 + e⁻ˣ) with <see cref="VectorExp"/> (<see cref="SigmoidOp"/>'s vector form): the scalar twin
    /// of <see cref="Sigmoid(Vector512{float})"/> and <see cref="Sigmoid(Vector{float})"/>, bit for bit. Relative error
    /// a few ulp: the tanh form (½ + ½·tanh(x/2), as Swish) is a third cheaper but absolute (~1e-7), and a detector's
    /// map of small scores (PP-OCRv4 det's output, all under 1e-3) then missed ORT by 1.2e-4 of its largest value.</summary>
    public static float Sigmoid(float x) => 1f / (1f + VectorExp.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + VectorExp.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Sigmoid(Vector<float> x) => Vector<float>.One / (Vector<float>.One + VectorExp.Exp(-x));

    /// <summary>y = σ(x) over a span (x and y may be the same), as <see cref="VectorExp.Exp(ReadOnlySpan{float}, Span{float})"/>:
    /// 16 lanes on AVX-512 (masked tail), Vector&lt;float&gt; elsewhere, the scalar twin for the tail.</summary>
    public static unsafe void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, i = 0;
        if (y.Length < n) throw new ArgumentException("destination too short", nameof(y));
        fixed (float* px = x, py = y)
        {
            if (VectorExp.Wide)
            {
                for (; i <= n - 16; i += 16) Sigmoid(Vector512.Load(px + i)).Store(py + i);
                if (i < n)
                {
                    var tail = VectorExp.Tail(n - i);
                    Avx512F.MaskStore(py + i, tail, Sigmoid(Avx512F.MaskLoad(px + i, tail, Vector512<float>.Zero)));
                }
                return;
            }
            if (AdvSimd.Arm64.IsSupported) i = SigmoidNeon(px, py, n, VectorExp.Terms.Load());
            else if (Vector.IsHardwareAccelerated)
                for (; i <= n - Vector<float>.Count; i += Vector<float>.Count) Sigmoid(Vector.Load(px + i)).Store(py + i);
            for (; i < n; i++) py[i] = Sigmoid(px[i]);
        }
    }

    /// <summary>σ over the whole vectors of x (arm64), the exp's constants in registers (<see cref="VectorExp.Terms"/>:
    /// 48 -> 38 instructions a vector); returns the count done.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static unsafe int SigmoidNeon(float* x, float* y, int n, in VectorExp.Terms terms)
    {
        var t = terms;
        int i = 0;
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count) (t.One / (t.One + t.Exp(-Vector.Load(x + i)))).Store(y + i);
        return i;
    }

    /// <summary>y = tanh(x) over a span (<see cref="TanhOp"/>'s vector form; x and y may be the same): the rational tanh
    /// with a true division, so every form gives the bits of its scalar twin <see cref="RecurrentNeon.Tanh(float)"/>
    /// (absolute error under 3e-7 against tanh), wherever a pass splits the span. 16 lanes on AVX-512 (masked tail),
    /// NEON with the 13 constants in registers (<see cref="RecurrentNeon.TanhTerms"/>), Vector&lt;float&gt; elsewhere,
    /// the twin for the tail. TensorPrimitives.Tanh over 200,704 floats (AVX-512): JIT 123 µs, NativeAOT 160 µs; this 27.</summary>
    public static unsafe void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, i = 0;
        if (y.Length < n) throw new ArgumentException("destination too short", nameof(y));
        fixed (float* px = x, py = y)
        {
            if (Wide)
            {
                for (; i <= n - 16; i += 16) RecurrentX86.Tanh(Vector512.Load(px + i)).Store(py + i);
                if (i < n)
                {
                    var tail = VectorExp.Tail(n - i);
                    Avx512F.MaskStore(py + i, tail, RecurrentX86.Tanh(Avx512F.MaskLoad(px + i, tail, Vector512<float>.Zero)));
                }
                return;
            }
            if (AdvSimd.Arm64.IsSupported) i = TanhNeon(px, py, n, TanhTerms.Load());
            else if (Vector.IsHardwareAccelerated)
                for (; i <= n - Vector<float>.Count; i += Vector<float>.Count) Tanh(Vector.Load(px + i)).Store(py + i);
            for (; i < n; i++) py[i] = RecurrentNeon.Tanh(px[i]);
        }
    }

    /// <summary>tanh over the whole four-lane vectors of x (arm64), the constants in registers as the gate loops hold
    /// them (not inlined, the terms copied into a local: see <see cref="VectorExp.Terms"/>); returns the count done.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static unsafe int TanhNeon(float* x, float* y, int n, in TanhTerms terms)
    {
        var t = terms;
        int i = 0;
        for (; i <= n - 4; i += 4) t.Tanh(Vector128.Load(x + i)).Store(y + i);
        return i;
    }

    /// <summary><see cref="Swish(float, ReadOnlySpan{float}, Span{float})"/> in place on <paramref name="rows"/> runs
    /// of <paramref name="width"/> floats <paramref name="stride"/> apart: whole vectors in one loop (the code the span
    /// form gives them), a run's partial last vector by the span form.</summary>
    public static unsafe void SwishRows(float alpha, float* y, long rows, int width, long stride)
    {
        int full = width / 16 * 16;
        var a = Vector512.Create(alpha);
        for (long r = 0; r < rows; r++)
        {
            float* p = y + r * stride;
            if (alpha == 1f) for (int i = 0; i < full; i += 16) Swish(Vector512.Load(p + i)).Store(p + i);
            else for (int i = 0; i < full; i += 16) Swish(Vector512.Load(p + i), a).Store(p + i);
            if (full < width) Swish(alpha, new ReadOnlySpan<float>(p + full, width - full), new Span<float>(p + full, width - full));
        }
    }

    /// <summary>y = x·σ(αx) over a span on <see cref="Wide"/> machines (x and y may be the same). The last partial
    /// vector goes through a 16-float copy, so every element gets the vector form's bits wherever a pass splits the
    /// span.</summary>
    public static void Swish(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        var a = Vector512.Create(alpha);
        if (alpha == 1f) for (; i <= n - 16; i += 16) Swish(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);   // SiLU
        else for (; i <= n - 16; i += 16) Swish(Vector512.LoadUnsafe(ref xr, (nuint)i), a).StoreUnsafe(ref yr, (nuint)i);
        if (i == n) return;
        Span<float> t = stackalloc float[16];
        t.Clear();
        x[i..].CopyTo(t);
        Swish(Vector512.Create<float>(t), a).CopyTo(t);
        t[..(n - i)].CopyTo(y[i..]);
    }
}
