using System.Runtime.InteropServices;
using EdgeNet.Format;
using EdgeNet.Kernels;

namespace EdgeNet.Converter;

/// <summary>
/// Rewrites on a converted graph, so the runtime needs few kernels: BatchNorm (ChannelAffine) and a constant
/// per-channel (or single) Mul, Add or Sub folded into the preceding Conv/Dense/ConvTranspose (and, before a Conv
/// without padding, into it), activations fused into Conv/Dense, dead nodes dropped.
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
        GraphPattern.RemoveNodes(m, removed);
        FoldIntoConsumers(m);
    }

    /// <summary>s·z + t (constants s, t: one value, or one per channel; either may be absent) read only by a Conv
    /// without padding becomes that Conv's weights: W'[oc, ic] = W[oc, ic]·s[ic], b'[oc] = b[oc] + Σ W[oc, ic, ·]·t[ic]
    /// (PP-LCNetV3's learnable scale and bias after each activation, before a pointwise conv). A padded Conv takes only
    /// the scale, as s·(z + t/s) (its border would see t where the original sees 0; zero padding scales to zero): the
    /// Add of t/s stays.</summary>
    static void FoldIntoConsumers(Model m)
    {
        var readers = Readers(m);
        var outputs = m.Outputs.ToHashSet();
        var producer = new Dictionary<int, int>();
        for (int i = 0; i < m.Nodes.Count; i++) foreach (var o in m.Nodes[i].Outputs) if (o >= 0) producer[o] = i;
        var removed = new bool[m.Nodes.Count];
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            var conv = m.Nodes[i];
            if (conv.Op != OpType.Conv || conv.Inputs[0] < 0 || !ConstantFloats(m, conv)) continue;
            bool padded = conv.Attributes.Ints("pads", [0]).Any(v => v != 0);
            var wt = m.Tensors[conv.Inputs[1]];
            var xShape = m.Tensors[conv.Inputs[0]].Shape;
            int channels = wt.Shape[1] * (int)conv.Attributes.Int("group", 1);
            float[]? s = null, t = null;
            int z = conv.Inputs[0];
            bool Sole(int tensor, OpType op, out Node n)
            {
                n = producer.TryGetValue(tensor, out int k) ? m.Nodes[k] : null!;
                return n is not null && n.Op == op && readers[tensor] == 1 && !outputs.Contains(tensor) && n.Inputs.Length == 2 && n.Inputs[0] >= 0;
            }
            var gone = new List<int>();
            foreach (var op in new[] { OpType.Add, OpType.Sub })
                if (t is null && Sole(z, op, out var add) && PerChannel(m, xShape, 1, channels, add.Inputs[1]) is { } c)
                {
                    t = op == OpType.Sub ? c.Select(v => -v).ToArray() : c;
                    gone.Add(producer[z]); z = add.Inputs[0];
                }
            if (Sole(z, OpType.Mul, out var mul) && PerChannel(m, xShape, 1, channels, mul.Inputs[1]) is { } sc)
            {
                s = sc;
                gone.Add(producer[z]); z = mul.Inputs[0];
            }
            if (gone.Count == 0) continue;
            if (padded)
            {
                if (s is null || t is not null && s.Any(v => v == 0)) continue;
                if (t is not null)
                {
                    var add = m.Nodes[gone[0]];
                    var shape = Enumerable.Repeat(1, xShape.Length - 1).ToArray();
                    shape[0] = channels;
                    int tc = AddConst(m, m.Tensors[add.Inputs[1]].Name + "_unscaled", t.Select((v, c) => v / s[c]).ToArray(), shape);
                    m.Nodes[gone[0]] = new Node(OpType.Add, add.Name, [z, tc], add.Outputs, Copy(add.Attributes), add.Version);
                    z = add.Outputs[0];
                    gone.RemoveAt(0);
                    t = null;
                }
            }
            var w = Floats(m, conv.Inputs[1]);
            int oc = wt.Shape[0], icg = wt.Shape[1], taps = w.Length / (oc * icg), groupOut = oc / (channels / icg);
            var b = conv.Inputs.Length > 2 && conv.Inputs[2] >= 0 ? Floats(m, conv.Inputs[2]) : new float[oc];
            for (int o = 0; o < oc; o++)
                for (int c = 0; c < icg; c++)
                {
                    int ic = o / groupOut * icg + c;
                    double sum = 0;
                    for (int k = 0; k < taps; k++)
                    {
                        ref float v = ref w[(o * icg + c) * taps + k];
                        if (t is not null) sum += v;
                        if (s is not null) v *= s[ic];
                    }
                    if (t is not null) b[o] += (float)(sum * t[ic]);
                }
            int wi = AddConst(m, wt.Name + "_inscaled", w, wt.Shape), bi = AddConst(m, wt.Name + "_inbias", b, [oc]);
            m.Nodes[i] = new Node(conv.Op, conv.Name, [z, wi, bi], conv.Outputs, Copy(conv.Attributes), conv.Version);
            foreach (var k in gone) removed[k] = true;
        }
        GraphPattern.RemoveNodes(m, removed);
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
        if (p.Op is not (OpType.Conv or OpType.Dense or OpType.ConvTranspose) || p.Attributes.Has("activation")) return null;
        bool floatWeights = ConstantFloats(m, p);

        Node? fused = node.Op switch
        {
            OpType.ChannelAffine when floatWeights && (p.Op != OpType.Dense || m.Tensors[x].Shape.Length == 2) => FoldAffine(m, p, node),
            OpType.Add or OpType.Sub when floatWeights => FoldBias(m, p, node),
            OpType.Mul when floatWeights => FoldScale(m, p, node),
            _ when p.Op != OpType.ConvTranspose && Engine.OpTable.Get(node.Op) is { Fusable: true, Unary: { } op } => FuseActivation(p, node, op),
            _ => null,
        };
        if (fused is null) return null;
        m.Nodes[pi] = fused;
        return pi;
    }

    /// <summary>p's weights (and bias, if any) are constant float32: a fold can rewrite them.</summary>
    static bool ConstantFloats(Model m, Node p) =>
        m.Tensors[p.Inputs[1]] is { Type: DataType.Float32, IsConstant: true }
        && (p.Inputs.Length < 3 || p.Inputs[2] < 0 || m.Tensors[p.Inputs[2]] is { Type: DataType.Float32, IsConstant: true });

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
        var w = Scaled(m, p, s);
        int oc = s.Length;
        var b = p.Inputs.Length > 2 && p.Inputs[2] >= 0 ? Floats(m, p.Inputs[2]) : new float[oc];
        for (int o = 0; o < oc; o++) b[o] = b[o] * s[o] + t[o];
        int wi = AddConst(m, wt.Name + "_bnfolded", w, wt.Shape);
        int bi = AddConst(m, (p.Inputs.Length > 2 && p.Inputs[2] >= 0 ? m.Tensors[p.Inputs[2]].Name : wt.Name + "_bias") + "_bnfolded", b, [oc]);
        return With(p, [p.Inputs[0], wi, bi], affine.Outputs[0], Copy(p.Attributes));
    }

    /// <summary>The values of constant t for each of the <paramref name="count"/> channels along <paramref name="axis"/>
    /// of a tensor of <paramref name="shape"/>, when t is one value or varies along that axis only (PP-LCNet's learnable
    /// scale and bias are [1]; a BatchNorm written out is [C, 1, 1]) and broadcasting it does not grow the tensor.</summary>
    static float[]? PerChannel(Model m, int[] shape, int axis, int count, int t)
    {
        var ct = m.Tensors[t];
        int rank = shape.Length;
        if (!ct.IsConstant || ct.Type != DataType.Float32 || rank < 2 || ct.Shape.Length > rank) return null;
        for (int j = 0; j < ct.Shape.Length; j++)
            if (ct.Shape[j] != 1 && !(rank - ct.Shape.Length + j == axis && ct.Shape[j] == count)) return null;
        var c = ct.Floats();
        return c.Length == 1 ? Enumerable.Repeat(c[0], count).ToArray() : c.Length == count ? c.ToArray() : null;
    }

    /// <summary>Constant t per output channel of Conv/ConvTranspose/Dense p (axis 1; Dense: the last axis).</summary>
    static float[]? PerChannel(Model m, Node p, int t)
    {
        var shape = m.Tensors[p.Outputs[0]].Shape;
        return PerChannel(m, shape, p.Op == OpType.Dense ? shape.Length - 1 : 1, OutChannels(m, p), t);
    }

    /// <summary>(W x + b) + c, − c: b' = b ± c.</summary>
    static Node? FoldBias(Model m, Node p, Node add)
    {
        int other = add.Inputs[1] == p.Outputs[0] ? add.Inputs[0] : add.Inputs[1];
        if (add.Op == OpType.Sub && other == add.Inputs[0]) return null;   // c - Wx is not a bias
        if (PerChannel(m, p, other) is not { } c) return null;
        int oc = c.Length;
        var b = p.Inputs.Length > 2 && p.Inputs[2] >= 0 ? Floats(m, p.Inputs[2]) : new float[oc];
        for (int o = 0; o < oc; o++) b[o] += add.Op == OpType.Sub ? -c[o] : c[o];
        int bi = AddConst(m, m.Tensors[other].Name + "_bias", b, [oc]);
        return With(p, [p.Inputs[0], p.Inputs[1], bi], add.Outputs[0], Copy(p.Attributes));
    }

    /// <summary>Output channels of Conv, Dense (W [OC, ...]) or ConvTranspose (W [C, OC/group, ...]).</summary>
    static int OutChannels(Model m, Node p) =>
        p.Op == OpType.ConvTranspose ? m.Tensors[p.Inputs[1]].Shape[1] * (int)p.Attributes.Int("group", 1) : m.Tensors[p.Inputs[1]].Shape[0];

    /// <summary>p's weights with output channel o's scaled by s[o].</summary>
    static float[] Scaled(Model m, Node p, float[] s)
    {
        var w = Floats(m, p.Inputs[1]);
        var shape = m.Tensors[p.Inputs[1]].Shape;
        if (p.Op != OpType.ConvTranspose)
        {
            int per = w.Length / s.Length;
            for (int o = 0; o < s.Length; o++) for (int k = 0; k < per; k++) w[o * per + k] *= s[o];
            return w;
        }
        int c = shape[0], ocg = shape[1], taps = w.Length / (c * ocg), cg = c / (s.Length / ocg);
        for (int ic = 0; ic < c; ic++)
            for (int j = 0; j < ocg; j++)
                for (int k = 0; k < taps; k++) w[(ic * ocg + j) * taps + k] *= s[ic / cg * ocg + j];
        return w;
    }

    /// <summary>(W x + b) · s: W'[oc] = W[oc]·s[oc], b' = b·s.</summary>
    static Node? FoldScale(Model m, Node p, Node mul)
    {
        int other = mul.Inputs[1] == p.Outputs[0] ? mul.Inputs[0] : mul.Inputs[1];
        if (PerChannel(m, p, other) is not { } s) return null;
        var wt = m.Tensors[p.Inputs[1]];
        var w = Scaled(m, p, s);
        int oc = s.Length;
        var b = p.Inputs.Length > 2 && p.Inputs[2] >= 0 ? Floats(m, p.Inputs[2]) : null;
        if (b is not null) for (int o = 0; o < oc; o++) b[o] *= s[o];
        int wi = AddConst(m, wt.Name + "_scaled", w, wt.Shape);
        int[] inputs = b is null ? [p.Inputs[0], wi] : [p.Inputs[0], wi, AddConst(m, m.Tensors[p.Inputs[2]].Name + "_scaled", b, [oc])];
        return With(p, inputs, mul.Outputs[0], Copy(p.Attributes));
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
