using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>Any elementwise op of the op table as a standalone node (when it could not be fused into Dense/Conv);
/// a large tensor splits across the intra-op threads (<see cref="ParallelActivation"/>).</summary>
internal sealed unsafe class UnaryKernel : Kernel
{
    readonly int x, y;
    readonly Activation act;
    readonly bool reference;
    readonly ParallelActivation pass = new();

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
        if (reference) act.Op!.ApplyScalar(f.Span(x), f.Span(y), act.Params);
        else pass.Run(f.Pool, act, f.F(x), f.F(y), f.Size(y));
    }
}
