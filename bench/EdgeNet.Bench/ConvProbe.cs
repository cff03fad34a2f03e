using System.Diagnostics;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Bench;

/// <summary>Per-conv time and GFLOP/s of a model's plan (`conv-probe MODEL.enet [RUNS] [NODE|all] [INPUT.npy]`): each node's fastest of RUNS
/// profiled runs, which a loaded machine disturbs less than the median; the geometry beside it, to compare a conv shape
/// with the FMA peak (`peak`) and with ORT's time for the same node (`ort-profile`).</summary>
public static class ConvProbe
{
    public static void Run(string enet, int runs, TextWriter log, string? only = null, string? input = null)
    {
        var m = ModelFile.Load(enet);
        using var s = new Session(m, 1);
        // The model's real input where given (activations, and so the cost of denormals, depend on it), else 0.1 everywhere.
        if (input is not null) EdgeNet.Io.Npy.Read(input).Floats!.CopyTo(s.Input(0, 1));
        else s.Input(0, 1).Fill(0.1f);
        int n = s.Kernels.Count;
        var best = new long[n]; Array.Fill(best, long.MaxValue);
        var ticks = new long[n];
        for (int r = 0; r < runs + 2; r++)
        {
            Array.Clear(ticks);
            s.RunProfiled(1, ticks);
            if (r >= 2) for (int i = 0; i < n; i++) best[i] = Math.Min(best[i], ticks[i]);
        }
        var p = s.Plan;
        if (only is not null && only != "all")
        {
            // One node alone, many times: its kernel rerun on the frame the whole run left (inputs in place).
            var frame = (Frame)typeof(Session).GetField("frame", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(s)!;
            for (int i = 0; i < n; i++)
            {
                if (!p.Nodes[i].Name.Equals(only)) continue;
                long min = long.MaxValue;
                for (int r = 0; r < runs; r++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    s.Kernels[i].Run(frame);
                    min = Math.Min(min, Stopwatch.GetTimestamp() - t0);
                }
                double us = min * 1e6 / Stopwatch.Frequency;
                log.WriteLine($"{only}: fastest of {runs}: {us:F1} µs, {2 * ModelSummary.Macs(p, p.Nodes[i]) / us / 1e3:F1} GFLOP/s");
            }
            return;
        }
        double total = best.Sum(t => t * 1e6 / Stopwatch.Frequency), convs = 0;
        log.WriteLine($"{enet}: fastest of {runs} runs per node, sum {total:F1} µs");
        log.WriteLine($"{"node",-36} {"input",-16} {"weight",-16} {"s",2} {"g",4} {"MMAC",8} {"µs",9} {"GFLOP/s",8}");
        for (int i = 0; i < n; i++)
        {
            var node = p.Nodes[i];
            if (node.Op != OpType.Conv) continue;
            double us = best[i] * 1e6 / Stopwatch.Frequency, macs = ModelSummary.Macs(p, node);
            convs += us;
            long[] st = node.Attributes.Ints("strides", [1, 1]);
            log.WriteLine($"{node.Name,-36} {Shape.Format(p.Tensors[node.Inputs[0]].Shape),-16} {Shape.Format(p.Tensors[node.Inputs[1]].Shape),-16} {st[0],2} {node.Attributes.Int("group", 1),4} {macs / 1e6,8:F1} {us,9:F1} {2 * macs / us / 1e3,8:F1}");
        }
        log.WriteLine($"convs {convs:F1} µs of {total:F1}");
    }
}
