using EdgeNet.Converter;
using EdgeNet.Converter.Onnx;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// The convnet families of <see cref="ConvnetFamilies"/> (MobileNetV3, EfficientNet-B0/-lite0 and ShuffleNetV2 at
/// 64×64; small SqueezeNet, DenseNet, ResNet-50-style bottlenecks, VGG, U-Net, YOLO neck), each imported, planned and run, every output compared
/// with ONNX Runtime's within 1e-4 of its largest |value|; and the plan holds the trunk channels-last: the layout
/// conversions the planner inserts are no more than the graph's boundaries need.
/// </summary>
public class ConvnetFamilyTests(ITestOutputHelper output)
{
    public static TheoryData<string> Families =>
    [
        "mobilenetv3", "efficientnet_b0", "efficientnet_lite0", "shufflenetv2", "squeezenet", "densenet", "resnet_bottleneck", "vgg", "unet", "yolo_neck",
    ];

    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [MemberData(nameof(Families))]
    public void Runs_channels_last_between_the_boundaries_and_matches_onnx_runtime(string family)
    {
        var net = new OnnxNet(14);
        var (shape, boundaries) = ConvnetFamilies.Build(family, net, 64);
        string path = net.B.Save(Fixtures.TempDir(), family + ".onnx");
        var x = OnnxBuilder.Random(new Random(3), shape.Aggregate(1, (a, b) => a * b), -1, 1);
        var want = OnnxBuilder.RunOrt(path, x, shape);

        using var s = new Session(OnnxImporter.Convert(path));
        var conversions = s.Plan.Nodes.Where(IsConversion).Select(n => n.Name).ToArray();
        output.WriteLine($"{family}: {s.Plan.Nodes.Count} nodes, {conversions.Length} layout conversions (boundaries {boundaries}): {string.Join(", ", conversions)}");
        x.CopyTo(s.Input(0, 1));
        s.Run(1);
        for (int k = 0; k < want.Length; k++)
        {
            var got = s.Output(k).ToArray();
            Assert.Equal(want[k].Length, got.Length);
            double scale = Math.Max(want[k].Max(v => Math.Abs((double)v)), 1e-30), worst = 0;
            for (int i = 0; i < got.Length; i++) worst = Math.Max(worst, Math.Abs((double)want[k][i] - got[i]));
            output.WriteLine($"{family} output {k}: max |Δ| {worst:G3}, {worst / scale:G3} of max |ORT| {scale:G3}");
            Assert.True(worst <= 1e-4 * scale, $"{family} output {k}: max |EdgeNet - ORT| = {worst:G3}, more than 1e-4 × {scale:G3}");
        }
        Assert.True(conversions.Length <= boundaries, $"{family}: {conversions.Length} layout conversions, the boundaries need {boundaries}: {string.Join(", ", conversions)}");
    }

    /// <summary>ConvTranspose channels-last (GEMM, then each pixel's taps added at their output pixels) against the
    /// NCHW reference: groups, strides, dilations, uneven and negative pads, output_padding, odd channel counts.</summary>
    [Theory]
    [InlineData(5, 7, 1, 2, 2, 0, 0, 1, 0, 9)]
    [InlineData(6, 4, 2, 3, 2, 1, 2, 1, 1, 7)]
    [InlineData(8, 8, 8, 4, 2, 1, 1, 1, 0, 6)]
    [InlineData(3, 5, 1, 3, 1, 1, 0, 2, 0, 5)]
    [InlineData(4, 6, 2, 3, 3, -1, 2, 1, 2, 4)]
    public void ConvTranspose_channels_last_matches_the_reference(int c, int oc, int group, int k, int stride, int padTop, int padRight, int dil, int outPad, int size)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, c, size, size + 2);
        var rng = new Random(c * 31 + k);
        float[] R(int count) => OnnxBuilder.Random(rng, count, -1, 1);
        int h = g.Add(OpType.Conv, [x, g.Constant("w0", R(c * c), c, c, 1, 1)], new Attributes());   // pointwise first: channels-last input
        var a = new Attributes().Set("strides", new long[] { stride, stride }).Set("dilations", new long[] { dil, dil })
            .Set("pads", new long[] { padTop, 0, 1, padRight }).Set("output_padding", new long[] { outPad, 0 }).Set("group", (long)group);
        var m = g.Build(g.Add(OpType.ConvTranspose, [h, g.Constant("w1", R(c * oc / group * k * k), c, oc / group, k, k), g.Constant("b1", R(oc), oc)], a));
        using var fast = new Session(m, 2);
        Assert.Contains(fast.Plan.Nodes, n => n.Op == OpType.ConvTranspose && n.Attributes.Int(ChannelsLast.Attribute, 0) == 1);
        using var slow = new Session(m, 2, KernelOptions.Default with { Reference = true });
        var xs = R((int)m.Input().Elements(2));
        xs.CopyTo(fast.Input(0, 2)); xs.CopyTo(slow.Input(0, 2));
        fast.Run(2); slow.Run(2);
        Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), 1e-5f, 1e-4f, "conv transpose");
    }

    /// <summary>A Transpose the planner inserted between NCHW and channels-last data.</summary>
    static bool IsConversion(Node n) => n.Op == OpType.Transpose && (n.Name.EndsWith("/to_nhwc", StringComparison.Ordinal) || n.Name.EndsWith("/to_nchw", StringComparison.Ordinal));
}
