using System.Runtime.InteropServices;
using EdgeNet.Converter.Onnx;
using EdgeNet.Format;

namespace EdgeNet.Converter;

// Import of models ONNX Runtime quantized: QDQ (QuantizeLinear/DequantizeLinear around float ops) and QOperator
// (QLinearConv, QGemm, QLinearAdd, ...). uint8 activations become int8 with zero point − 128: the same real values.
public sealed partial class OnnxImporter
{
    internal static readonly string[] MicrosoftQuantOps = ["QGemm", "QLinearAdd", "QLinearGlobalAveragePool", "QLinearAveragePool", "QLinearLeakyRelu", "QLinearSigmoid", "QLinearMul"];

    static void RegisterQuantHandlers(Dictionary<string, Handler> h)
    {
        h["QuantizeLinear"] = (im, n) => im.QuantizeLinear(n);
        h["DequantizeLinear"] = (im, n) => im.DequantizeLinear(n);
        h["QLinearConv"] = (im, n) => im.QLinearConv(n);
        h["QLinearMatMul"] = (im, n) => im.QLinearDense(n, a: 0, b: 3, bias: -1, y: 6, transB: false);
        h["QGemm"] = (im, n) => im.QLinearDense(n, a: 0, b: 3, bias: 6, y: 7, transB: im.AttrI(n, "transB", 0) != 0);
        h["QLinearAdd"] = (im, n) => im.QLinearElementwise(n, OpType.Add, outIndex: 6);
        h["QLinearGlobalAveragePool"] = (im, n) => im.QLinearUnary(n, OpType.GlobalAveragePool);
        h["QLinearAveragePool"] = (im, n) => im.QLinearUnary(n, OpType.AveragePool);
        h["QLinearLeakyRelu"] = (im, n) => im.QLinearUnary(n, OpType.LeakyRelu);
        h["QLinearSigmoid"] = (im, n) => im.QLinearUnary(n, OpType.Sigmoid);
        foreach (var op in ValuePreservingOps)
            if (h.TryGetValue(op, out var fp32)) h[op] = (im, n) => { if (!im.TryKeepQuantized(n, fp32)) fp32(im, n); };
    }

    /// <summary>Ops that move or pick values without changing them. In QOperator models they read a quantized tensor and
    /// write one with the same scale and zero point (ONNX Runtime's quantizer gives them no parameters of their own).</summary>
    static readonly string[] ValuePreservingOps = ["MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Gather", "Concat", "Resize"];

    /// <summary>Ops with an int8 kernel that can run such a node on the quantized tensor itself.</summary>
    static readonly OpType[] Int8PassThrough = [OpType.MaxPool, OpType.Reshape, OpType.Concat];

