using System.Security.Cryptography;
using EdgeNet.Converter.Onnx;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;

namespace EdgeNet.Converter;

/// <summary>Options of one conversion.</summary>
public sealed record ConvertOptions
{
    public string[] Labels { get; init; } = [];
    public bool Optimize { get; init; } = true;
    /// <summary>`--input-shape NAME=d0,d1,…`: the concrete shape of a graph input; -1 as the first dimension keeps the batch symbolic.</summary>
    public IReadOnlyDictionary<string, int[]> InputShapes { get; init; } = new Dictionary<string, int[]>();
    /// <summary>`--input-value NAME=v,…`: a graph input whose value is known at conversion (a sample rate that selects an
    /// If branch); it stays a graph input, and `edgenet run` refuses any other value.</summary>
    public IReadOnlyDictionary<string, double[]> InputValues { get; init; } = new Dictionary<string, double[]>();
}

/// <summary>
/// ONNX → EdgeNet graph. Walks the ONNX nodes in order with one handler per op type (each may consult the opset);
/// shape chains (Shape/Gather/Unsqueeze/Concat/ConstantOfShape...) are evaluated at conversion time with a symbolic
/// batch; every other node becomes an EdgeNet node whose output shape its own kernel infers. The rewrites in
/// <see cref="GraphRewrites"/> then fold BatchNorm, fuse activations and biases, and drop dead nodes.
/// </summary>
public sealed partial class OnnxImporter
{
    public const string Version = "0.1.0";
    readonly OnnxFile file;
    readonly Model model;
    readonly Dictionary<string, ImportValue> values = new(StringComparer.Ordinal);
    readonly HashSet<string> tensorNames = new(StringComparer.Ordinal);
    int namedTensors;
    readonly long opset;
    NodeProto current = null!;

    delegate void Handler(OnnxImporter im, NodeProto n);
    static readonly Dictionary<string, Handler> Handlers = new(StringComparer.Ordinal)
    {
        ["Gemm"] = (im, n) => im.Gemm(n), ["MatMul"] = (im, n) => im.MatMul(n),
        ["Conv"] = (im, n) => im.Conv(n),
        ["MaxPool"] = (im, n) => im.Pool(n, OpType.MaxPool), ["AveragePool"] = (im, n) => im.Pool(n, OpType.AveragePool),
        ["GlobalAveragePool"] = (im, n) => { if (!im.TryQdqElementwise(n, OpType.GlobalAveragePool)) im.Emit(OpType.GlobalAveragePool, n, [im.Tensor(n.Input[0])]); },
        ["ReduceMean"] = (im, n) => im.Reduce(n, OpType.ReduceMean), ["ReduceSum"] = (im, n) => im.Reduce(n, OpType.ReduceSum),
        ["ReduceMax"] = (im, n) => im.Reduce(n, OpType.ReduceMax), ["ReduceMin"] = (im, n) => im.Reduce(n, OpType.ReduceMin),
        ["ReduceProd"] = (im, n) => im.Reduce(n, OpType.ReduceProd), ["ReduceL1"] = (im, n) => im.Reduce(n, OpType.ReduceL1),
        ["ReduceL2"] = (im, n) => im.Reduce(n, OpType.ReduceL2), ["ReduceSumSquare"] = (im, n) => im.Reduce(n, OpType.ReduceSumSquare),
        ["ReduceLogSumExp"] = (im, n) => im.Reduce(n, OpType.ReduceLogSumExp),
        ["BatchNormalization"] = (im, n) => im.BatchNorm(n), ["LayerNormalization"] = (im, n) => im.LayerNorm(n),
        ["Clip"] = (im, n) => im.Clip(n), ["Gelu"] = (im, n) => im.Gelu(n),
        ["Softmax"] = (im, n) => im.Softmax(n, OpType.Softmax), ["LogSoftmax"] = (im, n) => im.Softmax(n, OpType.LogSoftmax),
        ["Hardmax"] = (im, n) => im.Softmax(n, OpType.Hardmax),
        ["Add"] = (im, n) => im.Binary(n, OpType.Add), ["Sub"] = (im, n) => im.Binary(n, OpType.Sub),
        ["Mul"] = (im, n) => im.Binary(n, OpType.Mul), ["Div"] = (im, n) => im.Binary(n, OpType.Div),
        ["Pow"] = (im, n) => im.Binary(n, OpType.Pow), ["PRelu"] = (im, n) => im.Binary(n, OpType.PRelu), ["Mod"] = (im, n) => im.Mod(n),
        ["Sum"] = (im, n) => im.Variadic(n, OpType.Add), ["Mean"] = (im, n) => im.Variadic(n, OpType.Add, mean: true),
        ["Max"] = (im, n) => im.Variadic(n, OpType.Max), ["Min"] = (im, n) => im.Variadic(n, OpType.Min),
        ["Flatten"] = (im, n) => im.Flatten(n), ["Reshape"] = (im, n) => im.Reshape(n),
        ["Squeeze"] = (im, n) => im.Squeeze(n, unsqueeze: false), ["Unsqueeze"] = (im, n) => im.Squeeze(n, unsqueeze: true),
        ["Transpose"] = (im, n) => im.Transpose(n), ["Concat"] = (im, n) => im.Concat(n),
        ["Gather"] = (im, n) => im.Gather(n), ["Slice"] = (im, n) => im.Slice(n),
        ["Identity"] = (im, n) => im.Alias(n), ["Dropout"] = (im, n) => im.Alias(n),
        ["Cast"] = (im, n) => im.Cast(n), ["Expand"] = (im, n) => im.Expand(n),
        ["Shape"] = (im, n) => im.ShapeOf(n), ["Constant"] = (im, n) => im.Constant(n),
        ["ConstantOfShape"] = (im, n) => im.ConstantOfShape(n),
        ["LSTM"] = (im, n) => im.Recurrent(n, OpType.Lstm), ["GRU"] = (im, n) => im.Recurrent(n, OpType.Gru),
        ["RNN"] = (im, n) => im.Recurrent(n, OpType.Rnn),
    };

