using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Kernels;

/// <summary>
/// erf in float (Erf, and Gelu, the BERT family's activation): one rational approximation over the whole range,
/// erf x ≈ x·P(x²)/Q(x²) with P of degree 5 and Q of degree 5 (Q(0) = 1), x clamped to ±<see cref="Hi"/> first (there
/// the result is 1). The coefficients are EdgeNet's own minimax fit of the absolute error on [0, 3.95] (Loeb's
/// linearization with Lawson's reweighting, each coefficient rounded to float in turn, highest degree first, and the
/// others refitted): 2.6e-8 in exact arithmetic. The float operations' rounding is relative (up to ~6 half-ulps:
/// two Horner chains, a product, a quotient), so in float the error is ≤ 3.7e-7 absolute next to ±1 (6 ulp below 1)
/// and ≤ 4 ulp relative near 0 (all floats in [0, 3.92] checked; the two-branch form before, a Maclaurin series and
/// Abramowitz–Stegun 7.1.26 with an exp, ~2.2e-7 absolute: its 1 − small form rounds near 1 by half an ulp, but it
/// computed both branches and the exp, ~147 instructions a vector on arm64). Here 10 FMAs, one division, no exp, no
/// select, as XNNPACK's GELU does it. NaN stays NaN, ±∞ gives ±1, and just below the clamp a result may be 1 + 2⁻²².
/// Every form does the same float operations in the same order as <see cref="Erf(float)"/>, the scalar reference, so
/// the results are bit-identical on every ISA and width. (ErfOp.Erf in double stays the op's reference formula.)
/// </summary>
internal static class VectorErf
{
    /// <summary>Where the clamp starts: past it erf rounds to 1 in float (1 − erf x &lt; 2⁻²⁵), and the fit evaluated
    /// in float gives 1 there.</summary>
    const float Hi = 3.9187f;
    const float P0 = 1.128378987312317f, P1 = 0.19405661523342133f, P2 = 0.053209561854600906f, P3 = 0.003918135073035955f,
                P4 = 0.0002876053040381521f, P5 = 2.011406650126446e-06f;
    const float Q1 = 0.5053096413612366f, Q2 = 0.11559916287660599f, Q3 = 0.015272358432412148f, Q4 = 0.0011983729200437665f,
                Q5 = 3.783646388910711e-05f;
    /// <summary>1/√2, GELU's scale of its input.</summary>
    const float Rsqrt2 = 0.70710677f;

    /// <summary>The scalar reference: the operations every vector form does, in the same order.</summary>
    public static float Erf(float x)
    {
        x = Math.Clamp(x, -Hi, Hi);
        float s = x * x;
        float p = MathF.FusedMultiplyAdd(s, P5, P4);
        p = MathF.FusedMultiplyAdd(p, s, P3);
        p = MathF.FusedMultiplyAdd(p, s, P2);
        p = MathF.FusedMultiplyAdd(p, s, P1);
        p = MathF.FusedMultiplyAdd(p, s, P0);
        float q = MathF.FusedMultiplyAdd(s, Q5, Q4);
        q = MathF.FusedMultiplyAdd(q, s, Q3);
        q = MathF.FusedMultiplyAdd(q, s, Q2);
        q = MathF.FusedMultiplyAdd(q, s, Q1);
        q = MathF.FusedMultiplyAdd(q, s, 1f);
        return x * p / q;
    }