    /// <summary>
    /// QOperator: a value-preserving op on int8 tensors. Its fp32 handler runs between a Dequantize and a Quantize with the
    /// input's parameters — exact, since the op only moves values — and where an int8 kernel exists the pair is dropped.
    /// </summary>
    bool TryKeepQuantized(NodeProto n, Handler fp32)
    {
        var names = n.Input.Take(n.OpType == "Concat" ? n.Input.Count : 1).ToArray();
        var raw = names.Select(name => Get(name) is { Tensor: >= 0 } v && model.Tensors[v.Tensor].Type == DataType.Int8 ? v.Tensor : -1).ToArray();
        if (raw.All(t => t < 0)) return false;
        if (raw.Any(t => t < 0)) throw Error("mixes quantized and float inputs");
        var q = model.Tensors[raw[0]].Quant!;
        if (raw.Any(t => model.Tensors[t].Quant is not { } p || p.Scale[0] != q.Scale[0] || p.ZeroPoint[0] != q.ZeroPoint[0]))
            throw Error("joins int8 tensors quantized with different scales or zero points (QLinearConcat requantizes; plain Concat cannot)");
        if (n.OpType == "Resize" && AttrS(n, "mode", "nearest") != "nearest") throw Error("a quantized Resize must be nearest (linear and cubic make new values)");

        var saved = names.Select(name => values[name]).ToArray();
        var dequantized = new int[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            dequantized[i] = model.AddTensor(new TensorDesc(UniqueName(names[i] + "_dequantized"), DataType.Float32, model.Tensors[raw[i]].Shape));
            model.Nodes.Add(new Node(OpType.Dequantize, $"{NodeName(n)}_Dequantize{i}", [raw[i]], [dequantized[i]]));
            values[names[i]] = new ImportValue { Shape = model.Tensors[raw[i]].Shape, Tensor = dequantized[i] };
        }
        int first = model.Nodes.Count;
        try { fp32(this, n); }
        finally { for (int i = names.Length - 1; i >= 0; i--) values[names[i]] = saved[i]; }

        var outputs = n.Output.Where(o => o.Length > 0 && values.TryGetValue(o, out var v) && v.Tensor >= 0).ToArray();
        if (model.Nodes.Count == first + 1 && outputs.Length == 1 && Int8PassThrough.Contains(model.Nodes[first].Op))
        {
            // The op reads the int8 tensors and writes int8 with their parameters; the Dequantize nodes go.
            var node = model.Nodes[first];
            int y = values[outputs[0]].Tensor;
            model.Tensors[y] = new TensorDesc(model.Tensors[y].Name, DataType.Int8, model.Tensors[y].Shape) { Quant = q };
            var inputs = node.Inputs.Select(t => Array.IndexOf(dequantized, t) is var k && k >= 0 ? raw[k] : t).ToArray();
            model.Nodes.RemoveRange(first - names.Length, names.Length);
            model.Nodes[^1] = new Node(node.Op, node.Name, inputs, node.Outputs, node.Attributes, node.Version);
            Engine.ShapeInference.InferOutputs(model, model.Nodes[^1]);
            values[outputs[0]] = new ImportValue { Shape = model.Tensors[y].Shape, Tensor = y };
            return true;
        }
        foreach (var o in outputs)
        {
            int x = values[o].Tensor;
            int y = NewInt8(o + "_int8", model.Tensors[x].Shape, q.Scale[0], q.ZeroPoint[0]);
            model.Nodes.Add(new Node(OpType.Quantize, $"{NodeName(n)}_Quantize", [x], [y]));
            Engine.ShapeInference.InferOutputs(model, model.Nodes[^1]);
            values[o] = new ImportValue { Shape = model.Tensors[y].Shape, Tensor = y };
        }
        return true;
    }

    /// <summary>(scale, int8 zero point) from a scale input and an optional zero-point input (uint8 by default).</summary>
    (float scale, int zp) Params(NodeProto n, int scaleIndex, int zpIndex)
    {
        var s = ConstFloats(n.Input[scaleIndex], "scale");
        if (s.Length != 1) throw Error("per-channel activation quantization is not supported");
        if (!(s[0] > 0) || !float.IsFinite(s[0])) throw Error($"scale {s[0]} is not a positive finite number");
        bool unsigned = true; long zp = 0;
        if (Has(n, zpIndex))
        {
            var init = file.Proto.Graph.Initializer.FirstOrDefault(t => t.Name == n.Input[zpIndex]);
            unsigned = init is null || (TensorProto.Types.DataType)init.DataType == TensorProto.Types.DataType.Uint8;
            zp = First(StaticInts(n.Input[zpIndex], "zero point"), "zero point");
        }
        return (s[0], (int)(unsigned ? zp - 128 : zp));
    }

    int NewInt8(string name, int[] shape, float scale, int zp) =>
        model.AddTensor(new TensorDesc(UniqueName(name), DataType.Int8, shape) { Quant = new QuantParams([scale], [zp], 0) });

    int Int8Input(NodeProto n, int index, float scale, int zp)
    {
        var v = Get(n.Input[index]);
        int t = v.QTensor >= 0 ? v.QTensor : v.Tensor;
        if (t < 0 || model.Tensors[t].Type != DataType.Int8) throw Error($"'{n.Input[index]}' is not a quantized tensor");
        var q = model.Tensors[t].Quant!;
        if (Math.Abs(q.Scale[0] - scale) > 1e-6f * scale || q.ZeroPoint[0] != zp)
            throw Error($"'{n.Input[index]}' is quantized with scale {q.Scale[0]}, zero point {q.ZeroPoint[0]}; this node reads it with {scale}, {zp}");
        return t;
    }

