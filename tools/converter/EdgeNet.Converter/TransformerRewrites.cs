using EdgeNet.Format;

namespace EdgeNet.Converter;

/// <summary>
/// The transformer encoder's decomposed ops back into one node each, as ONNX Runtime's LayerNormFusion and GeluFusion
/// do (BERT-style exports before opset 17 write LayerNorm and GELU out):
/// <list type="bullet">
/// <item>ReduceMean(x) → Sub → Pow 2 → ReduceMean → Add ε → Sqrt → Div(d, ·) → Mul γ → Add β, over the last axis,
/// becomes LayerNormalization(x, γ, β; ε);</item>
/// <item>Div(x, √2) or Mul(x, 1/√2) → Erf → Add 1 → Mul x → Mul ½ becomes Gelu(x), which <see cref="GraphRewrites"/>
/// then fuses into the Dense before it;</item>
/// <item>Add(constant, x) becomes Add(x, constant) (the same sum), so the bias of a MatMul exported as Add(b, xW)
/// folds into the Dense as Add(xW, b) does.</item>
/// </list>
/// Each matches only where every intermediate tensor is read by the pattern alone and is no graph output, and the
/// constants are exactly those of the formula; the fused node computes the same formula in one pass.
/// </summary>
public static class TransformerRewrites
{
    public static void Run(Model m)
    {
        var readers = new List<int>[m.Tensors.Count];
        for (int t = 0; t < readers.Length; t++) readers[t] = [];
        for (int i = 0; i < m.Nodes.Count; i++) foreach (var t in m.Nodes[i].Inputs) if (t >= 0) readers[t].Add(i);
        var outputs = m.Outputs.ToHashSet();
        var removed = new bool[m.Nodes.Count];
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            var n = m.Nodes[i];
            if (n.Op == OpType.Add && n.Inputs.Length == 2 && m.Tensors[n.Inputs[0]].IsConstant && !m.Tensors[n.Inputs[1]].IsConstant)
                m.Nodes[i] = new Node(n.Op, n.Name, [n.Inputs[1], n.Inputs[0]], n.Outputs, n.Attributes, n.Version);
        }
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            if (removed[i]) continue;
            var match = LayerNorm(m, i, readers, outputs) ?? Gelu(m, i, readers, outputs);
            if (match is not { } r) continue;
            m.Nodes[i] = r.Fused;
            foreach (var k in r.Removed) removed[k] = true;
        }
        var kept = m.Nodes.Where((_, i) => !removed[i]).ToList();
        m.Nodes.Clear();
        m.Nodes.AddRange(kept);
    }

    /// <summary>The node that reads tensor t, when it is the only reader and t is not a graph output.</summary>
    static int? Sole(Model m, int t, List<int>[] readers, HashSet<int> outputs, OpType op) =>
        readers[t].Count == 1 && !outputs.Contains(t) && m.Nodes[readers[t][0]].Op == op ? readers[t][0] : null;

    /// <summary>The other input of a binary node, given one of them.</summary>
    static int Other(Node n, int t) => n.Inputs[0] == t ? n.Inputs[1] : n.Inputs[0];

    /// <summary>The value of a constant float tensor that holds one value (any shape of one element), else null.</summary>
    static float? Scalar(Model m, int t)
    {
        var d = m.Tensors[t];
        return d.IsConstant && d.Type == DataType.Float32 && d.Elements(1) == 1 ? d.Floats()[0] : null;
    }

    static bool LastAxisMean(Model m, Node n)
    {
        int rank = m.Tensors[n.Inputs[0]].Shape.Length;
        var axes = n.Attributes.Ints("axes", []);
        return n.Op == OpType.ReduceMean && rank > 0 && axes.Length == 1 && axes[0] == rank - 1 && n.Attributes.Int("keepdims", 1) != 0;
    }

    static (Node Fused, int[] Removed)? LayerNorm(Model m, int i, List<int>[] readers, HashSet<int> outputs)
    {
        var mean = m.Nodes[i];
        if (!LastAxisMean(m, mean)) return null;
        int x = mean.Inputs[0], mu = mean.Outputs[0];
        int inner = m.Tensors[x].Shape[^1];
        if (inner <= 0 || readers[mu].Count != 1 || outputs.Contains(mu)) return null;
        var sub = m.Nodes[readers[mu][0]];
        if (sub.Op != OpType.Sub || sub.Inputs[0] != x || sub.Inputs[1] != mu) return null;
        int d = sub.Outputs[0];
        if (readers[d].Count != 2 || outputs.Contains(d)) return null;
        int pi = readers[d].FirstOrDefault(k => m.Nodes[k].Op == OpType.Pow, -1), di = readers[d].FirstOrDefault(k => m.Nodes[k].Op == OpType.Div, -1);
        if (pi < 0 || di < 0 || m.Nodes[pi].Inputs[0] != d || Scalar(m, m.Nodes[pi].Inputs[1]) != 2f || m.Nodes[di].Inputs[0] != d) return null;
        if (Sole(m, m.Nodes[pi].Outputs[0], readers, outputs, OpType.ReduceMean) is not int vi || !LastAxisMean(m, m.Nodes[vi])) return null;
        if (Sole(m, m.Nodes[vi].Outputs[0], readers, outputs, OpType.Add) is not int ei) return null;
        if (Scalar(m, Other(m.Nodes[ei], m.Nodes[vi].Outputs[0])) is not float eps || !(eps >= 0)) return null;
        if (Sole(m, m.Nodes[ei].Outputs[0], readers, outputs, OpType.Sqrt) is not int si) return null;
        if (Sole(m, m.Nodes[si].Outputs[0], readers, outputs, OpType.Div) != di || m.Nodes[di].Inputs[1] != m.Nodes[si].Outputs[0]) return null;
        if (Sole(m, m.Nodes[di].Outputs[0], readers, outputs, OpType.Mul) is not int gi) return null;
        int gamma = Other(m.Nodes[gi], m.Nodes[di].Outputs[0]);
        if (!Vector(m, gamma, inner)) return null;
        if (Sole(m, m.Nodes[gi].Outputs[0], readers, outputs, OpType.Add) is not int bi) return null;
        int beta = Other(m.Nodes[bi], m.Nodes[gi].Outputs[0]);
        if (!Vector(m, beta, inner)) return null;
        var attrs = new Attributes().Set("axis", (long)(m.Tensors[x].Shape.Length - 1)).Set("epsilon", eps);
        var fused = new Node(OpType.LayerNormalization, mean.Name, [x, gamma, beta], [m.Nodes[bi].Outputs[0], -1, -1], attrs);
        return (fused, [readers[mu][0], pi, vi, ei, si, di, gi, bi]);
    }

    /// <summary>A constant float vector of n values over the last axis ([n], or [1, …, 1, n]).</summary>
    static bool Vector(Model m, int t, int n)
    {
        var d = m.Tensors[t];
        return d.IsConstant && d.Type == DataType.Float32 && d.Shape.Length > 0 && d.Shape[^1] == n && d.Elements(1) == n;
    }

    static (Node Fused, int[] Removed)? Gelu(Model m, int i, List<int>[] readers, HashSet<int> outputs)
    {
        var scale = m.Nodes[i];
        if (scale.Op is not (OpType.Div or OpType.Mul)) return null;
        int x = scale.Inputs[0];
        float want = scale.Op == OpType.Div ? MathF.Sqrt(2) : 1 / MathF.Sqrt(2);
        if (Scalar(m, scale.Inputs[1]) is not float c || Math.Abs(c - want) > 1e-6f * want) return null;
        if (Sole(m, scale.Outputs[0], readers, outputs, OpType.Erf) is not int ei) return null;
        int e = m.Nodes[ei].Outputs[0];
        if (Sole(m, e, readers, outputs, OpType.Add) is not int ai || Scalar(m, Other(m.Nodes[ai], e)) != 1f) return null;
        int a = m.Nodes[ai].Outputs[0];
        if (Sole(m, a, readers, outputs, OpType.Mul) is not int mi || Other(m.Nodes[mi], a) != x) return null;
        if (Sole(m, m.Nodes[mi].Outputs[0], readers, outputs, OpType.Mul) is not int hi || Scalar(m, Other(m.Nodes[hi], m.Nodes[mi].Outputs[0])) != 0.5f) return null;
        return (new Node(OpType.Gelu, scale.Name, [x], [m.Nodes[hi].Outputs[0]]), [ei, ai, mi, hi]);
    }
}
