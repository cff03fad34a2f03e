using EdgeNet.Format;
using EdgeNet.Kernels;

namespace EdgeNet.Engine;

/// <summary>
/// Fuses an inverted residual's expand (a channels-last fp32 1×1 Conv, stride 1, no padding, clamp or no activation)
/// into the depthwise Conv that alone reads its output (<see cref="ExpandDepthwiseKernel"/>), where the expanded map is
/// larger than <see cref="MinExpandedBytes"/>: a smaller one stays in cache between the two nodes anyway. The fused node
/// takes the depthwise's place: Conv with attribute channels_last = <see cref="ChannelsLastValue"/>, inputs [x, the
/// depthwise's weight and bias, -1, the expand's weight and bias]. The depthwise must have a clamp or no activation
/// and no fused sum. A rewrite of the session's plan after <see cref="ConvSumFusion"/>, as that one is.
/// </summary>
internal static class ExpandDepthwiseFusion
{
    public const long ChannelsLastValue = 3;
    /// <summary>An expanded map per image up to this size is left to the two nodes (the depthwise's own cached-map size).</summary>
    public const long MinExpandedBytes = 1024 * 1024;

    public static Model Run(Model m)
    {
        var uses = new TensorUses(m);
        var replaced = new Node?[m.Nodes.Count];
        var removed = new bool[m.Nodes.Count];
        bool any = false;
        for (int di = 0; di < m.Nodes.Count; di++)
        {
            var d = m.Nodes[di];
            if (!Depthwise(m, d)) continue;
            int t = d.Inputs[0], ei = uses.Producer(t);
            if (ei < 0 || uses.SoleReader(t) < 0 || !Expand(m, m.Nodes[ei])) continue;
            var e = m.Nodes[ei];
            var s = m.Tensors[t].Shape;   // [N, H, W, Cexp]
            if ((long)s[1] * s[2] * s[3] * sizeof(float) <= MinExpandedBytes) continue;
            var attrs = new Attributes();
            foreach (var (k, v) in d.Attributes.All) attrs.Set(k, v);
            attrs.Set(ChannelsLast.Attribute, ChannelsLastValue);
            var ea = Activation.FromAttributes(e.Attributes, e.Name);
            attrs.Set("expand_min", ea.ClampMin).Set("expand_max", ea.ClampMax);
            replaced[di] = new Node(OpType.Conv, d.Name, [e.Inputs[0], d.Inputs[1], d.Inputs.Length > 2 ? d.Inputs[2] : -1, -1, e.Inputs[1], e.Inputs.Length > 2 ? e.Inputs[2] : -1],
                [d.Outputs[0]], attrs, d.Version);
            removed[ei] = true;
            any = true;
        }
        return any ? NodeEdits.Apply(m, removed, replaced) : m;
    }

    /// <summary>A channels-last fp32 Conv of a constant 4-D weight and bias, a clamp or no activation, no sum.</summary>
    static bool Plain(Model m, Node n) =>
        n.Op == OpType.Conv && n.Attributes.Int(ChannelsLast.Attribute, 0) == 1 && !n.Attributes.Has("auto_pad") && n.Outputs.Length == 1
        && n.Inputs.Length is 2 or 3 && n.Inputs[1] >= 0 && m.Tensors[n.Inputs[0]].Type == DataType.Float32
        && m.Tensors[n.Inputs[0]].Shape is { Length: 4 } s && s.Skip(1).All(v => v > 0)
        && m.Tensors[n.Inputs[1]] is { IsConstant: true, Type: DataType.Float32, Shape.Length: 4 }
        && (n.Inputs.Length < 3 || n.Inputs[2] < 0 || m.Tensors[n.Inputs[2]].IsConstant)
        && Activation.FromAttributes(n.Attributes, n.Name).IsClamp;

    static bool Expand(Model m, Node n)
    {
        if (!Plain(m, n) || n.Attributes.Int("group", 1) != 1) return false;
        var w = m.Tensors[n.Inputs[1]].Shape;
        return w[2] == 1 && w[3] == 1 && n.Attributes.Ints("strides", [1, 1]).All(v => v == 1) && n.Attributes.Ints("pads", [0, 0, 0, 0]).All(v => v == 0);
    }

    static bool Depthwise(Model m, Node n)
    {
        if (!Plain(m, n)) return false;
        var w = m.Tensors[n.Inputs[1]].Shape;
        long c = m.Tensors[n.Inputs[0]].Shape[3];
        return n.Attributes.Int("group", 1) == c && w[0] == c && w[1] == 1;
    }
}
