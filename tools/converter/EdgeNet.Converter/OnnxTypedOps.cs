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
