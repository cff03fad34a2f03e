namespace EdgeNet.Format;

/// <summary>Descriptive facts about a model: what it expects and where it came from.</summary>
public sealed class ModelMetadata
{
    /// <summary>The model's name (from the source file or the converter's command line).</summary>
    public string Name { get; set; } = "";
    /// <summary>"NCHW" for images, "NTC" for sequences, "NC" for flat vectors.</summary>
    public string InputLayout { get; set; } = "";
    /// <summary>One label per output class, in output order; empty when the model has none.</summary>
    public string[] ClassLabels { get; set; } = [];
    /// <summary>Per-channel input normalization, (x - mean) / std, applied by pre-processing, not by the graph.</summary>
    public float[] InputMean { get; set; } = [];
    /// <summary>Per-channel standard deviations of <see cref="InputMean"/>'s normalization.</summary>
    public float[] InputStd { get; set; } = [];
    /// <summary>SHA-256 of the file the model was converted from.</summary>
    public string SourceSha256 { get; set; } = "";
    /// <summary>The edgenet-convert version that wrote the model.</summary>
    public string ConverterVersion { get; set; } = "";
    /// <summary>Free-form key/value pairs (source opset, exporter, ...).</summary>
    public Dictionary<string, string> Properties { get; } = new(StringComparer.Ordinal);
}

/// <summary>A complete model: tensors, nodes in execution order, graph inputs and outputs, metadata.</summary>
public sealed class Model
{
    /// <summary>Labels, input layout and normalization, provenance.</summary>
    public ModelMetadata Metadata { get; init; } = new();
    /// <summary>Every tensor: graph inputs and outputs, intermediates, and constants (weights) with their data.</summary>
    public List<TensorDesc> Tensors { get; } = [];
    /// <summary>The operations, in execution order.</summary>
    public List<Node> Nodes { get; } = [];
    /// <summary>Indices into <see cref="Tensors"/> of the graph inputs.</summary>
    public List<int> Inputs { get; } = [];
    /// <summary>Indices into <see cref="Tensors"/> of the graph outputs.</summary>
    public List<int> Outputs { get; } = [];

    /// <summary>Appends <paramref name="t"/> to <see cref="Tensors"/> and returns its index.</summary>
    public int AddTensor(TensorDesc t) { Tensors.Add(t); return Tensors.Count - 1; }
    /// <summary>The <paramref name="i"/>-th graph input.</summary>
    public TensorDesc Input(int i = 0) => Tensors[Inputs[i]];
    /// <summary>The <paramref name="i"/>-th graph output.</summary>
    public TensorDesc Output(int i = 0) => Tensors[Outputs[i]];

    /// <summary>Elements in all constant tensors (the weights).</summary>
    public long ParameterCount() => Tensors.Where(t => t.IsConstant).Sum(t => t.Elements(1));
    /// <summary>Bytes of all constant tensors' data.</summary>
    public long WeightBytes() => Tensors.Where(t => t.IsConstant).Sum(t => (long)t.Data!.Value.Length);
}
