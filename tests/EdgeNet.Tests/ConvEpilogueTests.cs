using EdgeNet.Converter;
using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// Conv and Dense epilogues (<see cref="EdgeNet.Kernels.OutputEpilogue"/>): a non-clamp activation applied part by part
/// gives the bits of a separate activation node at 1-4 threads, and a residual Add (+ activation) fused into the Conv
/// before it (<see cref="ConvSumFusion"/>) gives the bits of the separate nodes and matches ONNX Runtime.
/// </summary>
[Collection(nameof(IntraOpThreadTests))]
public class ConvEpilogueTests(ITestOutputHelper output)
{
    static float[] Random(int n, int seed) => TestData.Uniform(n, seed, 2);

    /// <summary>Every path of the channels-last conv (a stem on NCHW input, pointwise GEMM, depthwise, general k×k,
    /// grouped, Winograd) and a Dense over many rows, each with <paramref name="act"/> fused (or as a node after it).</summary>
    static Model Convs(string act, bool fused)
    {
        var g = new GraphBuilder();
        int seed = 1;
        int Layer(OpType op, int x, int[] w, int oc, Attributes a)
        {
            var wt = g.Constant($"w{seed}", Random(w.Aggregate(1, (p, q) => p * q), seed++), w);
            var bt = g.Constant($"b{seed}", Random(oc, seed++), oc);
            if (fused) return g.Add(op, [x, wt, bt], a.Set("activation", act));
            return g.Add(OpTable.FusableActivation(act)!.Op, [g.Add(op, [x, wt, bt], a)]);
        }
        Attributes Pads(int s = 1) => new Attributes().Set("strides", new long[] { s, s }).Set("pads", new long[] { 1, 1, 1, 1 });
        int x = g.Input("x", -1, 3, 61, 59);
        int h = Layer(OpType.Conv, x, [32, 3, 3, 3], 32, Pads(2));                                  // stem 31×30, 32 channels
        h = Layer(OpType.Conv, h, [67, 32, 1, 1], 67, new Attributes());                            // pointwise, odd channels
        h = Layer(OpType.Conv, h, [67, 1, 3, 3], 67, Pads().Set("group", 67L));                      // depthwise
        h = Layer(OpType.Conv, h, [45, 67, 3, 3], 45, Pads(2));                                      // general k×k, strided
        h = Layer(OpType.Conv, h, [42, 15, 3, 3], 42, Pads().Set("group", 3L));                      // grouped
        h = Layer(OpType.Conv, h, [42, 42, 3, 3], 42, Pads());                                       // 3×3 stride 1 (Winograd)
        h = g.Add(OpType.Transpose, [h], new Attributes().Set("perm", new long[] { 0, 2, 3, 1 }));  // [N, 16, 15, 42]
        h = Layer(OpType.Dense, h, [37, 42], 37, new Attributes());
        return g.Build(h);
    }

    [Theory]
    [InlineData("swish")]
    [InlineData("hardswish")]
    [InlineData("sigmoid")]
    [InlineData("gelu")]
    public void Activation_per_part_gives_the_bits_of_a_separate_node(string act)
    {
        var x = Random((int)Convs(act, true).Input().Elements(2), 99);
        float[] Run(Model m, int threads)
        {
            using var s = new Session(m, 2, KernelOptions.Default with { Threads = threads });
            x.CopyTo(s.Input(0, 2)); s.Run(2);
            Assert.Equal(0, Allocations.Fewest(() => s.Run(2)));
            return s.Output().ToArray();
        }
        var want = Run(Convs(act, false), 1);
        for (int threads = 1; threads <= 4; threads++) Assert.Equal(want, Run(Convs(act, true), threads));
    }

    public static TheoryData<string> Residuals => ["blaze", "resnet_down", "mnv2", "other_later", "sigmoid", "broadcast", "shared"];