    void QuantizeLinear(NodeProto n)
    {
        var (scale, zp) = Params(n, 1, 2);
        var v = Get(n.Input[0]);
        if (v.QTensor >= 0 && v.Tensor < 0)
        {
            // Q(DQ(q)) with the same parameters is q itself (QDQ models put Flatten/Reshape between such pairs).
            var q = model.Tensors[v.QTensor].Quant!;
            if (Math.Abs(q.Scale[0] - scale) <= 1e-6f * scale && q.ZeroPoint[0] == zp) { values[n.Output[0]] = new ImportValue { Shape = v.Shape, Tensor = v.QTensor }; return; }
        }
        int x = Tensor(n.Input[0]);
        int y = NewInt8(n.Output[0], model.Tensors[x].Shape, scale, zp);
        model.Nodes.Add(new Node(OpType.Quantize, NodeName(n), [x], [y]));
        Engine.ShapeInference.InferOutputs(model, model.Nodes[^1]);
        values[n.Output[0]] = new ImportValue { Shape = model.Tensors[y].Shape, Tensor = y };
    }

    string NodeName(NodeProto n) => n.Name.Length > 0 ? n.Name : $"{n.OpType}_{model.Nodes.Count}";

    void DequantizeLinear(NodeProto n)
    {
        var v = Get(n.Input[0]);
        var init = file.Proto.Graph.Initializer.FirstOrDefault(t => t.Name == n.Input[0]);
        if (init is not null || v.IsConstant)
        {
            var dtype = init is null ? TensorProto.Types.DataType.Int8 : (TensorProto.Types.DataType)init.DataType;
            var data = (v.Ints ?? throw Error("DequantizeLinear of a constant needs integer data")).Select(s => s.Coef).ToArray();
            var scales = ConstFloats(n.Input[1], "scale");
            long[] zps = Has(n, 2) ? StaticInts(n.Input[2], "zero point") : new long[scales.Length];
            if (scales.Length == 0 || (zps.Length != 1 && zps.Length != scales.Length)) throw Error($"{scales.Length} scales and {zps.Length} zero points");
            int axis = (int)AttrI(n, "axis", 1);
            if (axis < 0) axis += v.Shape.Length;
            if (axis < 0 || (scales.Length != 1 && (axis >= v.Shape.Length || v.Shape[axis] != scales.Length))) throw Error($"{scales.Length} scales do not match axis {axis} of {Format.Shape.Format(v.Shape)}");
            int per = scales.Length == 1 ? data.Length : data.Length / scales.Length, inner = 1;
            for (int d = axis + 1; d < v.Shape.Length; d++) inner *= v.Shape[d];
            var floats = new float[data.Length];
            for (int i = 0; i < data.Length; i++)
            {
                int c = scales.Length == 1 ? 0 : i / inner % scales.Length;
                floats[i] = (data[i] - zps[zps.Length == 1 ? 0 : c]) * scales[c];
            }
            bool unsigned = dtype == TensorProto.Types.DataType.Uint8;
            values[n.Output[0]] = new ImportValue
            {
                Shape = v.Shape, Floats = floats,
                QConst = new QuantConstant(data, scales, zps.Select(z => (int)z).ToArray(), scales.Length == 1 ? 0 : axis, unsigned, dtype == TensorProto.Types.DataType.Int32),
            };
            return;
        }
        int t = v.Tensor;
        if (t < 0 || model.Tensors[t].Type != DataType.Int8) throw Error($"'{n.Input[0]}' is not a quantized tensor");
        values[n.Output[0]] = new ImportValue { Shape = model.Tensors[t].Shape, QTensor = t };
    }

    /// <summary>The fp32 value of a dequantized int8 tensor, made on first use by a node that needs fp32.</summary>
    int DequantizeOnDemand(string name, ImportValue v)
    {
        int y = model.AddTensor(new TensorDesc(UniqueName(name), DataType.Float32, model.Tensors[v.QTensor].Shape));
        model.Nodes.Add(new Node(OpType.Dequantize, $"{name}_Dequantize", [v.QTensor], [y]));
        Engine.ShapeInference.InferOutputs(model, model.Nodes[^1]);
        v.Tensor = y;
        return y;
    }

