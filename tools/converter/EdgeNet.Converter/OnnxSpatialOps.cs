using EdgeNet.Converter.Onnx;
using EdgeNet.Format;

namespace EdgeNet.Converter;

// Handlers of the spatial ops: ConvTranspose, Resize/Upsample, Pad, DepthToSpace/SpaceToDepth, GlobalMaxPool,
// InstanceNormalization/GroupNormalization, LRN; and 1-D windows (Conv, ConvTranspose, pools) lifted to 2-D.
public sealed partial class OnnxImporter
{
    static void RegisterSpatialHandlers(Dictionary<string, Handler> h)
    {
        h["ConvTranspose"] = (im, n) => im.ConvTranspose(n);
        h["Resize"] = (im, n) => im.Resize(n, upsample: false);
        h["Upsample"] = (im, n) => im.Resize(n, upsample: true);
        h["Pad"] = (im, n) => im.Pad(n);
        h["DepthToSpace"] = (im, n) => im.SpaceDepth(n, toSpace: true);
        h["SpaceToDepth"] = (im, n) => im.SpaceDepth(n, toSpace: false);
        h["GlobalMaxPool"] = (im, n) => im.Emit(OpType.GlobalMaxPool, n, [im.Tensor(n.Input[0])]);
        h["InstanceNormalization"] = (im, n) => im.GroupNorm(n, instance: true);
        h["GroupNormalization"] = (im, n) => im.GroupNorm(n, instance: false);
        h["LRN"] = (im, n) => im.Emit(OpType.Lrn, n, [im.Tensor(n.Input[0])], new Attributes().Set("size", im.AttrI(n, "size", 0))
            .Set("alpha", im.AttrF(n, "alpha", 1e-4f)).Set("beta", im.AttrF(n, "beta", 0.75f)).Set("bias", im.AttrF(n, "bias", 1f)));
        MinInputs["ConvTranspose"] = 2; MinInputs["InstanceNormalization"] = 3; MinInputs["GroupNormalization"] = 3;
    }

    /// <summary>A Reshape of <paramref name="input"/> for node <paramref name="n"/>; returns the new value's name.</summary>
    string Reshaped(NodeProto n, string input, int[] shape, string suffix)
    {
        var r = new NodeProto { Name = $"{NodeName(n)}_{suffix}", OpType = "Reshape" };
        r.Output.Add($"{input}#{NodeName(n)}_{suffix}");
        EmitReshape(r, Tensor(input), shape);
        return r.Output[0];
    }

    string Transposed(NodeProto n, string input, long[] perm, string suffix)
    {
        var t = new NodeProto { Name = $"{NodeName(n)}_{suffix}", OpType = "Transpose" };
        t.Output.Add($"{input}#{NodeName(n)}_{suffix}");
        Emit(OpType.Transpose, t, [Tensor(input)], new Attributes().Set("perm", perm));
        return t.Output[0];
    }

    /// <summary>
    /// 1-D windows over [N, C, L] (sensor and audio models) run as 2-D ones with H = 1: the input reshaped to
    /// [N, C, 1, L], a constant weight [A, B, K] to [A, B, 1, K], the window attributes given a leading 1 (pads and
    /// output_padding a leading 0), the result reshaped back. False for other ranks.
    /// </summary>
    bool Lift1D(NodeProto n, Action<NodeProto> handler)
    {
        var xs = ShapeOfValue(n.Input[0]);
        if (xs.Length != 3) return false;
        var m = n.Clone();
        m.Input[0] = Reshaped(n, n.Input[0], [xs[0], xs[1], 1, xs[2]], "to2d");
        if (Has(n, 1) && Get(n.Input[1]) is { Tensor: < 0, Floats: { } wf, Shape: { Length: 3 } ws })
        {
            m.Input[1] = $"{n.Input[1]}#{NodeName(n)}_2d";
            values[m.Input[1]] = new ImportValue { Shape = [ws[0], ws[1], 1, ws[2]], Floats = wf };
        }
        foreach (var a in m.Attribute)
            switch (a.Name)
            {
                case "kernel_shape" or "strides" or "dilations": a.Ints.Insert(0, 1); break;
                case "output_padding": a.Ints.Insert(0, 0); break;
                case "output_shape" when a.Ints.Count > 0: a.Ints.Insert(a.Ints.Count - 1, 1); break;
                case "pads" when a.Ints.Count == 2: long p0 = a.Ints[0], p1 = a.Ints[1]; a.Ints.Clear(); a.Ints.Add([0, p0, 0, p1]); break;
            }
        m.Output[0] = $"{n.Output[0]}#{NodeName(n)}_2d";
        handler(m);
        int y = Get(m.Output[0]).Tensor;
        var ys = model.Tensors[y].Shape;
        EmitReshape(n, y, [ys[0], ys[1], ys[3]]);
        return true;
    }

