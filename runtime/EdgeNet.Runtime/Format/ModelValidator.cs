namespace EdgeNet.Format;

/// <summary>
/// Structural checks run on every load and every save: indices in range, shapes that cannot overflow, constants whose
/// bytes match their shape, operator arity, and a graph in execution order (every input defined before use, so
/// cycles and self-references are impossible). Kernels check their own attributes when they are prepared.
/// </summary>
public static class ModelValidator
{
    /// <summary>The most elements a tensor may have at batch 1.</summary>
    public const long MaxElements = 1L << 31;
    /// <summary>The largest batch multiple a dimension may declare, and the largest batch a session may be planned for.</summary>
    public const int MaxBatchFactor = 1 << 20;

    /// <summary>The structural checks above; <see cref="ModelFile"/> runs them on every load and save.</summary>
    /// <exception cref="ModelFormatException">The first problem found, naming the tensor or node.</exception>
    public static void Validate(Model m)
    {
        int T = m.Tensors.Count;
        for (int i = 0; i < T; i++) CheckTensor(m.Tensors[i]);

        var defined = new bool[T];
        for (int i = 0; i < T; i++) defined[i] = m.Tensors[i].IsConstant;
        if (m.Inputs.Count == 0) throw new ModelFormatException("the graph has no inputs");
        if (m.Outputs.Count == 0) throw new ModelFormatException("the graph has no outputs");
        foreach (var i in m.Inputs)
        {
            CheckIndex(i, T, "graph input");
            if (m.Tensors[i].IsConstant) throw new ModelFormatException($"graph input '{m.Tensors[i].Name}' is a constant");
            if (defined[i]) throw new ModelFormatException($"graph input '{m.Tensors[i].Name}' is listed twice");
            defined[i] = true;
        }
        foreach (var node in m.Nodes)
        {
            var info = Engine.OpTable.Find(node.Op) ?? throw new ModelFormatException($"node '{node.Name}': unknown op code {(int)node.Op}");
            var a = (minIn: info.Inputs.Min, maxIn: info.Inputs.Max, minOut: info.Outputs.Min, maxOut: info.Outputs.Max);
            if (node.Inputs.Length < a.minIn || node.Inputs.Length > a.maxIn || node.Outputs.Length < a.minOut || node.Outputs.Length > a.maxOut)
                throw new ModelFormatException($"node '{node.Name}' ({node.Op}): {node.Inputs.Length} inputs and {node.Outputs.Length} outputs; expects {a.minIn}..{a.maxIn} and {a.minOut}..{a.maxOut}");
            CheckInt32Attributes(node);
            for (int k = 0; k < node.Inputs.Length; k++)
            {
                int t = node.Inputs[k];
                if (t == -1 && k >= a.minIn) continue;   // absent optional input
                CheckIndex(t, T, $"node '{node.Name}' input {k}");
                if (!defined[t]) throw new ModelFormatException($"node '{node.Name}' reads '{m.Tensors[t].Name}' before any node writes it (graph not in execution order, or a cycle)");
            }
            for (int k = 0; k < node.Outputs.Length; k++)
            {
                int t = node.Outputs[k];
                if (t == -1 && k >= a.minOut) continue;   // absent optional output
                CheckIndex(t, T, $"node '{node.Name}' output");
                if (defined[t]) throw new ModelFormatException($"node '{node.Name}' writes '{m.Tensors[t].Name}', which is already defined (a constant, an input, or another node's output)");
                defined[t] = true;
            }
        }
        foreach (var o in m.Outputs)
        {
            CheckIndex(o, T, "graph output");
            if (!defined[o] || m.Tensors[o].IsConstant) throw new ModelFormatException($"graph output '{m.Tensors[o].Name}' is never computed");
        }
    }

