using System.Diagnostics;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Bench;

/// <summary>GEMM throughput at conv-shaped sizes, as a fraction of the measured FMA peak.</summary>
public static unsafe class GemmProbe
{
    public static void Run(TextWriter log)
    {
        double peak = Gemm.Selected == Gemm.Isa.V512 ? Peak.Gflops512PerCore() : Peak.GflopsPerCore();
        foreach (var (m, n, k) in new[] { (256, 3136, 256), (96, 12544, 16), (24, 3136, 144), (144, 3136, 24), (1280, 49, 320), (32, 12544, 27), (64, 64, 64) })
        {
            var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n]; var tail = new float[Gemm.TailScratch(k) + 64];
            new Random(1).NextBytes(new byte[1]);
            for (int i = 0; i < a.Length; i++) a[i] = i % 7 * 0.1f;
            for (int i = 0; i < b.Length; i++) b[i] = i % 5 * 0.1f;
            fixed (float* pa = a, pb = b, pc = c, pt = tail)
            {
                for (int w = 0; w < 3; w++) Gemm.RunStrided(pa, k, pb, n, pc, n, m, n, k, null, null, float.NegativeInfinity, float.PositiveInfinity, pt);
                int reps = Math.Max(3, (int)(2e9 / (2.0 * m * n * k)));
                var sw = Stopwatch.StartNew();
                for (int r = 0; r < reps; r++) Gemm.RunStrided(pa, k, pb, n, pc, n, m, n, k, null, null, float.NegativeInfinity, float.PositiveInfinity, pt);
                double gf = 2.0 * m * n * k * reps / sw.Elapsed.TotalSeconds / 1e9;
                log.WriteLine($"GEMM M={m,5} N={n,6} K={k,4}: {gf,6:F1} GFLOP/s = {100 * gf / peak,5:F1}% of the {peak:F0} GFLOP/s peak");
            }
        }
    }
}
