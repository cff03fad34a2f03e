using System.Diagnostics;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Training;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>Intra-op threads: the same bits as one thread, nothing allocated per run, no CPU burnt while idle.
/// Alone in its collection, so the process's CPU time measures only the idle workers.</summary>
[Collection(nameof(IntraOpThreadTests))]
public class IntraOpThreadTests
{
    static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>A MobileNet-like stack: stem, expand, depthwise (stride 1 and 2), project, GAP, Dense.</summary>
    static Model MobileNetLike()
    {
        var g = new GraphBuilder();
        var relu6 = new Attributes().Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f);
        int x = g.Input("x", -1, 3, 23, 21);
        int h = g.Add(OpType.Conv, [x, g.Constant("ws", Random(32 * 27, 1), 32, 3, 3, 3), g.Constant("bs", Random(32, 2), 32)],
            new Attributes().Set("strides", new long[] { 2, 2 }).Set("pads", new long[] { 1, 1, 1, 1 }).Set("activation", "relu"));
        foreach (var (e, s, i) in new[] { (96, 1, 0), (72, 2, 1) })
        {
            h = g.Add(OpType.Conv, [h, g.Constant($"we{i}", Random(e * 32, 3 + i), e, 32, 1, 1), g.Constant($"be{i}", Random(e, 4 + i), e)], relu6);
            h = g.Add(OpType.Conv, [h, g.Constant($"wd{i}", Random(e * 9, 5 + i), e, 1, 3, 3), g.Constant($"bd{i}", Random(e, 6 + i), e)],
                new Attributes().Set("group", (long)e).Set("strides", new long[] { s, s }).Set("pads", new long[] { 1, 1, 1, 1 }));
            h = g.Add(OpType.Conv, [h, g.Constant($"wp{i}", Random(32 * e, 7 + i), 32, e, 1, 1), g.Constant($"bp{i}", Random(32, 8 + i), 32)]);
        }
        h = g.Reshape(g.Add(OpType.GlobalAveragePool, [h]), [-1, 32]);
        return g.Build(g.Add(OpType.Dense, [h, g.Constant("wf", Random(500 * 32, 9), 500, 32), g.Constant("bf", Random(500, 10), 500)]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Threads_give_the_same_bits_as_one_and_allocate_nothing(int batch)
    {
        var m = MobileNetLike();
        var x = Random((int)m.Input().Elements(batch), 11);
        float[] Output(int threads)
        {
            using var s = new Session(m, batch, KernelOptions.Default with { Threads = threads });
            Assert.Equal(threads, s.Threads);
            x.CopyTo(s.Input(0, batch)); s.Run(batch);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) s.Run(batch);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            return s.Output().ToArray();
        }
        var one = Output(1);
        Assert.Equal(one, Output(2));
        Assert.Equal(one, Output(4));
    }

    [Fact]
    public void Idle_workers_do_not_spin()
    {
        using var s = new Session(MobileNetLike(), 1, KernelOptions.Default with { Threads = 4 });
        s.Run(1);
        var me = Process.GetCurrentProcess();
        me.Refresh();
        var cpu0 = me.TotalProcessorTime;
        Thread.Sleep(500);
        me.Refresh();
        // Three parked workers spinning for 0.5 s would burn 1.5 s of CPU; blocked, they burn none.
        Assert.True((me.TotalProcessorTime - cpu0).TotalMilliseconds < 150, $"{(me.TotalProcessorTime - cpu0).TotalMilliseconds} ms of CPU while idle");
    }

    [Fact]
    public void Thread_counts_are_checked()
    {
        var m = ModelSpec.Build("dense:4", [3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Session(m, 1, KernelOptions.Default with { Threads = 0 }));
    }
}

[CollectionDefinition(nameof(IntraOpThreadTests), DisableParallelization = true)]
public sealed class IntraOpThreadCollection;
