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
        GraphPattern.ConstantOperandLast(m, OpType.Mul);
        GraphPattern.Rewrite(m, Swish, HardSwish);
    }

    /// <summary>The node after t when it is Mul(t, x) or Mul(x, t).</summary>
    static int? TimesX(GraphPattern p, int t, int x) =>
        p.Sole(t, OpType.Mul) is int k && GraphPattern.Other(p.M.Nodes[k], t) == x ? k : null;

    /// <summary>The node after t when it is t / 6 or t · (1/6).</summary>
    static int? OverSix(GraphPattern p, int t) =>
        p.Sole(t, OpType.Div) is int d && p.M.Nodes[d].Inputs[0] == t && p.Scalar(p.M.Nodes[d].Inputs[1]) == 6f ? d
        : p.Sole(t, OpType.Mul) is int k && p.Scalar(GraphPattern.Other(p.M.Nodes[k], t)) is float c && Near(c, 1f / 6) ? k : null;

    static bool Near(float v, float want) => Math.Abs(v - want) <= 1e-6f * Math.Abs(want);

    static (Node Fused, int[] Removed)? Swish(GraphPattern p, int i)
    {
        var m = p.M;
        var sigmoid = m.Nodes[i];
        if (sigmoid.Op != OpType.Sigmoid) return null;
        int x = sigmoid.Inputs[0];
        if (TimesX(p, sigmoid.Outputs[0], x) is int k)
            return (new Node(OpType.Swish, sigmoid.Name, [x], [m.Nodes[k].Outputs[0]], new Attributes().Set("alpha", 1f)), [k]);
        // σ of Mul(x, α), read by the Sigmoid alone
        if (p.Producer(x) is not int si || p.Sole(x, OpType.Sigmoid) is null) return null;
        var scale = m.Nodes[si];
        if (scale.Op != OpType.Mul || scale.Inputs.Length != 2 || p.Scalar(scale.Inputs[1]) is not float alpha) return null;
        if (TimesX(p, sigmoid.Outputs[0], scale.Inputs[0]) is not int ki) return null;
        return (new Node(OpType.Swish, sigmoid.Name, [scale.Inputs[0]], [m.Nodes[ki].Outputs[0]], new Attributes().Set("alpha", alpha)), [si, ki]);
    }

    static (Node Fused, int[] Removed)? HardSwish(GraphPattern p, int i)
    {
        var m = p.M;
        var first = m.Nodes[i];
        int x = first.Inputs.Length > 0 ? first.Inputs[0] : -1;
        Node Fused(int last) => new(OpType.HardSwish, first.Name, [x], [m.Nodes[last].Outputs[0]]);
        if (first.Op == OpType.HardSigmoid)
        {
            if (!Near(first.Attributes.Float("alpha", 0.2f), 1f / 6) || first.Attributes.Float("beta", 0.5f) != 0.5f) return null;
            return TimesX(p, first.Outputs[0], x) is int k ? (Fused(k), [k]) : null;
        }
        if (first.Op != OpType.Add || first.Inputs.Length != 2 || p.Scalar(first.Inputs[1]) != 3f) return null;
        if (p.Sole(first.Outputs[0], OpType.Clip) is not int ci) return null;
        var clip = m.Nodes[ci];
        if (clip.Attributes.Float("min", float.NegativeInfinity) != 0f || clip.Attributes.Float("max", float.PositiveInfinity) != 6f) return null;
        int c = clip.Outputs[0];
        // x · clip / 6 or (clip / 6) · x
        if (TimesX(p, c, x) is int mi && OverSix(p, m.Nodes[mi].Outputs[0]) is int di) return (Fused(di), [ci, mi, di]);
        if (OverSix(p, c) is int si && TimesX(p, m.Nodes[si].Outputs[0], x) is int ki) return (Fused(ki), [ci, si, ki]);
        return null;
    }
}
