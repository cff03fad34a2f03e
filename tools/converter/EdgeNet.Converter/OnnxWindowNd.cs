using EdgeNet.Converter.Onnx;
using EdgeNet.Format;

namespace EdgeNet.Converter;

// Windows over 3 or more spatial axes (volumetric models): MaxPool and AveragePool run on the 2-D kernels one axis at
// a time; ConvTranspose gets its N-d kernel.
public sealed partial class OnnxImporter
{
    /// <summary>
    /// A pool over s ≥ 3 spatial axes is separable: its window is a box, so the maximum (exactly) and the average (the
    /// divisor is the product of the per-axis counts, with or without count_include_pad, with ceil_mode) are the pool over
    /// the first axis followed by the pool over the others. The first axis runs as a 2-D pool of
    /// [N, C, D0, D1·…·Ds-1] with window (k0, 1); its output [N, C, O0, D1·…] is reshaped to [N, C·O0, D1, …] and the
    /// rest pooled the same way until two axes are left for the 2-D pool; the result is reshaped to [N, C, O0, …, Os-1].
    /// auto_pad is resolved to explicit pads first. False below 3 spatial axes.
    /// </summary>
    bool LiftPoolNd(NodeProto n, OpType op)
    {
        var xs = ShapeOfValue(n.Input[0]);
        int s = xs.Length - 2;
        if (s < 3) return false;
        if (n.Output.Count > 1 && n.Output[1].Length > 0) throw Error($"the Indices output of a {s}-D MaxPool is not supported (only 2-D)");
        for (int d = 1; d < xs.Length; d++) if (xs[d] < 0) throw Error($"dimension {d} must be fixed for a {s}-D pool");
        var k = AttrInts(n, "kernel_shape", []);
        var strides = AttrInts(n, "strides", Enumerable.Repeat(1L, s).ToArray());
        var dil = AttrInts(n, "dilations", Enumerable.Repeat(1L, s).ToArray());
        var pads = AttrInts(n, "pads", new long[2 * s]);
        if (k.Length != s || strides.Length != s || dil.Length != s || pads.Length != 2 * s)
            throw Error($"kernel_shape/strides/dilations/pads must have {s}/{s}/{s}/{2 * s} values for a {s}-D pool");
        if (k.Any(v => v < 1) || strides.Any(v => v < 1) || dil.Any(v => v < 1)) throw Error("kernel_shape, strides and dilations must be positive");
        string autoPad = AttrS(n, "auto_pad", "NOTSET");
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
            for (int i = 0; i < s; i++)
            {
                long outSize = (xs[2 + i] + strides[i] - 1) / strides[i];
                long total = Math.Max(0, (outSize - 1) * strides[i] + (k[i] - 1) * dil[i] + 1 - xs[2 + i]);
                long small = total / 2, big = total - small;
                pads[i] = autoPad == "SAME_UPPER" ? small : big;
                pads[i + s] = autoPad == "SAME_UPPER" ? big : small;
            }
        else if (autoPad == "VALID") pads = new long[2 * s];
        else if (autoPad != "NOTSET") throw Error($"auto_pad '{autoPad}' is not supported");
        long ceil = AttrI(n, "ceil_mode", 0), includePad = AttrI(n, "count_include_pad", 0);

        string name = NodeName(n), cur = n.Input[0];
        int ch = xs[1];
        var outDims = new List<int>();
        for (int i = 0; i < s - 2; i++)   // one axis at a time, down to two
        {
            int rest = 1;
            for (int d = 3 + i; d < xs.Length; d++) rest *= xs[d];
            var step = Window2D(n, $"{name}_axis{i}", Reshaped(n, cur, [xs[0], ch, xs[2 + i], rest], $"axis{i}in"),
                [k[i], 1], [strides[i], 1], [dil[i], 1], [pads[i], 0, pads[i + s], 0], ceil, includePad);
            Pool(step, op);
            int o = model.Tensors[Get(step.Output[0]).Tensor].Shape[2];
            outDims.Add(o);
            ch *= o;
            cur = Reshaped(step, step.Output[0], [xs[0], ch, .. xs.AsSpan(3 + i)], $"axis{i}out");
        }
        var last = Window2D(n, $"{name}_last", cur, [k[s - 2], k[s - 1]], [strides[s - 2], strides[s - 1]], [dil[s - 2], dil[s - 1]],
            [pads[s - 2], pads[s - 1], pads[2 * s - 2], pads[2 * s - 1]], ceil, includePad);
        Pool(last, op);
        int y = Get(last.Output[0]).Tensor;
        var ys = model.Tensors[y].Shape;
        EmitReshape(n, y, [xs[0], xs[1], .. outDims, ys[2], ys[3]]);
        return true;
    }

