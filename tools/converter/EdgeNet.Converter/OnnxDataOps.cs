using EdgeNet.Converter.Onnx;
using EdgeNet.Format;

namespace EdgeNet.Converter;

// Handlers of the data movement ops (Split, Tile, Trilu, GatherElements) and the helpers that emit the intermediate
// nodes a handler needs (Gemm's transposes, Expand's reshape, the 2-D softmax of opsets before 13).
public sealed partial class OnnxImporter
{
    static void RegisterDataHandlers(Dictionary<string, Handler> h, Dictionary<string, int> minInputs)
    {
        h["Split"] = (im, n) => im.Split(n);
        h["Tile"] = (im, n) => im.Tile(n);
        h["Trilu"] = (im, n) => im.Trilu(n);
        h["GatherElements"] = (im, n) => im.GatherElements(n);
        minInputs["Tile"] = 2; minInputs["GatherElements"] = 2;
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
