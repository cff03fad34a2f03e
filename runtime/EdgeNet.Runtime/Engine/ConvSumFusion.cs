using EdgeNet.Format;
using EdgeNet.Kernels;

namespace EdgeNet.Engine;

/// <summary>
/// Fuses a residual Add into the channels-last fp32 Conv that produces one of its operands, as ONNX Runtime's FusedConv
/// takes a Z input (MLAS accumulates into C): Conv → Add(other) [→ activation] becomes one Conv with the other operand
/// as a 4th input, y = act(conv(x) + b + other), which the kernel adds and activates part by part while each part of
/// its output is in cache (<see cref="OutputEpilogue"/>) instead of two more passes over memory (BlazeFace's BlazeBlock,
/// ResNet's basic block, MobileNetV2's inverted residual). The bits are those of the separate nodes: the same sum, the
/// same activation code per element.
/// A rewrite of the session's plan after <see cref="ChannelsLast"/>, not of the file: the file, training, the quantizer
/// and the NCHW kernels keep the separate nodes. It applies when the Conv runs channels-last on float32 and has no
/// activation, its output is read by the Add alone and is no graph output, the other operand is float32 of exactly the
/// output's shape (no broadcast) and not the Conv's output; an activation node (a fusable elementwise op) that alone
/// reads the Add's output, not a graph output, joins it. When both operands come from such Convs, the one that runs
/// later takes the sum; the fused node takes that Conv's place, or the Add's when the other operand is computed later.
/// </summary>
internal static class ConvSumFusion
{
    public const int SumInput = 3;

    /// <summary>The plan with the fusions made (a new model), or <paramref name="m"/> itself when there is none.</summary>
    public static Model Run(Model m)
    {
        var readers = new List<int>[m.Tensors.Count];
        for (int t = 0; t < readers.Length; t++) readers[t] = [];
        var producer = new int[m.Tensors.Count];
        Array.Fill(producer, -1);
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            foreach (var t in m.Nodes[i].Inputs) if (t >= 0) readers[t].Add(i);
            foreach (var t in m.Nodes[i].Outputs) if (t >= 0) producer[t] = i;
        }
        var outputs = m.Outputs.ToHashSet();
        int? Sole(int t) => readers[t].Count == 1 && !outputs.Contains(t) ? readers[t][0] : null;
        int Eligible(int t) => EligibleConv(m, producer, Sole, t);

        var replaced = new Node?[m.Nodes.Count];
        var removed = new bool[m.Nodes.Count];
        bool any = false;
        for (int ai = 0; ai < m.Nodes.Count; ai++)
        {
            var add = m.Nodes[ai];
            if (add.Op != OpType.Add || add.Inputs.Length != 2 || add.Inputs[0] == add.Inputs[1]) continue;
            // the operand whose Conv runs last: the other one is ready where that Conv runs
            int ci = Math.Max(Eligible(add.Inputs[0]), Eligible(add.Inputs[1]));
            if (ci < 0) continue;
            var conv = m.Nodes[ci];
            int y = conv.Outputs[0], other = add.Inputs[0] == y ? add.Inputs[1] : add.Inputs[0], output = add.Outputs[0];
            if (!SameFloat(m, other, y) || !SameFloat(m, output, y)) continue;
            var attrs = new Attributes();
            foreach (var (k, v) in conv.Attributes.All) attrs.Set(k, v);
            if (Sole(output) is int ri && m.Nodes[ri] is { Inputs.Length: 1 } act
                && OpTable.Get(act.Op) is { Fusable: true, Unary: { } op } && SameFloat(m, act.Outputs[0], y))
            {
                Activation.Of(act, op).WriteTo(attrs);
                output = act.Outputs[0];
                removed[ri] = true;
            }
            int at = producer[other] > ci ? ai : ci;   // the other operand computed after the Conv: run it at the Add
            replaced[at] = new Node(OpType.Conv, conv.Name, [conv.Inputs[0], conv.Inputs[1], conv.Inputs.Length > 2 ? conv.Inputs[2] : -1, other], [output], attrs, conv.Version);
            removed[ci] = removed[ai] = true;
            removed[at] = false;
            any = true;
        }
        return any ? NodeEdits.Apply(m, removed, replaced) : m;
    }

    /// <summary>The index of the Conv that writes t, when it can take a sum (channels-last, float32, no activation,
    /// no sum yet, t its only output and read once), else −1.</summary>
    static int EligibleConv(Model m, int[] producer, Func<int, int?> sole, int t)
    {
        int ci = producer[t];
        if (ci < 0 || sole(t) is null) return -1;
        var c = m.Nodes[ci];
        bool ok = c.Op == OpType.Conv && c.Attributes.Int(ChannelsLast.Attribute, 0) != 0 && !c.Attributes.Has("activation")
            && c.Inputs.Length <= SumInput && c.Outputs.Length == 1 && m.Tensors[c.Inputs[0]].Type == DataType.Float32;
        return ok ? ci : -1;
    }

    static bool SameFloat(Model m, int a, int b) =>
        m.Tensors[a].Type == DataType.Float32 && !m.Tensors[a].IsConstant && m.Tensors[a].Shape.SequenceEqual(m.Tensors[b].Shape);
}
