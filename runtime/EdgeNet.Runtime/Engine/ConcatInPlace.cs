using EdgeNet.Format;
using EdgeNet.Kernels;

namespace EdgeNet.Engine;

/// <summary>
/// A channels-last Concat along its last axis (SqueezeNet's fire modules, Inception-style branches, DenseNet) whose
/// every input is a conv's output that the Concat alone reads: each conv writes its pixels straight into the Concat's
/// output, OC channels at their offset in pixels of the Concat's width (<see cref="ConvNhwcKernel.OutputStride"/>), and
/// the Concat copies nothing. The memory planner places each input inside the output (<see cref="MemoryPlanner.Alias"/>),
/// whose lifetime then starts at the first conv. Any condition unmet (an input read by another node or a graph output,
/// an input twice, a conv whose kernel has an epilogue pass or no strided store, another producer): the Concat copies,
/// as before. Same bits: each conv computes the same values, only its stores land elsewhere.
/// </summary>
internal static class ConcatInPlace
{
    /// <summary>Marks the Concats and convs of <paramref name="kernels"/> (the plan <paramref name="m"/>'s, in its order)
    /// that can work in place, and returns where each such conv's output lies in its Concat's.</summary>
    public static List<MemoryPlanner.Alias> Run(Model m, Kernel[] kernels)
    {
        var aliases = new List<MemoryPlanner.Alias>();
        var producer = new int[m.Tensors.Count];
        var readers = new int[m.Tensors.Count];
        Array.Fill(producer, -1);
        for (int n = 0; n < m.Nodes.Count; n++)
        {
            foreach (var t in m.Nodes[n].Inputs) if (t >= 0) readers[t]++;
            foreach (var t in m.Nodes[n].Outputs) if (t >= 0) producer[t] = n;
        }
        foreach (var t in m.Outputs) readers[t]++;   // the caller reads a graph output densely
        for (int n = 0; n < kernels.Length; n++)
        {
            if (kernels[n] is not ConcatKernel concat || concat.Node.Inputs.Length < 2) continue;
            var y = m.Tensors[concat.Node.Outputs[0]];
            int rank = y.Shape.Length, width = y.Shape[^1];
            if (concat.Axis != rank - 1 || rank < 2) continue;
            var convs = new List<ConvNhwcKernel>();
            foreach (var t in concat.Node.Inputs)
                if (t >= 0 && readers[t] == 1 && producer[t] >= 0 && kernels[producer[t]] is ConvNhwcKernel { WritesStrided: true } c && c.Node.Outputs[0] == t)
                    convs.Add(c);
            if (convs.Count != concat.Node.Inputs.Length) continue;
            long offset = 0;
            foreach (var c in convs)
            {
                c.OutputStride = width;
                aliases.Add(new(c.Node.Outputs[0], concat.Node.Outputs[0], offset * sizeof(float)));
                offset += m.Tensors[c.Node.Outputs[0]].Shape[^1];
            }
            concat.InPlace = true;
        }
        return aliases;
    }
}