    static OnnxImporter()
    {
        RegisterQuantHandlers(Handlers);
        RegisterDataHandlers(Handlers, MinInputs);
        RegisterSpatialHandlers(Handlers);
        RegisterTypedHandlers(Handlers);
        // Elementwise ops come from the op table: the ONNX op of the same name, its float attributes with their defaults.
        foreach (var info in OpTable.All)
            if (info.Unary is { } op)
                foreach (var name in info.Onnx) Handlers.TryAdd(name, (im, n) => im.Elementwise(n, op));
    }

    /// <summary>Inputs every node of an op must name (optional ones are checked where they are read). Where ONNX moved
    /// attributes to inputs, the count depends on the opset: <c>(1, 10, 3)</c> is 1 input before opset 10, 3 from it.</summary>
    static readonly Dictionary<string, InputCount> MinInputs = new(StringComparer.Ordinal)
    {
        ["Gemm"] = 2, ["MatMul"] = 2, ["Conv"] = 2, ["Add"] = 2, ["Sub"] = 2, ["Mul"] = 2, ["Div"] = 2, ["Pow"] = 2, ["PRelu"] = 2,
        ["Mod"] = 2, ["Reshape"] = 2, ["Gather"] = 2, ["BatchNormalization"] = 5, ["LayerNormalization"] = 2,
        ["LSTM"] = 3, ["GRU"] = 3, ["RNN"] = 3, ["ConstantOfShape"] = 1, ["Expand"] = 2,
        ["Equal"] = 2, ["Greater"] = 2, ["GreaterOrEqual"] = 2, ["Less"] = 2, ["LessOrEqual"] = 2, ["And"] = 2, ["Or"] = 2, ["Xor"] = 2,
        ["Where"] = 3, ["Range"] = 3,
        ["QuantizeLinear"] = 2, ["DequantizeLinear"] = 2, ["QLinearConv"] = 8, ["QLinearMatMul"] = 8, ["QGemm"] = 6,
        ["QLinearAdd"] = 7, ["QLinearGlobalAveragePool"] = 5, ["QLinearAveragePool"] = 5, ["QLinearLeakyRelu"] = 4, ["QLinearSigmoid"] = 4,
        ["Constant"] = 0, ["Shape"] = 1,
        // starts/ends, pads, K, scales, axes: attributes before the opset, inputs from it (Resize-10 reads scales; from 11 the handler takes whichever of roi, scales, sizes is named)
        ["Slice"] = new(1, 10, 3), ["Pad"] = new(1, 11, 2), ["TopK"] = new(1, 10, 2), ["Upsample"] = new(1, 9, 2),
        ["Resize"] = new(2, 11, 1), ["Unsqueeze"] = new(1, 13, 2),
    };

