using EdgeNet.Converter;
using EdgeNet.Converter.Onnx;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using Xunit;
using Net = EdgeNet.Tests.DetectorFamilyTests.Net;

namespace EdgeNet.Tests;

/// <summary>
/// Convnet families users bring that no model of ../shared/models stands for, as their exporters write them, with
/// random weights at small sizes: MobileNetV3 (HardSwish, squeeze-excite with HardSigmoid, 5×5 depthwise),
/// EfficientNet-B0 (Swish as Sigmoid·Mul, squeeze-excite) and -lite0 (Relu6 as Clip, no SE), ShuffleNetV2 (Split,
/// the channel shuffle Reshape→Transpose→Reshape, Concat), SqueezeNet (fire modules, MaxPool ceil_mode), DenseNet
/// (pre-activation BatchNormalization after Concat chains), VGG (Flatten into Gemm), a U-Net (ConvTranspose, bilinear
/// Resize, skip Concats) and a YOLO neck (SPPF, nearest Resize, PAN). Each is imported, planned and run, every output
/// compared with ONNX Runtime's within 1e-4 of its largest |value|; and the plan holds the trunk channels-last: the
/// layout conversions the planner inserts are no more than the graph's boundaries need: the NCHW input (none where the
/// stem conv reads it itself), an NCHW output, a Flatten.
/// </summary>
public class ConvnetFamilyTests(ITestOutputHelper output)
{
    public static TheoryData<string> Families =>
    [
        "mobilenetv3", "efficientnet_b0", "efficientnet_lite0", "shufflenetv2", "squeezenet", "densenet", "vgg", "unet", "yolo_neck",
    ];

    [Theory]
    [MemberData(nameof(Families))]
    public void Runs_channels_last_between_the_boundaries_and_matches_onnx_runtime(string family)
    {
        var net = new Net(14);
        var (shape, boundaries) = family switch
        {
            "mobilenetv3" => MobileNetV3(net),
            "efficientnet_b0" => EfficientNet(net, lite: false),
            "efficientnet_lite0" => EfficientNet(net, lite: true),
            "shufflenetv2" => ShuffleNetV2(net),
            "squeezenet" => SqueezeNet(net),
            "densenet" => DenseNet(net),
            "vgg" => Vgg(net),
            "unet" => UNet(net),
            "yolo_neck" => YoloNeck(net),
            _ => throw new ArgumentException(family),
        };
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

    static string Relu(Net n, string x) => n.Op("Relu", [x]);
    static string Relu6(Net n, string x) => n.Op("Clip", [x, n.F(0), n.F(6)]);
    static string HardSwish(Net n, string x) => n.Op("HardSwish", [x]);
    static string Swish(Net n, string x) => n.Op("Mul", [x, n.Op("Sigmoid", [x])]);
    static string Gap(Net n, string x) => n.Op("GlobalAveragePool", [x]);
    static string Concat(Net n, params string[] xs) => n.Op("Concat", xs, OnnxBuilder.Int("axis", 1));

    /// <summary>Flatten → Gemm: a classifier head on [N, C, 1, 1] (the same bytes in both layouts).</summary>
    static string Classifier(Net n, string x, int c, int classes) =>
        n.Op("Gemm", [n.Op("Flatten", [x]), n.Const(n.He(classes * c, c), classes, c), n.Const(new float[classes], classes)], OnnxBuilder.Int("transB", 1));

    /// <summary>Squeeze-excite: GlobalAveragePool → 1×1 reduce → act → 1×1 expand → gate, times the input per channel.</summary>
    static string SqueezeExcite(Net n, string x, int c, int squeeze, Func<string, string> act, Func<string, string> gate) =>
        n.Op("Mul", [x, gate(n.Conv(act(n.Conv(Gap(n, x), c, squeeze, 1)), squeeze, c, 1))]);

    /// <summary>MobileNetV3-small's first blocks at 64×64 (opset 14: HardSwish), its head → [1, 10].</summary>
    static (int[], int) MobileNetV3(Net n)
    {
        var x = HardSwish(n, n.Conv(n.Input("x", 1, 3, 64, 64), 3, 16, 3, 2));
        string HardSigmoid(string t) => n.Op("HardSigmoid", [t], new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 1f / 6 });
        string Bneck(string t, int ic, int exp, int oc, int k, int stride, bool se, bool hs)
        {
            Func<string, string> act = hs ? v => HardSwish(n, v) : v => Relu(n, v);
            var h = exp != ic ? act(n.Conv(t, ic, exp, 1)) : t;
            h = act(n.Conv(h, exp, exp, k, stride, group: exp));
            if (se) h = SqueezeExcite(n, h, exp, Math.Max(8, exp / 4 / 8 * 8), v => Relu(n, v), HardSigmoid);
            h = n.Conv(h, exp, oc, 1);
            return stride == 1 && ic == oc ? n.Op("Add", [t, h]) : h;
        }
        x = Bneck(x, 16, 16, 16, 3, 2, se: true, hs: false);      // 16
        x = Bneck(x, 16, 72, 24, 3, 2, se: false, hs: false);     // 8
        x = Bneck(x, 24, 88, 24, 3, 1, se: false, hs: false);
        x = Bneck(x, 24, 96, 40, 5, 2, se: true, hs: true);       // 4
        x = Bneck(x, 40, 240, 40, 5, 1, se: true, hs: true);
        x = HardSwish(n, n.Conv(x, 40, 96, 1));
        x = HardSwish(n, n.Conv(Gap(n, x), 96, 128, 1));
        n.B.Output(Classifier(n, x, 128, 10));
        return ([1, 3, 64, 64], 1);
    }

