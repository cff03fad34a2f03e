using EdgeNet.Format;

namespace EdgeNet.Training;

/// <summary>
/// Where a tensor's values split by sample. In a tensor whose shape template has its batch dimension -k at
/// <see cref="Axis"/>, sample r is indices [r·k, (r+1)·k) along that axis: <see cref="Outer"/> blocks of
/// <see cref="Inner"/> values, the blocks of one sample N·Inner apart. A batch_first recurrent model's Transpose to
/// [T, N, I] gives Outer = T; a tensor with its batch first gives Outer = 1 (each sample one contiguous run).
/// </summary>
public readonly record struct BatchAxis(int Axis, int Outer, int Inner)
{
    /// <summary>Values of one sample.</summary>
    public int Sample => Outer * Inner;

    static BatchAxis? Of(int[] shape)
    {
        int axis = -1;
        for (int i = 0; i < shape.Length; i++)
            if (shape[i] < 0) { if (axis >= 0) return null; axis = i; }
        if (axis < 0) return null;
        int outer = 1, inner = -shape[axis];
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return new BatchAxis(axis, outer, inner);
    }

    /// <summary>
    /// The batch axis of every tensor the nodes compute from the model's input (which must hold its batch first), or
    /// no entry where it cannot be told: an op keeps each sample at its index along the batch axis, so the axis is
    /// where the output's template has its batch; a Reshape moves values between axes, so it is followed only where it
    /// adds or drops unit dimensions, or where each sample is one contiguous run before and after.
    /// </summary>
    public static Dictionary<int, BatchAxis> Track(Model m, IEnumerable<Node> nodes)
    {
        var axes = new Dictionary<int, BatchAxis>();
        if (Of(m.Tensors[m.Inputs[0]].Shape) is { Outer: 1 } input) axes[m.Inputs[0]] = input;
        foreach (var n in nodes)
        {
            var batched = n.Inputs.Where(t => t >= 0 && Shape.HasBatch(m.Tensors[t].Shape)).ToArray();
            if (batched.Length == 0 || !batched.All(axes.ContainsKey)) continue;
            foreach (var o in n.Outputs)
            {
                if (o < 0 || Of(m.Tensors[o].Shape) is not { } y) continue;
                if (n.Op == OpType.Reshape)
                {
                    var x = axes[n.Inputs[0]];
                    bool unitDimsOnly = m.Tensors[n.Inputs[0]].Shape.Where(d => d != 1).SequenceEqual(m.Tensors[o].Shape.Where(d => d != 1));
                    if (!unitDimsOnly && (x.Outer != 1 || y.Outer != 1)) continue;
                }
                axes[o] = y;
            }
        }
        return axes;
    }

    /// <summary>Copies the samples of a batch of <paramref name="n"/> (laid out along this axis) to rows [n, Sample].</summary>
    public void ToRows(ReadOnlySpan<float> batch, int n, Span<float> rows)
    {
        for (int o = 0; o < Outer; o++)
            for (int r = 0; r < n; r++)
                batch.Slice((o * n + r) * Inner, Inner).CopyTo(rows.Slice(r * Sample + o * Inner, Inner));
    }

    /// <summary>Lays out the rows picked by <paramref name="pick"/> as one batch along this axis.</summary>
    public void FromRows(ReadOnlySpan<float> rows, ReadOnlySpan<int> pick, Span<float> batch)
    {
        int n = pick.Length;
        for (int k = 0; k < n; k++)
            for (int o = 0; o < Outer; o++)
                rows.Slice(pick[k] * Sample + o * Inner, Inner).CopyTo(batch.Slice((o * n + k) * Inner, Inner));
    }
}