    /// <summary>An op's required input count: <see cref="Before"/> below opset <see cref="Opset"/>, <see cref="From"/> from it.</summary>
    readonly record struct InputCount(int Before, long Opset, int From)
    {
        public static implicit operator InputCount(int count) => new(count, 0, count);
        public int At(long opset) => opset < Opset ? Before : From;
    }

    /// <summary>Ops whose first output (Y) may be unnamed: exporters keep only Y_h/Y_c when the sequence is unused.</summary>
    static readonly string[] RecurrentOps = ["LSTM", "GRU", "RNN"];

    public static IEnumerable<string> SupportedOps => Handlers.Keys.Order(StringComparer.Ordinal);

    readonly ConvertOptions options;

    OnnxImporter(OnnxFile file, ConvertOptions options)
    {
        this.file = file;
        this.options = options;
        opset = file.Opset;
        model = new Model();
    }

    public static Model Convert(string path, ConvertOptions? options = null) => Convert(OnnxFile.Load(path), options ?? new());

    public static Model Convert(OnnxFile file, ConvertOptions options)
    {
        var im = new OnnxImporter(file, options);
        im.ImportGraph();
        var m = im.model;
        if (options.Optimize) { TransformerRewrites.Run(m); ActivationRewrites.Run(m); GraphRewrites.Run(m); }
        var compact = GraphRewrites.Compact(m);
        compact.Metadata.Name = Path.GetFileNameWithoutExtension(file.Path);
        compact.Metadata.InputLayout = compact.Input().Shape.Length switch { 4 => "NCHW", 3 => "NTC", 2 => "NC", _ => "" };
        compact.Metadata.ClassLabels = options.Labels;
        compact.Metadata.SourceSha256 = System.Convert.ToHexStringLower(SHA256.HashData(file.Bytes));
        compact.Metadata.ConverterVersion = Version;
        compact.Metadata.Properties["onnx.opset"] = im.opset.ToString();
        compact.Metadata.Properties["onnx.producer"] = $"{file.Proto.ProducerName} {file.Proto.ProducerVersion}".Trim();
        ModelValidator.Validate(compact);
        ModelValidator.CheckClassLabels(compact);
        ModelFile.CheckLimits(compact);
        return compact;
    }

    void ImportGraph()
    {
        var g = file.Proto.Graph;
        foreach (var t in g.Initializer)
        {
            if (values.ContainsKey(t.Name)) throw new ModelFormatException($"initializer '{t.Name}' is defined twice");
            var dims = OnnxFile.Dims(t);
            values[t.Name] = OnnxFile.IsFloat(t)
                ? new ImportValue { Shape = dims, Floats = file.Floats(t) }
                : new ImportValue { Shape = dims, Ints = file.Ints(t).Select(v => new Sym(v, 0)).ToArray() };
        }
        ImportInputs(g);
        if (model.Inputs.Count == 0)
            throw new ModelFormatException("the model has no graph inputs (everything it computes is a constant); EdgeNet runs models that take an input") { Unsupported = true };
        CheckSupported(g.Node);
        foreach (var node in g.Node) ImportNode(node);
        current = null!;   // past the nodes: errors name the graph output, not the last node
        ImportOutputs(g);
    }