    /// <summary>A 2-D pool node over <paramref name="input"/> with explicit window attributes.</summary>
    static NodeProto Window2D(NodeProto n, string name, string input, long[] k, long[] strides, long[] dil, long[] pads, long ceil, long includePad)
    {
        var m = new NodeProto { Name = name, OpType = n.OpType };
        m.Input.Add(input);
        m.Output.Add($"{n.Output[0]}#{name}");
        foreach (var (attr, v) in new[] { ("kernel_shape", k), ("strides", strides), ("dilations", dil), ("pads", pads) })
        {
            var a = new AttributeProto { Name = attr, Type = AttributeProto.Types.AttributeType.Ints };
            a.Ints.Add(v);
            m.Attribute.Add(a);
        }
        m.Attribute.Add(new AttributeProto { Name = "ceil_mode", Type = AttributeProto.Types.AttributeType.Int, I = ceil });
        m.Attribute.Add(new AttributeProto { Name = "count_include_pad", Type = AttributeProto.Types.AttributeType.Int, I = includePad });
        return m;
    }

    /// <summary>ConvTranspose over s ≥ 3 spatial axes (ConvTransposeNdKernel): auto_pad and output_shape resolved into
    /// explicit, possibly negative pads per axis as the 2-D handler does. False below 3 spatial axes.</summary>
    bool ConvTransposeNd(NodeProto n)
    {
        var xs = ShapeOfValue(n.Input[0]);
        int s = xs.Length - 2;
        if (s < 3) return false;
        var wv = Get(n.Input[1]);
        if (wv.Floats is null) throw Error("weights must be constant");
        if (wv.Shape.Length != s + 2) throw Error($"weight {Format.Shape.Format(wv.Shape)} does not match the {s}-D input {Format.Shape.Format(xs)}");
        var k = AttrInts(n, "kernel_shape", wv.Shape[2..].Select(v => (long)v).ToArray());
        if (!k.SequenceEqual(wv.Shape[2..].Select(v => (long)v))) throw Error($"kernel_shape [{string.Join(",", k)}] differs from the weight's {Format.Shape.Format(wv.Shape)}");
        var strides = AttrInts(n, "strides", Enumerable.Repeat(1L, s).ToArray()); var dil = AttrInts(n, "dilations", Enumerable.Repeat(1L, s).ToArray());
        var pads = AttrInts(n, "pads", new long[2 * s]); var outPad = AttrInts(n, "output_padding", new long[s]);
        var outShape = AttrInts(n, "output_shape", []);
        if (strides.Length != s || dil.Length != s || pads.Length != 2 * s || outPad.Length != s)
            throw Error($"strides/dilations/pads/output_padding must have {s}/{s}/{2 * s}/{s} values");
        if (outShape.Length != 0 && outShape.Length != s && outShape.Length != s + 2) throw Error($"output_shape has {outShape.Length} values");
        string autoPad = AttrS(n, "auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "SAME_UPPER" or "SAME_LOWER" or "VALID")) throw Error($"auto_pad '{autoPad}' is not supported");
        if (autoPad == "VALID") pads = new long[2 * s];
        for (int i = 0; i < s; i++)
        {
            if (xs[2 + i] < 0) throw Error("spatial dimensions must be fixed");
            long target = outShape.Length > 0 ? outShape[outShape.Length - s + i] : autoPad is "SAME_UPPER" or "SAME_LOWER" ? (long)xs[2 + i] * strides[i] : -1;
            if (target < 0) continue;
            long natural = strides[i] * (xs[2 + i] - 1) + outPad[i] + (k[i] - 1) * dil[i] + 1, total = natural - target;
            long half = (long)Math.Floor(total / 2.0);
            long start = autoPad switch { "SAME_UPPER" => half, "SAME_LOWER" => total - half, _ => pads[i] };
            pads[i] = start; pads[i + s] = total - start;
        }
        var attrs = new Attributes().Set("strides", strides).Set("dilations", dil).Set("pads", pads).Set("output_padding", outPad).Set("group", AttrI(n, "group", 1));
        var inputs = new List<int> { Tensor(n.Input[0]), Tensor(n.Input[1]) };
        if (Has(n, 2)) { if (Get(n.Input[2]).Floats is null) throw Error("bias must be constant"); inputs.Add(Tensor(n.Input[2])); }
        Emit(OpType.ConvTranspose, n, inputs.ToArray(), attrs);
        return true;
    }
}
