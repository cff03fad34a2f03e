namespace EdgeNet.Training;

/// <summary>A trainable tensor: its current value (fp32 master copy), its gradient, and the optimizer's state.</summary>
public sealed class Parameter(string name, int tensor, float[] value, int[] shape)
{
    public string Name { get; } = name;
    /// <summary>Index of the constant tensor in the model this parameter replaces when saved.</summary>
    public int Tensor { get; } = tensor;
    public int[] Shape { get; } = shape;
    public float[] Value { get; } = value;
    public float[] Grad { get; } = new float[value.Length];
    /// <summary>Optimizer state (momentum buffer, Adam's moments, RMSprop's average), created on first use.</summary>
    public float[]? State1 { get; set; }
    public float[]? State2 { get; set; }
    public bool Trainable { get; set; } = true;
}
