using EdgeNet.Converter.Onnx;
using EdgeNet.Format;

namespace EdgeNet.Converter;

/// <summary>Handlers of the ops on any element type: comparisons and logic (bool outputs), Where, Not, Cast of a computed tensor.</summary>
public sealed partial class OnnxImporter
{
    static void RegisterTypedHandlers(Dictionary<string, Handler> h)
    {
        foreach (var op in new[] { OpType.Equal, OpType.Greater, OpType.GreaterOrEqual, OpType.Less, OpType.LessOrEqual, OpType.And, OpType.Or, OpType.Xor, OpType.Where })
            h[op.ToString()] = (im, n) => im.Emit(op, n, im.TypedOperands(n));
        h["Not"] = (im, n) => im.Emit(OpType.Not, n, [im.Tensor(n.Input[0])]);
        h["ArgMax"] = (im, n) => im.Arg(n, OpType.ArgMax);
        h["ArgMin"] = (im, n) => im.Arg(n, OpType.ArgMin);
        h["TopK"] = (im, n) => im.TopK(n);
    }

    void Arg(NodeProto n, OpType op) => Emit(op, n, [Tensor(n.Input[0])], new Attributes()
        .Set("axis", AttrI(n, "axis", 0)).Set("keepdims", AttrI(n, "keepdims", 1)).Set("select_last_index", AttrI(n, "select_last_index", 0)));

    /// <summary>TopK: k from the attribute (opset 1) or a constant input (opset 10 on); sorted = 0 still sorts.</summary>
    void TopK(NodeProto n)
    {
        long k = Has(n, 1) ? First(StaticInts(n.Input[1], "K"), "K") : AttrI(n, "k", -1);
        Emit(OpType.TopK, n, [Tensor(n.Input[0])], new Attributes().Set("k", k).Set("axis", AttrI(n, "axis", -1)).Set("largest", AttrI(n, "largest", 1)), outputs: 2);
    }

    /// <summary>A graph output whose value is known at conversion (Shape, Size of fixed shapes): a node copies the
    /// folded value into it, in the output's declared element type.</summary>
    ImportValue ConstantOutput(ValueInfoProto o, ImportValue v)
    {
        var type = OnnxTypes.Element(o.Type?.TensorType?.ElemType ?? 0) ?? (v.Floats is not null ? DataType.Float32 : DataType.Int64);
        byte[] bytes;
        if (type == DataType.Float32)
            bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes((v.Floats ?? v.Ints!.Select(s => (float)s.Coef).ToArray()).AsSpan()).ToArray();
        else
        {
            var ints = v.Ints?.Select(s => s.IsConstant ? s.Coef : throw Error($"graph output '{o.Name}' depends on the batch")).ToArray()
                ?? v.Floats!.Select(f => (long)f).ToArray();
            int size = DataTypes.SizeOf(type);
            bytes = new byte[ints.Length * size];
            for (int i = 0; i < ints.Length; i++)
                for (int b = 0; b < size; b++) bytes[i * size + b] = (byte)(ints[i] >> (8 * b));
        }
        int c = model.AddTensor(new TensorDesc(UniqueName(o.Name + "/value"), type, v.Shape) { Data = bytes });
        var copy = new NodeProto { Name = $"{o.Name}/value", OpType = "Identity" };
        copy.Input.Add(o.Name); copy.Output.Add(o.Name + "/value");
        EmitReshape(copy, c, v.Shape);
        return Get(copy.Output[0]);
    }

    /// <summary>
    /// The node's inputs as runtime tensors, a constant taking the element type of the computed operands (an int64
    /// id compared with an integer initializer stays int64; ONNX requires the operands of these ops to agree). Where's
    /// condition is bool whatever X and Y are.
    /// </summary>
    int[] TypedOperands(NodeProto n)
    {
        int first = n.OpType == "Where" ? 1 : 0;
        DataType? type = null;
        for (int i = first; i < n.Input.Count && type is null; i++)
            if (Get(n.Input[i]) is { Tensor: >= 0 } v) type = model.Tensors[v.Tensor].Type;
        return n.Input.Select((name, i) => TypedTensor(name, i < first ? DataType.Bool : type)).ToArray();
    }

    /// <summary>The runtime tensor for a value; a constant not yet materialized becomes one of <paramref name="type"/>
    /// (integer constants of a float type, and float constants of an integer type, stay refused by the kernel).</summary>
    int TypedTensor(string name, DataType? type)
    {
        var v = Get(name);
        if (v.Tensor >= 0 || v.QTensor >= 0 || type is null or DataType.Float32 || v.Ints is not { } ints) return Tensor(name);
        var values = ints.Select(s => s.IsConstant ? s.Coef : throw Error($"'{name}' depends on the batch")).ToArray();
        int size = DataTypes.SizeOf(type.Value);
        var bytes = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
            for (int k = 0; k < size; k++) bytes[i * size + k] = (byte)(values[i] >> (8 * k));
        v.Tensor = model.AddTensor(new TensorDesc(UniqueName(name), type.Value, v.Shape) { Data = bytes });
        return v.Tensor;
    }

    /// <summary>Cast of a computed tensor: nothing when the type stays, else a Cast node.</summary>
    void CastComputed(NodeProto n, ImportValue v, TensorProto.Types.DataType to)
    {
        var target = OnnxTypes.Element((int)to) ?? throw Error($"casting to {to} is not supported (EdgeNet holds float32, int64, int32, bool, int8 and uint8)");
        int x = Tensor(n.Input[0]);
        if (model.Tensors[x].Type == target) { values[n.Output[0]] = v; return; }
        Emit(OpType.Cast, n, [x], new Attributes().Set("to", (long)target));
    }
}