    /// <summary>Symmetric int8 weights [rows, cols] (transposed if asked) with per-row scales, or null if not symmetric int8.</summary>
    int? Int8Weights(string name, ImportValue w, bool transpose, int rows, int cols, string tensorName, int[]? shape = null)
    {
        if (w.QConst is not { } q || q.Int32) return null;
        var data = q.Data; var zps = q.ZeroPoints;
        if (data.Length != (long)rows * cols) throw Error($"weights hold {data.Length} values, not {rows}x{cols}");
        if (zps.Length == 0 || q.Scales.Length == 0) throw Error("weights have no scale or zero point");
        if (q.Unsigned) { if (zps.Any(z => z != 128)) return null; data = data.Select(d => d - 128).ToArray(); }
        else if (zps.Any(z => z != 0)) return null;
        var bytes = new byte[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                bytes[r * cols + c] = (byte)(sbyte)(transpose ? data[c * rows + r] : data[r * cols + c]);
        var scales = q.Scales.Length == 1 ? [q.Scales[0]] : q.Scales;
        if (scales.Length != 1 && scales.Length != rows) return null;
        return model.AddTensor(new TensorDesc(UniqueName(tensorName), DataType.Int8, shape ?? [rows, cols])
        { Data = bytes, Quant = new QuantParams(scales, new int[scales.Length], 0) });
    }

    /// <summary>An int32 bias at scale s_x·s_w[oc]: the file's own (checked) or a float bias rounded to it.</summary>
    int Int32Bias(string? name, float sx, float[] sw, int channels)
    {
        var b = new int[channels];
        if (sw.Length != 1 && sw.Length != channels) throw Error($"{sw.Length} weight scales for {channels} channels");
        if (name is not null)
        {
            var v = Get(name);
            int count = v.QConst?.Data.Length ?? v.Ints?.Length ?? v.Floats?.Length ?? 0;
            if (count != 1 && count != channels) throw Error($"bias '{name}' has {count} values for {channels} channels");
            if (v.QConst is { } qc && (qc.Scales.Length != 1 && qc.Scales.Length != channels || qc.ZeroPoints.Length == 0)) throw Error($"bias '{name}' has malformed quantization parameters");
            if (v.QConst is null && v.Ints is { } raw)   // QOperator: int32 already at s_x·s_w
                for (int i = 0; i < channels; i++) b[i] = checked((int)raw[raw.Length == 1 ? 0 : i].Coef);
            else if (v.QConst is { Int32: true } q)
                for (int i = 0; i < channels; i++)
                {
                    float expect = sx * sw[sw.Length == 1 ? 0 : i], have = q.Scales[q.Scales.Length == 1 ? 0 : i];
                    long d = q.Data[q.Data.Length == 1 ? 0 : i];   // one value is every channel's
                    b[i] = Math.Abs(expect - have) <= 1e-3f * expect ? (int)d : (int)Math.Round((d - q.ZeroPoints[0]) * have / expect);
                }
            else
            {
                var f = v.Floats ?? throw Error($"bias '{name}' must be constant");
                for (int i = 0; i < channels; i++) b[i] = (int)Math.Round(f[f.Length == 1 ? 0 : i] / (sx * sw[sw.Length == 1 ? 0 : i]));
            }
        }
        return model.AddTensor(new TensorDesc(UniqueName((name ?? "bias") + "_int32"), DataType.Int32, [channels])
        { Data = MemoryMarshal.AsBytes(b.AsSpan()).ToArray(), Quant = new QuantParams([sx * (sw.Length == 1 ? sw[0] : 1)], [0], 0) });
    }

    static float[] Scales(Model m, int t) => m.Tensors[t].Quant!.Scale;

    /// <summary>QDQ: a Gemm/MatMul/Conv whose input is DQ(int8) and whose weights are DQ(symmetric int8) runs in int8,
    /// its output fp32 until the following QuantizeLinear is fused in (GraphRewrites).</summary>
    bool TryQdqDense(NodeProto n, string wName, bool transB, float alpha)
    {
        var x = Get(n.Input[0]); var w = Get(wName);
        if (x.QTensor < 0 || w.QConst is null || alpha != 1f || w.Shape.Length != 2) return false;
        int oc = transB ? w.Shape[0] : w.Shape[1], ic = transB ? w.Shape[1] : w.Shape[0];
        if (Int8Weights(wName, w, !transB, oc, ic, wName + "_int8") is not int wt) return false;
        float sx = model.Tensors[x.QTensor].Quant!.Scale[0];
        int bias = Int32Bias(n.OpType == "Gemm" && Has(n, 2) ? n.Input[2] : null, sx, Scales(model, wt), oc);
        Emit(OpType.Dense, n, [x.QTensor, wt, bias]);
        return true;
    }

    bool TryQdqConv(NodeProto n)
    {
        var x = Get(n.Input[0]); var w = Get(n.Input[1]);
        if (x.QTensor < 0 || w.QConst is null || w.Shape.Length != 4) return false;
        int oc = w.Shape[0], per = w.Shape[1] * w.Shape[2] * w.Shape[3];
        if (Int8Weights(n.Input[1], w, false, oc, per, n.Input[1] + "_int8", w.Shape) is not int wt) return false;
        float sx = model.Tensors[x.QTensor].Quant!.Scale[0];
        int bias = Int32Bias(Has(n, 2) ? n.Input[2] : null, sx, Scales(model, wt), oc);
        var attrs = WindowAttrs(n, model.Tensors[x.QTensor].Shape, [w.Shape[2], w.Shape[3]]);
        attrs.Set("group", AttrI(n, "group", 1));
        Emit(OpType.Conv, n, [x.QTensor, wt, bias], attrs);
        return true;
    }

    bool TryQdqElementwise(NodeProto n, OpType op)
    {
        var inputs = n.Input.Take(op == OpType.Add ? 2 : 1).Select(Get).ToArray();
        if (inputs.Any(v => v.QTensor < 0)) return false;
        if (op == OpType.GlobalAveragePool && model.Tensors[inputs[0].QTensor].Shape.Length != 4) return false;
        Emit(op, n, inputs.Select(v => v.QTensor).ToArray());
        return true;
    }

    /// <summary>QDQ: Flatten/Reshape/Squeeze of DQ(int8) reshapes the int8 tensor and stays quantized.</summary>
    bool TryQdqReshape(NodeProto n, Func<int[], int[]> shapeOf)
    {
        var v = Get(n.Input[0]);
        bool dequantized = v.QTensor >= 0 && v.Tensor < 0;                                     // QDQ: DQ(int8)
        bool raw = v.Tensor >= 0 && model.Tensors[v.Tensor].Type == DataType.Int8;            // QOperator: int8 itself
        if (!dequantized && !raw) return false;
        int from = dequantized ? v.QTensor : v.Tensor;
        var src = model.Tensors[from];
        var shape = shapeOf(src.Shape);
        int y = model.AddTensor(new TensorDesc(UniqueName(n.Output[0] + "_int8"), DataType.Int8, shape) { Quant = src.Quant });
        model.Nodes.Add(new Node(OpType.Reshape, NodeName(n), [from], [y]));
        Engine.ShapeInference.InferOutputs(model, model.Nodes[^1]);
        values[n.Output[0]] = dequantized ? new ImportValue { Shape = shape, QTensor = y } : new ImportValue { Shape = shape, Tensor = y };
        return true;
    }

    void QLinearConv(NodeProto n)
    {
        var (sx, zx) = Params(n, 1, 2); var (sy, zy) = Params(n, 6, 7);
        int x = Int8Input(n, 0, sx, zx);
        var wv = Get(n.Input[3]);
        var wInit = file.Proto.Graph.Initializer.FirstOrDefault(t => t.Name == n.Input[3]) ?? throw Error("weights must be an initializer");
        var wScales = ConstFloats(n.Input[4], "w_scale");
        var wZp = Has(n, 5) ? StaticInts(n.Input[5], "w_zero_point") : [0];
        bool unsigned = (TensorProto.Types.DataType)wInit.DataType == TensorProto.Types.DataType.Uint8;
        var q = new QuantConstant((wv.Ints ?? throw Error("weights must be integers")).Select(s => s.Coef).ToArray(), wScales, wZp.Select(z => (int)z).ToArray(), 0, unsigned, false);
        var w = new ImportValue { Shape = wv.Shape, QConst = q };
        if (wv.Shape.Length != 4) throw Error($"only 2-D convolution is supported (weights {Format.Shape.Format(wv.Shape)})");
        int oc = wv.Shape[0], per = wv.Shape[1] * wv.Shape[2] * wv.Shape[3];
        int wt = Int8Weights(n.Input[3], w, false, oc, per, n.Input[3] + "_int8", wv.Shape) ?? throw Error("only symmetric int8 weights (zero point 0, or 128 for uint8) are supported");
        int bias = Int32Bias(Has(n, 8) ? n.Input[8] : null, sx, Scales(model, wt), oc);
        var attrs = WindowAttrs(n, model.Tensors[x].Shape, [wv.Shape[2], wv.Shape[3]]);
        attrs.Set("group", AttrI(n, "group", 1));
        EmitInt8(OpType.Conv, n, [x, wt, bias], attrs, sy, zy);
    }

    void QLinearDense(NodeProto n, int a, int b, int bias, int y, bool transB)
    {
        if (AttrI(n, "transA", 0) != 0 || AttrF(n, "alpha", 1f) != 1f) throw Error("transA and alpha ≠ 1 are not supported");
        var (sx, zx) = Params(n, a + 1, a + 2);
        int x = Int8Input(n, a, sx, zx);
        var wv = Get(n.Input[b]);
        var wInit = file.Proto.Graph.Initializer.FirstOrDefault(t => t.Name == n.Input[b]) ?? throw Error("weights must be an initializer");
        var q = new QuantConstant((wv.Ints ?? throw Error("weights must be integers")).Select(s => s.Coef).ToArray(), ConstFloats(n.Input[b + 1], "b_scale"),
            (Has(n, b + 2) ? StaticInts(n.Input[b + 2], "b_zero_point") : [0]).Select(z => (int)z).ToArray(), transB ? 0 : 1,
            (TensorProto.Types.DataType)wInit.DataType == TensorProto.Types.DataType.Uint8, false);
        if (wv.Shape.Length != 2) throw Error($"B must be a matrix (is {Format.Shape.Format(wv.Shape)})");
        int oc = transB ? wv.Shape[0] : wv.Shape[1], ic = transB ? wv.Shape[1] : wv.Shape[0];
        int wt = Int8Weights(n.Input[b], new ImportValue { Shape = wv.Shape, QConst = q }, !transB, oc, ic, n.Input[b] + "_int8")
                 ?? throw Error("only symmetric int8 weights are supported");
        int bt = Int32Bias(bias >= 0 && Has(n, bias) ? n.Input[bias] : null, sx, Scales(model, wt), oc);
        if (y >= 0 && Has(n, y)) { var (sy, zy) = Params(n, y, y + 1); EmitInt8(OpType.Dense, n, [x, wt, bt], null, sy, zy); }
        else Emit(OpType.Dense, n, [x, wt, bt]);
    }

    void QLinearElementwise(NodeProto n, OpType op, int outIndex)
    {
        var (sa, za) = Params(n, 1, 2); var (sb, zb) = Params(n, 4, 5); var (sy, zy) = Params(n, outIndex, outIndex + 1);
        EmitInt8(op, n, [Int8Input(n, 0, sa, za), Int8Input(n, 3, sb, zb)], null, sy, zy);
    }

    void QLinearUnary(NodeProto n, OpType op)
    {
        if (AttrI(n, "channels_last", 0) != 0) throw Error("channels_last = 1 is not supported");
        var (sx, zx) = Params(n, 1, 2); var (sy, zy) = Params(n, 3, 4);
        var attrs = new Attributes();
        if (op == OpType.LeakyRelu) attrs.Set("alpha", AttrF(n, "alpha", 0.01f));
        if (op == OpType.AveragePool)
        {
            var k = AttrInts(n, "kernel_shape", []);
            var w = WindowAttrs(n, ShapeOfValue(n.Input[0]), k.Select(v => (int)v).ToArray());
            foreach (var (key, val) in w.All) attrs.Set(key, val);
            attrs.Set("kernel_shape", k).Set("count_include_pad", AttrI(n, "count_include_pad", 0)).Set("ceil_mode", AttrI(n, "ceil_mode", 0));
        }
        EmitInt8(op, n, [Int8Input(n, 0, sx, zx)], attrs, sy, zy);
    }

    /// <summary>Adds a node whose (single) output is int8 with the given parameters.</summary>
    void EmitInt8(OpType op, NodeProto n, int[] inputs, Attributes? attrs, float scale, int zp)
    {
        int y = model.AddTensor(new TensorDesc(UniqueName(n.Output[0]), DataType.Int8, TensorDesc.UnknownShape) { Quant = new QuantParams([scale], [zp], 0) });
        var node = new Node(op, NodeName(n), inputs, [y], attrs);
        model.Nodes.Add(node);
        Engine.ShapeInference.InferOutputs(model, node);
        values[n.Output[0]] = new ImportValue { Shape = model.Tensors[y].Shape, Tensor = y };
    }
}
