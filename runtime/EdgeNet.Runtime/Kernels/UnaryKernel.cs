using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>Relu, Clip, LeakyRelu, Sigmoid, Tanh as standalone nodes (when they could not be fused into Dense/Conv).</summary>
public sealed class UnaryKernel : Kernel
{
    readonly int x, y;
    readonly Activation act;
    readonly bool reference;

    public UnaryKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var a = node.Attributes;
        act = node.Op switch
        {
            OpType.Relu => new Activation(ActivationKind.Relu),
            OpType.Clip => new Activation(ActivationKind.Clip, Min: a.Float("min", float.NegativeInfinity), Max: a.Float("max", float.PositiveInfinity)),
            OpType.LeakyRelu => new Activation(ActivationKind.LeakyRelu, Alpha: a.Float("alpha", 0.01f)),
            OpType.Sigmoid => new Activation(ActivationKind.Sigmoid),
            _ => new Activation(ActivationKind.Tanh),
        };
        if (act.Kind == ActivationKind.Clip && !(act.Min <= act.Max)) throw Error($"min {act.Min} > max {act.Max}");
        ExpectShape(m, y, FloatTensor(m, x, "input").Shape);
        reference = o.Reference;
    }

    public override void Run(Frame f)
    {
        var dst = f.Span(y);
        f.Span(x).CopyTo(dst);
        if (reference) act.ApplyScalar(dst); else act.Apply(dst);
    }
}