    /// <summary>One ONNX node (the graph's, or a folded If branch's): checked, then folded or handed to its handler.</summary>
    void ImportNode(NodeProto node)
    {
        current = node;
        if (node.Domain is not ("" or "ai.onnx") && !(node.Domain == "com.microsoft" && MicrosoftQuantOps.Contains(node.OpType)))
            throw Unsupported(node, $"domain '{node.Domain}'");
        if (!Handlers.TryGetValue(node.OpType, out var handler) && !FoldOnly.Contains(node.OpType)) throw Unsupported(node, null);
        int need = MinInputs.GetValueOrDefault(node.OpType, 1).At(opset);
        if (node.Input.Count < need || node.Input.Take(need).Any(string.IsNullOrEmpty) || (node.OpType != "Constant" && node.Output.Count < 1) || (node.Output.Count > 0 && node.Output[0].Length == 0 && !RecurrentOps.Contains(node.OpType)))
            throw new ModelFormatException($"ONNX node '{node.Name}' ({node.OpType}): needs {need} inputs and an output, has {node.Input.Count} inputs and {node.Output.Count} outputs");
        if (node.OpType == "Constant" && node.Output.Count < 1) throw new ModelFormatException($"ONNX node '{node.Name}' (Constant): no output");
        for (int k = 0; k < node.Output.Count; k++)
            if (node.Output[k].Length > 0 && (values.ContainsKey(node.Output[k]) || node.Output.Take(k).Contains(node.Output[k])))
                throw new ModelFormatException($"ONNX node '{node.Name}' ({node.OpType}): output '{node.Output[k]}' is already defined (a tensor may be defined once)");
        try
        {
            // Values known at conversion are evaluated here (If conditions, shape logic); what a handler emits on
            // constants alone is run once and becomes a constant.
            if (TryFold(node)) return;
            if (handler is null) throw Error($"{node.OpType} of a tensor computed at run time is not supported (only of values known at conversion)");
            int first = model.Nodes.Count;
            handler(this, node);
            FoldEmitted(node, first);
        }
        catch (ModelFormatException e) when (!e.Message.StartsWith("ONNX node", StringComparison.Ordinal))
        { throw new ModelFormatException($"ONNX node '{node.Name}' ({node.OpType}): {e.Message}"); }
        catch (OverflowException)
        { throw new ModelFormatException($"ONNX node '{node.Name}' ({node.OpType}): a declared size overflows"); }
    }

    ModelFormatException Unsupported(NodeProto n, string? why) => new(
        $"unsupported op {n.OpType} (node '{n.Name}', opset {opset}{(why is null ? "" : ", " + why)}). Supported ops: {string.Join(", ", SupportedOps)}");

    ModelFormatException Error(string message) =>
        current is null ? new(message) : new($"ONNX node '{current.Name}' ({current.OpType}): {message}");

    // ---- values -------------------------------------------------------------------------------------------

    ImportValue Get(string name) => values.TryGetValue(name, out var v) ? v : throw Error($"input '{name}' is not defined before use");
    bool Has(NodeProto n, int i) => n.Input.Count > i && n.Input[i].Length > 0;

    /// <summary>The runtime tensor for a value, materializing a float constant as a constant tensor on first use.</summary>
    int Tensor(string name)
    {
        var v = Get(name);
        if (v.Tensor >= 0) return v.Tensor;
        if (v.QTensor >= 0) return DequantizeOnDemand(name, v);
        if (v.ZeroState) throw Error($"'{name}' is a batch-sized constant; only RNN initial states may be");
        var data = v.Floats ?? v.Ints!.Select(s => s.IsConstant ? (float)s.Coef : throw Error($"'{name}' depends on the batch")).ToArray();
        v.Tensor = model.AddTensor(new TensorDesc(UniqueName(name), DataType.Float32, v.Shape) { Data = Bytes(data) });
        return v.Tensor;
    }

    int ConstTensor(string name, float[] data, int[] shape) => model.AddTensor(new TensorDesc(UniqueName(name), DataType.Float32, shape) { Data = Bytes(data) });

    string UniqueName(string name)
    {
        // Tensors are only appended while importing: their names are kept in a set, caught up here (a scan of every
        // tensor per name made conversion quadratic in the graph).
        for (; namedTensors < model.Tensors.Count; namedTensors++) tensorNames.Add(model.Tensors[namedTensors].Name);
        string n = name; int k = 1;
        while (tensorNames.Contains(n)) n = $"{name}_{k++}";
        return n;
    }

