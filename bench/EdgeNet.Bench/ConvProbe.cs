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
        var frame = (Frame)typeof(Session).GetField("frame", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(s)!;
        // Subnormal inputs per conv (each counted just before its node runs: the arena reuses memory afterwards).
        var subnormal = new double[n]; var subOut = new double[n];
        for (int i = 0; i < n; i++)
        {
            if (p.Nodes[i].Op == OpType.Conv) subnormal[i] = SubnormalShare(frame.Span(p.Nodes[i].Inputs[0]));
            s.Kernels[i].Run(frame);
            if (p.Nodes[i].Op == OpType.Conv) subOut[i] = SubnormalShare(frame.Span(p.Nodes[i].Outputs[0]));
        }
        if (only is not null && only != "all")
        {
            // One node alone, many times: the nodes before it run once, then its kernel again and again on their outputs.
            for (int i = 0; i < n; i++)
            {
                if (!p.Nodes[i].Name.Equals(only)) { s.Kernels[i].Run(frame); continue; }
                long min = long.MaxValue;
                for (int r = 0; r < runs; r++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    s.Kernels[i].Run(frame);
                    min = Math.Min(min, Stopwatch.GetTimestamp() - t0);
                }
                double us = min * 1e6 / Stopwatch.Frequency;
                log.WriteLine($"{only}: fastest of {runs}: {us:F1} µs, {2 * ModelSummary.Macs(p, p.Nodes[i]) / us / 1e3:F1} GFLOP/s, input {100 * subnormal[i]:F2}% subnormal");
                break;
            }
            return;
        }
        double total = best.Sum(t => t * 1e6 / Stopwatch.Frequency), convs = 0;
        log.WriteLine($"{enet}: fastest of {runs} runs per node, sum {total:F1} µs");
        log.WriteLine($"{"node",-36} {"input",-16} {"weight",-16} {"s",2} {"g",4} {"MMAC",8} {"µs",9} {"GFLOP/s",8} {"subn%",6} {"w%",6} {"out%",6}");
        for (int i = 0; i < n; i++)
        {
            var node = p.Nodes[i];
            double us = best[i] * 1e6 / Stopwatch.Frequency, macs = ModelSummary.Macs(p, node);
            if (node.Op != OpType.Conv) { log.WriteLine($"{node.Name,-36} {node.Op,-16} {"",-16} {"",2} {"",4} {"",8} {us,9:F1}"); continue; }
            convs += us;
            long[] st = node.Attributes.Ints("strides", [1, 1]);
            log.WriteLine($"{node.Name,-36} {Shape.Format(p.Tensors[node.Inputs[0]].Shape),-16} {Shape.Format(p.Tensors[node.Inputs[1]].Shape),-16} {st[0],2} {node.Attributes.Int("group", 1),4} {macs / 1e6,8:F1} {us,9:F1} {2 * macs / us / 1e3,8:F1} {100 * subnormal[i],6:F2} {(p.Tensors[node.Inputs[1]].Type == DataType.Float32 ? 100 * SubnormalShare(p.Tensors[node.Inputs[1]].Floats()) : 0),6:F2} {100 * subOut[i],6:F2}");
        }
        log.WriteLine($"convs {convs:F1} µs of {total:F1}");
    }

    static double SubnormalShare(ReadOnlySpan<float> v)
    {
        long count = 0;
        foreach (float f in v) if (float.IsSubnormal(f)) count++;
        return v.Length == 0 ? 0 : (double)count / v.Length;
    }

    /// <summary>One channels-last K×K conv (pad K/2) of [1, C, H, W] to OC channels, after a 1×1 conv that puts its input
    /// channels-last (a stem of ≤ 8 channels reads the NCHW input); random data. Separates a conv shape's cost from a model's (size, stride, map alignment).</summary>
    public static void OneShape(int[] a, int runs, TextWriter log)
    {
        int h = a[0], w = a[1], c = a[2], oc = a[3], k = a[4], stride = a[5];
        var rng = new Random(1);
        float[] R(int n) { var v = new float[n]; for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() - 0.5); return v; }
        var g = new GraphBuilder();
        int x = g.Input("x", 1, c, h, w);
        var a1 = new Attributes().Set("strides", new long[] { 1, 1 }).Set("pads", new long[] { 0, 0, 0, 0 });
        // A stem (≤ 8 input channels) reads the NCHW input itself; any other conv after a 1×1 that makes it channels-last.
        int p = c <= 8 ? x : g.Add(OpType.Conv, [x, g.Constant("w1", R(c * c), c, c, 1, 1), g.Constant("b1", R(c), c)], a1);
        var a2 = new Attributes().Set("strides", new long[] { stride, stride }).Set("pads", new long[] { k / 2, k / 2, k / 2, k / 2 });
        var m = g.Build(g.Add(OpType.Conv, [p, g.Constant("w2", R(oc * c * k * k), oc, c, k, k), g.Constant("b2", R(oc), oc)], a2, "probe"));
        using var s = new Session(m, 1);
        R(c * h * w).CopyTo(s.Input(0, 1));
        var ticks = new long[s.Kernels.Count];
        long best = long.MaxValue;
        for (int r = 0; r < runs + 2; r++)
        {
            Array.Clear(ticks);
            s.RunProfiled(1, ticks);
            int i = s.Plan.Nodes.ToList().FindIndex(n => n.Name == "probe");
            if (r >= 2) best = Math.Min(best, ticks[i]);
        }
        int i2 = s.Plan.Nodes.ToList().FindIndex(n => n.Name == "probe");
        double us = best * 1e6 / Stopwatch.Frequency, macs = ModelSummary.Macs(s.Plan, s.Plan.Nodes[i2]);
        log.WriteLine($"{h}x{w}x{c} -> {oc}, {k}x{k}/{stride}: fastest of {runs}: {us:F1} µs, {2 * macs / us / 1e3:F1} GFLOP/s ({s.Kernels[i2].GetType().Name})");
    }
}
