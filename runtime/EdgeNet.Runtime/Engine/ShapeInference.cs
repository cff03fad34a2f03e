using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>
/// Output shapes of a node, computed by preparing its kernel: the same code that validates a loaded model tells the
/// converter what shape an op produces, so the two can never disagree.
/// </summary>
internal static class ShapeInference
{
    public static void InferOutputs(Model m, Node node)
    {
        var kernel = KernelRegistry.Create(m, node, KernelOptions.Default with { Reference = true });
        (kernel as IDisposable)?.Dispose();
        foreach (var t in node.Outputs)
            if (t >= 0 && !m.Tensors[t].IsShapeKnown) throw new ModelFormatException($"node '{node.Name}' ({node.Op}): output '{m.Tensors[t].Name}' has no shape");
    }
}
