using EdgeNet.Format;

namespace EdgeNet.Converter;

/// <summary>
/// Convnet activations that exporters write out in elementwise ops, back into one op each (as ONNX Runtime's
/// QuickGeluFusion and HardSwish fusion do), which <see cref="GraphRewrites"/> then fuses into the Conv/Dense before:
/// <list type="bullet">
/// <item>Mul(x, Sigmoid(x)), either operand order, becomes Swish(x) (SiLU: EfficientNet, YOLOv5/v8), and
/// Mul(x, Sigmoid(Mul(x, α))) Swish with that α (QuickGELU's 1.702, Swish-β);</item>
/// <item>x · Clip(x + 3, 0, 6) / 6, the Div (or a Mul by 1/6) before or after the Mul (paddle2onnx: PP-LCNet,
/// PP-OCR), and x · HardSigmoid(x) with α = 1/6, β = ½, become HardSwish(x);</item>
/// <item>Mul(c, x) of a constant c becomes Mul(x, c), so a scale after a Conv folds into it as Mul(x, c) does.</item>
/// </list>
/// Every intermediate tensor must be read by the pattern alone and be no graph output; x may have other readers
/// (then the fused op stays a standalone node). The fused node takes the place of the pattern's first node.
/// </summary>
public static class ActivationRewrites
{
    public static void Run(Model m)
    {
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            var n = m.Nodes[i];
            if (n.Op == OpType.Mul && n.Inputs.Length == 2 && m.Tensors[n.Inputs[0]].IsConstant && !m.Tensors[n.Inputs[1]].IsConstant)
                m.Nodes[i] = new Node(n.Op, n.Name, [n.Inputs[1], n.Inputs[0]], n.Outputs, n.Attributes, n.Version);
        }
        var readers = new List<int>[m.Tensors.Count];
        for (int t = 0; t < readers.Length; t++) readers[t] = [];
        for (int i = 0; i < m.Nodes.Count; i++) foreach (var t in m.Nodes[i].Inputs) if (t >= 0) readers[t].Add(i);
        var outputs = m.Outputs.ToHashSet();
        var producer = new Dictionary<int, int>();
        for (int i = 0; i < m.Nodes.Count; i++) foreach (var o in m.Nodes[i].Outputs) if (o >= 0) producer[o] = i;
        var removed = new bool[m.Nodes.Count];
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            if (removed[i]) continue;
            var p = new Pattern(m, readers, outputs, producer);
            var match = Swish(m, i, p) ?? HardSwish(m, i, p);
            if (match is not { } r) continue;
            m.Nodes[i] = r.Fused;
            foreach (var k in r.Removed) removed[k] = true;
        }
        var kept = m.Nodes.Where((_, i) => !removed[i]).ToList();
        m.Nodes.Clear();
        m.Nodes.AddRange(kept);
    }

    readonly record struct Pattern(Model M, List<int>[] Readers, HashSet<int> Outputs, Dictionary<int, int> Producer)
    {
        /// <summary>The node that reads tensor t, when it is the only reader, has op <paramref name="op"/>, and t is no graph output.</summary>
        public int? Sole(int t, OpType op) =>
            Readers[t].Count == 1 && !Outputs.Contains(t) && M.Nodes[Readers[t][0]].Op == op ? Readers[t][0] : null;

        /// <summary>The node after t when it is Mul(t, x) or Mul(x, t).</summary>
        public int? TimesX(int t, int x) => Sole(t, OpType.Mul) is int k && Other(M.Nodes[k], t) == x ? k : null;

        /// <summary>The node after t when it is t / 6 or t · (1/6).</summary>
        public int? OverSix(int t) =>
            Sole(t, OpType.Div) is int d && M.Nodes[d].Inputs[0] == t && Scalar(M.Nodes[d].Inputs[1]) == 6f ? d
            : Sole(t, OpType.Mul) is int k && Scalar(Other(M.Nodes[k], t)) is float c && Near(c, 1f / 6) ? k : null;

        /// <summary>The value of a constant float tensor of one element, else null.</summary>
        public float? Scalar(int t)
        {
            var d = M.Tensors[t];
            return d.IsConstant && d.Type == DataType.Float32 && d.Elements(1) == 1 ? d.Floats()[0] : null;
        }
    }

    static int Other(Node n, int t) => n.Inputs.Length != 2 ? -1 : n.Inputs[0] == t ? n.Inputs[1] : n.Inputs[0];

    static bool Near(float v, float want) => Math.Abs(v - want) <= 1e-6f * Math.Abs(want);

    static (Node Fused, int[] Removed)? Swish(Model m, int i, Pattern p)
    {
        var sigmoid = m.Nodes[i];
        if (sigmoid.Op != OpType.Sigmoid) return null;
        int x = sigmoid.Inputs[0];
        if (p.TimesX(sigmoid.Outputs[0], x) is int k)
            return (new Node(OpType.Swish, sigmoid.Name, [x], [m.Nodes[k].Outputs[0]], new Attributes().Set("alpha", 1f)), [k]);
        // σ of Mul(x, α), read by the Sigmoid alone
        if (!p.Producer.TryGetValue(x, out int si) || p.Sole(x, OpType.Sigmoid) is null) return null;
        var scale = m.Nodes[si];
        if (scale.Op != OpType.Mul || scale.Inputs.Length != 2 || p.Scalar(scale.Inputs[1]) is not float alpha) return null;
        if (p.TimesX(sigmoid.Outputs[0], scale.Inputs[0]) is not int ki) return null;
        return (new Node(OpType.Swish, sigmoid.Name, [scale.Inputs[0]], [m.Nodes[ki].Outputs[0]], new Attributes().Set("alpha", alpha)), [si, ki]);
    }

    static (Node Fused, int[] Removed)? HardSwish(Model m, int i, Pattern p)
    {
        var first = m.Nodes[i];
        int x = first.Inputs.Length > 0 ? first.Inputs[0] : -1;
        Node Fused(int last) => new(OpType.HardSwish, first.Name, [x], [m.Nodes[last].Outputs[0]]);
        if (first.Op == OpType.HardSigmoid)
        {
            if (!Near(first.Attributes.Float("alpha", 0.2f), 1f / 6) || first.Attributes.Float("beta", 0.5f) != 0.5f) return null;
            return p.TimesX(first.Outputs[0], x) is int k ? (Fused(k), [k]) : null;
        }
        if (first.Op != OpType.Add || first.Inputs.Length != 2 || p.Scalar(first.Inputs[1]) != 3f) return null;
        if (p.Sole(first.Outputs[0], OpType.Clip) is not int ci) return null;
        var clip = m.Nodes[ci];
        if (clip.Attributes.Float("min", float.NegativeInfinity) != 0f || clip.Attributes.Float("max", float.PositiveInfinity) != 6f) return null;
        int c = clip.Outputs[0];
        // x · clip / 6 or (clip / 6) · x
        if (p.TimesX(c, x) is int mi && p.OverSix(m.Nodes[mi].Outputs[0]) is int di) return (Fused(di), [ci, mi, di]);
        if (p.OverSix(c) is int si && p.TimesX(m.Nodes[si].Outputs[0], x) is int ki) return (Fused(ki), [ci, si, ki]);
        return null;
    }
}
