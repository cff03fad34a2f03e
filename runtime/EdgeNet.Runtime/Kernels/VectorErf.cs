using System.Numerics;

namespace EdgeNet.Kernels;

/// <summary>
/// erf in float over a vector (Erf and Gelu, the BERT family's activation): for |x| &lt; 0.84375 the Maclaurin series
/// x · Σ cₙ x²ⁿ, cₙ = 2/√π · (−1)ⁿ / (n! (2n+1)), to n = 9 (truncation below 1e-9); beyond, Abramowitz and Stegun
/// 7.1.26, 1 − t·P(t)·e^(−x²) with t = 1/(1 + p|x|) (absolute error ≤ 1.5e-7, about two float ulps near 1), sign
/// restored. Both halves are computed and selected per lane: no branches, NaN stays NaN, ±∞ gives ±1.
/// </summary>
internal static class VectorErf
{
    const int Terms = 10;
    static readonly float[] Maclaurin = Coefficients();

    static float[] Coefficients()
    {
        var c = new float[Terms];
        double fact = 1;
        for (int n = 0; n < Terms; n++)
        {
            if (n > 0) fact *= n;
            c[n] = (float)(2 / Math.Sqrt(Math.PI) * (n % 2 == 0 ? 1 : -1) / (fact * (2 * n + 1)));
        }
        return c;
    }

    public static Vector<float> Erf(Vector<float> x)
    {
        var a = Vector.Abs(x);
        var s = x * x;
        var c = Maclaurin;
        var p = new Vector<float>(c[Terms - 1]);
        for (int n = Terms - 2; n >= 0; n--) p = Vector.FusedMultiplyAdd(p, s, new Vector<float>(c[n]));
        var small = x * p;

        var t = Vector<float>.One / Vector.FusedMultiplyAdd(a, new Vector<float>(0.3275911f), Vector<float>.One);
        var q = Vector.FusedMultiplyAdd(new Vector<float>(1.061405429f), t, new Vector<float>(-1.453152027f));
        q = Vector.FusedMultiplyAdd(q, t, new Vector<float>(1.421413741f));
        q = Vector.FusedMultiplyAdd(q, t, new Vector<float>(-0.284496736f));
        q = Vector.FusedMultiplyAdd(q, t, new Vector<float>(0.254829592f));
        var big = Vector<float>.One - q * t * VectorExp.Exp(-s);
        big = Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), -big, big);
        return Vector.ConditionalSelect(Vector.LessThan(a, new Vector<float>(0.84375f)), small, big);
    }
}
