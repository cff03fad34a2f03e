using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeNet.Bench;

/// <summary>The machine's single-core fp32 FMA peak, measured with independent vector FMA chains.</summary>
public static class Peak
{
    public static double GflopsPerCore()
    {
        double best = 0;
        for (int rep = 0; rep < 5; rep++)
        {
            long n = 20_000_000;
            var sw = Stopwatch.StartNew();
            var r = Chains(n);
            sw.Stop();
            double flops = 2.0 * n * 10 * Vector<float>.Count;
            best = Math.Max(best, flops / sw.Elapsed.TotalSeconds / 1e9);
            if (r == 12345f) Console.Write("");
        }
        return best;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Chains(long n)
    {
        var a = new Vector<float>(1.0000001f); var b = new Vector<float>(0.9999999f);
        Vector<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default, c8 = default, c9 = default;
        for (long i = 0; i < n; i++)
        {
            c0 = Vector.FusedMultiplyAdd(a, c0, b); c1 = Vector.FusedMultiplyAdd(a, c1, b); c2 = Vector.FusedMultiplyAdd(a, c2, b);
            c3 = Vector.FusedMultiplyAdd(a, c3, b); c4 = Vector.FusedMultiplyAdd(a, c4, b); c5 = Vector.FusedMultiplyAdd(a, c5, b);
            c6 = Vector.FusedMultiplyAdd(a, c6, b); c7 = Vector.FusedMultiplyAdd(a, c7, b); c8 = Vector.FusedMultiplyAdd(a, c8, b);
            c9 = Vector.FusedMultiplyAdd(a, c9, b);
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9)[0];
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Chains512(long n)
    {
        var a = System.Runtime.Intrinsics.Vector512.Create(1.0000001f); var b = System.Runtime.Intrinsics.Vector512.Create(0.9999999f);
        System.Runtime.Intrinsics.Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default, c8 = default, c9 = default;
        for (long i = 0; i < n; i++)
        {
            c0 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, c0, b); c1 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, c1, b);
            c2 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, c2, b); c3 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, c3, b);
            c4 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, c4, b); c5 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, c5, b);
            c6 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, c6, b); c7 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, c7, b);
            c8 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, c8, b); c9 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, c9, b);
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9)[0];
    }

    public static double Gflops512PerCore()
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return 0;
        double best = 0;
        for (int rep = 0; rep < 5; rep++)
        {
            long n = 20_000_000;
            var sw = Stopwatch.StartNew();
            var r = Chains512(n);
            sw.Stop();
            best = Math.Max(best, 2.0 * n * 10 * 16 / sw.Elapsed.TotalSeconds / 1e9);
            if (r == 12345f) Console.Write("");
        }
        return best;
    }

    public static string Describe() => $"fp32 FMA peak per core: {GflopsPerCore():F1} GFLOP/s with Vector<float> ({Vector<float>.Count} lanes), " +
        $"{Gflops512PerCore():F1} GFLOP/s with Vector512; EdgeNet's GEMM tile: {EdgeNet.Kernels.Simd.Gemm.Selected}";
}