    static ReadOnlyMemory<byte> Bytes(float[] data) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()).ToArray();

    float[] ConstFloats(string name, string role)
    {
        var v = Get(name);
        if (v.Floats is { } f) return f;
        if (v.Ints is { } s && s.All(x => x.IsConstant)) return s.Select(x => (float)x.Coef).ToArray();
        throw Error($"{role} '{name}' must be a constant (initializer)");
    }

    Sym[] ConstInts(string name, string role)
    {
        var v = Get(name);
        if (v.Ints is { } s) return s;
        if (v.Floats is { } f) return f.Select(x => new Sym((long)x, 0)).ToArray();
        throw Error($"{role} '{name}' must be known at conversion time");
    }

    long[] StaticInts(string name, string role) => ConstInts(name, role).Select(s => s.IsConstant ? s.Coef : throw Error($"{role} depends on the batch")).ToArray();

    int[] ShapeOfValue(string name) => Get(name) is var v && v.Tensor >= 0 ? model.Tensors[v.Tensor].Shape : v.QTensor >= 0 ? model.Tensors[v.QTensor].Shape : v.Shape;

    /// <summary>Adds an EdgeNet node for ONNX node <paramref name="n"/>, creating its outputs and inferring their shapes.</summary>
    void Emit(OpType op, NodeProto n, int[] inputs, Attributes? attrs = null, int outputs = 1)
    {
        var outs = new int[outputs];
        for (int i = 0; i < outputs; i++)
        {
            if (i >= n.Output.Count || n.Output[i].Length == 0) { outs[i] = -1; continue; }
            outs[i] = model.AddTensor(new TensorDesc(UniqueName(n.Output[i]), DataType.Float32, TensorDesc.UnknownShape));
        }
        var node = new Node(op, n.Name.Length > 0 ? n.Name : $"{n.OpType}_{model.Nodes.Count}", inputs, outs, attrs);
        model.Nodes.Add(node);
        ShapeInference.InferOutputs(model, node);
        for (int i = 0; i < outputs; i++)
            if (outs[i] >= 0) values[n.Output[i]] = new ImportValue { Tensor = outs[i], Shape = model.Tensors[outs[i]].Shape };
        for (int i = outputs; i < n.Output.Count; i++)
            if (n.Output[i].Length > 0) values[n.Output[i]] = new ImportValue { Shape = [], ZeroState = true };   // unused extra outputs
    }

    /// <summary>A Reshape node to an explicit template (Flatten, Squeeze, Unsqueeze, Reshape).</summary>
    void EmitReshape(NodeProto n, int input, int[] shape)
    {
        var src = model.Tensors[input];
        long a1 = src.Elements(1), a2 = src.Elements(2);
        var probe = new TensorDesc("", DataType.Float32, shape);
        if (probe.Elements(1) != a1 || probe.Elements(2) != a2)
            throw Error($"cannot reshape {Format.Shape.Format(src.Shape)} to {Format.Shape.Format(shape)}");
        int o = model.AddTensor(new TensorDesc(UniqueName(n.Output[0]), src.Type, shape));
        model.Nodes.Add(new Node(OpType.Reshape, n.Name.Length > 0 ? n.Name : $"Reshape_{model.Nodes.Count}", [input], [o]));
        values[n.Output[0]] = new ImportValue { Tensor = o, Shape = shape };
    }

    void SetConst(NodeProto n, int[] shape, Sym[] ints) => values[n.Output[0]] = new ImportValue { Shape = shape, Ints = ints };
    void SetConst(NodeProto n, int[] shape, float[] floats) => values[n.Output[0]] = new ImportValue { Shape = shape, Floats = floats };

    static int Elements(int[] shape) { long n = 1; foreach (var d in shape) n *= d; return checked((int)n); }
    static int Axis(long axis, int rank, string what) =>
        (axis < 0 ? axis + rank : axis) is var a && a >= 0 && a < rank ? (int)a : throw new ModelFormatException($"{what} {axis} is out of range for rank {rank}");
}
