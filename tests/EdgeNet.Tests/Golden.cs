using Xunit;

namespace EdgeNet.Tests;

/// <summary>Golden comparisons that print the max difference, like llm.c's test_gpt2.</summary>
public static class Golden
{
    public static float MaxAbsDiff(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float d = Math.Abs(expected[i] - actual[i]);
            if (float.IsNaN(d)) return float.NaN;
            max = Math.Max(max, d);
        }
        return max;
    }

    /// <summary>Asserts |expected - actual| ≤ atol + rtol·|expected| everywhere; the message names the worst element.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float atol, float rtol = 0, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        int worst = -1; float worstExcess = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float excess = Math.Abs(expected[i] - actual[i]) - (atol + rtol * Math.Abs(expected[i]));
            if (float.IsNaN(actual[i]) != float.IsNaN(expected[i]) || excess > worstExcess) { worst = i; worstExcess = float.IsNaN(excess) ? float.PositiveInfinity : excess; }
        }
        if (worst >= 0)
            Assert.Fail($"{what}: element {worst} of {expected.Length}: expected {expected[worst]}, got {actual[worst]} (max |diff| {MaxAbsDiff(expected, actual)})");
    }
}
