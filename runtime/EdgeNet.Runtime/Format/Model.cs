namespace EdgeNet.Format;

/// <summary>Descriptive facts about a model: what it expects and where it came from.</summary>
public sealed class ModelMetadata
{
    public string Name { get; set; } = "";
    /// <summary>"NCHW" for images, "NTC" for sequences, "NC" for flat vectors.</summary>
    public string InputLayout { get; set; } = "";
    public string[] ClassLabels { get; set; } = [];
    /// <summary>Per-channel input normalization, (x - mean) / std, applied by pre-processing, not by the graph.</summary>
    public float[] InputMean { get; set; } = [];
    public float[] InputStd { get; set; } = [];
    public string SourceSha256 { get; set; } = "";
    public string ConverterVersion { get; set; } = "";
    /// <summary>Free-form key/value pairs (source opset, exporter, ...).</summary>
    public Dictionary<string, string> Properties { get; } = new(StringComparer.Ordinal);
}

/// <summary>A complete model: tensors, nodes in execution order, graph inputs and outputs, metadata.</summary>
public sealed class Model
{
    public ModelMetadata Metadata { get; init; } = new();
    public List<TensorDesc> Tensors { get; } = [];
    public List<Node> Nodes { get; } = [];
    public List<int> Inputs { get; } = [];
    public List<int> Outputs { get; } = [];

    public int AddTensor(TensorDesc t) { Tensors.Add(t); return Tensors.Count - 1; }
    public TensorDesc Input(int i = 0) => Tensors[Inputs[i]];
    public TensorDesc Output(int i = 0) => Tensors[Outputs[i]];

    public long ParameterCount() => Tensors.Where(t => t.IsConstant).Sum(t => t.Elements(1));
    public long WeightBytes() => Tensors.Where(t => t.IsConstant).Sum(t => (long)t.Data!.Value.Length);
}
