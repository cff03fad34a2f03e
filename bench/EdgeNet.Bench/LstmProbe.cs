using System.Diagnostics;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Bench;

/// <summary>Per-node time of a small model over many runs (for kernels too fast for `edgenet bench --profile`).</summary>
public static class NodeProbe
{
    public static void Run(string enet, int runs, TextWriter log)
    {
        var m = ModelFile.Load(enet);
        using var s = new Session(m, 1);
        s.Input(0, 1).Fill(0.1f);
        var ticks = new long[s.Kernels.Count];
        for (int i = 0; i < runs; i++) s.RunProfiled(1, ticks);
        Array.Clear(ticks);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < runs; i++) s.RunProfiled(1, ticks);
        log.WriteLine($"{enet}: {sw.Elapsed.TotalMicroseconds / runs:F2} µs per run");
        for (int k = 0; k < ticks.Length; k++) log.WriteLine($"  {s.Kernels[k].Node.Op,-12} {ticks[k] * 1e6 / Stopwatch.Frequency / runs,8:F2} µs");
    }
}
