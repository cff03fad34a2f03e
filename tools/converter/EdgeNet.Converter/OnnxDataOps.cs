using EdgeNet.Converter.Onnx;
using EdgeNet.Format;

namespace EdgeNet.Converter;

// Handlers of the data movement ops (Split, Tile, Trilu, GatherElements), If folding, and the helpers that emit the intermediate
// nodes a handler needs (Gemm's transposes, Expand's reshape, the 2-D softmax of opsets before 13).
public sealed partial class OnnxImporter
{
    static void RegisterDataHandlers(Dictionary<string, Handler> h, Dictionary<string, InputCount> minInputs)
    {
        h["Split"] = (im, n) => im.Split(n);
        h["Tile"] = (im, n) => im.Tile(n);
        h["Trilu"] = (im, n) => im.Trilu(n);
        h["GatherElements"] = (im, n) => im.GatherElements(n);
        h["If"] = (im, n) => im.If(n);
        h["Einsum"] = (im, n) => im.Einsum(n);
        h["CumSum"] = (im, n) => im.CumSum(n);
        h["ReduceLogSum"] = (im, n) => im.ReduceLogSum(n);
        minInputs["CumSum"] = 2;
        minInputs["Tile"] = 2; minInputs["GatherElements"] = 2;
    }

    /// <summary>CumSum (opset 11, 14): the axis a constant input; exclusive, reverse.</summary>
    void CumSum(NodeProto n)
    {
        var xs = ShapeOfValue(n.Input[0]);
        int axis = Axis(First(StaticInts(n.Input[1], "axis"), "axis"), xs.Length, "axis");
        Emit(OpType.CumSum, n, [Tensor(n.Input[0])], new Attributes().Set("axis", (long)axis)
            .Set("exclusive", AttrI(n, "exclusive", 0) != 0 ? 1L : 0L).Set("reverse", AttrI(n, "reverse", 0) != 0 ? 1L : 0L));
    }

    /// <summary>ReduceLogSum = Log(ReduceSum): the sum under a name of its own, then the Log as the node's output.</summary>
    void ReduceLogSum(NodeProto n)
    {
        var sum = n.Clone();
        sum.Output.Clear(); sum.Output.Add($"{n.Output[0]}#sum");
        sum.Name = $"{NodeName(n)}/sum";
        Reduce(sum, OpType.ReduceSum);
        Emit(OpType.Log, n, [Tensor(sum.Output[0])], new Attributes());
    }

    int ifDepth;

    /// <summary>If whose condition is known at conversion (a constant, or computed from inputs given with
    /// --input-value): the taken branch's initializers and nodes are imported in place and its outputs become the
    /// If's; the other branch is dropped. A condition computed at run time is refused.</summary>
    void If(NodeProto n)
    {
        var cond = Get(n.Input[0]);
        bool taken = cond switch
        {
            { Tensor: < 0, Ints: [{ IsConstant: true } c] } => c.Coef != 0,
            { Tensor: < 0, Floats: [var f] } => f != 0,
            _ => throw Error($"the condition '{n.Input[0]}' is computed at run time; only an If whose condition is known at conversion is supported"),
        };
        var branch = Attr(n, taken ? "then_branch" : "else_branch")?.G ?? throw Error($"no {(taken ? "then" : "else")}_branch graph");
        if (branch.Output.Count != n.Output.Count) throw Error($"the taken branch has {branch.Output.Count} outputs for the If's {n.Output.Count}");
        if (ifDepth >= 8) throw Error("If nested more than 8 deep");
        foreach (var t in branch.Initializer)
        {
            if (values.ContainsKey(t.Name)) throw Error($"initializer '{t.Name}' is defined twice");
            var dims = OnnxFile.Dims(t);
            values[t.Name] = OnnxFile.IsFloat(t)
                ? new ImportValue { Shape = dims, Floats = file.Floats(t) }
                : new ImportValue { Shape = dims, Ints = file.Ints(t).Select(v => new Sym(v, 0)).ToArray() };
        }
        CheckSupported(branch.Node, $" in the {(taken ? "then" : "else")} branch of If '{n.Name}'");
        ifDepth++;
        try { foreach (var node in branch.Node) ImportNode(node); }
        finally { ifDepth--; current = n; }
        for (int k = 0; k < n.Output.Count; k++)
            if (n.Output[k].Length > 0) values[n.Output[k]] = Get(branch.Output[k].Name);
    }