    /// <summary>EfficientNet-B0's MBConv blocks (Swish, squeeze-excite with Sigmoid) or -lite0's (Relu6, no SE) at
    /// 64×64 → [1, 10].</summary>
    static (int[], int) EfficientNet(Net n, bool lite)
    {
        Func<string, string> act = lite ? v => Relu6(n, v) : v => Swish(n, v);
        var x = act(n.Conv(n.Input("x", 1, 3, 64, 64), 3, 16, 3, 2));   // 32
        string MbConv(string t, int ic, int expand, int oc, int k, int stride)
        {
            int exp = ic * expand;
            var h = expand != 1 ? act(n.Conv(t, ic, exp, 1)) : t;
            h = act(n.Conv(h, exp, exp, k, stride, group: exp));
            if (!lite) h = SqueezeExcite(n, h, exp, Math.Max(1, ic / 4), act, v => n.Op("Sigmoid", [v]));
            h = n.Conv(h, exp, oc, 1);
            return stride == 1 && ic == oc ? n.Op("Add", [t, h]) : h;
        }
        x = MbConv(x, 16, 1, 8, 3, 1);
        x = MbConv(x, 8, 6, 12, 3, 2);       // 16
        x = MbConv(x, 12, 6, 12, 3, 1);
        x = MbConv(x, 12, 6, 20, 5, 2);      // 8
        x = MbConv(x, 20, 6, 20, 5, 1);
        x = MbConv(x, 20, 6, 40, 3, 2);      // 4
        x = act(n.Conv(x, 40, 160, 1));
        n.B.Output(Classifier(n, Gap(n, x), 160, 10));
        return ([1, 3, 64, 64], 1);
    }

