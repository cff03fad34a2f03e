namespace EdgeNet.Format;

/// <summary>The one error a malformed or unsupported model raises, with a message that says exactly what is wrong.</summary>
public sealed class ModelFormatException(string message) : Exception(message)
{
    /// <summary>A valid model EdgeNet cannot take (an op, type or structure it does not support): exit code 2, not 3.</summary>
    public bool Unsupported { get; init; }
}
