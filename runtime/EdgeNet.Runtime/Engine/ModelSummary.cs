using System.Text;
using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>What `inspect` prints: ops, parameters, multiply-accumulates, arena and weight bytes.</summary>
internal static class ModelSummary
{
    /// <summary>Multiply-accumulates of one sample (batch 1).</summary>
    public static long Macs(Model m, Node n)
    {
        long Out(int i = 0) => n.Outputs.Length > i && n.Outputs[i] >= 0 ? m.Tensors[n.Outputs[i]].Elements(1) : 0;
        switch (n.Op)
        {
            case OpType.Dense: return Out() * m.Tensors[n.Inputs[1]].Shape[1];
            case OpType.Conv:
                {
                    var w = m.Tensors[n.Inputs[1]].Shape;
                    long macs = Out() * w[1] * w[2] * w[3];
                    // A plan's expand fused into its depthwise (ExpandDepthwiseFusion): the 1×1 expand's weight is input 4.
                    if (n.Inputs.Length > 4 && n.Inputs[4] >= 0) { var e = m.Tensors[n.Inputs[4]].Shape; macs += m.Tensors[n.Inputs[0]].Elements(1) * e[0] * e[2] * e[3]; }
                    return macs;
                }
            case OpType.Lstm or OpType.Gru or OpType.Rnn:
                {
                    var w = m.Tensors[n.Inputs[1]].Shape; var r = m.Tensors[n.Inputs[2]].Shape;
                    var x = m.Tensors[n.Inputs[0]].Shape;
                    long steps = x[n.Attributes.Int("layout", 0) == 0 ? 0 : 1];
                    return steps * w[0] * ((long)w[1] * w[2] + (long)r[1] * r[2]);
                }
            default: return 0;
        }
    }

    /// <summary>The text `inspect` prints: ops, parameters, MACs, arena and weight bytes, at batch <paramref name="maxBatch"/>.</summary>
    public static string Describe(Model m, int maxBatch = 1)
    {
        var sb = new StringBuilder();
        var md = m.Metadata;
        var origin = new List<string>();   // a model made by `edgenet train` has neither
        if (md.ConverterVersion.Length > 0) origin.Add($"converter {md.ConverterVersion}");
        if (md.Properties.TryGetValue("onnx.opset", out var op)) origin.Add($"ONNX opset {op}");
        sb.AppendLine($"model:      {md.Name}{(origin.Count > 0 ? $" ({string.Join(", ", origin)})" : "")}");
        foreach (var i in m.Inputs)
        {
            // A value folded at conversion (--input-value): the model computes for that value only.
            string value = md.Properties.TryGetValue($"input.{m.Tensors[i].Name}.value", out var v) ? $", fixed at {v} (--input-value)" : "";
            sb.AppendLine($"input:      {m.Tensors[i].Name} {Shape.Format(m.Tensors[i].Shape)} {m.Tensors[i].Type} {md.InputLayout}{value}");
        }
        foreach (var o in m.Outputs) sb.AppendLine($"output:     {m.Tensors[o].Name} {Shape.Format(m.Tensors[o].Shape)} {m.Tensors[o].Type}");
        if (md.ClassLabels.Length > 0) sb.AppendLine($"labels:     {string.Join(", ", md.ClassLabels)}");
        sb.AppendLine($"parameters: {m.ParameterCount():N0}");
        sb.AppendLine($"weights:    {m.WeightBytes():N0} bytes");
        long macs = m.Nodes.Sum(n => Macs(m, n));
        sb.AppendLine($"MACs:       {macs:N0} per sample");
        using (var s = new Session(m, maxBatch, KernelOptions.Default with { Reference = true }))
            sb.AppendLine($"arena:      {s.ArenaBytes:N0} bytes at batch {s.MaxBatch} (scratch {s.ScratchBytes:N0})");
        sb.AppendLine($"nodes:      {m.Nodes.Count}");
        foreach (var g in m.Nodes.GroupBy(n => n.Op).OrderByDescending(g => g.Count()))
            sb.AppendLine($"  {g.Key,-18} {g.Count(),4}   MACs {g.Sum(n => Macs(m, n)),14:N0}");
        return sb.ToString();
    }
}
