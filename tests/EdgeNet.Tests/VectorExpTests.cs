using System.Numerics;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Simd;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>EdgeNet's vector exp: the scalar reference against the exact eˣ (double) over its whole range (≤ 2 ulp on
/// normal results, ≤ 1 step of 2⁻¹⁴⁹ on subnormal ones), its special values, and every vector form and the span
/// loop (odd lengths, tails) bit for bit against the scalar reference; the vector sigmoid bit for bit against its
/// scalar twin and within 4 ulp of 1/(1 + e⁻ˣ); the rational tanh (TanhOp's vector form) against its scalar twin and tanh.</summary>
public class VectorExpTests
{
    /// <summary>Distance in representable floats (both finite, same sign).</summary>
    static long Ulps(float a, float b) => Math.Abs((long)BitConverter.SingleToInt32Bits(a) - BitConverter.SingleToInt32Bits(b));

    [Fact]
    public void Scalar_reference_is_within_2_ulp_of_exp()
    {
        // every 61st float from −104 to 89 (~600 K values, both signs' bit patterns walked upwards in magnitude)
        foreach (var (from, to) in new[] { (0f, 89f), (-0f, -104f) })
            for (int bits = BitConverter.SingleToInt32Bits(from); BitConverter.Int32BitsToSingle(bits) is var x && Math.Abs(x) <= Math.Abs(to); bits += 61)
            {
                double exact = Math.Exp(x);
                float got = VectorExp.Exp(x), want = (float)exact;
                if (exact > float.MaxValue) { Assert.Equal(float.PositiveInfinity, got); continue; }
                if (exact < 1.1754944e-38) // below the smallest normal float
                {
                    // subnormal or zero: absolute error in steps of 2⁻¹⁴⁹
                    double steps = Math.Abs(got - exact) / Math.Pow(2, -149);
                    Assert.True(steps <= 1, $"exp({x:R}) = {got:R}, exact {exact:R}");
                    continue;
                }
                long u = Ulps(got, want);
                Assert.True(u <= 2, $"exp({x:R}) = {got:R}, exact {exact:R} ({u} ulp)");
            }
    }

    [Fact]
    public void Special_values()
    {
        Assert.True(float.IsNaN(VectorExp.Exp(float.NaN)));
        Assert.Equal(float.PositiveInfinity, VectorExp.Exp(float.PositiveInfinity));
        Assert.Equal(0f, VectorExp.Exp(float.NegativeInfinity));
        Assert.Equal(float.PositiveInfinity, VectorExp.Exp(89f));
        Assert.Equal(float.PositiveInfinity, VectorExp.Exp(1e30f));
        Assert.Equal(0f, VectorExp.Exp(-104f));
        Assert.Equal(0f, VectorExp.Exp(-1e30f));
        Assert.Equal(1f, VectorExp.Exp(0f));
        Assert.Equal(1f, VectorExp.Exp(-0f));
        Assert.True(VectorExp.Exp(88.72f) is var big && float.IsFinite(big) && big > 3.3e38f);
        Assert.True(VectorExp.Exp(-100f) is var tiny && tiny > 0 && !float.IsNormal(tiny));
    }

