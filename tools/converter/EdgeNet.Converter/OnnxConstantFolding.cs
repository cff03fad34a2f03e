using EdgeNet.Converter.Onnx;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Converter;

// Constant folding, in two ways. (1) Integer and boolean logic over values known at conversion (Equal, Not, Where,
// Range, Size, comparisons, Cast, arithmetic with broadcasting) is evaluated here directly: shape subgraphs and If
// conditions are made of it, and it must stay exact for int64. (2) Any node a handler emitted whose inputs are all
// constant tensors (Slice/Concat/Transpose of weights, an elementwise op of a constant...) is run once by its own
// kernel, so the value is exactly what the runtime would compute, and becomes a constant.
public sealed partial class OnnxImporter
{
    /// <summary>Ops the converter only evaluates at conversion time when no runtime handler is registered for them.</summary>
    static readonly string[] FoldOnly = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Not", "Where", "Range", "Size"];

    /// <summary>A value known at conversion: integers exactly, floats as float32 values.</summary>
    sealed record Known(int[] Shape, long[]? I, float[]? F)
    {
        public int Length => I?.Length ?? F!.Length;
        public double this[int i] => I is { } a ? a[i] : F![i];
    }

    Known? KnownValue(string name)
    {
        if (name.Length == 0) return null;
        var v = Get(name);
        if (v.Tensor >= 0 || v.ZeroState || v.QTensor >= 0) return null;
        if (v.Floats is { } f) return new(v.Shape, null, f);
        if (v.Ints is { } s && s.All(x => x.IsConstant)) return new(v.Shape, s.Select(x => x.Coef).ToArray(), null);
        return null;
    }

