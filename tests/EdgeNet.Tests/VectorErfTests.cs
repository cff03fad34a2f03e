using System.Numerics;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>EdgeNet's vector erf and GELU: the scalar reference against the exact erf (ErfOp.Erf in double) over
/// [0, 6] (absolute error near ±1, relative near 0), its special values, and every vector form and span loop (odd
/// lengths, tails, in place) bit for bit against the scalar reference.</summary>
public class VectorErfTests
{
    [Fact]
    public void Scalar_reference_is_within_its_bound_of_erf()
    {
        double worstAbs = 0, worstRel = 0;
        float max = 0;
        // every 7th float from 1e-30 to 6 (~1.5 M values; erf is odd, the sign is one multiplication)
        for (int bits = BitConverter.SingleToInt32Bits(1e-30f); BitConverter.Int32BitsToSingle(bits) is var x && x <= 6f; bits += 7)
        {
            float got = VectorErf.Erf(x);
            double exact = ErfOp.Erf(x);
            worstAbs = Math.Max(worstAbs, Math.Abs(got - exact));
            worstRel = Math.Max(worstRel, Math.Abs(got - exact) / exact);
            max = Math.Max(max, got);
            Assert.Equal(-got, VectorErf.Erf(-x));
        }
        Assert.True(worstAbs <= 3.8e-7, $"max |error| {worstAbs:E3}");
        Assert.True(worstRel <= 4 * Math.Pow(2, -23), $"max relative error {worstRel:E3}");
        Assert.True(max <= 1 + Math.Pow(2, -22), $"max {max:R}");
    }

    [Fact]
    public void Gelu_reference_is_close_to_the_exact_gelu()
    {
        for (int i = -6000; i <= 6000; i++)
        {
            float x = i / 1000f + 1e-4f;
            double exact = 0.5 * x * (1 + ErfOp.Erf(x / Math.Sqrt(2)));
            // the erf's absolute error scaled by x/2, and the result's own rounding
            double bound = 0.5 * Math.Abs(x) * 3.8e-7 + Math.Abs(exact) * Math.Pow(2, -23);
            Assert.True(Math.Abs(VectorErf.Gelu(x) - exact) <= bound, $"gelu({x:R}) = {VectorErf.Gelu(x):R}, exact {exact:R}");
        }
    }

    [Fact]
    public void Special_values()
    {
        Assert.True(float.IsNaN(VectorErf.Erf(float.NaN)));
        Assert.Equal(1f, VectorErf.Erf(float.PositiveInfinity));
        Assert.Equal(-1f, VectorErf.Erf(float.NegativeInfinity));
        Assert.Equal(1f, VectorErf.Erf(3.9187f));
        Assert.Equal(1f, VectorErf.Erf(1e30f));
        Assert.Equal(0f, VectorErf.Erf(0f));
        Assert.True(float.IsNegative(VectorErf.Erf(-0f)));
        Assert.True(float.IsNaN(VectorErf.Gelu(float.NaN)));
        Assert.Equal(float.PositiveInfinity, VectorErf.Gelu(float.PositiveInfinity));
        Assert.Equal(0f, VectorErf.Gelu(-20f));
    }

    static float[] Inputs(int n)
    {
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 3.9187f, -3.9187f, 3.9f, 1e-30f,
                            -1e-30f, 0.5f, -0.84375f, 6f, -6f, 20f, -20f, 1e30f];
        var rng = new Random(n);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = i % 5 == 0 ? specials[i / 5 % specials.Length] : (float)(rng.NextDouble() * 10 - 5);
        return x;
    }

    static void AssertSameBits(float want, float got, float x, string what) =>
        Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(got) || float.IsNaN(want) && float.IsNaN(got),
            $"{what}({x:R}): {got:R}, reference {want:R}");

    [Fact]
    public void Vector_forms_match_the_scalar_reference_bit_for_bit()
    {
        var x = Inputs(4096);
        var terms = VectorErf.Terms.Load();
        int w = Vector<float>.Count;
        for (int i = 0; i + w <= x.Length; i += w)
        {
            var v = new Vector<float>(x, i);
            Vector<float> e = VectorErf.Erf(v), g = VectorErf.Gelu(v), et = terms.Erf(v), gt = terms.Gelu(v);
            for (int l = 0; l < w; l++)
            {
                AssertSameBits(VectorErf.Erf(x[i + l]), e[l], x[i + l], "Erf(Vector)");
                AssertSameBits(VectorErf.Erf(x[i + l]), et[l], x[i + l], "Terms.Erf");
                AssertSameBits(VectorErf.Gelu(x[i + l]), g[l], x[i + l], "Gelu(Vector)");
                AssertSameBits(VectorErf.Gelu(x[i + l]), gt[l], x[i + l], "Terms.Gelu");
            }
        }
        if (!Vector512.IsHardwareAccelerated) return;
        for (int i = 0; i + 16 <= x.Length; i += 16)
        {
            var v = Vector512.Create(x.AsSpan(i, 16));
            Vector512<float> e = VectorErf.Erf(v), g = VectorErf.Gelu(v);
            for (int l = 0; l < 16; l++)
            {
                AssertSameBits(VectorErf.Erf(x[i + l]), e[l], x[i + l], "Erf(Vector512)");
                AssertSameBits(VectorErf.Gelu(x[i + l]), g[l], x[i + l], "Gelu(Vector512)");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(33)]
    [InlineData(1536)]
    [InlineData(1543)]
    public void Span_loops_match_the_scalar_reference_bit_for_bit(int n)
    {
        var x = Inputs(n);
        var y = new float[n + 1];
        y[n] = 42f;
        VectorErf.Erf(x, y);
        for (int i = 0; i < n; i++) AssertSameBits(VectorErf.Erf(x[i]), y[i], x[i], "Erf(span)");
        Assert.Equal(42f, y[n]);
        VectorErf.Gelu(x, y);
        for (int i = 0; i < n; i++) AssertSameBits(VectorErf.Gelu(x[i]), y[i], x[i], "Gelu(span)");
        Assert.Equal(42f, y[n]);
        var z = (float[])x.Clone();
        VectorErf.Gelu(z, z);   // in place, as the Dense epilogue runs it
        for (int i = 0; i < n; i++) AssertSameBits(VectorErf.Gelu(x[i]), z[i], x[i], "Gelu(in place)");
    }
}
