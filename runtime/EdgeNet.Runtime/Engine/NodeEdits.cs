using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>The graph a plan-time fusion pass leaves: the same tensors, inputs and outputs, each node kept, replaced
/// (in its place in the order) or removed.</summary>
internal static class NodeEdits
{
    public static Model Apply(Model m, bool[] removed, Node?[] replaced)
    {
        var r = new Model { Metadata = m.Metadata };
        r.Tensors.AddRange(m.Tensors);
        r.Inputs.AddRange(m.Inputs);
        r.Outputs.AddRange(m.Outputs);
        for (int i = 0; i < m.Nodes.Count; i++) if (!removed[i]) r.Nodes.Add(replaced[i] ?? m.Nodes[i]);
        return r;
    }
}