    /// <summary>Evaluates an integer/boolean op over known values; false when it is not one or an input is computed.</summary>
    bool TryFold(NodeProto n)
    {
        if (n.OpType == "Size")
        {
            var shape = ShapeOfValue(n.Input[0]);
            Sym size = new(1, 0);
            foreach (var d in shape) size *= Sym.FromDim(d);
            SetConst(n, [], [size]);
            return true;
        }
        if (n.OpType is not ("Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "And" or "Or" or "Xor" or "Not" or "Where" or "Range" or "Cast"
            or "Add" or "Sub" or "Mul" or "Div" or "Mod" or "Max" or "Min" or "Neg" or "Abs")) return false;
        var inputs = n.Input.Select(KnownValue).ToArray();
        if (inputs.Length == 0 || inputs.Any(k => k is null)) return false;
        var x = inputs!;
        bool allInt = x.All(k => k!.I is not null);
        switch (n.OpType)
        {
            case "Cast":
            {
                var to = (TensorProto.Types.DataType)AttrI(n, "to", 1);
                var k = x[0]!;
                if (to is TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Float16)
                    SetConst(n, k.Shape, Enumerable.Range(0, k.Length).Select(i => (float)k[i]).ToArray());
                else if (to == TensorProto.Types.DataType.Bool) SetInts(n, k.Shape, i => k[i] != 0 ? 1 : 0, k.Length);
                else if (to is TensorProto.Types.DataType.String) return false;
                else SetInts(n, k.Shape, i => k.I is { } a ? a[i] : (long)Math.Truncate(k.F![i]), k.Length);
                return true;
            }
            case "Not": SetInts(n, x[0]!.Shape, i => x[0]![i] == 0 ? 1 : 0, x[0]!.Length); return true;
            case "Neg" or "Abs":
                if (!allInt) return false;   // float elementwise ops run their kernel (the generic fold)
                SetInts(n, x[0]!.Shape, i => n.OpType == "Neg" ? -x[0]!.I![i] : Math.Abs(x[0]!.I![i]), x[0]!.Length);
                return true;
            case "Range":
            {
                if (x.Length != 3 || x.Any(k => k!.Length != 1)) throw Error("start, limit and delta must be scalars");
                double start = x[0]![0], limit = x[1]![0], delta = x[2]![0];
                if (delta == 0) throw Error("delta is 0");
                double steps = Math.Max(Math.Ceiling((limit - start) / delta), 0);
                if (steps > ImportValue.MaxComputedElements) throw Error($"Range of {steps} values exceeds the {ImportValue.MaxComputedElements}-value limit of constants computed while converting");
                int count = (int)steps;
                if (allInt) SetInts(n, [count], i => x[0]!.I![0] + i * x[2]!.I![0], count);
                else SetConst(n, [count], Enumerable.Range(0, count).Select(i => (float)(start + i * delta)).ToArray());
                return true;
            }
            case "Where":
            {
                if (x.Length != 3) throw Error("Where takes 3 inputs");
                var (shape, index) = Broadcast(x.Select(k => k!.Shape).ToArray());
                int count = ImportValue.ComputedElements(shape);
                if (x[1]!.I is not null && x[2]!.I is not null) SetInts(n, shape, i => x[0]![index(0, i)] != 0 ? x[1]!.I![index(1, i)] : x[2]!.I![index(2, i)], count);
                else SetConst(n, shape, Enumerable.Range(0, count).Select(i => (float)(x[0]![index(0, i)] != 0 ? x[1]![index(1, i)] : x[2]![index(2, i)])).ToArray());
                return true;
            }
        }
        if (x.Length != 2) return false;
        bool logic = n.OpType is "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "And" or "Or" or "Xor";
        if (!logic && !allInt) return false;   // float arithmetic runs its kernel (the generic fold)
        var (outShape, at) = Broadcast([x[0]!.Shape, x[1]!.Shape]);
        int n2 = ImportValue.ComputedElements(outShape);
        bool fmod = AttrI(n, "fmod", 0) != 0;
        SetInts(n, outShape, i =>
        {
            if (allInt)
            {
                long a = x[0]!.I![at(0, i)], b = x[1]!.I![at(1, i)];
                return n.OpType switch
                {
                    "Equal" => a == b ? 1 : 0, "Less" => a < b ? 1 : 0, "Greater" => a > b ? 1 : 0,
                    "LessOrEqual" => a <= b ? 1 : 0, "GreaterOrEqual" => a >= b ? 1 : 0,
                    "And" => a != 0 && b != 0 ? 1 : 0, "Or" => a != 0 || b != 0 ? 1 : 0, "Xor" => (a != 0) != (b != 0) ? 1 : 0,
                    "Add" => a + b, "Sub" => a - b, "Mul" => a * b, "Max" => Math.Max(a, b), "Min" => Math.Min(a, b),
                    "Div" => b != 0 ? a / b : throw Error("integer division by zero"),
                    "Mod" => b == 0 ? throw Error("integer modulo by zero") : fmod ? a % b : ((a % b) + b) % b,
                    _ => throw Error($"cannot fold {n.OpType}"),
                };
            }
            double p = x[0]![at(0, i)], q = x[1]![at(1, i)];
            return n.OpType switch
            {
                "Equal" => p == q ? 1 : 0, "Less" => p < q ? 1 : 0, "Greater" => p > q ? 1 : 0,
                "LessOrEqual" => p <= q ? 1 : 0, "GreaterOrEqual" => p >= q ? 1 : 0,
                "And" => p != 0 && q != 0 ? 1 : 0, "Or" => p != 0 || q != 0 ? 1 : 0, _ => (p != 0) != (q != 0) ? 1 : 0,
            };
        }, n2);
        return true;
    }

    void SetInts(NodeProto n, int[] shape, Func<int, long> value, int count)
    {
        var r = new Sym[count];
        for (int i = 0; i < count; i++) r[i] = new Sym(value(i), 0);
        SetConst(n, shape, r);
    }