    /// <summary>Values over the whole range and the special ones, in an order that puts each kind in every lane.</summary>
    static float[] Inputs(int n)
    {
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 88.72f, 89f, -87.4f, -95f,
                            -103.9f, -104.5f, 1e-30f, -1e-30f, 0.34657359f, -0.34657359f, 20f, -20f];
        var rng = new Random(n);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = i % 3 == 0 ? specials[i / 3 % specials.Length] : (float)(rng.NextDouble() * 200 - 105);
        return x;
    }

    static void SameBits(float want, float got, int i, float x)
    {
        if (float.IsNaN(want)) Assert.True(float.IsNaN(got), $"lane {i}: exp({x}) = {got}, want NaN");
        else Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(got), $"lane {i}: exp({x:R}) = {got:R}, reference {want:R}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(33)]
    [InlineData(67)]
    [InlineData(1000)]
    public void Span_form_matches_the_scalar_reference_bit_for_bit(int n)
    {
        var x = Inputs(n);
        var y = new float[n];
        VectorExp.Exp(x, y);
        for (int i = 0; i < n; i++) SameBits(VectorExp.Exp(x[i]), y[i], i, x[i]);
        VectorExp.Exp(x, x); // in place
        for (int i = 0; i < n; i++) SameBits(y[i], x[i], i, x[i]);
    }

    [Fact]
    public void Every_vector_width_matches_the_scalar_reference_bit_for_bit()
    {
        var x = Inputs(16 * 40);
        if (Vector.IsHardwareAccelerated)
            for (int i = 0; i + Vector<float>.Count <= x.Length; i += Vector<float>.Count)
            {
                var v = VectorExp.Exp(new Vector<float>(x, i));
                for (int l = 0; l < Vector<float>.Count; l++) SameBits(VectorExp.Exp(x[i + l]), v[l], i + l, x[i + l]);
            }
        if (VectorExp.Wide)
            for (int i = 0; i + 16 <= x.Length; i += 16)
            {
                var v = VectorExp.Exp(Vector512.Create(x.AsSpan(i, 16)));
                for (int l = 0; l < 16; l++) SameBits(VectorExp.Exp(x[i + l]), v[l], i + l, x[i + l]);
            }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(37)]
    [InlineData(1001)]
    public void Sigmoid_matches_its_scalar_twin_and_the_logistic(int n)
    {
        var rng = new Random(n);
        var x = new float[n + 7];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 200 - 100);
        x[^7] = float.PositiveInfinity; x[^6] = float.NegativeInfinity; x[^5] = 0; x[^4] = 1e-8f; x[^3] = -17.5f; x[^2] = 40; x[^1] = float.NaN;
        var y = new float[x.Length];
        SigmoidOp.Apply(default, x, y);
        for (int i = 0; i < x.Length; i++)
        {
            SameBits(VectorSigmoid.Sigmoid(x[i]), y[i], i, x[i]);
            if (float.IsNaN(x[i])) continue;
            double exact = 1 / (1 + Math.Exp(-(double)x[i]));
            // 4 ulp relative; below e^-88 (1/(1 + ∞) = 0) absolute
            Assert.True(Math.Abs(y[i] - exact) <= Math.Max(4 * exact * Math.Pow(2, -24), 1e-38), $"σ({x[i]:R}) = {y[i]:R}, exact {exact:R}");
        }
    }
    /// <summary>The rational tanh's scalar twin (RecurrentNeon.Tanh, what TanhOp's span form and the LSTM gates compute)
    /// against the exact tanh (double) on every 397th float from 1e-30 to 12: absolute error under 3e-7 (largest near
    /// |x| = 8.2, ~4.5 ulp of 1), relative error under 3e-7 below |x| = 0.5 (~2.5 ulp; P₁/Q₀ = 1 − 1.3e-7 is one of them).
    /// Below 1e-30 the relative error grows (x·P₁ and the quotient go subnormal near 1e-38) though the absolute one
    /// stays under 1e-38.</summary>
    [Fact]
    public void Tanh_is_within_3e7_of_tanh()
    {
        for (int bits = BitConverter.SingleToInt32Bits(1e-30f); BitConverter.Int32BitsToSingle(bits) is var x && x <= 12; bits += 397)
        {
            double exact = Math.Tanh(x), err = Math.Abs(RecurrentNeon.Tanh(x) - exact);
            Assert.True(err < 3e-7, $"tanh({x:R}) = {RecurrentNeon.Tanh(x):R}, exact {exact:R}");
            if (x < 0.5f) Assert.True(err < 3e-7 * exact, $"tanh({x:R}) = {RecurrentNeon.Tanh(x):R}, exact {exact:R} (relative)");
            Assert.Equal(-RecurrentNeon.Tanh(x), RecurrentNeon.Tanh(-x));
        }
        Assert.True(RecurrentNeon.Tanh(1e-38f) is > 0 and < 2e-38f);
    }

    /// <summary>TanhOp's span form (VectorSigmoid.Tanh: 16 lanes with a masked tail on AVX-512, NEON, Vector&lt;float&gt;)
    /// bit for bit against its scalar twin on odd lengths and every tail, in place and not, with ±∞, ±0, NaN and
    /// values past the clamp at ±9.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(37)]
    [InlineData(1001)]
    public void Tanh_matches_its_scalar_twin_and_tanh(int n)
    {
        var rng = new Random(n);
        var x = new float[n + 9];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 24 - 12) * (i % 3 == 0 ? 0.02f : 1f);
        x[^9] = float.PositiveInfinity; x[^8] = float.NegativeInfinity; x[^7] = 0; x[^6] = -0f; x[^5] = 1e-30f; x[^4] = -8.999f;
        x[^3] = 9.001f; x[^2] = 100; x[^1] = float.NaN;
        var y = new float[x.Length];
        TanhOp.Apply(default, x, y);
        var inPlace = (float[])x.Clone();
        TanhOp.Apply(default, inPlace, inPlace);
        for (int i = 0; i < x.Length; i++)
        {
            SameBits(RecurrentNeon.Tanh(x[i]), y[i], i, x[i]);
            SameBits(y[i], inPlace[i], i, x[i]);
            if (float.IsNaN(x[i])) Assert.True(float.IsNaN(y[i]));
            else Assert.True(Math.Abs(y[i] - Math.Tanh(x[i])) < 3e-7, $"tanh({x[i]:R}) = {y[i]:R}");
        }
    }
}