    /// <summary>Split into parts given by the split input (opset 13 on), the split attribute (before 13), num_outputs
    /// (opset 18 on: parts of ⌈L/n⌉, the last smaller), or else equal parts, one per output.</summary>
    void Split(NodeProto n)
    {
        var xs = ShapeOfValue(n.Input[0]);
        int axis = Axis(AttrI(n, "axis", 0), xs.Length, "axis");
        if (xs[axis] < 0) throw Error("splitting the batch axis is not supported");
        long len = xs[axis];
        int parts = n.Output.Count;
        long[] split;
        if (opset >= 13 && Has(n, 1)) split = StaticInts(n.Input[1], "split");
        else if (opset < 13 && Attr(n, "split") is not null) split = AttrInts(n, "split", []);
        else if (opset >= 18 && Attr(n, "num_outputs") is { } num)
        {
            if (num.I < 1 || num.I != parts) throw Error($"num_outputs {num.I} for {parts} outputs");
            long chunk = (len + num.I - 1) / num.I;
            split = Enumerable.Range(0, parts).Select(k => Math.Max(0, Math.Min(chunk, len - k * chunk))).ToArray();
        }
        else
        {
            if (len % parts != 0) throw Error($"axis {axis} of length {len} does not split into {parts} equal parts");
            split = Enumerable.Repeat(len / parts, parts).ToArray();
        }
        if (split.Length != parts) throw Error($"{split.Length} split lengths for {parts} outputs");
        if (split.Any(v => v < 0) || split.Sum() != len) throw Error($"split lengths [{string.Join(",", split)}] do not add up to {len}");
        var v = Get(n.Input[0]);
        if (v.Tensor < 0 && (v.Ints is not null || v.Floats is not null))
        {
            // a constant (shape arithmetic): split at conversion
            long outer = 1, inner = 1;
            for (int d = 0; d < axis; d++) outer *= xs[d];
            for (int d = axis + 1; d < xs.Length; d++) inner *= xs[d];
            long start = 0;
            for (int k = 0; k < parts; k++)
            {
                var shape = (int[])xs.Clone();
                shape[axis] = (int)split[k];
                long from = start, count = split[k] * inner;
                T[] Part<T>(T[] all) => Enumerable.Range(0, (int)outer).SelectMany(o => all.Skip((int)(o * len * inner + from)).Take((int)count)).ToArray();
                if (n.Output[k].Length > 0)
                    values[n.Output[k]] = v.Ints is { } ints ? new ImportValue { Shape = shape, Ints = Part(ints) } : new ImportValue { Shape = shape, Floats = Part(v.Floats!) };
                start += count;
            }
            return;
        }
        Emit(OpType.Split, n, [Tensor(n.Input[0])], new Attributes().Set("axis", (long)axis).Set("split", split), outputs: parts);
    }

    void Tile(NodeProto n)
    {
        var xs = ShapeOfValue(n.Input[0]);
        var repeats = StaticInts(n.Input[1], "repeats");
        if (repeats.Length != xs.Length) throw Error($"{repeats.Length} repeats for an input of rank {xs.Length}");
        if (repeats.Any(r => r < 0 || r > int.MaxValue)) throw Error($"repeats [{string.Join(",", repeats)}] out of range");
        Emit(OpType.Tile, n, [Tensor(n.Input[0])], new Attributes().Set("repeats", repeats));
    }

    /// <summary>Trilu (opset 14): upper, and the diagonal offset k as an optional constant input.</summary>
    void Trilu(NodeProto n)
    {
        long k = Has(n, 1) ? First(StaticInts(n.Input[1], "k"), "k") : 0;
        Emit(OpType.Trilu, n, [Tensor(n.Input[0])], new Attributes().Set("upper", AttrI(n, "upper", 1) != 0 ? 1L : 0L).Set("k", k));
    }

    void GatherElements(NodeProto n)
    {
        var xs = ShapeOfValue(n.Input[0]);
        var indices = StaticInts(n.Input[1], "indices");
        var shape = Get(n.Input[1]).Shape;
        int axis = Axis(AttrI(n, "axis", 0), xs.Length, "axis");
        Emit(OpType.GatherElements, n, [Tensor(n.Input[0])],
            new Attributes().Set("axis", (long)axis).Set("indices", indices).Set("indices_shape", shape.Select(d => (long)d).ToArray()));
    }