    /// <summary>NumPy broadcasting of constant shapes: the output shape and, per input, the flat index for an output index.</summary>
    (int[] shape, Func<int, int, int> index) Broadcast(int[][] shapes)
    {
        int rank = shapes.Max(s => s.Length);
        var outShape = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int size = 1;
            foreach (var s in shapes)
            {
                int k = d - (rank - s.Length);
                if (k < 0 || s[k] == 1) continue;
                if (size != 1 && s[k] != size) throw Error($"shapes {string.Join(" and ", shapes.Select(x => Format.Shape.Format(x)))} do not broadcast");
                size = s[k];
            }
            outShape[d] = size;
        }
        int Index(int input, int flat)
        {
            var s = shapes[input];
            int src = 0, stride = 1;
            for (int d = rank - 1; d >= 0; d--)
            {
                int coord = flat % outShape[d]; flat /= outShape[d];
                int k = d - (rank - s.Length);
                if (k < 0) continue;
                if (s[k] != 1) src += coord * stride;
                stride *= s[k];
            }
            return src;
        }
        return (outShape, Index);
    }

    /// <summary>Runs, once, every node emitted since <paramref name="first"/> whose inputs are all float32 constants, and
    /// makes its outputs constants (the node is dropped).</summary>
    void FoldEmitted(NodeProto n, int first)
    {
        for (int k = first; k < model.Nodes.Count; k++)
        {
            var node = model.Nodes[k];
            if (node.Inputs.Length == 0 || node.Inputs.Any(t => t >= 0 && !IsFoldable(model.Tensors[t], constant: true))) continue;
            if (node.Outputs.Any(t => t >= 0 && !IsFoldable(model.Tensors[t], constant: false))) continue;
            var outputs = Evaluate(node);
            if (outputs is null) continue;
            model.Nodes.RemoveAt(k--);
            for (int j = 0; j < node.Outputs.Length; j++)
            {
                int t = node.Outputs[j];
                if (t < 0) continue;
                var d = model.Tensors[t];
                model.Tensors[t] = new TensorDesc(d.Name, d.Type, d.Shape) { Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(outputs[j].AsSpan()).ToArray() };
                foreach (var name in n.Output)
                    if (name.Length > 0 && values.TryGetValue(name, out var v) && v.Tensor == t)
                        values[name] = new ImportValue { Shape = d.Shape, Floats = outputs[j] };
            }
        }
    }

    static bool IsFoldable(TensorDesc t, bool constant) =>
        t.Type == DataType.Float32 && t.Quant is null && t.IsShapeKnown && t.Shape.All(d => d >= 0)
        && t.Elements(1) <= ImportValue.MaxComputedElements && (!constant || t.IsConstant);

    /// <summary>The node's outputs computed by its reference kernel in a one-node model, or null where it cannot run alone.</summary>
    float[][]? Evaluate(Node node)
    {
        var m = new Model();
        var map = new Dictionary<int, int>();
        int Map(int t) { if (t < 0) return -1; if (!map.TryGetValue(t, out int r)) { r = m.AddTensor(model.Tensors[t]); map[t] = r; } return r; }
        m.Inputs.Add(m.AddTensor(new TensorDesc("constant-folding input", DataType.Float32, [1])));   // a model needs an input
        var copy = new Node(node.Op, node.Name, node.Inputs.Select(Map).ToArray(), node.Outputs.Select(Map).ToArray(), node.Attributes, node.Version);
        m.Nodes.Add(copy);
        foreach (var o in copy.Outputs) if (o >= 0) m.Outputs.Add(o);
        try
        {
            using var s = new Session(m, 1, KernelOptions.Default with { Reference = true });
            s.Run(1);
            var r = new float[node.Outputs.Length][];
            for (int j = 0, k = 0; j < node.Outputs.Length; j++)
                r[j] = node.Outputs[j] < 0 ? [] : s.Output(k++).ToArray();
            return r;
        }
        catch (Exception e) when (e is ModelFormatException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            return null;   // left to run at run time, where the same error (if any) is reported with the model
        }
    }
}
