using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>Which node writes each tensor of a graph and whether one node alone reads it: what a plan-time fusion pass
/// asks before it folds a node into its reader.</summary>
internal sealed class TensorUses
{
    readonly int[] producer, reads, lastReader;
    readonly HashSet<int> outputs;

    public TensorUses(Model m)
    {
        producer = new int[m.Tensors.Count];
        Array.Fill(producer, -1);
        reads = new int[m.Tensors.Count];
        lastReader = new int[m.Tensors.Count];
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            foreach (var t in m.Nodes[i].Inputs) if (t >= 0) { reads[t]++; lastReader[t] = i; }
            foreach (var t in m.Nodes[i].Outputs) if (t >= 0) producer[t] = i;
        }
        outputs = m.Outputs.ToHashSet();
    }

    /// <summary>The node that writes <paramref name="t"/>, or −1 (a graph input or an initializer).</summary>
    public int Producer(int t) => producer[t];

    /// <summary>The node that reads <paramref name="t"/>, once, when nothing else does (no other read, not a graph
    /// output); else −1.</summary>
    public int SoleReader(int t) => reads[t] == 1 && !outputs.Contains(t) ? lastReader[t] : -1;
}