    /// <summary>ConvTranspose, 1-D or 2-D: auto_pad and output_shape become explicit (possibly negative) pads, as ONNX's
    /// reference resolves them (SAME_UPPER puts the smaller half first; without auto_pad the given start pads stay).</summary>
    void ConvTranspose(NodeProto n)
    {
        if (Lift1D(n, ConvTranspose) || ConvTransposeNd(n)) return;
        var xs = ShapeOfValue(n.Input[0]);
        var wv = Get(n.Input[1]);
        if (wv.Floats is null) throw Error("weights must be constant");
        if (xs.Length != 4 || wv.Shape.Length != 4) throw Error($"ConvTranspose needs 1 or more spatial axes (input {Format.Shape.Format(xs)})");
        var k = AttrInts(n, "kernel_shape", [wv.Shape[2], wv.Shape[3]]);
        if (k.Length != 2 || k[0] != wv.Shape[2] || k[1] != wv.Shape[3]) throw Error($"kernel_shape [{string.Join(",", k)}] differs from the weight's {Format.Shape.Format(wv.Shape)}");
        var strides = AttrInts(n, "strides", [1, 1]); var dil = AttrInts(n, "dilations", [1, 1]);
        var pads = AttrInts(n, "pads", [0, 0, 0, 0]); var outPad = AttrInts(n, "output_padding", [0, 0]);
        var outShape = AttrInts(n, "output_shape", []);
        if (strides.Length != 2 || dil.Length != 2 || pads.Length != 4 || outPad.Length != 2) throw Error("strides/dilations/pads/output_padding must have 2/2/4/2 values");
        if (outShape.Length is not (0 or 2 or 4)) throw Error($"output_shape has {outShape.Length} values");
        string autoPad = AttrS(n, "auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "SAME_UPPER" or "SAME_LOWER" or "VALID")) throw Error($"auto_pad '{autoPad}' is not supported");
        if (autoPad == "VALID") pads = [0, 0, 0, 0];
        for (int i = 0; i < 2; i++)
        {
            if (xs[2 + i] < 0) throw Error("spatial dimensions must be fixed");
            long target = outShape.Length > 0 ? outShape[outShape.Length - 2 + i] : autoPad is "SAME_UPPER" or "SAME_LOWER" ? (long)xs[2 + i] * strides[i] : -1;
            if (target < 0) continue;
            long natural = strides[i] * (xs[2 + i] - 1) + outPad[i] + (k[i] - 1) * dil[i] + 1, total = natural - target;
            long half = (long)Math.Floor(total / 2.0);
            long start = autoPad switch { "SAME_UPPER" => half, "SAME_LOWER" => total - half, _ => pads[i] };
            pads[i] = start; pads[i + 2] = total - start;
        }
        var attrs = new Attributes().Set("strides", strides).Set("dilations", dil).Set("pads", pads).Set("output_padding", outPad).Set("group", AttrI(n, "group", 1));
        var inputs = new List<int> { Tensor(n.Input[0]), Tensor(n.Input[1]) };
        if (Has(n, 2)) { if (Get(n.Input[2]).Floats is null) throw Error("bias must be constant"); inputs.Add(Tensor(n.Input[2])); }
        Emit(OpType.ConvTranspose, n, inputs.ToArray(), attrs);
    }

    /// <summary>
    /// Resize (opset 10: scales; 11 on: roi, scales, sizes; 18: axes, antialias, keep_aspect_ratio_policy) and
    /// Upsample (scales as an attribute, then an input). Before opset 11 coordinates are "asymmetric" and nearest
    /// takes the floor when upsampling (ONNX Runtime's "simple"). The kernel turns scales or sizes into the shape.
    /// </summary>
    void Resize(NodeProto n, bool upsample)
    {
        var xs = ShapeOfValue(n.Input[0]);
        int r = xs.Length;
        var attrs = new Attributes();
        string mode = AttrS(n, "mode", "nearest");
        if (mode == "bilinear") mode = "linear";
        float[]? scales = null; long[]? sizes = null; float[]? roi = null;
        if (upsample || opset < 11)
        {
            scales = upsample && opset < 9 ? (Attr(n, "scales")?.Floats.ToArray() ?? throw Error("scales is missing")) : ConstFloats(n.Input[1], "scales");
            attrs.Set("coordinate_transformation_mode", "asymmetric").Set("nearest_mode", "simple");
        }
        else
        {
            if (Has(n, 1)) roi = ConstFloats(n.Input[1], "roi");
            if (Has(n, 2) && ConstFloats(n.Input[2], "scales") is { Length: > 0 } s) scales = s;
            if (Has(n, 3) && StaticInts(n.Input[3], "sizes") is { Length: > 0 } z) sizes = z;
            attrs.Set("coordinate_transformation_mode", AttrS(n, "coordinate_transformation_mode", "half_pixel"))
                .Set("nearest_mode", AttrS(n, "nearest_mode", "round_prefer_floor"))
                .Set("cubic_coeff_a", AttrF(n, "cubic_coeff_a", -0.75f)).Set("exclude_outside", AttrI(n, "exclude_outside", 0))
                .Set("extrapolation_value", AttrF(n, "extrapolation_value", 0f)).Set("antialias", AttrI(n, "antialias", 0))
                .Set("keep_aspect_ratio_policy", AttrS(n, "keep_aspect_ratio_policy", "stretch"));
        }
        attrs.Set("mode", mode);
        if ((scales is null) == (sizes is null)) throw Error("exactly one of scales and sizes must be given");
        var axes = AttrInts(n, "axes", Enumerable.Range(0, r).Select(i => (long)i).ToArray()).Select(a => (long)Axis(a, r, "axis")).ToArray();
        if (axes.Distinct().Count() != axes.Length) throw Error("axes repeat an axis");
        int given = scales?.Length ?? sizes!.Length;
        if (given != axes.Length) throw Error($"{(scales is null ? "sizes" : "scales")} has {given} values for {axes.Length} axes");
        if (scales is not null)
        {
            var full = Enumerable.Repeat(1f, r).ToArray();
            for (int i = 0; i < axes.Length; i++) full[axes[i]] = scales[i];
            attrs.Set("scales", full);
        }
        else
        {
            var full = xs.Select(d => (long)d).ToArray();
            for (int i = 0; i < axes.Length; i++)
            {
                if (xs[axes[i]] < 0) throw Error("resizing the batch axis is not supported");
                full[axes[i]] = sizes![i];
            }
            attrs.Set("sizes", full).Set("axes", axes);
        }
        if (attrs.String("coordinate_transformation_mode", "") == "tf_crop_and_resize")
        {
            if (roi is null || roi.Length != 2 * axes.Length) throw Error($"tf_crop_and_resize needs a constant roi of {2 * axes.Length} values");
            var full = new float[2 * r];
            for (int d = 0; d < r; d++) full[r + d] = 1;
            for (int i = 0; i < axes.Length; i++) { full[axes[i]] = roi[i]; full[r + axes[i]] = roi[axes.Length + i]; }
            attrs.Set("roi", full);
        }
        Emit(OpType.Resize, n, [Tensor(n.Input[0])], attrs);
    }

    /// <summary>Pad: pads (and value) as attributes before opset 11, then inputs pads, constant_value, axes (18).</summary>
    void Pad(NodeProto n)
    {
        int r = ShapeOfValue(n.Input[0]).Length;
        long[] pads; float value = 0;
        if (opset < 11) { pads = AttrInts(n, opset < 2 ? "paddings" : "pads", []); value = AttrF(n, "value", 0f); }
        else
        {
            pads = StaticInts(n.Input[1], "pads");
            if (Has(n, 2) && ConstFloats(n.Input[2], "constant_value") is { Length: > 0 } cv) value = cv[0];
            if (Has(n, 3))
            {
                var axes = StaticInts(n.Input[3], "axes").Select(a => Axis(a, r, "axis")).ToArray();
                if (axes.Distinct().Count() != axes.Length) throw Error("axes repeat an axis");
                if (pads.Length != 2 * axes.Length) throw Error($"pads has {pads.Length} values for {axes.Length} axes");
                var full = new long[2 * r];
                for (int i = 0; i < axes.Length; i++) { full[axes[i]] = pads[i]; full[r + axes[i]] = pads[axes.Length + i]; }
                pads = full;
            }
        }
        if (pads.Length != 2 * r) throw Error($"pads has {pads.Length} values for rank {r}");
        Emit(OpType.Pad, n, [Tensor(n.Input[0])], new Attributes().Set("pads", pads).Set("mode", AttrS(n, "mode", "constant")).Set("value", value));
    }

    /// <summary>DepthToSpace (DCR, CRD) and SpaceToDepth: a Reshape to rank 6, a Transpose, a Reshape back.</summary>
    void SpaceDepth(NodeProto n, bool toSpace)
    {
        var xs = ShapeOfValue(n.Input[0]);
        if (xs.Length != 4) throw Error($"input must be NCHW, got {Format.Shape.Format(xs)}");
        long bsl = AttrI(n, "blocksize", 0);
        if (bsl < 1 || bsl > 1024) throw Error($"blocksize {bsl} is out of range");
        int bs = (int)bsl, N = xs[0], C = xs[1], H = xs[2], W = xs[3];
        if (C < 0 || H < 0 || W < 0) throw Error("channels and spatial dimensions must be fixed");
        int[] six, final; long[] perm;
        if (toSpace)
        {
            if (C % (bs * bs) != 0) throw Error($"{C} channels are not a multiple of blocksize² = {bs * bs}");
            string mode = AttrS(n, "mode", "DCR");
            int c = C / (bs * bs);
            if (mode == "DCR") { six = [N, bs, bs, c, H, W]; perm = [0, 3, 4, 1, 5, 2]; }
            else if (mode == "CRD") { six = [N, c, bs, bs, H, W]; perm = [0, 1, 4, 2, 5, 3]; }
            else throw Error($"mode '{mode}' is not supported");
            final = [N, c, H * bs, W * bs];
        }
        else
        {
            if (H % bs != 0 || W % bs != 0) throw Error($"{H}x{W} is not a multiple of blocksize {bs}");
            six = [N, C, H / bs, bs, W / bs, bs]; perm = [0, 3, 5, 1, 2, 4];
            final = [N, C * bs * bs, H / bs, W / bs];
        }
        var t = Transposed(n, Reshaped(n, n.Input[0], six, "blocks"), perm, "move");
        EmitReshape(n, Tensor(t), final);
    }

    /// <summary>InstanceNormalization (num_groups = C) and GroupNormalization, whose scale and bias are per group before
    /// opset 21 (spread over the group's channels here) and per channel from it.</summary>
    void GroupNorm(NodeProto n, bool instance)
    {
        var xs = ShapeOfValue(n.Input[0]);
        if (xs.Length < 2 || xs[1] < 0) throw Error($"input must be [N, C, ...] with fixed C, got {Format.Shape.Format(xs)}");
        int c = xs[1];
        long groups = instance ? c : AttrI(n, "num_groups", 0);
        if (groups < 1 || c % groups != 0) throw Error($"num_groups {groups} does not divide {c} channels");
        if (!instance && AttrI(n, "stash_type", 1) != 1) throw Error("stash_type other than 1 (float) is not supported");
        int PerChannel(int i, string role)
        {
            var v = ConstFloats(n.Input[i], role);
            if (v.Length == c) return Tensor(n.Input[i]);
            if (v.Length != groups) throw Error($"{role} has {v.Length} values for {c} channels in {groups} groups");
            return ConstTensor($"{n.Input[i]}_per_channel", Enumerable.Range(0, c).Select(ch => v[ch / (c / (int)groups)]).ToArray(), [c]);
        }
        Emit(OpType.GroupNormalization, n, [Tensor(n.Input[0]), PerChannel(1, "scale"), PerChannel(2, "bias")],
            new Attributes().Set("num_groups", groups).Set("epsilon", AttrF(n, "epsilon", 1e-5f)));
    }
}
