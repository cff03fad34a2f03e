using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>Any elementwise op of the op table as a standalone node (when it could not be fused into Dense/Conv).</summary>
internal sealed class UnaryKernel : Kernel
{
    readonly int x, y;
    readonly Activation act;
    readonly bool reference;

    public UnaryKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var op = OpTable.Get(node.Op).Unary ?? throw Error("is not an elementwise op");
        act = Activation.Of(node, op);
        ExpectShape(m, y, FloatTensor(m, x, "input").Shape);
        reference = o.Reference;
    }

    public override void Run(Frame f)
    {
        var dst = f.Span(y);
        if (reference) act.Op!.ApplyScalar(f.Span(x), dst, act.Params); else act.Apply(f.Span(x), dst);
    }
}