    /// <summary>ShuffleNetV2 at 64×64: stem, MaxPool, stride-2 units (two branches, Concat) and stride-1 units (Split
    /// in two halves), each followed by the channel shuffle → [1, 10].</summary>
    static (int[], int) ShuffleNetV2(Net n)
    {
        var x = Relu(n, n.Conv(n.Input("x", 1, 3, 64, 64), 3, 24, 3, 2));   // 32
        x = n.MaxPool(x, 3, 2, 1);                                             // 16
        string Shuffle(string t, int c, int hw) =>
            n.Op("Reshape", [n.Op("Transpose", [n.Op("Reshape", [t, n.I64(1, 2, c / 2, hw, hw)])], OnnxBuilder.Ints("perm", 0, 2, 1, 3, 4)), n.I64(1, c, hw, hw)]);
        string Branch(string t, int ic, int oc, int stride) =>
            Relu(n, n.Conv(n.Conv(Relu(n, n.Conv(t, ic, oc, 1)), oc, oc, 3, stride, group: oc), oc, oc, 1));
        string Down(string t, int ic, int oc, int hw)
        {
            int h = oc / 2;
            var left = Relu(n, n.Conv(n.Conv(t, ic, ic, 3, 2, group: ic), ic, h, 1));
            return Shuffle(Concat(n, left, Branch(t, ic, h, 2)), oc, hw);
        }
        string Basic(string t, int c, int hw)
        {
            var halves = n.Split(t, 1, [c / 2, c / 2]);
            return Shuffle(Concat(n, halves[0], Branch(halves[1], c / 2, c / 2, 1)), c, hw);
        }
        x = Basic(Down(x, 24, 48, 8), 48, 8);
        x = Basic(Down(x, 48, 96, 4), 96, 4);
        x = Relu(n, n.Conv(x, 96, 128, 1));
        n.B.Output(Classifier(n, Gap(n, x), 128, 10));
        return ([1, 3, 64, 64], 1);
    }

    /// <summary>SqueezeNet 1.1 at 63×63: fire modules (squeeze 1×1, expand 1×1 and 3×3, Concat), MaxPool with
    /// ceil_mode, the conv classifier and GlobalAveragePool → Flatten → [1, 10].</summary>
    static (int[], int) SqueezeNet(Net n)
    {
        string Pool(string t) => n.Op("MaxPool", [t], OnnxBuilder.Ints("kernel_shape", 3, 3), OnnxBuilder.Ints("strides", 2, 2), OnnxBuilder.Int("ceil_mode", 1));
        string Fire(string t, int ic, int s, int e)
        {
            var q = Relu(n, n.Conv(t, ic, s, 1));
            return Concat(n, Relu(n, n.Conv(q, s, e, 1)), Relu(n, n.Conv(q, s, e, 3)));
        }
        var x = Pool(Relu(n, n.Conv(n.Input("x", 1, 3, 63, 63), 3, 32, 3, 2, pad: 0)));   // 31 → 15
        x = Pool(Fire(Fire(x, 32, 8, 32), 64, 8, 32));                                   // 7
        x = Fire(Fire(x, 64, 16, 48), 96, 16, 48);
        x = Relu(n, n.Conv(x, 96, 10, 1));
        n.B.Output(n.Op("Flatten", [Gap(n, x)]));
        return ([1, 3, 63, 63], 1);
    }

    /// <summary>DenseNet at 32×32: dense layers BN→ReLU→1×1→BN→ReLU→3×3 concatenated onto their input, a transition
    /// (BN→ReLU→1×1→AveragePool 2×2), the final BN→ReLU→GlobalAveragePool → [1, 10].</summary>
    static (int[], int) DenseNet(Net n)
    {
        const int growth = 8;
        string BnRelu(string t, int c) => Relu(n, n.BatchNorm(t, c));
        string Dense(string t, int c) => Concat(n, t, n.Conv(BnRelu(n.Conv(BnRelu(t, c), c, 4 * growth, 1), 4 * growth), 4 * growth, growth, 3));
        var x = n.Conv(n.Input("x", 1, 3, 32, 32), 3, 16, 3);
        int c = 16;
        for (int i = 0; i < 3; i++, c += growth) x = Dense(x, c);
        x = n.Op("AveragePool", [n.Conv(BnRelu(x, c), c, c / 2, 1)], OnnxBuilder.Ints("kernel_shape", 2, 2), OnnxBuilder.Ints("strides", 2, 2));
        c /= 2;
        for (int i = 0; i < 2; i++, c += growth) x = Dense(x, c);
        n.B.Output(Classifier(n, Gap(n, BnRelu(x, c)), c, 10));
        return ([1, 3, 32, 32], 1);
    }