    /// <summary>Expand of a computed tensor: a Reshape to the target's rank (1s in front), then a Tile repeating each
    /// axis of size 1 to the target's size (NumPy broadcasting; a target dimension of 1 keeps the input's).</summary>
    void ExpandComputed(NodeProto n, Sym[] target)
    {
        var xs = ShapeOfValue(n.Input[0]);
        int r = Math.Max(xs.Length, target.Length);
        var padded = Enumerable.Repeat(1, r - xs.Length).Concat(xs).ToArray();
        var repeats = new long[r];
        for (int d = 0; d < r; d++)
        {
            int a = padded[d];
            Sym t = d - (r - target.Length) >= 0 ? target[d - (r - target.Length)] : new Sym(1, 0);
            if (t.IsConstant && t.Coef == 1) repeats[d] = 1;
            else if (a < 0 ? t == Sym.FromDim(a) : t.IsConstant && t.Coef == a) repeats[d] = 1;
            else if (a == 1 && t.IsConstant && t.Coef > 0 && t.Coef <= int.MaxValue) repeats[d] = t.Coef;
            else throw Error($"shape {Format.Shape.Format(xs)} does not expand to [{string.Join(",", target)}]");
        }
        int x = Tensor(n.Input[0]);
        if (r != xs.Length) x = Temp(n, "rank", OpType.Reshape, [x], shape: padded);
        if (repeats.All(v => v == 1)) { values[n.Output[0]] = new ImportValue { Tensor = x, Shape = padded }; return; }
        Emit(OpType.Tile, n, [x], new Attributes().Set("repeats", repeats));
    }

