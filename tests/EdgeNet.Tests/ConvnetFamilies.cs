using EdgeNet.Converter.Onnx;

namespace EdgeNet.Tests;

/// <summary>
/// Convnet families users bring that no model of ../shared/models stands for, as their exporters write them, with
/// random (He-scaled) weights: MobileNetV3-small (HardSwish, squeeze-excite with HardSigmoid, 5×5 depthwise),
/// EfficientNet-B0 (Swish as Sigmoid·Mul, squeeze-excite) and -lite0 (Relu6 as Clip, no SE), ShuffleNetV2 1.0× (Split,
/// the channel shuffle Reshape→Transpose→Reshape, Concat) at any size; and small SqueezeNet (fire modules, MaxPool
/// ceil_mode), DenseNet (pre-activation BatchNormalization after Concat chains), ResNet-50's bottlenecks (1×1 → 3×3
/// → 1×1, projection, Add), VGG (Flatten into Gemm), U-Net (ConvTranspose, bilinear Resize, skip Concats) and a YOLO
/// neck (SPPF, nearest Resize, PAN). Each returns its input shape and how many layout conversions its boundaries
/// need (the NCHW input unless the stem conv reads it, NCHW outputs, a Flatten of a feature map). ConvnetFamilyTests checks them against ORT; bench's compare times them at
/// deployed sizes (FamilyCases).
/// </summary>
internal static class ConvnetFamilies
{
    public static (int[] Shape, int Boundaries) Build(string family, OnnxNet n, int size) => family switch
    {
        "mobilenetv3" => MobileNetV3(n, size),
        "efficientnet_b0" => EfficientNet(n, lite: false, size),
        "efficientnet_lite0" => EfficientNet(n, lite: true, size),
        "shufflenetv2" => ShuffleNetV2(n, size),
        "squeezenet" => SqueezeNet(n),
        "densenet" => DenseNet(n),
        "resnet_bottleneck" => ResNetBottleneck(n, 64, [1, 2, 1, 1]),
        "vgg" => Vgg(n),
        "unet" => UNet(n),
        "yolo_neck" => YoloNeck(n),
        _ => throw new ArgumentException(family),
    };

    static string Relu(OnnxNet n, string x) => n.Op("Relu", [x]);
    static string Relu6(OnnxNet n, string x) => n.Op("Clip", [x, n.F(0), n.F(6)]);
    static string HardSwish(OnnxNet n, string x) => n.Op("HardSwish", [x]);
    static string Swish(OnnxNet n, string x) => n.Op("Mul", [x, n.Op("Sigmoid", [x])]);
    static string Gap(OnnxNet n, string x) => n.Op("GlobalAveragePool", [x]);
    static string Concat(OnnxNet n, params string[] xs) => n.Op("Concat", xs, OnnxBuilder.Int("axis", 1));

    /// <summary>Flatten → Gemm: a classifier head (on [N, C, 1, 1]: the same bytes in both layouts).</summary>
    static string Classifier(OnnxNet n, string x, int c, int classes) => Linear(n, n.Op("Flatten", [x]), c, classes);
    static string Linear(OnnxNet n, string x, int c, int classes) =>
        n.Op("Gemm", [x, n.Const(n.He(classes * c, c), classes, c), n.Const(new float[classes], classes)], OnnxBuilder.Int("transB", 1));

    /// <summary>Squeeze-excite: GlobalAveragePool → 1×1 reduce → act → 1×1 expand → gate, times the input per channel.</summary>
    static string SqueezeExcite(OnnxNet n, string x, int c, int squeeze, Func<string, string> act, Func<string, string> gate) =>
        n.Op("Mul", [x, gate(n.Conv(act(n.Conv(Gap(n, x), c, squeeze, 1)), squeeze, c, 1))]);

