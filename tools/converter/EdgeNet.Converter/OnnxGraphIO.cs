using EdgeNet.Converter.Onnx;
using EdgeNet.Format;
using Dim = EdgeNet.Converter.Onnx.TensorShapeProto.Types.Dimension;
using OnnxType = EdgeNet.Converter.Onnx.TensorProto.Types.DataType;

namespace EdgeNet.Converter;

// The graph's boundary: every input with its name, type and a concrete shape; every output under its ONNX name; and
// the one message that lists every op the converter lacks.
public sealed partial class OnnxImporter
{
    /// <summary>Graph inputs (initializers listed as inputs, IR &lt; 4, are constants already). A symbolic first
    /// dimension is the batch; any other symbolic dimension needs `--input-shape`.</summary>
    void ImportInputs(GraphProto g)
    {
        var graphInputs = g.Input.Where(i => !values.ContainsKey(i.Name)).Select(i => i.Name).ToArray();
        foreach (var name in options.InputShapes.Keys.Concat(options.InputValues.Keys))
            if (!graphInputs.Contains(name))
                throw new UsageException($"'{name}' is not a graph input of this model; its inputs are {string.Join(", ", graphInputs.Select(n => $"'{n}'"))}");
        foreach (var input in g.Input)
        {
            if (values.ContainsKey(input.Name)) continue;   // an initializer listed as an input (older exporters)
            var tt = input.Type?.TensorType ?? throw new ModelFormatException($"graph input '{input.Name}' is not a tensor") { Unsupported = true };
            var type = OnnxTypes.Element(tt.ElemType) ?? throw new ModelFormatException($"graph input '{input.Name}' is {(OnnxType)tt.ElemType}; EdgeNet takes float32, int64, int32, bool, int8 and uint8 inputs") { Unsupported = true };
            var shape = InputShape(input.Name, tt.Shape);
            int ti = model.AddTensor(new TensorDesc(input.Name, type, shape));
            model.Inputs.Add(ti);
            if (options.InputValues.TryGetValue(input.Name, out var given))
            {
                // Known at conversion: later nodes fold it as a constant; the input stays so callers feed it as before.
                if (shape.Any(d => d < 0)) throw new UsageException($"--input-value {input.Name}: the input's shape {Format.Shape.Format(shape)} has a batch; give it a concrete --input-shape");
                if (given.Length != Elements(shape)) throw new UsageException($"--input-value {input.Name}: {given.Length} values for shape {Format.Shape.Format(shape)}");
                values[input.Name] = type == DataType.Float32
                    ? new ImportValue { Shape = shape, Floats = given.Select(v => (float)v).ToArray() }
                    : new ImportValue { Shape = shape, Ints = given.Select(v => v == Math.Floor(v) ? new Sym((long)v, 0) : throw new UsageException($"--input-value {input.Name}: {v} is not an integer ({type})")).ToArray() };
                model.Metadata.Properties[$"input.{input.Name}.value"] = string.Join(",", given.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
            else values[input.Name] = new ImportValue { Shape = shape, Tensor = ti };
        }
    }

    /// <summary>The input's shape: the file's dims with `--input-shape` in place of symbolic ones (and checked against fixed ones).</summary>
    int[] InputShape(string name, TensorShapeProto? declared)
    {
        var dims = declared?.Dim;
        options.InputShapes.TryGetValue(name, out var given);
        if (dims is null && given is null) throw new ModelFormatException($"graph input '{name}' has no shape; give it with --input-shape {name}=d0,d1,...") { Unsupported = true };
        if (dims is not null && given is not null && given.Length != dims.Count)
            throw new UsageException($"--input-shape {name}: {given.Length} dimensions; the model's input has {dims.Count} ({Describe(dims)})");
        int rank = given?.Length ?? dims!.Count;
        var shape = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            Dim? d = dims?[i];
            bool symbolic = d is null || d.ValueCase != Dim.ValueOneofCase.DimValue || d.DimValue < 0;
            if (d is { ValueCase: Dim.ValueOneofCase.DimValue, DimValue: 0 })
                throw new ModelFormatException($"graph input '{name}': dimension {i} is 0; zero-size tensors are not supported") { Unsupported = true };
            if (!symbolic && d!.DimValue > int.MaxValue) throw new ModelFormatException($"graph input '{name}': dimension {d.DimValue} is too large");
            if (given is not null)
            {
                if (given[i] < 0 && i != 0) throw new UsageException($"--input-shape {name}: only the first dimension may be N (the batch)");
                if (!symbolic && given[i] >= 0 && given[i] != d!.DimValue)
                    throw new UsageException($"--input-shape {name}: dimension {i} is {given[i]}, but the model fixes it at {d.DimValue} ({Describe(dims!)})");
                if (!symbolic && given[i] < 0) throw new UsageException($"--input-shape {name}: dimension 0 is fixed at {d!.DimValue} in the model; it cannot be N");
                shape[i] = given[i];
            }
            else if (symbolic && i != 0)
                throw new ModelFormatException($"graph input '{name}': dimension {i} ('{d!.DimParam}') is symbolic ({Describe(dims!)}); make it concrete with --input-shape {name}={string.Join(",", dims!.Select((x, k) => k == 0 && x.ValueCase != Dim.ValueOneofCase.DimValue ? "N" : x.ValueCase == Dim.ValueOneofCase.DimValue && x.DimValue > 0 ? x.DimValue.ToString() : "?"))}") { Unsupported = true };
            else shape[i] = symbolic ? -1 : (int)d!.DimValue;
        }
        return shape;
    }

    static string Describe(IEnumerable<Dim> dims) =>
        "[" + string.Join(",", dims.Select(x => x.ValueCase == Dim.ValueOneofCase.DimValue ? x.DimValue.ToString() : x.DimParam.Length > 0 ? x.DimParam : "?")) + "]";

    /// <summary>Every graph output, in order, as a tensor named as in the ONNX file (a copy where one tensor would be two
    /// outputs, or an output is a graph input).</summary>
    void ImportOutputs(GraphProto g)
    {
        foreach (var o in g.Output)
        {
            if (!values.TryGetValue(o.Name, out var v)) throw new ModelFormatException($"graph output '{o.Name}' is not computed by any node");
            if (v.Tensor < 0 && v.QTensor >= 0) DequantizeOnDemand(o.Name, v);
            if (v.Tensor < 0 && v.IsConstant) v = ConstantOutput(o, v);   // folded at conversion (Shape, Size): a node writes it
            if (v.IsConstant || v.Tensor < 0) throw new ModelFormatException($"graph output '{o.Name}' is a constant; nothing to compute") { Unsupported = true };
            int t = v.Tensor;
            if (model.Outputs.Contains(t) || model.Inputs.Contains(t))
            {
                var copy = new NodeProto { Name = $"{o.Name}/copy", OpType = "Identity" };
                copy.Input.Add(o.Name); copy.Output.Add(o.Name + "/copy");
                EmitReshape(copy, t, model.Tensors[t].Shape);
                t = Get(copy.Output[0]).Tensor;
            }
            Rename(t, o.Name);
            model.Outputs.Add(t);
        }
    }

    /// <summary>Gives tensor <paramref name="t"/> the name <paramref name="name"/>; a tensor that has it already is renamed.</summary>
    void Rename(int t, string name)
    {
        if (model.Tensors[t].Name == name) return;
        int other = model.Tensors.FindIndex(x => x.Name == name);
        if (other >= 0)
        {
            if (model.Inputs.Contains(other) || model.Outputs.Contains(other)) throw new ModelFormatException($"graph output '{name}' has the name of another graph input or output");
            tensorNames.Remove(name);
            string moved = UniqueName(name + "/renamed");
            model.Tensors[other] = WithName(model.Tensors[other], moved);
            tensorNames.Add(moved);
        }
        model.Tensors[t] = WithName(model.Tensors[t], name);
        tensorNames.Add(name);
    }

    static TensorDesc WithName(TensorDesc d, string name) => new(name, d.Type, d.Shape) { Quant = d.Quant, Data = d.Data };

    /// <summary>One message for a model with ops the converter lacks: each op with its count and its first node
    /// (by name, or by index where it has none), before anything is converted.</summary>
    void CheckSupported(IEnumerable<NodeProto> nodes, string where = "")
    {
        var missing = new List<(string op, int count, string first)>();
        int index = 0;
        foreach (var n in nodes)
        {
            bool domainOk = n.Domain is "" or "ai.onnx" || (n.Domain == "com.microsoft" && MicrosoftQuantOps.Contains(n.OpType));
            if (!domainOk || !(Handlers.ContainsKey(n.OpType) || FoldOnly.Contains(n.OpType)))
            {
                string op = n.Domain is "" or "ai.onnx" ? n.OpType : $"{n.Domain}.{n.OpType}";
                int k = missing.FindIndex(m => m.op == op);
                if (k < 0) missing.Add((op, 1, n.Name.Length > 0 ? $"'{n.Name}'" : $"#{index}"));
                else missing[k] = missing[k] with { count = missing[k].count + 1 };
            }
            index++;
        }
        if (missing.Count == 0) return;
        string list = string.Join("; ", missing.Select(m => $"{m.op} ×{m.count} (first: node {m.first})"));
        throw new ModelFormatException($"{missing.Count} unsupported op{(missing.Count > 1 ? "s" : "")}{where} (opset {opset}): {list}. Supported ops: {string.Join(", ", SupportedOps)}") { Unsupported = true };
    }
}
