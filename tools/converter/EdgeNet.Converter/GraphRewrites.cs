using System.Runtime.InteropServices;
using EdgeNet.Format;
using EdgeNet.Kernels;

namespace EdgeNet.Converter;

/// <summary>
/// Rewrites on a converted graph, so the runtime needs few kernels: BatchNorm (ChannelAffine) folded into the
/// preceding Conv/Dense, a constant bias Add folded into Dense, activations fused into Conv/Dense, dead nodes dropped.
/// Each applies only where the intermediate tensor has one reader and is not a graph output.
/// </summary>
public static class GraphRewrites
{
    /// <summary>One pass in execution order, linear in the graph: a fused node takes its producer's place and writes its
    /// reader's output, so a later reader (Dense → Add → Relu) finds it as its producer and fuses again. No fusion
    /// opens one at an earlier node (that node would read a tensor defined after it), so one pass finds them all.</summary>
    public static void Run(Model m)
    {
        var readers = Readers(m);
        var outputs = m.Outputs.ToHashSet();
        var producer = new Dictionary<int, int>();
        var removed = new bool[m.Nodes.Count];
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            if (FoldIntoProducer(m, i, readers, outputs, producer) is int pi) { removed[i] = true; producer[m.Nodes[pi].Outputs[0]] = pi; continue; }
            foreach (var o in m.Nodes[i].Outputs) if (o >= 0) producer[o] = i;
        }
        var kept = m.Nodes.Where((_, i) => !removed[i]).ToList();
        m.Nodes.Clear();
        m.Nodes.AddRange(kept);
    }

    /// <summary>Folds node <paramref name="i"/> into its producer, replacing the producer; returns the producer's index.</summary>
    static int? FoldIntoProducer(Model m, int i, int[] readers, HashSet<int> outputs, Dictionary<int, int> producer)
    {
        var node = m.Nodes[i];
        if (node.Inputs.Length == 0 || node.Inputs[0] < 0) return null;
        int x = node.Inputs[0];
        if (!producer.TryGetValue(x, out int pi)) return null;
        var p = m.Nodes[pi];
        if (readers[x] != 1 || outputs.Contains(x)) return null;
        if (node.Op == OpType.Quantize && FuseQuantize(m, p, node) is { } q) { m.Nodes[pi] = q; return pi; }
        if (p.Op is not (OpType.Conv or OpType.Dense) || p.Attributes.Has("activation")) return null;
        bool floatWeights = m.Tensors[p.Inputs[1]].Type == DataType.Float32;

        Node? fused = node.Op switch
        {
            OpType.ChannelAffine when floatWeights && (p.Op == OpType.Conv || m.Tensors[x].Shape.Length == 2) => FoldAffine(m, p, node),
            OpType.Add or OpType.Sub when floatWeights && p.Op == OpType.Dense => FoldBias(m, p, node),
            _ when Engine.OpTable.Get(node.Op) is { Fusable: true, Unary: { } op } => FuseActivation(p, node, op),
            _ => null,
        };
        if (fused is null) return null;
        m.Nodes[pi] = fused;
        return pi;
    }

    static Node With(Node p, int[] inputs, int output, Attributes attrs) => new(p.Op, p.Name, inputs, [output], attrs);

    /// <summary>An int8 op with an fp32 output followed by Quantize writes the int8 output itself (requantizing).</summary>
    static Node? FuseQuantize(Model m, Node p, Node quantize)
    {
        bool int8In = p.Inputs.Length > 0 && p.Inputs[0] >= 0 && m.Tensors[p.Inputs[0]].Type == DataType.Int8;
        if (!int8In || p.Op is not (OpType.Dense or OpType.Conv or OpType.Add or OpType.GlobalAveragePool or OpType.AveragePool or OpType.MaxPool)) return null;
        if (p.Attributes.String("activation", "none") is not ("none" or "relu" or "clip")) return null;
        return With(p, p.Inputs, quantize.Outputs[0], Copy(p.Attributes));
    }

    static Attributes Copy(Attributes a)
    {
        var c = new Attributes();
        foreach (var (k, v) in a.All) c.Set(k, v);
        return c;
    }

    static float[] Floats(Model m, int t) => m.Tensors[t].Floats().ToArray();

    static int AddConst(Model m, string name, float[] data, int[] shape) =>
        m.AddTensor(new TensorDesc(name, DataType.Float32, shape) { Data = MemoryMarshal.AsBytes(data.AsSpan()).ToArray() });

    /// <summary>W'[oc] = W[oc]·s[oc], b'[oc] = b[oc]·s[oc] + t[oc].</summary>
    static Node FoldAffine(Model m, Node p, Node affine)
    {
        float[] s = Floats(m, affine.Inputs[1]), t = Floats(m, affine.Inputs[2]);
        var wt = m.Tensors[p.Inputs[1]];
        var w = Floats(m, p.Inputs[1]);
        int oc = wt.Shape[0], per = w.Length / oc;
        for (int o = 0; o < oc; o++) for (int k = 0; k < per; k++) w[o * per + k] *= s[o];
        var b = p.Inputs.Length > 2 && p.Inputs[2] >= 0 ? Floats(m, p.Inputs[2]) : new float[oc];
        for (int o = 0; o < oc; o++) b[o] = b[o] * s[o] + t[o];
        int wi = AddConst(m, wt.Name + "_bnfolded", w, wt.Shape);
        int bi = AddConst(m, (p.Inputs.Length > 2 && p.Inputs[2] >= 0 ? m.Tensors[p.Inputs[2]].Name : wt.Name + "_bias") + "_bnfolded", b, [oc]);
        return With(p, [p.Inputs[0], wi, bi], affine.Outputs[0], Copy(p.Attributes));
    }

    static Node? FoldBias(Model m, Node dense, Node add)
    {
        int other = add.Inputs[1] == dense.Outputs[0] ? add.Inputs[0] : add.Inputs[1];
        if (add.Op == OpType.Sub && other == add.Inputs[0]) return null;   // c - Wx is not a bias
        var ct = m.Tensors[other];
        int oc = m.Tensors[dense.Inputs[1]].Shape[0];
        if (!ct.IsConstant || ct.Type != DataType.Float32 || ct.Elements(1) != oc || ct.Shape.Length == 0 || ct.Shape[^1] != oc) return null;
        var c = ct.Floats().ToArray();
        var b = dense.Inputs.Length > 2 && dense.Inputs[2] >= 0 ? Floats(m, dense.Inputs[2]) : new float[oc];
        for (int o = 0; o < oc; o++) b[o] += add.Op == OpType.Sub ? -c[o] : c[o];
        int bi = AddConst(m, ct.Name + "_bias", b, [oc]);
        return With(dense, [dense.Inputs[0], dense.Inputs[1], bi], add.Outputs[0], Copy(dense.Attributes));
    }

    static Node FuseActivation(Node p, Node act, UnaryOp op)
    {
        var attrs = Copy(p.Attributes);
        Activation.Of(act, op).WriteTo(attrs);
        return With(p, p.Inputs, act.Outputs[0], attrs);
    }

    static int[] Readers(Model m)
    {
        var r = new int[m.Tensors.Count];
        foreach (var n in m.Nodes) foreach (var t in n.Inputs) if (t >= 0) r[t]++;
        return r;
    }

    /// <summary>A copy without dead nodes or unused tensors, tensors renumbered in order of first use.</summary>
    public static Model Compact(Model m)
    {
        var live = new bool[m.Tensors.Count];
        foreach (var o in m.Outputs) live[o] = true;
        var keep = new bool[m.Nodes.Count];
        for (int i = m.Nodes.Count - 1; i >= 0; i--)
        {
            if (!m.Nodes[i].Outputs.Any(o => o >= 0 && live[o])) continue;
            keep[i] = true;
            foreach (var t in m.Nodes[i].Inputs) if (t >= 0) live[t] = true;
        }
        var map = new Dictionary<int, int>();
        var result = new Model { Metadata = m.Metadata };
        int Map(int t)
        {
            if (t < 0) return -1;
            if (!map.TryGetValue(t, out int n)) { n = result.AddTensor(m.Tensors[t]); map[t] = n; }
            return n;
        }
        foreach (var i in m.Inputs) result.Inputs.Add(Map(i));
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            if (!keep[i]) continue;
            var n = m.Nodes[i];
            var minOut = 1;
            var outs = n.Outputs.Select((o, k) => o >= 0 && (live[o] || k < minOut) ? Map(o) : -1).ToArray();
            while (outs.Length > 1 && outs[^1] == -1) outs = outs[..^1];
            result.Nodes.Add(new Node(n.Op, n.Name, n.Inputs.Select(Map).ToArray(), outs, n.Attributes, n.Version));
        }
        foreach (var o in m.Outputs) result.Outputs.Add(Map(o));
        return result;
    }
}
