using System.Runtime.InteropServices;
using EdgeNet.Format;
using EdgeNet.Quant;

namespace EdgeNet.Training;

/// <summary>
/// Fine-tuning an int8 model: trainable layers get fp32 master copies (dequantized weights and biases, int8
/// activations as fp32, Quantize/Dequantize as plain copies) that train as any fp32 model; afterwards the trained
/// masters are quantized back into the int8 model (per-channel weights, int32 biases at the layer's original input
/// scale; activation scales and zero points unchanged). The frozen int8 backbone keeps running the int8 kernels.
/// </summary>
public static class Int8Masters
{
    /// <summary>Whether the model has int8 weights in a Dense, Conv or recurrent layer (it then trains through fp32 masters).</summary>
    public static bool IsQuantized(Model m) => m.Nodes.Any(n => n.Op is OpType.Dense or OpType.Conv or OpType.Lstm or OpType.Gru or OpType.Rnn
        && m.Tensors[n.Inputs[1]].Type == DataType.Int8);

    /// <summary>The fp32 twin: same tensors (same indices and names) and nodes, every number in fp32.</summary>
    public static Model ToFloat(Model q)
    {
        var f = new Model { Metadata = q.Metadata };
        for (int t = 0; t < q.Tensors.Count; t++) f.Tensors.Add(FloatTensor(q, t));
        foreach (var n in q.Nodes)
            f.Nodes.Add(n.Op is OpType.Quantize or OpType.Dequantize ? new Node(OpType.Reshape, n.Name, n.Inputs, n.Outputs) : n);
        f.Inputs.AddRange(q.Inputs); f.Outputs.AddRange(q.Outputs);
        ModelValidator.Validate(f);
        return f;
    }

    static TensorDesc FloatTensor(Model q, int t)
    {
        var d = q.Tensors[t];
        if (d.Type == DataType.Float32) return d;
        if (!d.IsConstant) return new TensorDesc(d.Name, DataType.Float32, d.Shape);   // an int8 activation
        float[] v;
        if (d.Type == DataType.Int8)
        {
            var b = MemoryMarshal.Cast<byte, sbyte>(d.Data!.Value.Span);
            var s = d.Quant!.Scale; int per = b.Length / s.Length;
            v = new float[b.Length];
            for (int i = 0; i < b.Length; i++) v[i] = (b[i] - d.Quant.ZeroPoint[i / per]) * s[i / per];
        }
        else if (d.Type == DataType.Int32)
        {
            // A bias at s_x·s_w[oc]: find the layer that reads it for the scales.
            var node = q.Nodes.First(n => n.Inputs.Length > 2 && n.Inputs[2] == t);
            float sx = q.Tensors[node.Inputs[0]].Quant?.Scale[0] ?? 1f;
            var sw = q.Tensors[node.Inputs[1]].Quant!.Scale;
            var b = MemoryMarshal.Cast<byte, int>(d.Data!.Value.Span);
            v = new float[b.Length];
            for (int i = 0; i < b.Length; i++) v[i] = b[i] * sx * sw[sw.Length == 1 ? 0 : i];
        }
        else throw new ModelFormatException($"tensor '{d.Name}': cannot make an fp32 master of {d.Type}");
        return new TensorDesc(d.Name, DataType.Float32, d.Shape) { Data = MemoryMarshal.AsBytes(v.AsSpan()).ToArray() };
    }

    /// <summary>The int8 model with the trained fp32 masters quantized back in (matched by tensor name).</summary>
    public static Model Requantize(Model q, Model trained)
    {
        var byName = trained.Tensors.Where(t => t.IsConstant).GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.First());
        var r = new Model { Metadata = q.Metadata };
        for (int t = 0; t < q.Tensors.Count; t++) r.Tensors.Add(q.Tensors[t]);
        foreach (var n in q.Nodes)
        {
            if (n.Op is not (OpType.Dense or OpType.Conv) || q.Tensors[n.Inputs[1]].Type != DataType.Int8) continue;
            var wq = q.Tensors[n.Inputs[1]];
            if (!byName.TryGetValue(wq.Name, out var wf)) continue;
            int oc = wq.Shape[0];
            var (w, sw) = QuantMath.QuantizeWeights(wf.Floats(), oc);
            r.Tensors[n.Inputs[1]] = new TensorDesc(wq.Name, DataType.Int8, wq.Shape) { Data = MemoryMarshal.AsBytes(w.AsSpan()).ToArray(), Quant = new QuantParams(sw, new int[oc], 0) };
            if (n.Inputs.Length > 2 && n.Inputs[2] >= 0 && byName.TryGetValue(q.Tensors[n.Inputs[2]].Name, out var bf))
            {
                float sx = q.Tensors[n.Inputs[0]].Quant!.Scale[0];
                var b = bf.Floats(); var bi = new int[oc];
                for (int i = 0; i < oc; i++) bi[i] = (int)Math.Clamp(Math.Round(b[i] / ((double)sx * sw[i])), int.MinValue / 2, int.MaxValue / 2);
                var bq = q.Tensors[n.Inputs[2]];
                r.Tensors[n.Inputs[2]] = new TensorDesc(bq.Name, DataType.Int32, bq.Shape) { Data = MemoryMarshal.AsBytes(bi.AsSpan()).ToArray(), Quant = bq.Quant };
            }
        }
        r.Nodes.AddRange(q.Nodes); r.Inputs.AddRange(q.Inputs); r.Outputs.AddRange(q.Outputs);
        ModelValidator.Validate(r);
        return r;
    }
}