    /// <summary>MobileNetV3-small (torchvision's configuration; opset 14 for HardSwish) at size×size → [1, 1000].</summary>
    public static (int[], int) MobileNetV3(OnnxNet n, int size)
    {
        var x = HardSwish(n, n.Conv(n.Input("x", 1, 3, size, size), 3, 16, 3, 2));
        string HardSigmoid(string t) => n.Op("HardSigmoid", [t], new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 1f / 6 });
        (int k, int exp, int oc, bool se, bool hs, int s)[] blocks =
        [
            (3, 16, 16, true, false, 2), (3, 72, 24, false, false, 2), (3, 88, 24, false, false, 1), (5, 96, 40, true, true, 2),
            (5, 240, 40, true, true, 1), (5, 240, 40, true, true, 1), (5, 120, 48, true, true, 1), (5, 144, 48, true, true, 1),
            (5, 288, 96, true, true, 2), (5, 576, 96, true, true, 1), (5, 576, 96, true, true, 1),
        ];
        int c = 16;
        foreach (var (k, exp, oc, se, hs, stride) in blocks)
        {
            Func<string, string> act = hs ? v => HardSwish(n, v) : v => Relu(n, v);
            var h = exp != c ? act(n.Conv(x, c, exp, 1)) : x;
            h = act(n.Conv(h, exp, exp, k, stride, group: exp));
            if (se) h = SqueezeExcite(n, h, exp, Math.Max(8, (exp / 4 + 4) / 8 * 8), v => Relu(n, v), HardSigmoid);
            h = n.Conv(h, exp, oc, 1);
            x = stride == 1 && c == oc ? n.Op("Add", [x, h]) : h;
            c = oc;
        }
        x = Gap(n, HardSwish(n, n.Conv(x, 96, 576, 1)));
        n.B.Output(Linear(n, HardSwish(n, Linear(n, n.Op("Flatten", [x]), 576, 1024)), 1024, 1000));
        return ([1, 3, size, size], 1);
    }

    /// <summary>EfficientNet-B0 (Swish as Sigmoid·Mul, squeeze-excite with Sigmoid) or -lite0 (Relu6 as Clip, no SE)
    /// at size×size, their MBConv configuration → [1, 1000].</summary>
    public static (int[], int) EfficientNet(OnnxNet n, bool lite, int size)
    {
        Func<string, string> act = lite ? v => Relu6(n, v) : v => Swish(n, v);
        var x = act(n.Conv(n.Input("x", 1, 3, size, size), 3, 32, 3, 2));
        (int expand, int k, int s, int oc, int repeats)[] stages = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)];
        int c = 32;
        foreach (var (expand, k, s, oc, repeats) in stages)
            for (int r = 0; r < repeats; r++)
            {
                int stride = r == 0 ? s : 1, exp = c * expand;
                var h = expand != 1 ? act(n.Conv(x, c, exp, 1)) : x;
                h = act(n.Conv(h, exp, exp, k, stride, group: exp));
                if (!lite) h = SqueezeExcite(n, h, exp, Math.Max(1, c / 4), act, v => n.Op("Sigmoid", [v]));
                h = n.Conv(h, exp, oc, 1);
                x = stride == 1 && c == oc ? n.Op("Add", [x, h]) : h;
                c = oc;
            }
        x = act(n.Conv(x, 320, 1280, 1));
        n.B.Output(Linear(n, n.Op("Flatten", [Gap(n, x)]), 1280, 1000));
        return ([1, 3, size, size], 1);
    }

    /// <summary>ShuffleNetV2 1.0× at size×size (a multiple of 32): stem, MaxPool, stages of 116/232/464 channels (4, 8,
    /// 4 units): a stride-2 unit (two branches, Concat), stride-1 units (Split in halves), each followed by the channel
    /// shuffle Reshape → Transpose → Reshape; conv5, GlobalAveragePool → [1, 1000].</summary>
    public static (int[], int) ShuffleNetV2(OnnxNet n, int size)
    {
        var x = Relu(n, n.Conv(n.Input("x", 1, 3, size, size), 3, 24, 3, 2));
        x = n.MaxPool(x, 3, 2, 1);
        int hw = size / 4, c = 24;
        string Shuffle(string t, int ch) =>
            n.Op("Reshape", [n.Op("Transpose", [n.Op("Reshape", [t, n.I64(1, 2, ch / 2, hw, hw)])], OnnxBuilder.Ints("perm", 0, 2, 1, 3, 4)), n.I64(1, ch, hw, hw)]);
        string Branch(string t, int ic, int oc, int stride) =>
            Relu(n, n.Conv(n.Conv(Relu(n, n.Conv(t, ic, oc, 1)), oc, oc, 3, stride, group: oc), oc, oc, 1));
        foreach (var (oc, repeats) in new[] { (116, 4), (232, 8), (464, 4) })
        {
            int h = oc / 2;
            var left = Relu(n, n.Conv(n.Conv(x, c, c, 3, 2, group: c), c, h, 1));
            var right = Branch(x, c, h, 2);
            hw /= 2;
            x = Shuffle(Concat(n, left, right), oc);
            for (int r = 1; r < repeats; r++)
            {
                var halves = n.Split(x, 1, [h, h]);
                x = Shuffle(Concat(n, halves[0], Branch(halves[1], h, h, 1)), oc);
            }
            c = oc;
        }
        x = Relu(n, n.Conv(x, 464, 1024, 1));
        n.B.Output(Linear(n, n.Op("Flatten", [Gap(n, x)]), 1024, 1000));
        return ([1, 3, size, size], 1);
    }

    /// <summary>SqueezeNet at size×size (1.1's layout): a 3×3/2 stem, then stages of fire modules (squeeze 1×1,
    /// expand 1×1 and 3×3, Concat), each stage after a 3×3/2 MaxPool with ceil_mode, the conv classifier and
    /// GlobalAveragePool → Flatten → [1, classes]. The tests' small one (63×63, 10 classes) by default.</summary>
    public static (int[], int) SqueezeNet(OnnxNet n, int size = 63, int stem = 32, (int S, int E)[][]? stages = null, int classes = 10)
    {
        stages ??= [[(8, 32), (8, 32)], [(16, 48), (16, 48)]];
        string Pool(string t) => n.Op("MaxPool", [t], OnnxBuilder.Ints("kernel_shape", 3, 3), OnnxBuilder.Ints("strides", 2, 2), OnnxBuilder.Int("ceil_mode", 1));
        string Fire(string t, int ic, int s, int e)
        {
            var q = Relu(n, n.Conv(t, ic, s, 1));
            return Concat(n, Relu(n, n.Conv(q, s, e, 1)), Relu(n, n.Conv(q, s, e, 3)));
        }
        var x = Relu(n, n.Conv(n.Input("x", 1, 3, size, size), 3, stem, 3, 2, pad: 0));
        int c = stem;
        foreach (var stage in stages)
        {
            x = Pool(x);
            foreach (var (sq, e) in stage) { x = Fire(x, c, sq, e); c = 2 * e; }
        }
        x = Relu(n, n.Conv(x, c, classes, 1));
        n.B.Output(n.Op("Flatten", [Gap(n, x)]));
        return ([1, 3, size, size], 1);
    }

    /// <summary>SqueezeNet 1.1 (torchvision's configuration) at size×size → [1, 1000].</summary>
    public static (int[], int) SqueezeNet11(OnnxNet n, int size) =>
        SqueezeNet(n, size, 64, [[(16, 64), (16, 64)], [(32, 128), (32, 128)], [(48, 192), (48, 192), (64, 256), (64, 256)]], 1000);

    /// <summary>DenseNet: blocks of dense layers BN→ReLU→1×1→BN→ReLU→3×3 concatenated onto their input, a transition
    /// (BN→ReLU→1×1 halving the channels→AveragePool 2×2) between blocks, the final BN→ReLU→GlobalAveragePool →
    /// Gemm. ImageNet's stem (7×7/2, BN, ReLU, MaxPool 3×3/2) or a 3×3; the tests' small one (32×32, blocks 3 and 2 of
    /// growth 8, 10 classes) by default.</summary>
    public static (int[], int) DenseNet(OnnxNet n, int size = 32, int growth = 8, int stem = 16, int[]? blocks = null, bool imageNetStem = false, int classes = 10)
    {
        blocks ??= [3, 2];
        string BnRelu(string t, int c) => Relu(n, n.BatchNorm(t, c));
        string Dense(string t, int c) => Concat(n, t, n.Conv(BnRelu(n.Conv(BnRelu(t, c), c, 4 * growth, 1), 4 * growth), 4 * growth, growth, 3));
        var x = n.Input("x", 1, 3, size, size);
        x = imageNetStem ? n.MaxPool(BnRelu(n.Conv(x, 3, stem, 7, 2), stem), 3, 2, 1) : n.Conv(x, 3, stem, 3);
        int c = stem;
        for (int b = 0; b < blocks.Length; b++)
        {
            for (int i = 0; i < blocks[b]; i++, c += growth) x = Dense(x, c);
            if (b == blocks.Length - 1) break;
            x = n.Op("AveragePool", [n.Conv(BnRelu(x, c), c, c / 2, 1)], OnnxBuilder.Ints("kernel_shape", 2, 2), OnnxBuilder.Ints("strides", 2, 2));
            c /= 2;
        }
        n.B.Output(Classifier(n, Gap(n, BnRelu(x, c)), c, classes));
        return ([1, 3, size, size], 1);
    }

    /// <summary>ResNet-50's layout at size×size (BatchNorm folded, as exporters write it): 7×7/2 stem, MaxPool, stages
    /// of bottlenecks (1×1 → 3×3, stride on the 3×3 → 1×1 ×4, a 1×1 projection on a stage's first, Add, ReLU) of
    /// widths 64·2^i, GlobalAveragePool → Flatten → Gemm → [1, 1000]. ResNet-50 is blocks [3, 4, 6, 3].</summary>
    public static (int[], int) ResNetBottleneck(OnnxNet n, int size, int[] blocks, int classes = 1000)
    {
        var x = n.MaxPool(Relu(n, n.Conv(n.Input("x", 1, 3, size, size), 3, 64, 7, 2)), 3, 2, 1);
        int c = 64;
        for (int s = 0; s < blocks.Length; s++)
            for (int r = 0; r < blocks[s]; r++)
            {
                int w = 64 << s, oc = 4 * w, stride = r == 0 && s > 0 ? 2 : 1;
                var h = n.Conv(Relu(n, n.Conv(Relu(n, n.Conv(x, c, w, 1)), w, w, 3, stride)), w, oc, 1);
                var skip = r == 0 ? n.Conv(x, c, oc, 1, stride) : x;
                x = Relu(n, n.Op("Add", [h, skip]));
                c = oc;
            }
        n.B.Output(Classifier(n, Gap(n, x), c, classes));
        return ([1, 3, size, size], 1);
    }

    /// <summary>VGG at 32×32: 3×3 ReLU pairs and 2×2 MaxPools, then Flatten → Gemm, which reads NCHW order.</summary>
    public static (int[], int) Vgg(OnnxNet n)
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

    /// <summary>A U-Net at size×size of widths c, 2c, 4c: two encoder levels, a ConvTranspose 2×2/2 and a bilinear
    /// Resize ×2 up, skip Concats, a 1×1 head → [1, 2, size, size]. The tests' small one (32×32, c = 8) by default.</summary>
    public static (int[], int) UNet(OnnxNet n, int size = 32, int c = 8)
    {
        string Double(string t, int ic, int oc) => Relu(n, n.Conv(Relu(n, n.Conv(t, ic, oc, 3)), oc, oc, 3));
        var e1 = Double(n.Input("x", 1, 3, size, size), 3, c);
        var e2 = Double(n.MaxPool(e1, 2, 2, 0), c, 2 * c);              // size/2
        var b = Double(n.MaxPool(e2, 2, 2, 0), 2 * c, 4 * c);           // size/4
        var up2 = n.Op("ConvTranspose", [b, n.Const(n.He(4 * c * 2 * c * 4, 4 * c * 4), 4 * c, 2 * c, 2, 2), n.Const(OnnxBuilder.Random(new Random(9), 2 * c, -0.1f, 0.1f), 2 * c)],
            OnnxBuilder.Ints("kernel_shape", 2, 2), OnnxBuilder.Ints("strides", 2, 2));
        var d2 = Double(Concat(n, up2, e2), 4 * c, 2 * c);
        var up1 = n.Op("Resize", [d2, n.Const([], 0), n.Const([1, 1, 2, 2], 4)],
            OnnxBuilder.String("mode", "linear"), OnnxBuilder.String("coordinate_transformation_mode", "pytorch_half_pixel"));
        var d1 = Double(Concat(n, n.Conv(up1, 2 * c, c, 1), e1), 2 * c, c);
        n.B.Output(n.Conv(d1, c, 2, 1));
        return ([1, 3, size, size], 2);
    }

    /// <summary>A YOLOv5-style neck at 64×64: SiLU convs down to stride 16, SPPF (three 5×5 MaxPools concatenated), a
    /// nearest ×2 Resize and Concat top-down, a strided conv and Concat bottom-up, two 1×1 heads.</summary>
    public static (int[], int) YoloNeck(OnnxNet n)
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
