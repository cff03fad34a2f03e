using EdgeNet.Converter.Onnx;
using DT = EdgeNet.Converter.Onnx.TensorProto.Types.DataType;

namespace EdgeNet.Tests;

/// <summary>Graph building with random (He-scaled) weights; each op's output gets a fresh name.</summary>
internal sealed class OnnxNet(long opset)
{
    public readonly OnnxBuilder B = new(opset);
    public readonly long Opset = opset;
    readonly Random rng = new((int)opset * 31 + 7);
    int id;
    string Fresh(string p) => $"{p}_{id++}";

    public string Input(string name, params long[] dims) { B.Input(name, dims); return name; }

    public string Op(string op, string[] inputs, params AttributeProto[] attrs) => Op(op, inputs, 1, attrs)[0];
    public string[] Op(string op, string[] inputs, int outputs, params AttributeProto[] attrs)
    {
        var names = Enumerable.Range(0, outputs).Select(_ => Fresh(op.ToLowerInvariant())).ToArray();
        B.Node(op, inputs, names, attrs);
        return names;
    }

    public float[] He(int count, int fanIn) => OnnxBuilder.Random(rng, count, -1, 1).Select(v => v * MathF.Sqrt(6f / fanIn)).ToArray();
    public string Const(float[] data, params long[] dims) => B.Floats(Fresh("w"), data, dims);
    public string F(float v) => B.Floats(Fresh("k"), [v]);
    public string I64(params long[] v) => B.Ints(Fresh("i"), DT.Int64, v, v.Length);
    public string Scalar(long v) => B.Ints(Fresh("s"), DT.Int64, [v]);

    public string Conv(string x, int ic, int oc, int k, int stride = 1, int group = 1, int pad = -1)
    {
        int p = pad < 0 ? k / 2 : pad;
        var w = Const(He(oc * ic / group * k * k, ic / group * k * k), oc, ic / group, k, k);
        var b = Const(OnnxBuilder.Random(rng, oc, -0.1f, 0.1f), oc);
        return Op("Conv", [x, w, b], OnnxBuilder.Ints("kernel_shape", k, k), OnnxBuilder.Ints("strides", stride, stride),
            OnnxBuilder.Ints("pads", p, p, p, p), OnnxBuilder.Int("group", group));
    }
    public string ConvSiLU(string x, int ic, int oc, int k, int stride = 1, int pad = -1)
    {
        var y = Conv(x, ic, oc, k, stride, pad: pad);
        return Op("Mul", [y, Op("Sigmoid", [y])]);
    }
    public string ConvRelu(string x, int ic, int oc, int k, int stride = 1, int pad = -1) => Op("Relu", [Conv(x, ic, oc, k, stride, pad: pad)]);
    /// <summary>MobileNet's depthwise 3×3 (stride s) then pointwise 1×1, each with ReLU.</summary>
    public string DwPw(string x, int ic, int oc, int stride) => ConvRelu(Op("Relu", [Conv(x, ic, ic, 3, stride, group: ic)]), ic, oc, 1);
    /// <summary>YuNet's ConvDPUnit: pointwise 1×1 then depthwise 3×3, ReLU after.</summary>
    public string Unit(string x, int ic, int oc) => Op("Relu", [Conv(Conv(x, ic, oc, 1), oc, oc, 3, group: oc)]);
    public string DwPwHead(string x, int ic, int oc) => Conv(Conv(x, ic, oc, 1), oc, oc, 3, group: oc);
    public string MaxPool(string x, int k, int s, int p) =>
        Op("MaxPool", [x], OnnxBuilder.Ints("kernel_shape", k, k), OnnxBuilder.Ints("strides", s, s), OnnxBuilder.Ints("pads", p, p, p, p));
    public string BatchNorm(string x, int c) => Op("BatchNormalization",
        [x, Const(OnnxBuilder.Random(rng, c, 0.5f, 1.5f), c), Const(OnnxBuilder.Random(rng, c, -0.2f, 0.2f), c), Const(OnnxBuilder.Random(rng, c, -0.2f, 0.2f), c), Const(OnnxBuilder.Random(rng, c, 0.5f, 2f), c)],
        new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = 1e-3f });

    /// <summary>Split along an axis: sizes as an attribute before opset 13, as an input from 13.</summary>
    public string[] Split(string x, int axis, long[] sizes) => Opset >= 13
        ? Op("Split", [x, I64(sizes)], sizes.Length, OnnxBuilder.Int("axis", axis))
        : Op("Split", [x], sizes.Length, OnnxBuilder.Int("axis", axis), OnnxBuilder.Ints("split", sizes));

    /// <summary>Nearest ×2 as torch exports it: by scales (opset 11: roi and scales inputs), or by sizes built from
    /// the tensor's own shape (Shape → Slice [0:2] → Concat with the new H, W).</summary>
    public string Upsample2x(string x, bool sizes, long to)
    {
        var mode = new[] { OnnxBuilder.String("mode", "nearest"), OnnxBuilder.String("coordinate_transformation_mode", "asymmetric"), OnnxBuilder.String("nearest_mode", "floor") };
        if (!sizes) return Op("Resize", [x, Const([], 0), Const([1, 1, 2, 2], 4)], mode);
        var nc = Op("Slice", [Op("Shape", [x]), I64(0), I64(2), I64(0)]);
        return Op("Resize", [x, Const([], 0), Const([], 0), Op("Concat", [nc, I64(to, to)], OnnxBuilder.Int("axis", 0))], mode);
    }
}
