using EdgeNet.Format;
using EdgeNet.Kernels;

namespace EdgeNet.Engine;

/// <summary>
/// Concat without the copy, input by input, two ways (an input that fits neither is copied by the Concat as before):
/// - Contiguous blocks: a float Concat whose axis has only dimensions of 1 before it (at the session's largest batch:
///   YOLOv5's [1, 6300, 85] from its three levels, an NCHW channel Concat at batch 1) holds each input as one block at
///   its offset, so the input's producer (any kernel; through Reshapes, which copy nothing) writes it there.
/// - Strided, channels-last along the last axis (SqueezeNet's fire modules, Inception-style branches): a conv whose
///   kernel can store its pixels further apart (<see cref="ConvNhwcKernel.OutputStride"/>) writes its OC channels
///   into the Concat's wider pixels.
/// - Rows, along any axis with fixed dimensions from it on: a producer that can write its output as rows further apart
///   (<see cref="IWritesRows"/>: a Split's output, whose blocks are the Concat's rows, as YOLOv5's head Split → Concat
///   and YOLOv8's C2f; a same-shape Add/Sub/Mul/Div, as a C3 block's residual Add; a float NCHW ↔ NHWC Transpose, as
///   YOLOv8's head) writes each row at its place, also through Reshapes (they keep the packed order). The rows' pitch
///   does not move with the batch, so this holds at any batch.
/// Either way the input must be read by the Concat alone (through its Reshapes), not be a graph input or output, and
/// not be given twice; the memory planner then places it inside the Concat's output (<see cref="MemoryPlanner.Alias"/>),
/// whose lifetime starts at the first such producer. Same bits: the producers compute the same values, only their
/// stores land elsewhere.
/// </summary>
internal static class ConcatInPlace
{
    /// <summary>Marks the Concats and convs of <paramref name="kernels"/> (the plan <paramref name="m"/>'s, in its order,
    /// for batches up to <paramref name="maxBatch"/>) that can work in place, and returns where each such input lies
    /// in its Concat's output.</summary>
    public static List<MemoryPlanner.Alias> Run(Model m, Kernel[] kernels, int maxBatch)
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
        foreach (var t in m.Outputs) readers[t]++;   // the caller reads a graph output as it is
        foreach (var t in m.Inputs) producer[t] = -1;
        bool Alone(int t) => t >= 0 && readers[t] == 1 && producer[t] >= 0 && m.Tensors[t].Type == DataType.Float32;
        // A Reshape keeps the packed order, so its input's rows are its output's: the rows' writer is back through
        // Reshapes whose input the Reshape alone reads (YOLOv8's head: to_nchw Transpose → Reshape → Concat).
        int RowWriter(int t)
        {
            while (m.Nodes[producer[t]] is { Op: OpType.Reshape, Inputs: [var x] } && Alone(x)) t = x;
            return t;
        }
        for (int n = 0; n < kernels.Length; n++)
        {
            if (kernels[n] is not ConcatKernel concat || concat.Node.Inputs.Length < 2) continue;
            var inputs = concat.Node.Inputs;
            var y = m.Tensors[concat.Node.Outputs[0]].Shape;
            long outer = 1;
            for (int d = 0; d < concat.Axis; d++) outer *= Shape.Resolve(y[d], maxBatch);
            // Blocks at fixed offsets: only where no dimension moves with the batch (or the batch is always 1).
            if (outer == 1 && Shape.HasBatch(y) && maxBatch > 1) outer = 0;
            bool strided = concat.Axis == y.Length - 1 && y.Length >= 2;
            // Rows: the output's dimensions from the axis on are fixed, so an input's row (its part of one outer index)
            // and the output's row (its pitch) are the same at every batch.
            long inner = 1;
            bool rows = true;
            for (int d = concat.Axis; d < y.Length; d++) rows &= y[d] > 0;
            for (int d = concat.Axis + 1; d < y.Length && rows; d++) inner *= y[d];
            long pitch = rows ? y[concat.Axis] * inner : 0;
            if (outer != 1 && !strided && !rows) continue;
            var inPlace = new bool[inputs.Length];
            long offset = 0;   // elements before input j in one outer row of the output
            for (int j = 0; j < inputs.Length; j++)
            {
                int t = inputs[j];
                long width = outer == 1 ? m.Tensors[t].Elements(maxBatch) : (long)m.Tensors[t].Shape[concat.Axis] * inner;
                if (Alone(t) && Array.IndexOf(inputs, t) == j && Array.LastIndexOf(inputs, t) == j)
                {
                    if (outer == 1)
                    {
                        // The block's first writer: back through Reshapes whose input the Reshape alone reads.
                        aliases.Add(new(RowWriter(t), concat.Node.Outputs[0], offset * sizeof(float)));
                        inPlace[j] = true;
                    }
                    else if (strided && kernels[producer[t]] is ConvNhwcKernel { WritesStrided: true } c && c.Node.Outputs[0] == t)
                    {
                        c.OutputStride = y[^1];
                        aliases.Add(new(t, concat.Node.Outputs[0], offset * sizeof(float)));
                        inPlace[j] = true;
                    }
                    else if (rows && RowWriter(t) is var w && kernels[producer[w]] is IWritesRows rw && rw.TryWriteRows(m, w, width, pitch))
                    {
                        aliases.Add(new(w, concat.Node.Outputs[0], offset * sizeof(float)));
                        inPlace[j] = true;
                    }
                }
                offset += width;
            }
            concat.InPlace = inPlace;
        }
        return aliases;
    }
}

/// <summary>A kernel that can write an output as rows further apart than their width (inside a Concat's wider rows,
/// <see cref="ConcatInPlace"/>), with the bits it writes packed.</summary>
internal interface IWritesRows
{
    /// <summary>If output tensor <paramref name="output"/> can be written as rows of <paramref name="width"/> elements
    /// (in its packed order) <paramref name="stride"/> elements apart, at every batch: from now on it is, and true.</summary>
    bool TryWriteRows(Model m, int output, long width, long stride);
}