    /// <summary>One class label per value of the first output (run where labels are given: conversion, the service):
    /// labels that do not match would name the wrong classes, or hide some from the softmax.</summary>
    public static void CheckClassLabels(Model m)
    {
        if (m.Metadata.ClassLabels.Length > 0 && m.Tensors[m.Outputs[0]] is { Shape.Length: > 0 } first && first.Elements(1) != m.Metadata.ClassLabels.Length)
            throw new ModelFormatException($"{m.Metadata.ClassLabels.Length} class labels for output '{first.Name}' of {first.Elements(1)} values per sample");
    }

    /// <summary>Attributes that are axes, sizes, counts or indices: kernels read them as int, so a value past int32
    /// (a hand-made file's group 2^32+1, axis 2^40) is refused here instead of cut to 1 or 0 by a cast. Slice's
    /// starts/ends/steps stay int64 (ONNX clamps them).</summary>
    static readonly HashSet<string> Int32Attributes = ["axis", "group", "hidden_size", "layout", "num_groups", "kernel_shape", "strides",
        "pads", "dilations", "output_padding", "perm", "indices", "indices_shape", "repeats", "split", "axes", "size", "sizes", "to"];

    static void CheckInt32Attributes(Node node)
    {
        foreach (var (name, v) in node.Attributes.All)
        {
            if (!Int32Attributes.Contains(name)) continue;
            long[] values = v.Kind switch { AttrKind.Int => [v.Int], AttrKind.Ints => v.Ints!, _ => [] };
            foreach (long x in values)
                if (x is < int.MinValue or > int.MaxValue)
                    throw new ModelFormatException($"node '{node.Name}' ({node.Op}): attribute '{name}' = {x} is out of range (it must fit 32 bits)");
        }
    }

    static void CheckIndex(int i, int count, string what)
    {
        if ((uint)i >= (uint)count) throw new ModelFormatException($"{what}: tensor index {i} is out of range (0..{count - 1})");
    }

    static void CheckTensor(TensorDesc t)
    {
        long n = 1;
        foreach (var d in t.Shape)
        {
            if (d < -MaxBatchFactor) throw new ModelFormatException($"tensor '{t.Name}': dimension {d} is out of range");
            n *= Math.Max(1, Math.Abs((long)d));
            if (d == 0) n = 0;
            if (n > MaxElements) throw new ModelFormatException($"tensor '{t.Name}': shape {Shape.Format(t.Shape)} has more than {MaxElements} elements");
        }
        if (t.Data is { } data)
        {
            if (Shape.HasBatch(t.Shape)) throw new ModelFormatException($"constant '{t.Name}' has a batch dimension");
            long expect = n * DataTypes.SizeOf(t.Type);
            if (data.Length != expect) throw new ModelFormatException($"constant '{t.Name}': {data.Length} bytes of data for shape {Shape.Format(t.Shape)} {t.Type} ({expect} expected)");
        }
        if (t.Quant is { } q)
        {
            if (q.Scale.Length != q.ZeroPoint.Length) throw new ModelFormatException($"tensor '{t.Name}': {q.Scale.Length} scales but {q.ZeroPoint.Length} zero points");
            // Per channel: one scale per index of dims 0..axis (a recurrent weight [D, G·H, I] has D·G·H rows along axis 1).
            long rows = 1;
            if (q.Axis >= 0 && q.Axis < t.Shape.Length) for (int d = 0; d <= q.Axis; d++) rows *= Math.Max(0, t.Shape[d]);
            if (q.Scale.Length != 1 && (q.Axis < 0 || q.Axis >= t.Shape.Length || rows != q.Scale.Length))
                throw new ModelFormatException($"tensor '{t.Name}': {q.Scale.Length} per-channel scales do not match axis {q.Axis} of {Shape.Format(t.Shape)}");
            foreach (var s in q.Scale) if (!(s > 0) || !float.IsFinite(s)) throw new ModelFormatException($"tensor '{t.Name}': quantization scale {s} is not a positive finite number");
        }
    }
}