    /// <summary>GELU, x·Φ(x) = h + h·erf(x/√2) with h = x/2: the scalar reference of the vector forms.</summary>
    public static float Gelu(float x)
    {
        float h = x * 0.5f;
        return MathF.FusedMultiplyAdd(h, Erf(x * Rsqrt2), h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Erf(Vector<float> x) => Terms.Constant.Erf(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Gelu(Vector<float> x) => Terms.Constant.Gelu(x);

    /// <summary>16 lanes (AVX-512): the same operations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Erf(Vector512<float> x)
    {
        x = Clamp.Of(x, Vector512.Create(-Hi), Vector512.Create(Hi));
        var s = x * x;
        var p = Vector512.FusedMultiplyAdd(s, Vector512.Create(P5), Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P0));
        var q = Vector512.FusedMultiplyAdd(s, Vector512.Create(Q5), Vector512.Create(Q4));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512.Create(Q3));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512.Create(Q2));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512.Create(Q1));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512<float>.One);
        return x * p / q;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Gelu(Vector512<float> x)
    {
        var h = x * Vector512.Create(0.5f);
        return Vector512.FusedMultiplyAdd(h, Erf(x * Vector512.Create(Rsqrt2)), h);
    }

    /// <summary>y = erf(x) over a span (x and y may be the same).</summary>
    public static void Erf(ReadOnlySpan<float> x, Span<float> y) => Map(x, y, gelu: false);

    /// <summary>y = GELU(x) over a span (x and y may be the same).</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y) => Map(x, y, gelu: true);

    static unsafe void Map(ReadOnlySpan<float> x, Span<float> y, bool gelu)
    {
        int n = x.Length;
        if (y.Length < n) throw new ArgumentException("destination too short", nameof(y));
        fixed (float* px = x, py = y)
        {
            if (VectorExp.Wide)
            {
                int i = 0;
                if (gelu) for (; i <= n - 16; i += 16) Gelu(Vector512.Load(px + i)).Store(py + i);
                else for (; i <= n - 16; i += 16) Erf(Vector512.Load(px + i)).Store(py + i);
                if (i < n)
                {
                    var tail = VectorExp.Tail(n - i);
                    var v = Avx512F.MaskLoad(px + i, tail, Vector512<float>.Zero);
                    Avx512F.MaskStore(py + i, tail, gelu ? Gelu(v) : Erf(v));
                }
                return;
            }
            int done = !Vector.IsHardwareAccelerated ? 0 : gelu ? GeluLoop(px, py, n, Terms.Load()) : ErfLoop(px, py, n, Terms.Load());
            for (int i = done; i < n; i++) py[i] = gelu ? Gelu(px[i]) : Erf(px[i]);
        }
    }

    // The Vector<float> loops, not inlined: arm64 copies the terms into a local (VectorExp.Terms says why), so the 16
    // constants stay in NEON registers (GeluLoop: 34 instructions a vector, no literal-pool load); x64 (AVX2) takes
    // the constant form. Inside Map, the JIT left the vector form a call per vector on AVX2 (its inlining budget spent
    // on the 16-lane loops): 7× slower.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static unsafe int ErfLoop(float* px, float* py, int n, in Terms terms)
    {
        int i = 0;
        if (AdvSimd.Arm64.IsSupported)
        {
            var t = terms;
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count) t.Erf(Vector.Load(px + i)).Store(py + i);
        }
        else for (; i <= n - Vector<float>.Count; i += Vector<float>.Count) Erf(Vector.Load(px + i)).Store(py + i);
        return i;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static unsafe int GeluLoop(float* px, float* py, int n, in Terms terms)
    {
        int i = 0;
        if (AdvSimd.Arm64.IsSupported)
        {
            var t = terms;
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count) t.Gelu(Vector.Load(px + i)).Store(py + i);
        }
        else for (; i <= n - Vector<float>.Count; i += Vector<float>.Count) Gelu(Vector.Load(px + i)).Store(py + i);
        return i;
    }

    /// <summary>
    /// The constants as values: <see cref="Load"/> (not inlined) gives values an arm64 loop keeps in registers, as
    /// <see cref="VectorExp.Terms"/> does for the exp (ILC's RyuJIT leaves literal-pool loads of inlined constants
    /// inside loops); <see cref="Constant"/> gives the JIT constants it folds (x64 takes them as memory operands).
    /// </summary>
    internal readonly struct Terms
    {
        readonly Vector<float> lo, hi, p0, p1, p2, p3, p4, p5, q1, q2, q3, q4, q5, one, half, rsqrt2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        Terms(bool _)
        {
            lo = new(-Hi); hi = new(Hi);
            p0 = new(P0); p1 = new(P1); p2 = new(P2); p3 = new(P3); p4 = new(P4); p5 = new(P5);
            q1 = new(Q1); q2 = new(Q2); q3 = new(Q3); q4 = new(Q4); q5 = new(Q5);
            one = Vector<float>.One; half = new(0.5f); rsqrt2 = new(Rsqrt2);
        }

        public static Terms Constant
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => new(true);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static Terms Load() => new(true);

        /// <summary><see cref="VectorErf.Erf(float)"/>: the same operations in the same order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<float> Erf(Vector<float> x)
        {
            x = Clamp.Of(x, lo, hi);
            var s = x * x;
            var p = Vector.FusedMultiplyAdd(s, p5, p4);
            p = Vector.FusedMultiplyAdd(p, s, p3);
            p = Vector.FusedMultiplyAdd(p, s, p2);
            p = Vector.FusedMultiplyAdd(p, s, p1);
            p = Vector.FusedMultiplyAdd(p, s, p0);
            var q = Vector.FusedMultiplyAdd(s, q5, q4);
            q = Vector.FusedMultiplyAdd(q, s, q3);
            q = Vector.FusedMultiplyAdd(q, s, q2);
            q = Vector.FusedMultiplyAdd(q, s, q1);
            q = Vector.FusedMultiplyAdd(q, s, one);
            return x * p / q;
        }

        /// <summary><see cref="VectorErf.Gelu(float)"/>: the same operations in the same order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<float> Gelu(Vector<float> x)
        {
            var h = x * half;
            return Vector.FusedMultiplyAdd(h, Erf(x * rsqrt2), h);
        }
    }
}
