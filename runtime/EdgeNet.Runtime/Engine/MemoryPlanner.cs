using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>
/// Assigns every activation an offset in one arena: tensors whose lifetimes (first write .. last read) overlap never
/// share bytes. Greedy by size, largest first, each at the lowest offset that fits (TFLite's greedy planner).
/// A Reshape's output is its input's bytes under another shape: it takes the input's place (their lifetimes joined)
/// and its kernel copies nothing (ShuffleNet's channel shuffle, Flatten before a classifier). An <see cref="Alias"/> (a
/// Concat's input its producer writes in place, <see cref="ConcatInPlace"/>) lies inside another tensor at a byte
/// offset: the outer tensor's lifetime takes the inner one's.
/// </summary>
internal static class MemoryPlanner
{
    public const int Alignment = 64;

    public sealed record Plan(long[] Offsets, long ArenaBytes);

    /// <summary>Tensor <paramref name="Tensor"/> is bytes <paramref name="Offset"/>.. of tensor <paramref name="Into"/>.</summary>
    public readonly record struct Alias(int Tensor, int Into, long Offset);

    /// <param name="m">the graph to plan (its nodes in execution order)</param>
    /// <param name="bytes">bytes of each tensor at the largest batch; ≤ 0 for tensors that need no arena space</param>
    /// <param name="aliases">tensors placed inside others (each at most once, no graph input; the outer one may lie inside
    /// a third: offsets add up)</param>
    public static Plan Build(Model m, long[] bytes, IReadOnlyList<Alias>? aliases = null)
    {
        int T = m.Tensors.Count;
        var first = new int[T]; var last = new int[T];
        Array.Fill(first, int.MaxValue); Array.Fill(last, -1);
        foreach (var i in m.Inputs) { first[i] = -1; last[i] = m.Nodes.Count; }   // the caller's inputs survive Run (run again, or read them back)
        for (int n = 0; n < m.Nodes.Count; n++)
        {
            foreach (var t in m.Nodes[n].Inputs) if (t >= 0) last[t] = Math.Max(last[t], n);
            foreach (var t in m.Nodes[n].Outputs) if (t >= 0) { first[t] = Math.Min(first[t], n); last[t] = Math.Max(last[t], n); }
        }
        foreach (var o in m.Outputs) last[o] = m.Nodes.Count;   // outputs live until the caller reads them
        var parent = Enumerable.Range(0, T).ToArray();   // the tensor whose bytes each one lies in (itself: its own)
        var delta = new long[T];   // at which byte of its parent's
        foreach (var a in aliases ?? [])
        {
            if (parent[a.Tensor] != a.Tensor || first[a.Tensor] < 0) throw new InvalidOperationException($"tensor {a.Tensor} placed twice, or a graph input");
            parent[a.Tensor] = a.Into; delta[a.Tensor] = a.Offset;
        }
        int Root(int t) { while (parent[t] != t) t = parent[t]; return t; }
        foreach (var n in m.Nodes)
            if (n.Op == OpType.Reshape && n.Inputs is [>= 0 and var x] && n.Outputs is [>= 0 and var y] && bytes[x] > 0 && bytes[y] == bytes[x] && first[Root(x)] >= 0 && parent[y] == y)   // not a graph input: the caller writes those
                parent[y] = x;
        var root = new int[T];
        var at = new long[T];   // byte of its root's
        for (int t = 0; t < T; t++)
        {
            root[t] = Root(t);
            for (int u = t; u != root[t]; u = parent[u]) at[t] += delta[u];
            first[root[t]] = Math.Min(first[root[t]], first[t]); last[root[t]] = Math.Max(last[root[t]], last[t]);
        }

        var order = Enumerable.Range(0, T).Where(t => root[t] == t && bytes[t] > 0 && first[t] != int.MaxValue).OrderByDescending(t => bytes[t]).ThenBy(t => t).ToArray();
        var offsets = new long[T];
        Array.Fill(offsets, -1);
        var placed = new List<int>();
        long arena = 0;
        foreach (var t in order)
        {
            long size = (bytes[t] + Alignment - 1) / Alignment * Alignment;
            var clashes = placed.Where(p => first[p] <= last[t] && first[t] <= last[p]).OrderBy(p => offsets[p]).ToList();
            long candidate = 0;
            foreach (var p in clashes)
            {
                long pEnd = offsets[p] + (bytes[p] + Alignment - 1) / Alignment * Alignment;
                if (candidate + size <= offsets[p]) break;
                candidate = Math.Max(candidate, pEnd);
            }
            offsets[t] = candidate;
            placed.Add(t);
            arena = Math.Max(arena, candidate + size);
        }
        for (int t = 0; t < T; t++) if (root[t] != t) offsets[t] = offsets[root[t]] + at[t];
        return new Plan(offsets, arena);
    }
}
