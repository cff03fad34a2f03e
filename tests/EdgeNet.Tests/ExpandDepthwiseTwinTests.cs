using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// An inverted residual's expand fused into its depthwise (<see cref="ExpandDepthwiseFusion"/>,
/// <see cref="EdgeNet.Kernels.ExpandDepthwiseKernel"/>) gives the bits of the two nodes, at 1-4 threads, on odd
/// sizes (pixels per image not a multiple of any tile height), batch 1 and 3, strides 1 and 2, pads, 3×3 and 5×5.
/// The unfused twin is the same graph with the expanded map also a graph output (so nothing fuses).
/// </summary>
[Collection(nameof(IntraOpThreadTests))]
public class ExpandDepthwiseTwinTests
{
    /// <summary>x [N, cin, h, w] → expand to cexp (+ clip 0..6 when relu6) → depthwise k×k (+ clip 0..6).</summary>
    static Model Block(int cin, int h, int w, int cexp, int k, int stride, int pad, bool relu6, bool twin)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, cin, h, w);
        var clip = new Attributes().Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f);
        int e = g.Add(OpType.Conv, [x, g.Constant("we", TestData.Uniform(cexp * cin, 1, 1), cexp, cin, 1, 1), g.Constant("be", TestData.Uniform(cexp, 2, 1), cexp)],
            relu6 ? clip : new Attributes());
        var a = new Attributes().Set("group", (long)cexp).Set("strides", new long[] { stride, stride }).Set("pads", new long[] { pad, pad, pad + 1, pad });
        if (relu6) { a.Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f); }
        int y = g.Add(OpType.Conv, [e, g.Constant("wd", TestData.Uniform(cexp * k * k, 3, 1), cexp, 1, k, k), g.Constant("bd", TestData.Uniform(cexp, 4, 1), cexp)], a);
        return twin ? g.Build(y, e) : g.Build(y);
    }

    public static TheoryData<int, int, int, int, int, int, int, bool> Shapes => new()
    {
        { 16, 83, 41, 97, 3, 1, 1, true },    // 3403 pixels an image (odd), 97 channels (a narrow last panel)
        { 13, 57, 61, 96, 3, 2, 1, true },    // stride 2, odd height
        { 24, 45, 47, 144, 3, 1, 0, false },  // no padding (fewer output rows), no activation
        { 8, 39, 43, 163, 5, 2, 2, true },    // 5×5 stride 2
        { 5, 20, 150, 91, 3, 1, 4, true },    // pad past the kernel: output rows that read no row of the image
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Fused_block_gives_the_bits_of_the_two_nodes(int cin, int h, int w, int cexp, int k, int stride, int pad, bool relu6)
    {
        foreach (int batch in new[] { 1, 3 })
        {
            var x = TestData.Uniform(batch * cin * h * w, 5, 2);
            float[] Run(bool twin, int threads)
            {
                using var s = new Session(Block(cin, h, w, cexp, k, stride, pad, relu6, twin), 3, KernelOptions.Default with { Threads = threads });
                Assert.Equal(twin ? 0 : 1, s.Plan.Nodes.Count(n => n.Attributes.Int(ChannelsLast.Attribute, 0) == ExpandDepthwiseFusion.ChannelsLastValue));
                x.CopyTo(s.Input(0, batch));
                s.Run(batch);
                return s.Output().ToArray();
            }
            var want = Run(true, 1);
            for (int threads = 1; threads <= 4; threads++) Assert.Equal(want, Run(false, threads));
        }
    }

    /// <summary>The fused node's MACs (ModelSummary, which bench's conv probe reads off the plan) are the two convs'.</summary>
    [Fact]
    public void Fused_node_counts_the_expand_and_the_depthwise()
    {
        var m = Block(16, 83, 41, 97, 3, 2, 1, true, twin: false);
        using var s = new Session(m, 1);
        Assert.Single(s.Plan.Nodes, n => n.Attributes.Int(ChannelsLast.Attribute, 0) == ExpandDepthwiseFusion.ChannelsLastValue);
        Assert.Equal(m.Nodes.Sum(n => ModelSummary.Macs(m, n)), s.Plan.Nodes.Sum(n => ModelSummary.Macs(s.Plan, n)));
    }
}
