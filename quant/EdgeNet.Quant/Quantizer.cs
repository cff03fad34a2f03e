using System.Runtime.InteropServices;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Quant;

/// <summary>
/// Post-training quantization of an fp32 model (docs/quantization.md): Dense and Conv get int8 per-channel symmetric
/// weights, int32 biases at s_x·s_w and int8 asymmetric per-tensor activations from the calibrated ranges; Add and
/// the pools run in int8 when their inputs are int8; a Reshape keeps int8; every other op (Softmax, recurrent layers,
/// Transpose, ...) stays fp32, fed by Dequantize nodes made only where needed. Layers named in keepFp32 stay fp32.
/// </summary>
public sealed class Quantizer
{
    readonly Model src;
    readonly Dictionary<int, Calibration.Range> ranges;
    readonly HashSet<string> keep;
    readonly Model dst = new();
    readonly Dictionary<int, int> fp32 = [], int8 = [];   // source tensor -> its fp32 / int8 version in dst

    Quantizer(Model src, Dictionary<int, Calibration.Range> ranges, IEnumerable<string> keepFp32)
    {
        this.src = src; this.ranges = ranges; keep = keepFp32.ToHashSet(StringComparer.Ordinal);
    }

    public static Model Quantize(Model fp32Model, Dictionary<int, Calibration.Range> ranges, IEnumerable<string>? keepFp32 = null)
    {
        var q = new Quantizer(fp32Model, ranges, keepFp32 ?? []);
        return q.Run();
    }

    /// <summary>Layers that can be quantized (Dense, Conv and recurrent layers with fp32 weights), in graph order.</summary>
    public static IEnumerable<string> Candidates(Model m) =>
        m.Nodes.Where(n => OpTable.Get(n.Op).Quant is QuantRole.Layer or QuantRole.Recurrent && m.Tensors[n.Inputs[1]].Type == DataType.Float32).Select(n => n.Name);

    Model Run()
    {
        dst.Metadata.Name = src.Metadata.Name;
        foreach (var (k, v) in src.Metadata.Properties) dst.Metadata.Properties[k] = v;
        dst.Metadata.InputLayout = src.Metadata.InputLayout; dst.Metadata.ClassLabels = src.Metadata.ClassLabels;
        dst.Metadata.InputMean = src.Metadata.InputMean; dst.Metadata.InputStd = src.Metadata.InputStd;
        dst.Metadata.SourceSha256 = src.Metadata.SourceSha256; dst.Metadata.ConverterVersion = src.Metadata.ConverterVersion;
        dst.Metadata.Properties["quantization"] = "int8 ptq";
        foreach (var i in src.Inputs) { int t = dst.AddTensor(src.Tensors[i]); dst.Inputs.Add(t); fp32[i] = t; }
        foreach (var n in src.Nodes)
        {
            bool quantizable = !keep.Contains(n.Name) && n.Inputs[0] >= 0 && ranges.ContainsKey(n.Inputs[0]) && n.Outputs.All(o => o < 0 || ranges.ContainsKey(o));
            var info = OpTable.Get(n.Op);
            switch (info.Quant)
            {
                case QuantRole.Layer when quantizable && src.Tensors[n.Inputs[1]].Type == DataType.Float32: QuantizeLayer(n); break;
                case QuantRole.Recurrent when !keep.Contains(n.Name) && RecurrentOk(n): QuantizeRecurrent(n); break;
                case QuantRole.Int8 when quantizable && n.Inputs.All(HasInt8) && (info.Int8Accepts?.Invoke(src, n) ?? true): Int8Op(n, n.Inputs.Select(Int8).ToArray()); break;
                case QuantRole.Passthrough when HasInt8(n.Inputs[0]) && !fp32.ContainsKey(n.Inputs[0]):
                    {
                        var xq = dst.Tensors[Int8(n.Inputs[0])];
                        int y = dst.AddTensor(new TensorDesc(src.Tensors[n.Outputs[0]].Name + "_q", DataType.Int8, src.Tensors[n.Outputs[0]].Shape) { Quant = xq.Quant });
                        dst.Nodes.Add(new Node(OpType.Reshape, n.Name, [Int8(n.Inputs[0])], [y]));
                        int8[n.Outputs[0]] = y;
                        break;
                    }
                default: Fp32Op(n); break;
            }
        }
        foreach (var o in src.Outputs) dst.Outputs.Add(Fp32(o));
        ModelValidator.Validate(dst);
        return dst;
    }

    bool HasInt8(int t) => int8.ContainsKey(t);   // pools and adds run int8 only on tensors an int8 layer already wrote

    QuantParams Params(int t)
    {
        var r = ranges[t];
        var (s, z) = QuantMath.ActivationParams(r.Min, r.Max);
        return new QuantParams([s], [z], 0);
    }

    /// <summary>The int8 version of a source tensor, quantizing its fp32 version on first need.</summary>
    int Int8(int t)
    {
        if (int8.TryGetValue(t, out var q)) return q;
        var d = src.Tensors[t];
        int y = dst.AddTensor(new TensorDesc(d.Name + "_q", DataType.Int8, d.Shape) { Quant = Params(t) });
        dst.Nodes.Add(new Node(OpType.Quantize, d.Name + "_quantize", [Fp32(t)], [y]));
        return int8[t] = y;
    }

