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
        GraphPattern.ConstantOperandLast(m, OpType.Add);
        GraphPattern.Rewrite(m, LayerNorm, Gelu);
    }

    static bool LastAxisMean(Model m, Node n)
    {
        int rank = m.Tensors[n.Inputs[0]].Shape.Length;
        var axes = n.Attributes.Ints("axes", []);
        return n.Op == OpType.ReduceMean && rank > 0 && axes.Length == 1 && axes[0] == rank - 1 && n.Attributes.Int("keepdims", 1) != 0;
    }

    static (Node Fused, int[] Removed)? LayerNorm(GraphPattern p, int i)
    {
        var m = p.M;
        var mean = m.Nodes[i];
        if (!LastAxisMean(m, mean)) return null;
        int x = mean.Inputs[0], mu = mean.Outputs[0];
        int inner = m.Tensors[x].Shape[^1];
        if (inner <= 0 || p.Sole(mu, OpType.Sub) is not int subi) return null;
        var sub = m.Nodes[subi];
        if (sub.Inputs[0] != x || sub.Inputs[1] != mu) return null;
        int d = sub.Outputs[0];
        if (p.Readers(d).Count != 2 || p.IsOutput(d)) return null;
        int pi = p.Readers(d).FirstOrDefault(k => m.Nodes[k].Op == OpType.Pow, -1), di = p.Readers(d).FirstOrDefault(k => m.Nodes[k].Op == OpType.Div, -1);
        if (pi < 0 || di < 0 || m.Nodes[pi].Inputs[0] != d || p.Scalar(m.Nodes[pi].Inputs[1]) != 2f || m.Nodes[di].Inputs[0] != d) return null;
        if (p.Sole(m.Nodes[pi].Outputs[0], OpType.ReduceMean) is not int vi || !LastAxisMean(m, m.Nodes[vi])) return null;
        if (p.Sole(m.Nodes[vi].Outputs[0], OpType.Add) is not int ei) return null;
        if (p.Scalar(GraphPattern.Other(m.Nodes[ei], m.Nodes[vi].Outputs[0])) is not float eps || !(eps >= 0)) return null;
        if (p.Sole(m.Nodes[ei].Outputs[0], OpType.Sqrt) is not int si) return null;
        if (p.Sole(m.Nodes[si].Outputs[0], OpType.Div) != di || m.Nodes[di].Inputs[1] != m.Nodes[si].Outputs[0]) return null;
        if (p.Sole(m.Nodes[di].Outputs[0], OpType.Mul) is not int gi) return null;
        int gamma = GraphPattern.Other(m.Nodes[gi], m.Nodes[di].Outputs[0]);
        if (!Vector(m, gamma, inner)) return null;
        if (p.Sole(m.Nodes[gi].Outputs[0], OpType.Add) is not int bi) return null;
        int beta = GraphPattern.Other(m.Nodes[bi], m.Nodes[gi].Outputs[0]);
        if (!Vector(m, beta, inner)) return null;
        var attrs = new Attributes().Set("axis", (long)(m.Tensors[x].Shape.Length - 1)).Set("epsilon", eps);
        var fused = new Node(OpType.LayerNormalization, mean.Name, [x, gamma, beta], [m.Nodes[bi].Outputs[0], -1, -1], attrs);
        return (fused, [subi, pi, vi, ei, si, di, gi, bi]);
    }

    /// <summary>A constant float vector of n values over the last axis ([n], or [1, …, 1, n]).</summary>
    static bool Vector(Model m, int t, int n)
    {
        var d = m.Tensors[t];
        return d.IsConstant && d.Type == DataType.Float32 && d.Shape.Length > 0 && d.Shape[^1] == n && d.Elements(1) == n;
    }

    static (Node Fused, int[] Removed)? Gelu(GraphPattern p, int i)
    {
        var m = p.M;
        var scale = m.Nodes[i];
        if (scale.Op is not (OpType.Div or OpType.Mul)) return null;
        int x = scale.Inputs[0];
        float want = scale.Op == OpType.Div ? MathF.Sqrt(2) : 1 / MathF.Sqrt(2);
        if (p.Scalar(scale.Inputs[1]) is not float c || Math.Abs(c - want) > 1e-6f * want) return null;
        if (p.Sole(scale.Outputs[0], OpType.Erf) is not int ei) return null;
        int e = m.Nodes[ei].Outputs[0];
        if (p.Sole(e, OpType.Add) is not int ai || p.Scalar(GraphPattern.Other(m.Nodes[ai], e)) != 1f) return null;
        int a = m.Nodes[ai].Outputs[0];
        if (p.Sole(a, OpType.Mul) is not int mi || GraphPattern.Other(m.Nodes[mi], a) != x) return null;
        if (p.Sole(m.Nodes[mi].Outputs[0], OpType.Mul) is not int hi || p.Scalar(GraphPattern.Other(m.Nodes[hi], m.Nodes[mi].Outputs[0])) != 0.5f) return null;
        return (new Node(OpType.Gelu, scale.Name, [x], [m.Nodes[hi].Outputs[0]]), [ei, ai, mi, hi]);
    }
}
