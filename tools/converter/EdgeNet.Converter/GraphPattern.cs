using EdgeNet.Format;

namespace EdgeNet.Converter;

/// <summary>
/// What a pattern rewrite (<see cref="ActivationRewrites"/>, <see cref="TransformerRewrites"/>) asks of a graph: who
/// reads and who writes each tensor, which tensors are graph outputs; and the pass that puts a matched pattern's fused
/// node in the place of its first node and drops the others. Readers and producers are those of the graph as it was
/// before the pass: a rule only looks forward from its first node, through tensors its match then removes.
/// </summary>
internal sealed class GraphPattern
{
    /// <summary>A rule tries node i as a pattern's first node: the fused node and the other nodes it replaces, or null.</summary>
    public delegate (Node Fused, int[] Removed)? Rule(GraphPattern p, int i);

    public readonly Model M;
    readonly List<int>[] readers;
    readonly HashSet<int> outputs;
    readonly Dictionary<int, int> producer = [];

    GraphPattern(Model m)
    {
        M = m;
        readers = new List<int>[m.Tensors.Count];
        for (int t = 0; t < readers.Length; t++) readers[t] = [];
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            foreach (var t in m.Nodes[i].Inputs) if (t >= 0) readers[t].Add(i);
            foreach (var o in m.Nodes[i].Outputs) if (o >= 0) producer[o] = i;
        }
        outputs = m.Outputs.ToHashSet();
    }

    /// <summary>One pass in node order: the first rule that matches at a node replaces its pattern.</summary>
    public static void Rewrite(Model m, params Rule[] rules)
    {
        var p = new GraphPattern(m);
        var removed = new bool[m.Nodes.Count];
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            if (removed[i]) continue;
            foreach (var rule in rules)
            {
                if (rule(p, i) is not { } r) continue;
                m.Nodes[i] = r.Fused;
                foreach (var k in r.Removed) removed[k] = true;
                break;
            }
        }
        RemoveNodes(m, removed);
    }

    /// <summary>Drops the nodes marked removed, keeping the others' order.</summary>
    public static void RemoveNodes(Model m, bool[] removed)
    {
        var kept = m.Nodes.Where((_, i) => !removed[i]).ToList();
        m.Nodes.Clear();
        m.Nodes.AddRange(kept);
    }

    /// <summary>A commutative binary op with a constant first operand and a computed second gets them swapped (the same
    /// value), so rules and folds need look for the constant in one place only.</summary>
    public static void ConstantOperandLast(Model m, OpType op)
    {
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            var n = m.Nodes[i];
            if (n.Op == op && n.Inputs.Length == 2 && m.Tensors[n.Inputs[0]].IsConstant && !m.Tensors[n.Inputs[1]].IsConstant)
                m.Nodes[i] = new Node(n.Op, n.Name, [n.Inputs[1], n.Inputs[0]], n.Outputs, n.Attributes, n.Version);
        }
    }

    public IReadOnlyList<int> Readers(int t) => readers[t];

    public bool IsOutput(int t) => outputs.Contains(t);

    public int? Producer(int t) => producer.TryGetValue(t, out int i) ? i : null;

    /// <summary>The node that reads tensor t, when it is the only reader, has op <paramref name="op"/>, and t is no graph output.</summary>
    public int? Sole(int t, OpType op) =>
        readers[t].Count == 1 && !outputs.Contains(t) && M.Nodes[readers[t][0]].Op == op ? readers[t][0] : null;

    /// <summary>The value of a constant float tensor of one element (any shape), else null.</summary>
    public float? Scalar(int t)
    {
        var d = M.Tensors[t];
        return d.IsConstant && d.Type == DataType.Float32 && d.Elements(1) == 1 ? d.Floats()[0] : null;
    }

    /// <summary>The other input of a binary node, given one of them (−1 when the node is not binary).</summary>
    public static int Other(Node n, int t) => n.Inputs.Length != 2 ? -1 : n.Inputs[0] == t ? n.Inputs[1] : n.Inputs[0];
}
