using EdgeNet.Converter.Onnx;
using Net = EdgeNet.Tests.OnnxNet;

namespace EdgeNet.Tests;

/// <summary>The detector graphs of <see cref="DetectorFamilyTests"/> (as their exporters write them, random weights):
/// the tests' small sizes by default; bench's compare times them at deployed sizes and widths.</summary>
internal static class DetectorFamilies
{
    /// <summary>YOLOv5 (v6+ layout) at size×size (a multiple of 32), 80 classes, 3 anchors per level: stem 6×6/2, C3
    /// blocks, SPPF, an FPN with nearest ×2 upsampling, and the exported Detect head → [1, 63·(size/32)², 85]; the three
    /// sigmoid maps as outputs too. Widths w: the tests' 128×128 has 16, 32, 64, 96, 128 (YOLOv5n 16, 32, 64, 128, 256).</summary>
    public static int[] YoloV5(Net n, bool sizes, int size = 128, int[]? w = null)
    {
        w ??= [16, 32, 64, 96, 128];
        var x = n.Input("images", 1, 3, size, size);
        x = n.ConvSiLU(x, 3, w[0], 6, 2, pad: 2);                    // size/2
        x = n.ConvSiLU(x, w[0], w[1], 3, 2);                         // size/4
        x = C3(n, x, w[1]);
        var p3 = n.ConvSiLU(x, w[1], w[2], 3, 2);                    // stride 8
        p3 = C3(n, p3, w[2]);
        var p4 = n.ConvSiLU(p3, w[2], w[3], 3, 2);                   // stride 16
        var p5 = n.ConvSiLU(p4, w[3], w[4], 3, 2);                   // stride 32
        // SPPF: three chained 5×5 max pools (stride 1, pad 2) concatenated with their input
        var s = n.ConvSiLU(p5, w[4], w[4] / 2, 1);
        var m1 = n.MaxPool(s, 5, 1, 2); var m2 = n.MaxPool(m1, 5, 1, 2); var m3 = n.MaxPool(m2, 5, 1, 2);
        p5 = n.ConvSiLU(n.Op("Concat", [s, m1, m2, m3], OnnxBuilder.Int("axis", 1)), 2 * w[4], w[4], 1);
        // FPN top-down
        var t5 = n.ConvSiLU(p5, w[4], w[3], 1);
        var u4 = n.Upsample2x(t5, sizes, size / 16);
        var n4 = C3(n, n.ConvSiLU(n.Op("Concat", [u4, p4], OnnxBuilder.Int("axis", 1)), 2 * w[3], w[3], 1), w[3]);
        var t4 = n.ConvSiLU(n4, w[3], w[2], 1);
        var u3 = n.Upsample2x(t4, sizes, size / 8);
        var n3 = C3(n, n.ConvSiLU(n.Op("Concat", [u3, p3], OnnxBuilder.Int("axis", 1)), 2 * w[2], w[2], 1), w[2]);
        // PAN bottom-up, one step
        var d4 = n.ConvSiLU(n.Op("Concat", [n.ConvSiLU(n3, w[2], w[2], 3, 2), t4], OnnxBuilder.Int("axis", 1)), 2 * w[2], w[3], 1);
        var levels = new[] { (n3, w[2], size / 8, 8f), (d4, w[3], size / 16, 16f), (p5, w[4], size / 32, 32f) };
        var outs = new List<string>(); var scores = new List<string>();
        float[][] anchors = [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]];
        for (int l = 0; l < 3; l++)
        {
            var (f, ch, g, stride) = levels[l];
            var y = n.Conv(f, ch, 255, 1);
            // y.view(bs, na, no, ny, nx) with bs, ny, nx read from the tensor's shape
            var shp = n.Op("Shape", [y]);
            string Dim(int i) => n.Op("Unsqueeze", n.Opset >= 13 ? [n.Op("Gather", [shp, n.Scalar(i)], OnnxBuilder.Int("axis", 0)), n.I64(0)] : [n.Op("Gather", [shp, n.Scalar(i)], OnnxBuilder.Int("axis", 0))],
                n.Opset >= 13 ? [] : [OnnxBuilder.Ints("axes", 0)]);
            var target = n.Op("Concat", [Dim(0), n.I64(3), n.I64(85), Dim(2), Dim(3)], OnnxBuilder.Int("axis", 0));
            y = n.Op("Transpose", [n.Op("Reshape", [y, target])], OnnxBuilder.Ints("perm", 0, 1, 3, 4, 2));
            y = n.Op("Sigmoid", [y]);
            scores.Add(y);
            var parts = n.Split(y, 4, [2, 2, 81]);
            var grid = new float[3 * g * g * 2]; var anchorGrid = new float[3 * g * g * 2];
            for (int a = 0; a < 3; a++) for (int i = 0; i < g; i++) for (int j = 0; j < g; j++)
            {
                int o = ((a * g + i) * g + j) * 2;
                grid[o] = j - 0.5f; grid[o + 1] = i - 0.5f;
                anchorGrid[o] = anchors[l][2 * a]; anchorGrid[o + 1] = anchors[l][2 * a + 1];
            }
            var xy = n.Op("Mul", [n.Op("Add", [n.Op("Mul", [parts[0], n.F(2)]), n.Const(grid, 1, 3, g, g, 2)]), n.F(stride)]);
            var wh = n.Op("Mul", [n.Op("Pow", [n.Op("Mul", [parts[1], n.F(2)]), n.F(2)]), n.Const(anchorGrid, 1, 3, g, g, 2)]);
            y = n.Op("Concat", [xy, wh, parts[2]], OnnxBuilder.Int("axis", 4));
            outs.Add(n.Op("Reshape", [y, n.Op("Concat", [Dim(0), n.I64(-1), n.I64(85)], OnnxBuilder.Int("axis", 0))]));
        }
        n.B.Output(n.Op("Concat", [.. outs], OnnxBuilder.Int("axis", 1)));
        // the sigmoid maps too: boxes in pixels (up to ~1500) set the first output's scale, not the scores in [0, 1]
        foreach (var map in scores) n.B.Output(map);
        return [1, 3, size, size];
    }

    /// <summary>C3: two 1×1 branches, a residual bottleneck on one, concatenated and mixed.</summary>
    static string C3(Net n, string x, int c)
    {
        int h = c / 2;
        var a = n.ConvSiLU(x, c, h, 1);
        var b = n.ConvSiLU(x, c, h, 1);
        a = n.Op("Add", [a, n.ConvSiLU(n.ConvSiLU(a, h, h, 1), h, h, 3)]);
        return n.ConvSiLU(n.Op("Concat", [a, b], OnnxBuilder.Int("axis", 1)), 2 * h, c, 1);
    }

    /// <summary>YOLOv8n-style at size×size (a multiple of 32), 80 classes: C2f (Split in two, bottlenecks, Concat),
    /// SPPF, decoupled box/class heads, the exported DFL and dist2bbox → [1, 84, 21·(size/32)²]; the class scores as an
    /// output too. Widths w: the tests' 128×128 has 16, 32, 64, 64, 128 (YOLOv8n 16, 32, 64, 128, 256).</summary>
    public static int[] YoloV8(Net n, int size = 128, int[]? w = null)
    {
        w ??= [16, 32, 64, 64, 128];
        var x = n.Input("images", 1, 3, size, size);
        x = n.ConvSiLU(x, 3, w[0], 3, 2);                        // size/2
        x = C2f(n, n.ConvSiLU(x, w[0], w[1], 3, 2), w[1]);       // size/4
        var p3 = C2f(n, n.ConvSiLU(x, w[1], w[2], 3, 2), w[2]);  // stride 8
        var p4 = C2f(n, n.ConvSiLU(p3, w[2], w[3], 3, 2), w[3]); // stride 16
        var p5 = n.ConvSiLU(p4, w[3], w[4], 3, 2);               // stride 32
        var s = n.ConvSiLU(p5, w[4], w[4] / 2, 1);
        var m1 = n.MaxPool(s, 5, 1, 2); var m2 = n.MaxPool(m1, 5, 1, 2); var m3 = n.MaxPool(m2, 5, 1, 2);
        p5 = n.ConvSiLU(n.Op("Concat", [s, m1, m2, m3], OnnxBuilder.Int("axis", 1)), 2 * w[4], w[4], 1);
        var u = n.Upsample2x(p5, sizes: false, size / 16);
        p4 = C2f(n, n.ConvSiLU(n.Op("Concat", [u, p4], OnnxBuilder.Int("axis", 1)), w[4] + w[3], w[3], 1), w[3]);
        var levels = new[] { (p3, size / 8), (p4, size / 16), (p5, size / 32) };
        int[] chans = [w[2], w[3], w[4]];
        var flat = new List<string>();
        for (int l = 0; l < 3; l++)
        {
            var (f, g) = levels[l];
            var box = n.Conv(n.ConvSiLU(n.ConvSiLU(f, chans[l], 64, 3), 64, 64, 3), 64, 64, 1);
            var cls = n.Conv(n.ConvSiLU(n.ConvSiLU(f, chans[l], 80, 3), 80, 80, 3), 80, 80, 1);
            var y = n.Op("Concat", [box, cls], OnnxBuilder.Int("axis", 1));
            var batch = n.Op("Unsqueeze", [n.Op("Gather", [n.Op("Shape", [y]), n.Scalar(0)], OnnxBuilder.Int("axis", 0)), n.I64(0)]);
            flat.Add(n.Op("Reshape", [y, n.Op("Concat", [batch, n.I64(144), n.I64(-1)], OnnxBuilder.Int("axis", 0))]));
        }
        var all = n.Op("Concat", [.. flat], OnnxBuilder.Int("axis", 2));   // [1, 144, 336]
        var split = n.Split(all, 1, [64, 80]);
        int A = levels.Sum(l => l.Item2 * l.Item2);
        // DFL: a softmax over 16 bins per side, its expectation by a fixed 1×1 convolution
        var d = n.Op("Transpose", [n.Op("Reshape", [split[0], n.I64(1, 4, 16, A)])], OnnxBuilder.Ints("perm", 0, 2, 1, 3));
        d = n.Op("Softmax", [d], OnnxBuilder.Int("axis", 1));
        d = n.Op("Reshape", [n.Op("Conv", [d, n.Const([.. Enumerable.Range(0, 16).Select(i => (float)i)], 1, 16, 1, 1)]), n.I64(1, 4, A)]);
        var anchors = new float[2 * A]; var strides = new float[A];
        int k = 0;
        foreach (var (g, stride) in new[] { (size / 8, 8f), (size / 16, 16f), (size / 32, 32f) })
            for (int i = 0; i < g; i++) for (int j = 0; j < g; j++, k++)
            {
                anchors[k] = j + 0.5f; anchors[A + k] = i + 0.5f; strides[k] = stride;
            }
        var lr = n.Split(d, 1, [2, 2]);
        var anc = n.Const(anchors, 1, 2, A);
        var x1y1 = n.Op("Sub", [anc, lr[0]]);
        var x2y2 = n.Op("Add", [anc, lr[1]]);
        var cxy = n.Op("Div", [n.Op("Add", [x1y1, x2y2]), n.F(2)]);
        var wh = n.Op("Sub", [x2y2, x1y1]);
        var dbox = n.Op("Mul", [n.Op("Concat", [cxy, wh], OnnxBuilder.Int("axis", 1)), n.Const(strides, 1, A)]);
        var classes = n.Op("Sigmoid", [split[1]]);
        n.B.Output(n.Op("Concat", [dbox, classes], OnnxBuilder.Int("axis", 1)));
        n.B.Output(classes);   // the class scores on their own scale (the boxes, in pixels, set the first output's)
        return [1, 3, size, size];
    }

    /// <summary>C2f: a 1×1 conv split in two halves, bottlenecks chained on the second, every piece concatenated.</summary>
    static string C2f(Net n, string x, int c)
    {
        int h = c / 2;
        var halves = n.Split(n.ConvSiLU(x, c, c, 1), 1, [h, h]);
        var b = n.Op("Add", [halves[1], n.ConvSiLU(n.ConvSiLU(halves[1], h, h, 3), h, h, 3)]);
        return n.ConvSiLU(n.Op("Concat", [halves[0], halves[1], b], OnnxBuilder.Int("axis", 1)), 3 * h, c, 1);
    }

    /// <summary>SSD-lite at size×size (a multiple of 32), 21 classes: feature maps at strides 16 and 32 (6 priors each)
    /// and 64 (4 priors); loc/conf heads flattened with Reshape(0, -1, k), concatenated, Softmax over classes, priors
    /// decoded (centre + offset × variance × size, size × exp(…)) → scores [1, A, 21], boxes [1, A, 4]. The tests'
    /// 160×160 (widths 16 to 96, ×m) has A = 786.</summary>
    public static int[] Ssd(Net n, int size = 160, int m = 1)
    {
        var x = n.Input("images", 1, 3, size, size);
        x = n.ConvRelu(x, 3, 16 * m, 3, 2);                  // size/2
        x = n.DwPw(x, 16 * m, 32 * m, 2);                    // size/4
        x = n.DwPw(x, 32 * m, 48 * m, 2);                    // size/8
        var f1 = n.DwPw(x, 48 * m, 64 * m, 2);               // size/16
        var f2 = n.DwPw(f1, 64 * m, 96 * m, 2);              // size/32
        var f3 = n.ConvRelu(f2, 96 * m, 64 * m, 3, 2, pad: 1);  // size/64, rounded up
        var locs = new List<string>(); var confs = new List<string>(); var priors = new List<float>();
        foreach (var (f, ch, g, na) in new[] { (f1, 64 * m, size / 16, 6), (f2, 96 * m, size / 32, 6), (f3, 64 * m, (size / 32 + 1) / 2, 4) })
        {
            locs.Add(Flatten(n, n.Conv(f, ch, na * 4, 3), 4));
            confs.Add(Flatten(n, n.Conv(f, ch, na * 21, 3), 21));
            for (int i = 0; i < g; i++) for (int j = 0; j < g; j++) for (int a = 0; a < na; a++)
                priors.AddRange([(j + 0.5f) / g, (i + 0.5f) / g, 0.1f + 0.15f * a, 0.2f + 0.1f * a]);
        }
        int A = priors.Count / 4;
        var loc = n.Op("Concat", [.. locs], OnnxBuilder.Int("axis", 1));
        var conf = n.Op("Concat", [.. confs], OnnxBuilder.Int("axis", 1));
        n.B.Output(n.Op("Softmax", [conf], OnnxBuilder.Int("axis", n.Opset >= 12 ? -1 : 2)));
        var pr = priors.ToArray();
        var pc = n.Const([.. Enumerable.Range(0, A).SelectMany(a => new[] { pr[4 * a], pr[4 * a + 1] })], 1, A, 2);
        var ps = n.Const([.. Enumerable.Range(0, A).SelectMany(a => new[] { pr[4 * a + 2], pr[4 * a + 3] })], 1, A, 2);
        var off = n.Op("Slice", [loc, n.I64(0), n.I64(2), n.I64(2)]);
        var scl = n.Op("Slice", [loc, n.I64(2), n.I64(4), n.I64(2)]);
        var centre = n.Op("Add", [pc, n.Op("Mul", [n.Op("Mul", [off, n.F(0.1f)]), ps])]);
        var extent = n.Op("Mul", [ps, n.Op("Exp", [n.Op("Mul", [scl, n.F(0.2f)])])]);
        n.B.Output(n.Op("Concat", [centre, extent], OnnxBuilder.Int("axis", 2)));
        return [1, 3, size, size];
    }

    /// <summary>[N, k·a, H, W] → [N, H·W·a, k], as SSD exporters write it: Transpose to NHWC, Reshape(0, -1, k).</summary>
    static string Flatten(Net n, string x, int k) =>
        n.Op("Reshape", [n.Op("Transpose", [x], OnnxBuilder.Ints("perm", 0, 2, 3, 1)), n.I64(0, -1, k)]);

    /// <summary>YuNet-style face detector at width×height (multiples of 32; the tests' 160×128; H and W symbolic in the file): depthwise+pointwise units, max
    /// pools, a top-down neck that upsamples by nearest Resize or by a stride-2 ConvTranspose, and per stride (8, 16,
    /// 32) cls/obj (Sigmoid), bbox and 5-point landmark heads flattened to [1, H·W, k] — twelve outputs.</summary>
    public static int[] YuNet(Net n, bool transposed, int height = 128, int width = 160)
    {
        var input = new ValueInfoProto { Name = "images", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() } } };
        foreach (var d in new[] { "1", "3", "height", "width" })
            input.Type.TensorType.Shape.Dim.Add(long.TryParse(d, out var v) ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = d });
        n.B.Graph.Input.Add(input);
        var x = n.ConvRelu("images", 3, 16, 3, 2);              // stride 2
        x = n.Unit(x, 16, 16);
        x = n.MaxPool(x, 2, 2, 0);                              // stride 4
        x = n.Unit(n.Unit(x, 16, 32), 32, 32);
        var s8 = n.Unit(n.MaxPool(x, 2, 2, 0), 32, 48);
        var s16 = n.Unit(n.MaxPool(s8, 2, 2, 0), 48, 64);
        var s32 = n.Unit(n.MaxPool(s16, 2, 2, 0), 64, 64);
        s32 = n.BatchNorm(s32, 64);
        // top-down ×2: stride 32 → 16 → 8
        string Up(string f, int ch, long h, long w)
        {
            if (!transposed) return n.Op("Resize", [f, n.Const([], 0), n.Const([], 0), n.I64(1, ch, h, w)], OnnxBuilder.String("mode", "nearest"));
            var t = n.Op("ConvTranspose", [f, n.Const(n.He(ch * ch * 4, ch * 4), ch, ch, 2, 2), n.Const(n.He(ch, 4), ch)], OnnxBuilder.Ints("strides", 2, 2));
            return n.Op("Relu", [t]);
        }
        s16 = n.Unit(n.Op("Add", [s16, Up(s32, 64, height / 16, width / 16)]), 64, 64);
        s8 = n.Unit(n.Op("Add", [s8, Up(n.Conv(s16, 64, 48, 1), 48, height / 8, width / 8)]), 48, 48);
        var heads = new List<string>();
        foreach (var (f, ch) in new[] { (s8, 48), (s16, 64), (s32, 64) })
        {
            var h = n.Unit(f, ch, ch);
            var cls = n.Op("Sigmoid", [Flatten(n, n.DwPwHead(h, ch, 1), 1)]);
            var obj = n.Op("Sigmoid", [Flatten(n, n.DwPwHead(h, ch, 1), 1)]);
            heads.AddRange([cls, obj, Flatten(n, n.DwPwHead(h, ch, 4), 4), Flatten(n, n.DwPwHead(h, ch, 10), 10)]);
        }
        foreach (var h in heads) n.B.Output(h);
        return [1, 3, height, width];
    }

    /// <summary>M-LSD-style line segment detector as tf2onnx writes it, at 128×128: an NHWC input with an alpha channel
    /// scaled in the graph (Mul, Sub) and transposed to NCHW, MobileNetV2 inverted residuals (Relu6 as Clip, explicit
    /// Pad before each stride-2 depthwise), an FPN decoder upsampling by Resize to sizes built from Shape→Slice→Concat,
    /// and the heads: offsets (Slice → Transpose to NHWC) and the centre-point peak map, sigmoid kept where it equals
    /// its 3×3 max (MaxPool, Equal, Cast, Mul). The real M-LSD models (npm jp.keijiro.mlsd, 320 tiny and large) convert;
    /// on pixel-range inputs their offsets are within 4.1e-5 of the largest value of ORT's, and their peak mask (an
    /// Equal of floats) differs from ORT's no more than ORT's own does with its graph optimizations off: where two
    /// neighbours tie within rounding, either engine may keep either one. Every Conv of theirs is within 1.7e-6 of a
    /// float64 convolution of its own input (ORT 1.5e-6): what remains is the network's amplification of rounding.</summary>
    public static int[] Mlsd(Net n)
    {
        var x = n.Input("images", 1, 128, 128, 4);
        x = n.Op("Sub", [n.Op("Mul", [x, n.F(1 / 127.5f)]), n.F(1)]);
        x = n.Op("Transpose", [x], OnnxBuilder.Ints("perm", 0, 3, 1, 2));
        string Relu6(string t) => n.Op("Clip", [t, n.F(0), n.F(6)]);
        string Block(string t, int ic, int oc, int stride)
        {
            var e = Relu6(n.Conv(t, ic, ic * 4, 1));
            if (stride == 2) e = n.Op("Pad", [e, n.I64(0, 0, 0, 0, 0, 0, 1, 1)]);
            var d = Relu6(n.Conv(e, ic * 4, ic * 4, 3, stride, group: ic * 4, pad: stride == 2 ? 0 : 1));
            var y = n.Conv(d, ic * 4, oc, 1);
            return stride == 1 && ic == oc ? n.Op("Add", [t, y]) : y;
        }
        x = Relu6(n.Conv(x, 4, 16, 3, 2));            // 64
        var c2 = Block(Block(x, 16, 16, 2), 16, 16, 1); // 32
        var c3 = Block(Block(c2, 16, 24, 2), 24, 24, 1); // 16
        var c4 = Block(c3, 24, 32, 2);                   // 8
        string Up(string t, long size)
        {
            var nc = n.Op("Slice", [n.Op("Shape", [t]), n.I64(0), n.I64(2)]);
            return n.Op("Resize", [t, n.Const([], 0), n.Const([], 0), n.Op("Concat", [nc, n.I64(size, size)], OnnxBuilder.Int("axis", 0))],
                OnnxBuilder.String("mode", "nearest"), OnnxBuilder.String("coordinate_transformation_mode", "asymmetric"), OnnxBuilder.String("nearest_mode", "floor"));
        }
        var d3 = n.ConvRelu(n.Op("Concat", [c3, Up(n.ConvRelu(c4, 32, 24, 1), 16)], OnnxBuilder.Int("axis", 1)), 48, 24, 3);
        var d2 = n.ConvRelu(n.Op("Concat", [c2, Up(d3, 32)], OnnxBuilder.Int("axis", 1)), 40, 16, 3);
        var head = Up(n.Conv(n.ConvRelu(d2, 16, 16, 3), 16, 16, 1), 64);
        var centre = n.Op("Sigmoid", [n.Op("Slice", [head, n.I64(15), n.I64(16), n.I64(1)])]);
        var peak = n.Op("MaxPool", [centre], OnnxBuilder.Ints("kernel_shape", 3, 3), OnnxBuilder.Ints("strides", 1, 1), OnnxBuilder.Ints("pads", 1, 1, 1, 1));
        var keep = n.Op("Cast", [n.Op("Equal", [centre, peak])], OnnxBuilder.Int("to", 1));
        n.B.Output(n.Op("Transpose", [n.Op("Mul", [centre, keep])], OnnxBuilder.Ints("perm", 0, 2, 3, 1)));
        n.B.Output(n.Op("Transpose", [n.Op("Slice", [head, n.I64(0), n.I64(4), n.I64(1)])], OnnxBuilder.Ints("perm", 0, 2, 3, 1)));
        return [1, 128, 128, 4];
    }
}