    /// <summary>The fp32 version of a source tensor: the original constant, or a Dequantize of its int8 version.</summary>
    int Fp32(int t)
    {
        if (t < 0) return -1;
        if (fp32.TryGetValue(t, out var f)) return f;
        var d = src.Tensors[t];
        if (d.IsConstant) return fp32[t] = dst.AddTensor(d);
        int y = dst.AddTensor(new TensorDesc(d.Name, DataType.Float32, d.Shape));
        dst.Nodes.Add(new Node(OpType.Dequantize, d.Name + "_dequantize", [int8[t]], [y]));
        return fp32[t] = y;
    }

    void Fp32Op(Node n)
    {
        var inputs = n.Inputs.Select(Fp32).ToArray();
        var outputs = n.Outputs.Select(o => o < 0 ? -1 : fp32[o] = dst.AddTensor(src.Tensors[o])).ToArray();
        dst.Nodes.Add(new Node(n.Op, n.Name, inputs, outputs, n.Attributes, n.Version));
    }

    void Int8Op(Node n, int[] inputs)
    {
        var d = src.Tensors[n.Outputs[0]];
        var p = n.Op == OpType.MaxPool ? dst.Tensors[inputs[0]].Quant : Params(n.Outputs[0]);
        int y = dst.AddTensor(new TensorDesc(d.Name + "_q", DataType.Int8, d.Shape) { Quant = p });
        dst.Nodes.Add(new Node(n.Op, n.Name, inputs, [y], n.Attributes, n.Version));
        int8[n.Outputs[0]] = y;
    }

    bool RecurrentOk(Node n) => src.Tensors[n.Inputs[1]].Type == DataType.Float32 && n.Attributes.Float("clip", 0) == 0
        && !(n.Op == OpType.Gru && n.Attributes.Int("linear_before_reset", 0) == 0);

    /// <summary>Recurrent layers: int8 W and R with one scale per gate row; activations are quantized per step at run time.</summary>
    void QuantizeRecurrent(Node n)
    {
        var inputs = n.Inputs.Select((t, i) =>
        {
            if (i is not (1 or 2)) return Fp32(t);
            var d = src.Tensors[t];
            int rows = d.Shape[0] * d.Shape[1];
            var (q, s) = QuantMath.QuantizeWeights(d.Floats(), rows);
            return dst.AddTensor(new TensorDesc(d.Name, DataType.Int8, d.Shape) { Data = MemoryMarshal.AsBytes(q.AsSpan()).ToArray(), Quant = new QuantParams(s, new int[rows], 1) });
        }).ToArray();
        var outputs = n.Outputs.Select(o => o < 0 ? -1 : fp32[o] = dst.AddTensor(src.Tensors[o])).ToArray();
        dst.Nodes.Add(new Node(n.Op, n.Name, inputs, outputs, n.Attributes, n.Version));
    }

    void QuantizeLayer(Node n)
    {
        int xq = Int8(n.Inputs[0]);
        float sx = dst.Tensors[xq].Quant!.Scale[0];
        var wt = src.Tensors[n.Inputs[1]];
        int oc = wt.Shape[0];
        var (wq, sw) = QuantMath.QuantizeWeights(wt.Floats(), oc);
        int w = dst.AddTensor(new TensorDesc(wt.Name, DataType.Int8, wt.Shape) { Data = MemoryMarshal.AsBytes(wq.AsSpan()).ToArray(), Quant = new QuantParams(sw, new int[oc], 0) });
        var bias = new int[oc];
        if (n.Inputs.Length > 2 && n.Inputs[2] >= 0)
        {
            var b = src.Tensors[n.Inputs[2]].Floats();
            for (int i = 0; i < oc; i++) bias[i] = (int)Math.Clamp(Math.Round(b[i] / ((double)sx * sw[i])), int.MinValue / 2, int.MaxValue / 2);
        }
        int bt = dst.AddTensor(new TensorDesc((n.Inputs.Length > 2 && n.Inputs[2] >= 0 ? src.Tensors[n.Inputs[2]].Name : wt.Name + "_bias"), DataType.Int32, [oc])
        { Data = MemoryMarshal.AsBytes(bias.AsSpan()).ToArray(), Quant = new QuantParams([sx], [0], 0) });
        var d = src.Tensors[n.Outputs[0]];
        bool clampOnly = n.Attributes.String("activation", "none") is "none" or "relu" or "clip";
        if (clampOnly)
        {
            int y = dst.AddTensor(new TensorDesc(d.Name + "_q", DataType.Int8, d.Shape) { Quant = Params(n.Outputs[0]) });
            dst.Nodes.Add(new Node(n.Op, n.Name, [xq, w, bt], [y], n.Attributes, n.Version));
            int8[n.Outputs[0]] = y;
        }
        else
        {
            int y = dst.AddTensor(d);   // sigmoid/tanh/leaky: dequantized output, then the activation in fp32
            dst.Nodes.Add(new Node(n.Op, n.Name, [xq, w, bt], [y], n.Attributes, n.Version));
            fp32[n.Outputs[0]] = y;
        }
    }
}
