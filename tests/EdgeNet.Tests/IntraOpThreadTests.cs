using System.Diagnostics;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Training;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>Intra-op threads: the same bits as one thread, nothing allocated per run, no CPU burnt while idle.
/// Alone in its collection, so no other session's workers run meanwhile.</summary>
[Collection(nameof(IntraOpThreadTests))]
public class IntraOpThreadTests
{
    /// <summary>A MobileNet-like stack: stem, expand, depthwise (stride 1 and 2), project, GAP, Dense.</summary>
    static Model MobileNetLike()
    {
        var g = new GraphBuilder();
        var relu6 = new Attributes().Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f);
        int x = g.Input("x", -1, 3, 47, 45);   // large enough that the stem, expand and first depthwise convs split (IntraOpPool.MinWork)
        int h = g.Add(OpType.Conv, [x, g.Constant("ws", TestData.Uniform(32 * 27, 1), 32, 3, 3, 3), g.Constant("bs", TestData.Uniform(32, 2), 32)],
            new Attributes().Set("strides", new long[] { 2, 2 }).Set("pads", new long[] { 1, 1, 1, 1 }).Set("activation", "relu"));
        foreach (var (e, s, i) in new[] { (96, 1, 0), (72, 2, 1) })
        {
            h = g.Add(OpType.Conv, [h, g.Constant($"we{i}", TestData.Uniform(e * 32, 3 + i), e, 32, 1, 1), g.Constant($"be{i}", TestData.Uniform(e, 4 + i), e)], relu6);
            h = g.Add(OpType.Conv, [h, g.Constant($"wd{i}", TestData.Uniform(e * 9, 5 + i), e, 1, 3, 3), g.Constant($"bd{i}", TestData.Uniform(e, 6 + i), e)],
                new Attributes().Set("group", (long)e).Set("strides", new long[] { s, s }).Set("pads", new long[] { 1, 1, 1, 1 }));
            h = g.Add(OpType.Conv, [h, g.Constant($"wp{i}", TestData.Uniform(32 * e, 7 + i), 32, e, 1, 1), g.Constant($"bp{i}", TestData.Uniform(32, 8 + i), 32)]);
        }
        h = g.Reshape(g.Add(OpType.GlobalAveragePool, [h]), [-1, 32]);
        return g.Build(g.Add(OpType.Dense, [h, g.Constant("wf", TestData.Uniform(500 * 32, 9), 500, 32), g.Constant("bf", TestData.Uniform(500, 10), 500)]));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(3, false)]
    [InlineData(1, true)]    // the same network quantized to int8 (its channels-last int8 kernels split too)
    [InlineData(2, true)]
    public void Threads_give_the_same_bits_as_one_and_allocate_nothing(int batch, bool int8)
    {
        var m = MobileNetLike();
        if (int8) m = EdgeNet.Quant.Quantizer.Quantize(m, EdgeNet.Quant.Calibration.Collect(m, TestData.Uniform((int)m.Input().Elements(8), 12), EdgeNet.Quant.CalibrationMethod.MinMax));
        var x = TestData.Uniform((int)m.Input().Elements(batch), 11);
        float[] Output(int threads)
        {
            using var s = new Session(m, batch, KernelOptions.Default with { Threads = threads });
            Assert.Equal(threads, s.Threads);
            x.CopyTo(s.Input(0, batch)); s.Run(batch);
            Assert.Equal(0, Allocations.Fewest(() => { for (int i = 0; i < 10; i++) s.Run(batch); }));
            return s.Output().ToArray();
        }
        var one = Output(1);
        Assert.Equal(one, Output(2));
        Assert.Equal(one, Output(3));
        Assert.Equal(one, Output(4));
    }

    /// <summary>ParallelGemm on odd sizes, by rows (many rows) and by column panels (few rows, a batch-1 Dense), with
    /// bias and clamp: every thread count gives one thread's bits (each part is an ordinary Gemm.Run on its slice).</summary>
    [Theory]
    [InlineData(301, 97, 53)]    // by rows: 38 row tiles of 8, the last short; a tail panel
    [InlineData(1, 1003, 131)]   // by panels: one row
    [InlineData(5, 515, 257)]    // by panels: fewer rows than a tile
    [InlineData(40, 2049, 65)]   // by rows at 2 threads, by panels at 3 and 4 (rows ≥ 16 per thread decide)
    [InlineData(49, 80, 65)]     // by rows, the last part one row (49 = 6·8 + 1), a 16-column tail panel
    public unsafe void ParallelGemm_gives_the_same_bits_at_every_thread_count(int m, int n, int k)
    {
        var a = TestData.Uniform(m * k, 21); var w = TestData.Uniform(k * n, 22); var rowBias = TestData.Uniform(m, 23); var colBias = TestData.Uniform(n, 24);
        using var packed = new NativeBuffer(EdgeNet.Kernels.Simd.Gemm.PackedSize(k, n) * 4);
        fixed (float* pw = w) EdgeNet.Kernels.Simd.Gemm.Pack(pw, n, 1, k, n, packed.Floats);
        float[] Product(int threads)
        {
            var c = new float[m * n];
            using var pool = threads > 1 ? new IntraOpPool(threads) : null;
            fixed (float* pa = a) fixed (float* pc = c) fixed (float* pr = rowBias) fixed (float* pb = colBias)
                new EdgeNet.Kernels.Simd.ParallelGemm().Run(pool, pa, k, packed.Floats, pc, n, m, n, k, pr, pb, -0.5f, 4f);
            return c;
        }
        var one = Product(1);
        Assert.Contains(one, v => v > -0.5f && v < 4f);   // the clamp leaves most values as they are
        for (int t = 2; t <= 4; t++) Assert.Equal(one, Product(t));
    }

    /// <summary>Broadcasting binary ops, then two unary ones, on odd sizes past IntraOpPool.MinElements: same shapes (64-byte ranges), a
    /// channel vector along the innermost axis, a per-channel scalar, a middle-axis broadcast, and Pow (TensorPrimitives'
    /// vector form on every element but a tail): every thread count gives one thread's bits and allocates nothing.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Binary_ops_split_across_threads_with_the_same_bits(int batch)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 29, 41, 37);   // 43,993 elements a sample
        int h = g.Add(OpType.Add, [x, g.Constant("c", TestData.Uniform(37, 31), 37)]);
        h = g.Add(OpType.Mul, [h, g.Constant("s", TestData.Uniform(29, 32), 29, 1, 1)]);
        h = g.Add(OpType.Div, [h, g.Add(OpType.Add, [x, g.Constant("two", [2f], 1)])]);
        h = g.Add(OpType.Sub, [g.Constant("r", TestData.Uniform(41, 33), 41, 1), h]);
        h = g.Add(OpType.Max, [h, x]);
        h = g.Add(OpType.Pow, [g.Add(OpType.Max, [h, g.Constant("floor", [0.1f], 1)]), x]);
        h = g.Add(OpType.Tanh, [g.Add(OpType.Sigmoid, [h])]);   // standalone unary nodes split too (ParallelActivation)
        var m = g.Build(h);
        var input = TestData.Uniform((int)m.Input().Elements(batch), 34);
        float[] Output(int threads)
        {
            using var s = new Session(m, batch, KernelOptions.Default with { Threads = threads });
            input.CopyTo(s.Input(0, batch)); s.Run(batch);
            Assert.Equal(0, Allocations.Fewest(() => { for (int i = 0; i < 3; i++) s.Run(batch); }));
            return s.Output().ToArray();
        }
        var one = Output(1);
        Assert.All(one, v => Assert.True(float.IsFinite(v)));
        for (int t = 2; t <= 4; t++) Assert.Equal(one, Output(t));
    }

    /// <summary>An activation pass split by 64-byte ranges (standalone elementwise nodes, a conv's non-clamp activation)
    /// gives one thread's bits for ops with vector forms and scalar tails, TensorPrimitives' included, in place or not.</summary>
    [Theory]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("HardSwish")]
    [InlineData("Swish")]
    [InlineData("Exp")]
    [InlineData("Erf")]
    [InlineData("Gelu")]
    [InlineData("Mish")]
    [InlineData("Elu")]
    public unsafe void Activation_passes_split_across_threads_with_the_same_bits(string name)
    {
        var u = OpTable.Get(Enum.Parse<OpType>(name)).Unary!;
        var act = new EdgeNet.Kernels.Activation(u, u.Read(new Attributes(), "", "test"));
        var x = TestData.Uniform(100003, 41).Select(v => 4 * v).ToArray();
        var one = new float[x.Length];
        act.Apply(x, one);
        for (int t = 1; t <= 4; t++)
        {
            using var pool = new IntraOpPool(t);
            var y = new float[x.Length];
            fixed (float* px = x) fixed (float* py = y) new EdgeNet.Kernels.ParallelActivation().Run(pool, act, px, py, x.Length);
            Assert.Equal(one, y);
            var z = (float[])x.Clone();
            fixed (float* pz = z) new EdgeNet.Kernels.ParallelActivation().Run(pool, act, pz, pz, z.Length);
            Assert.Equal(one, z);
        }
    }

    [Theory]
    [InlineData(32768, 4)]
    [InlineData(43993, 8)]
    [InlineData(100003, 6)]
    public void Element_ranges_cover_everything_once_at_64_byte_cuts(long n, int parts)
    {
        long next = 0;
        for (int p = 0; p < parts; p++)
        {
            var (s, e) = IntraOpPool.ElementRange(p, parts, n);
            Assert.Equal(next, s);
            Assert.Equal(0, s % 16);
            Assert.True(e - s >= n / parts - 16, $"part {p}: {e - s} elements");
            next = e;
        }
        Assert.Equal(n, next);
    }

    /// <summary>CPU ticks (utime + stime) of this process's intra-op workers, from /proc/self/task (Linux).</summary>
    static (int threads, long ticks) WorkerCpu()
    {
        int threads = 0; long ticks = 0;
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith("edgenet-intrao", StringComparison.Ordinal)) continue;
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');   // from field 3 (state): utime is field 14, stime 15
                ticks += long.Parse(f[11]) + long.Parse(f[12]);
                threads++;
            }
            catch (IOException) { }   // a thread that ended meanwhile
        }
        return (threads, ticks);
    }

    [Fact]
    public void Idle_workers_do_not_spin()
    {
        if (!Directory.Exists("/proc/self/task")) Assert.Skip("per-thread CPU times come from Linux's /proc");
        using var s = new Session(MobileNetLike(), 1, KernelOptions.Default with { Threads = 4 });
        for (int i = 0; i < 5; i++) s.Run(1);
        var (threads, before) = WorkerCpu();
        Assert.True(threads >= 3, $"found {threads} intra-op worker threads, expected 3");
        Thread.Sleep(500);
        var (_, after) = WorkerCpu();
        // Three workers spinning for 0.5 s would use about 150 ticks (100 per second each); parked, they use none.
        Assert.True(after - before <= 5, $"the idle workers used {after - before} CPU ticks in 0.5 s");
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
