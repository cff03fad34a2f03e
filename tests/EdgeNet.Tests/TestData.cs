namespace EdgeNet.Tests;

/// <summary>Seeded test inputs shared by the kernel tests.</summary>
internal static class TestData
{
    /// <summary>n floats uniform in [−scale, scale) from a seeded <see cref="Random"/> (the same values for a seed on every run and machine).</summary>
    public static float[] Uniform(int n, int seed, float scale = 1)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * (2.0 * scale) - scale);
        return a;
    }
}
