namespace EdgeNet.Training;

/// <summary>A trainable tensor: its current value (fp32 master copy), its gradient, and the optimizer's state.</summary>
public sealed class Parameter(string name, int tensor, float[] value, int[] shape)
{
    /// <summary>The constant tensor's name.</summary>
    public string Name { get; } = name;
    /// <summary>Index of the constant tensor in the model this parameter replaces when saved.</summary>
    public int Tensor { get; } = tensor;
    /// <summary>The tensor's shape.</summary>
    public int[] Shape { get; } = shape;
    /// <summary>The current values (for an int8 model, the fp32 master copy).</summary>
    public float[] Value { get; } = value;
    /// <summary>d(loss)/d(value) of the last backward pass.</summary>
    public float[] Grad { get; } = new float[value.Length];
    /// <summary>Optimizer state (momentum buffer, Adam's moments, RMSprop's average), created on first use.</summary>
    public float[]? State1 { get; set; }
    /// <summary>Second optimizer state (Adam's second moment), created on first use.</summary>
    public float[]? State2 { get; set; }
    /// <summary>False for a frozen parameter: its gradient is not computed and the optimizer skips it.</summary>
    public bool Trainable { get; set; } = true;
}