    /// <summary>x [1, 16, 17, 15] → the block; the Adds the plan should keep.</summary>
    static int Build(OnnxNet n, string pattern)
    {
        var x = n.Input("x", 1, 16, 17, 15);
        (string y, int adds) = pattern switch
        {
            // BlazeFace's BlazeBlock: depthwise, pointwise, Add(input), Relu
            "blaze" => (n.Op("Relu", [n.Op("Add", [n.Conv(n.Conv(x, 16, 16, 3, group: 16), 16, 16, 1), x])]), 0),
            // ResNet's downsampling block: both operands are Convs (the later one takes the sum)
            "resnet_down" => (n.Op("Relu", [n.Op("Add", [n.Conv(n.ConvRelu(x, 16, 24, 3, 2), 24, 24, 3), n.Conv(x, 16, 24, 1, 2, pad: 0)])]), 0),
            // MobileNetV2's inverted residual: no activation after the Add
            "mnv2" => (n.Op("Add", [x, n.Conv(n.Op("Clip", [n.Conv(n.Op("Clip", [n.Conv(x, 16, 48, 1), n.F(0), n.F(6)]), 48, 48, 3, group: 48), n.F(0), n.F(6)]), 48, 16, 1)]), 0),
            // the other operand computed after the Conv: the fused Conv runs where the Add was
            "other_later" => (n.Op("Relu", [n.Op("Add", [n.Conv(x, 16, 16, 3), n.ConvRelu(x, 16, 16, 1)])]), 0),
            "sigmoid" => (n.Op("Sigmoid", [n.Op("Add", [n.Conv(x, 16, 16, 3), x])]), 0),
            // a broadcast operand ([1, C, 1, 1]) stays a separate Add
            "broadcast" => (n.Op("Relu", [n.Op("Add", [n.Conv(x, 16, 16, 3), n.Op("GlobalAveragePool", [x])])]), 1),
            // the Conv's output read twice: nothing to fuse
            "shared" => (Shared(n, x), 1),
            _ => throw new ArgumentException(pattern),
        };
        n.B.Output(y);
        return adds;
    }

    static string Shared(OnnxNet n, string x)
    {
        var c = n.Conv(x, 16, 16, 1);
        return n.Op("Mul", [n.Op("Add", [c, x]), c]);
    }

    [Theory]
    [Trait("Needs", "OnnxRuntime")]
    [MemberData(nameof(Residuals))]
    public void Residual_add_fuses_into_the_conv_and_matches_onnx_runtime(string pattern)
    {
        var net = new OnnxNet(13);
        int adds = Build(net, pattern);
        string path = net.B.Save(Fixtures.TempDir(), "residual_" + pattern + ".onnx");
        var model = OnnxImporter.Convert(path);
        int[] shape = [1, 16, 17, 15];
        var x = OnnxBuilder.Random(new Random(3), shape.Aggregate(1, (a, b) => a * b), -2, 2);
        var want = OnnxBuilder.RunOrt(path, x, shape)[0];
        using var s = new Session(model, 1);
        output.WriteLine($"{pattern}: {string.Join(", ", s.Plan.Nodes.Select(n => $"{n.Op}{(n.Inputs.Length > 3 ? "+sum" : "")}{(n.Attributes.Has("activation") ? "+" + n.Attributes.String("activation", "") : "")}"))}");
        Assert.Equal(adds, s.Plan.Nodes.Count(n => n.Op == OpType.Add));
        if (adds == 0) Assert.Contains(s.Plan.Nodes, n => n.Op == OpType.Conv && n.Inputs.Length > ConvSumFusion.SumInput);
        x.CopyTo(s.Input(0, 1));
        s.Run(1);
        var got = s.Output().ToArray();
        double scale = want.Max(v => Math.Abs((double)v)), worst = 0;
        for (int i = 0; i < got.Length; i++) worst = Math.Max(worst, Math.Abs((double)want[i] - got[i]));
        output.WriteLine($"{pattern}: max |Δ| {worst:G3} of max |ORT| {scale:G3}");
        Assert.True(worst <= 1e-5 * scale, $"{pattern}: max |EdgeNet - ORT| = {worst:G3}, more than 1e-5 × {scale:G3}");
    }

    [Theory]
    [MemberData(nameof(Residuals))]
    public void Residual_add_fused_gives_the_bits_of_the_separate_nodes(string pattern)
    {
        var net = new OnnxNet(13);
        Build(net, pattern);
        var model = OnnxImporter.Convert(net.B.Save(Fixtures.TempDir(), "residual_bits_" + pattern + ".onnx"));
        var x = Random((int)model.Input().Elements(1), 7);
        float[] Run(Model m, KernelOptions o)
        {
            using var s = new Session(m, 1, o);
            x.CopyTo(s.Input(0, 1)); s.Run(1);
            return s.Output().ToArray();
        }
        // the channels-last plan without the fusion: planned here, then run as it is
        var want = Run(ChannelsLast.Rewrite(model), KernelOptions.Default with { ChannelsLast = false });
        for (int threads = 1; threads <= 4; threads++) Assert.Equal(want, Run(model, KernelOptions.Default with { Threads = threads }));
    }
}
