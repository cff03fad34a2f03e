using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// The channels-last planner on convnet trunks that are not depthwise-separable: k×k, strided, grouped and 1×1
/// convs with pools, residual Add, a per-channel Mul, Concat, a channel Pad, Resize and a Transpose at the head (4-D,
/// and YOLOv5's 5-D after a Reshape splitting the channels), against the NCHW reference kernels (odd channel counts
/// and sizes), and the plan itself: layout conversions only at the graph's boundaries.
/// </summary>
public class ChannelsLastTests
{
    static Attributes ConvAttrs(int stride, int pad, int group = 1, int dil = 1, string act = "relu") =>
        new Attributes().Set("strides", new long[] { stride, stride }).Set("pads", new long[] { pad, pad, pad, pad })
            .Set("group", (long)group).Set("dilations", new long[] { dil, dil }).Set("activation", act);

    static int Conv(GraphBuilder g, int x, int c, int oc, int k, Attributes a, int seed)
    {
        int group = (int)a.Int("group", 1);
        return g.Add(OpType.Conv, [x, g.Constant($"w{seed}", TestData.Uniform(oc * c / group * k * k, seed), oc, c / group, k, k), g.Constant($"b{seed}", TestData.Uniform(oc, seed + 1), oc)], a);
    }

    /// <summary>A ResNet/BlazeFace-like trunk with every op kind the planner keeps channels-last.</summary>
    static Model Trunk(int c, int size, int group)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 3, size, size + 3);
        int h = Conv(g, x, 3, c, 5, ConvAttrs(2, 2), 1);                                    // stem, NCHW input
        h = g.Add(OpType.MaxPool, [h], new Attributes().Set("kernel_shape", new long[] { 3, 3 }).Set("strides", new long[] { 2, 2 }).Set("pads", new long[] { 1, 1, 1, 1 }));
        int r = Conv(g, h, c, c, 3, ConvAttrs(1, 1), 3);                                    // 3×3
        r = Conv(g, r, c, c, 3, ConvAttrs(1, 2, group, dil: 2, act: "none"), 5);             // grouped, dilated
        h = g.Add(OpType.Add, [r, h]);                                                       // residual
        h = g.Add(OpType.Relu, [h]);
        h = g.Add(OpType.Mul, [h, g.Constant("scale", TestData.Uniform(c, 7), c, 1, 1)]);               // per-channel constant
        int down = Conv(g, h, c, 2 * c, 1, ConvAttrs(2, 0, act: "none"), 9);                 // 1×1 stride 2
        int main = Conv(g, h, c, c, 3, ConvAttrs(2, 1), 11);
        main = g.Add(OpType.Pad, [main], new Attributes().Set("pads", new long[] { 0, 0, 0, 0, 0, c, 0, 0 }));   // channel pad
        h = g.Add(OpType.Add, [main, down]);
        h = g.Add(OpType.AveragePool, [h], new Attributes().Set("kernel_shape", new long[] { 2, 2 }).Set("strides", new long[] { 1, 1 }).Set("pads", new long[] { 0, 0, 1, 1 }));
        int up = g.Add(OpType.Resize, [h], new Attributes().Set("mode", "nearest").Set("coordinate_transformation_mode", "asymmetric")
            .Set("nearest_mode", "floor").Set("scales", new float[] { 1, 1, 2, 2 }));
        int side = Conv(g, up, 2 * c, c, 1, ConvAttrs(1, 0), 13);
        h = g.Add(OpType.Concat, [side, up], new Attributes().Set("axis", 1L));
        h = Conv(g, h, 3 * c, 4, 1, ConvAttrs(1, 0, act: "none"), 15);
        h = g.Add(OpType.Transpose, [h], new Attributes().Set("perm", new long[] { 0, 2, 3, 1 }));   // a detector head
        var hs = g.Model.Tensors[h].Shape;
        return g.Build(g.Reshape(h, [-hs[1] * hs[2], 4]));
    }

    [Theory]
    [InlineData(8, 17, 2)]
    [InlineData(5, 13, 5)]
    [InlineData(16, 24, 4)]
    [InlineData(3, 9, 1)]
    public void Trunk_matches_the_reference_and_converts_only_at_the_boundary(int c, int size, int group)
    {
        var m = Trunk(c, size, group);
        using (var s = new Session(m, 2))
        {
            Assert.All(s.Kernels.Where(k => k.Node.Op == OpType.Conv), k => Assert.IsType<ConvNhwcKernel>(k));
            Assert.All(s.Kernels.Where(k => k.Node.Op is OpType.MaxPool or OpType.AveragePool), k => Assert.IsType<PoolNhwcKernel>(k));
            // At most one conversion, of the graph input (none when the stem reads NCHW itself); the head's Transpose
            // reads the channels-last tensor with its perm composed, so nothing converts back.
            var transposes = s.Kernels.Where(k => k.Node.Op == OpType.Transpose).ToArray();
            Assert.DoesNotContain(transposes, k => k.Node.Name.EndsWith("/to_nchw"));
            Assert.All(transposes.Where(k => k.Node.Name.EndsWith("/to_nhwc")), k => Assert.Equal(m.Inputs[0], k.Node.Inputs[0]));
            Assert.True(transposes.Length <= 2);
        }
        using var fast = new Session(m, 2);
        using var slow = new Session(m, 2, KernelOptions.Default with { Reference = true });
        var x = TestData.Uniform((int)m.Input().Elements(2), 21);
        x.CopyTo(fast.Input(0, 2)); x.CopyTo(slow.Input(0, 2));
        fast.Run(2); slow.Run(2);
        Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), 1e-4f, 1e-4f, "trunk");
    }

    /// <summary>YOLOv5's Detect head: a 1×1 conv's [N, a·k, H, W] reshaped to [N, a, k, H, W] and transposed (any perm of
    /// the five axes; YOLOv5's is (0, 1, 3, 4, 2)): one Transpose of the channels-last data, no conversion back to NCHW.</summary>
    [Theory]
    [InlineData(3, 7, 5, 6, new long[] { 0, 1, 3, 4, 2 })]
    [InlineData(2, 5, 4, 9, new long[] { 0, 3, 4, 1, 2 })]   // the channels-last order itself: a Reshape
    [InlineData(4, 3, 6, 5, new long[] { 4, 2, 0, 3, 1 })]
    public void Detection_head_transposes_channels_last_data_once(int anchors, int k, int h, int w, long[] perm)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 8, h, w);
        int y = Conv(g, Conv(g, x, 8, 8, 3, ConvAttrs(1, 1), 1), 8, anchors * k, 1, ConvAttrs(1, 0, act: "none"), 3);
        var m = g.Build(g.Add(OpType.Transpose, [g.Reshape(y, [-1, anchors, k, h, w])], new Attributes().Set("perm", perm)));
        using var fast = new Session(m, 2);
        Assert.DoesNotContain(fast.Plan.Nodes, n => n.Name.EndsWith("/to_nchw", StringComparison.Ordinal));
        Assert.True(fast.Plan.Nodes.Count(n => n.Op == OpType.Transpose) <= 2);   // the input's to_nhwc, the head's
        using var slow = new Session(m, 2, KernelOptions.Default with { Reference = true });
        var xs = TestData.Uniform((int)m.Input().Elements(2), 5);
        xs.CopyTo(fast.Input(0, 2)); xs.CopyTo(slow.Input(0, 2));
        fast.Run(2); slow.Run(2);
        Assert.Equal(slow.Output().Length, fast.Output().Length);
        Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), 1e-5f, 1e-4f, "head");
    }

    /// <summary>A Resize to sizes (the converter writes them with their axes: YOLOv5's and M-LSD's upsampling to a Shape
    /// chain's sizes) stays channels-last between convs, its axes mapped, keep_aspect_ratio_policy over them.</summary>
    [Theory]
    [InlineData("stretch", "nearest")]
    [InlineData("not_larger", "linear")]
    [InlineData("not_smaller", "nearest")]
    public void Resize_to_sizes_stays_channels_last(string policy, string mode)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 6, 7, 5);
        int h = Conv(g, x, 6, 8, 3, ConvAttrs(1, 1), 1);
        h = g.Add(OpType.Resize, [h], new Attributes().Set("mode", mode).Set("coordinate_transformation_mode", "asymmetric").Set("nearest_mode", "floor")
            .Set("sizes", new long[] { -1, 8, 14, 15 }).Set("axes", new long[] { 2, 3 }).Set("keep_aspect_ratio_policy", policy));
        var m = g.Build(Conv(g, h, 8, 4, 1, ConvAttrs(1, 0, act: "none"), 3));
        using var fast = new Session(m, 2);
        Assert.Contains(fast.Plan.Nodes, n => n.Op == OpType.Resize && n.Attributes.Ints("axes", []).SequenceEqual([1L, 2]));
        Assert.True(fast.Plan.Nodes.Count(n => n.Op == OpType.Transpose) <= 2);   // the input's and the output's conversions
        using var slow = new Session(m, 2, KernelOptions.Default with { Reference = true });
        var xs = TestData.Uniform((int)m.Input().Elements(2), 5);
        xs.CopyTo(fast.Input(0, 2)); xs.CopyTo(slow.Input(0, 2));
        fast.Run(2); slow.Run(2);
        Assert.Equal(slow.Output().Length, fast.Output().Length);
        Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), 1e-5f, 1e-4f, "resize");
    }

    /// <summary>General NHWC convs one by one (the rows gathered per output pixel; groups; padding on every side;
    /// a feature map larger than one block of rows), each against the NCHW reference.</summary>
    [Theory]
    [InlineData(3, 5, 1, 3, 1, 1, 1, 9)]
    [InlineData(6, 9, 3, 3, 2, 1, 1, 11)]
    [InlineData(4, 8, 2, 5, 1, 2, 2, 7)]
    [InlineData(7, 7, 1, 1, 2, 0, 1, 13)]
    [InlineData(16, 20, 1, 3, 1, 1, 1, 40)]   // 1,600 pixels: several blocks per image (20 outputs: not Winograd)
    [InlineData(2, 4, 2, 7, 3, 3, 1, 15)]
    [InlineData(12, 6, 3, 2, 2, 0, 1, 10)]
    public void General_conv_matches_the_reference(int c, int oc, int group, int k, int stride, int pad, int dil, int size)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, c, size, size + 1);
        int h = Conv(g, x, c, c, 1, ConvAttrs(1, 0), 1);   // pointwise first: the conv under test reads channels-last data
        var a = ConvAttrs(stride, pad, group, dil, "clip").Set("act_min", -0.5f).Set("act_max", 0.5f);
        a.Set("pads", new long[] { pad, pad + 1, Math.Max(0, pad - 1), pad });
        var m = g.Build(Conv(g, h, c, oc, k, a, 3));
        using var fast = new Session(m, 3);
        Assert.All(fast.Kernels.Where(kr => kr.Node.Op == OpType.Conv), kr => Assert.IsType<ConvNhwcKernel>(kr));
        using var slow = new Session(m, 3, KernelOptions.Default with { Reference = true });
        var xs = TestData.Uniform((int)m.Input().Elements(3), 5);
        xs.CopyTo(fast.Input(0, 3)); xs.CopyTo(slow.Input(0, 3));
        fast.Run(3); slow.Run(3);
        Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), 1e-5f, 1e-4f, "conv");
    }

    /// <summary>1×1 convs to at most 4 channels (detector heads' score, box and landmark maps: Simd.PointwiseNarrow,
    /// dot products along C, to at most 2 on AVX-512; the GEMM's narrow tiles above) against the NCHW reference: C a whole number of vectors, with a 16-lane, an 8-lane and a
    /// scalar tail; a clamp in registers and a sigmoid after (the epilogue).</summary>
    [Theory]
    [InlineData(48, 1, "clip")]
    [InlineData(48, 4, "sigmoid")]
    [InlineData(64, 2, "clip")]
    [InlineData(19, 3, "clip")]
    [InlineData(29, 1, "sigmoid")]
    [InlineData(9, 3, "clip")]
    [InlineData(40, 5, "clip")]   // 5 outputs: the GEMM
    public void Pointwise_to_few_channels_matches_the_reference(int c, int oc, string act)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, c, 13, 11);
        int h = Conv(g, x, c, c, 1, ConvAttrs(1, 0), 1);   // a pointwise first: the conv under test reads channels-last data
        var a = ConvAttrs(1, 0, act: act);
        if (act == "clip") a.Set("act_min", -0.5f).Set("act_max", 0.5f);
        var m = g.Build(Conv(g, h, c, oc, 1, a, 3));
        using var fast = new Session(m, 2);
        Assert.All(fast.Kernels.Where(kr => kr.Node.Op == OpType.Conv), kr => Assert.IsType<ConvNhwcKernel>(kr));
        using var slow = new Session(m, 2, KernelOptions.Default with { Reference = true });
        var xs = TestData.Uniform((int)m.Input().Elements(2), 5);
        xs.CopyTo(fast.Input(0, 2)); xs.CopyTo(slow.Input(0, 2));
        fast.Run(2); slow.Run(2);
        Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), 1e-5f, 1e-4f, "pointwise");
    }
}