    /// <summary>
    /// Einsum of one or two operands without repeated letters in a term (no diagonals) or ellipses: a letter in only
    /// one operand and not in the output is summed first (ReduceSum); two operands become Transpose → Reshape →
    /// MatMul → Reshape → Transpose: A to [batch…, free A…, summed…], B to [batch…, summed…, free B…], the free and summed
    /// letters each merged into one axis, the batch letters (in A, B and the output) broadcast by the MatMul.
    /// The attention forms ("bhid,bhjd->bhij", "bhij,bhjd->bhid") are single MatMuls with a transpose.
    /// </summary>
    void Einsum(NodeProto n)
    {
        var eq = AttrS(n, "equation", "").Replace(" ", "", StringComparison.Ordinal);
        int arrow = eq.IndexOf("->", StringComparison.Ordinal);
        var terms = (arrow < 0 ? eq : eq[..arrow]).Split(',');
        if (terms.Length != n.Input.Count || terms.Length is < 1 or > 2) throw Error($"equation '{eq}' for {n.Input.Count} operands: one or two operands are supported");
        if (eq.Contains("...", StringComparison.Ordinal)) throw Error($"equation '{eq}': ellipses are not supported");
        // Implicit output: the letters that appear once, in alphabetical order.
        string output = arrow >= 0 ? eq[(arrow + 2)..] : new string(string.Concat(terms).GroupBy(c => c).Where(g => g.Count() == 1).Select(g => g.Key).Order().ToArray());
        foreach (var t in terms.Append(output))
            if (t.Any(c => !char.IsAsciiLetter(c)) || t.Distinct().Count() != t.Length) throw Error($"equation '{eq}': each term must name distinct letters (no diagonals)");
        if (output.Any(c => !terms.Any(t => t.Contains(c)))) throw Error($"equation '{eq}': an output letter names no input axis");
        var shapes = n.Input.Select(ShapeOfValue).ToArray();
        for (int i = 0; i < terms.Length; i++)
            if (terms[i].Length != shapes[i].Length) throw Error($"term '{terms[i]}' for an operand of rank {shapes[i].Length}");
        var inputs = new int[terms.Length];
        for (int i = 0; i < terms.Length; i++)
        {
            // Letters only this operand has and the output lacks: summed now.
            var term = terms[i];
            var alone = term.Where(c => !output.Contains(c) && !terms.Where((_, j) => j != i).Any(t => t.Contains(c))).ToArray();
            inputs[i] = Tensor(n.Input[i]);
            if (alone.Length > 0)
            {
                var axes = alone.Select(c => (long)term.IndexOf(c)).ToArray();
                inputs[i] = Temp(n, $"sum{i}", OpType.ReduceSum, [inputs[i]], new Attributes().Set("axes", axes).Set("keepdims", 0L));
                terms[i] = new string(term.Where(c => !alone.Contains(c)).ToArray());
                shapes[i] = model.Tensors[inputs[i]].Shape;
            }
        }
        if (terms.Length == 1)
        {
            var perm = output.Select(c => (long)terms[0].IndexOf(c)).ToArray();
            if (perm.Select((p, i) => p == i).All(x => x)) { values[n.Output[0]] = new ImportValue { Tensor = inputs[0], Shape = shapes[0] }; return; }
            Emit(OpType.Transpose, n, [inputs[0]], new Attributes().Set("perm", perm));
            return;
        }
        string a = terms[0], b = terms[1];
        var batch = output.Where(c => a.Contains(c) && b.Contains(c)).ToArray();
        var sum = a.Where(c => b.Contains(c) && !output.Contains(c)).ToArray();
        var freeA = a.Where(c => !b.Contains(c)).ToArray();
        var freeB = b.Where(c => !a.Contains(c)).ToArray();
        Sym Dim(char c) => Sym.FromDim(a.Contains(c) ? shapes[0][a.IndexOf(c)] : shapes[1][b.IndexOf(c)]);
        Sym Size(char[] letters) => letters.Aggregate(new Sym(1, 0), (acc, c) => acc * Dim(c));
        foreach (var c in sum)
            if (shapes[0][a.IndexOf(c)] != shapes[1][b.IndexOf(c)]) throw Error($"equation '{eq}': the summed letter '{c}' has sizes {shapes[0][a.IndexOf(c)]} and {shapes[1][b.IndexOf(c)]}");
        int Arrange(int x, string term, char[] order, char[] rows, char[] cols, string role)
        {
            var perm = order.Select(c => (long)term.IndexOf(c)).ToArray();
            if (!perm.Select((p, i) => p == i).All(v => v)) x = Temp(n, role + "T", OpType.Transpose, [x], new Attributes().Set("perm", perm));
            int[] target = [.. batch.Select(c => model.Tensors[x].Shape[Array.IndexOf(order, c)]), Size(rows).ToDim("Einsum"), Size(cols).ToDim("Einsum")];
            return target.SequenceEqual(model.Tensors[x].Shape) ? x : Temp(n, role + "2d", OpType.Reshape, [x], shape: target);
        }
        int am = Arrange(inputs[0], a, [.. batch, .. freeA, .. sum], freeA, sum, "A");
        int bm = Arrange(inputs[1], b, [.. batch, .. sum, .. freeB], sum, freeB, "B");
        int y = Temp(n, "AB", OpType.MatMul, [am, bm]);
        var yShape = model.Tensors[y].Shape;
        int[] full = [.. yShape[..batch.Length], .. freeA.Select(c => Dim(c).ToDim("Einsum")), .. freeB.Select(c => Dim(c).ToDim("Einsum"))];
        if (!full.SequenceEqual(yShape)) y = Temp(n, "split", OpType.Reshape, [y], shape: full);
        string have = string.Concat(batch.Concat(freeA).Concat(freeB));
        var outPerm = output.Select(c => (long)have.IndexOf(c)).ToArray();
        if (outPerm.Select((p, i) => p == i).All(v => v)) values[n.Output[0]] = new ImportValue { Tensor = y, Shape = model.Tensors[y].Shape };
        else Emit(OpType.Transpose, n, [y], new Attributes().Set("perm", outPerm));
    }

    /// <summary>Emits an intermediate node (its output named after node <paramref name="n"/>'s first output and
    /// <paramref name="role"/>) and returns its output tensor; a Reshape takes its template as <paramref name="shape"/>.</summary>
    int Temp(NodeProto n, string role, OpType op, int[] inputs, Attributes? attrs = null, int[]? shape = null)
    {
        var p = new NodeProto { Name = $"{NodeName(n)}/{role}", OpType = op.ToString() };
        p.Output.Add($"{n.Output[0]}#{role}");
        if (op == OpType.Reshape) EmitReshape(p, inputs[0], shape!);
        else Emit(op, p, inputs, attrs);
        return values[p.Output[0]].Tensor;
    }
}
