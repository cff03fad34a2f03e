namespace EdgeNet.Format;

/// <summary>The one error a malformed or unsupported model raises, with a message that says exactly what is wrong.</summary>
public sealed class ModelFormatException(string message) : Exception(message);