    /// <summary>VGG at 32×32: 3×3 ReLU pairs and 2×2 MaxPools, then Flatten → Gemm, which reads NCHW order.</summary>
    static (int[], int) Vgg(Net n)
    {
        var x = n.Input("x", 1, 3, 32, 32);
        int c = 3;
        foreach (var oc in new[] { 16, 32, 48 })
        {
            x = Relu(n, n.Conv(Relu(n, n.Conv(x, c, oc, 3)), oc, oc, 3));
            x = n.MaxPool(x, 2, 2, 0);
            c = oc;
        }
        n.B.Output(Classifier(n, x, 48 * 4 * 4, 10));
        return ([1, 3, 32, 32], 2);
    }

    /// <summary>A U-Net at 32×32: two encoder levels, a ConvTranspose 2×2/2 and a bilinear Resize ×2 up, skip Concats,
    /// a 1×1 head → [1, 2, 32, 32].</summary>
    static (int[], int) UNet(Net n)
    {
        string Double(string t, int ic, int oc) => Relu(n, n.Conv(Relu(n, n.Conv(t, ic, oc, 3)), oc, oc, 3));
        var e1 = Double(n.Input("x", 1, 3, 32, 32), 3, 8);
        var e2 = Double(n.MaxPool(e1, 2, 2, 0), 8, 16);                 // 16
        var b = Double(n.MaxPool(e2, 2, 2, 0), 16, 32);                 // 8
        var up2 = n.Op("ConvTranspose", [b, n.Const(n.He(32 * 16 * 4, 32 * 4), 32, 16, 2, 2), n.Const(OnnxBuilder.Random(new Random(9), 16, -0.1f, 0.1f), 16)],
            OnnxBuilder.Ints("kernel_shape", 2, 2), OnnxBuilder.Ints("strides", 2, 2));
        var d2 = Double(Concat(n, up2, e2), 32, 16);
        var up1 = n.Op("Resize", [d2, n.Const([], 0), n.Const([1, 1, 2, 2], 4)],
            OnnxBuilder.String("mode", "linear"), OnnxBuilder.String("coordinate_transformation_mode", "pytorch_half_pixel"));
        var d1 = Double(Concat(n, n.Conv(up1, 16, 8, 1), e1), 16, 8);
        n.B.Output(n.Conv(d1, 8, 2, 1));
        return ([1, 3, 32, 32], 2);
    }

    /// <summary>A YOLOv5-style neck at 64×64: SiLU convs down to stride 16, SPPF (three 5×5 MaxPools concatenated), a
    /// nearest ×2 Resize and Concat top-down, a strided conv and Concat bottom-up, two 1×1 heads.</summary>
    static (int[], int) YoloNeck(Net n)
    {
        string ConvSiLU(string t, int ic, int oc, int k, int stride = 1) => Swish(n, n.Conv(t, ic, oc, k, stride));
        var x = ConvSiLU(n.Input("x", 1, 3, 64, 64), 3, 16, 3, 2);     // 32
        var p3 = ConvSiLU(ConvSiLU(x, 16, 32, 3, 2), 32, 32, 3);        // 16
        var p4 = ConvSiLU(p3, 32, 64, 3, 2);                            // 8
        var s = ConvSiLU(p4, 64, 32, 1);
        var m1 = n.MaxPool(s, 5, 1, 2); var m2 = n.MaxPool(m1, 5, 1, 2); var m3 = n.MaxPool(m2, 5, 1, 2);
        p4 = ConvSiLU(Concat(n, s, m1, m2, m3), 128, 64, 1);
        var t4 = ConvSiLU(p4, 64, 32, 1);
        var u = n.Op("Resize", [t4, n.Const([], 0), n.Const([1, 1, 2, 2], 4)],
            OnnxBuilder.String("mode", "nearest"), OnnxBuilder.String("coordinate_transformation_mode", "asymmetric"), OnnxBuilder.String("nearest_mode", "floor"));
        var n3 = ConvSiLU(Concat(n, u, p3), 64, 32, 3);
        var d4 = ConvSiLU(Concat(n, ConvSiLU(n3, 32, 32, 3, 2), t4), 64, 64, 3);
        n.B.Output(n.Conv(n3, 32, 18, 1));
        n.B.Output(n.Conv(d4, 64, 18, 1));
        return ([1, 3, 64, 64], 3);
    }
}
