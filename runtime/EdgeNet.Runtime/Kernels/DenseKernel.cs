using System.Runtime.InteropServices;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Kernels;

/// <summary>Dense (Gemm/MatMul with constant weights): X [.., IC] · W[OC, IC]ᵀ + B -> [.., OC], fused activation
/// (a clamp in the GEMM's registers, any other by <see cref="OutputEpilogue"/> on each block of rows while it is in cache).</summary>
internal sealed unsafe class DenseKernel : Kernel, IDisposable
{
    readonly int x, y, ic, oc;
    readonly float[] w, b;
    readonly NativeBuffer? packed;
    readonly Activation act;
    readonly OutputEpilogue epi;   // a non-clamp activation, block by block after the GEMM
    readonly bool reference;

    public DenseKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        var wt = ConstantFloat(m, node.Inputs[1], "weight");
        if (wt.Shape.Length != 2) throw Error($"weight must be [OC, IC], got {Format.Shape.Format(wt.Shape)}");
        (oc, ic) = (wt.Shape[0], wt.Shape[1]);
        if (xt.Shape.Length < 1 || xt.Shape[^1] != ic) throw Error($"input {Format.Shape.Format(xt.Shape)} does not end in IC = {ic}");
        w = wt.Floats().ToArray();
        b = node.Inputs.Length > 2 && node.Inputs[2] >= 0 ? ConstantFloat(m, node.Inputs[2], "bias").Floats().ToArray() : new float[oc];
        if (b.Length != oc) throw Error($"bias has {b.Length} values for {oc} outputs");
        act = Activation.FromAttributes(node.Attributes, node.Name);
        epi = new OutputEpilogue(act, hasSum: false);
        ExpectShape(m, y, [.. xt.Shape[..^1], oc]);
        reference = o.Reference;
        if (!reference)
        {
            packed = new NativeBuffer(Gemm.PackedSize(ic, oc) * 4);
            fixed (float* pw = w) Gemm.Pack(pw, 1, ic, ic, oc, packed.Floats);   // B[k, j] = W[j, k]
        }
    }

    public override void Run(Frame f)
    {
        int rows = (int)(f.Size(x) / Math.Max(ic, 1));
        if (reference) { Reference.Dense.Run(f.Span(x), w, b, f.Span(y), rows, ic, oc, act); return; }
        if (epi.Active) epi.Begin(f.F(y), null, (long)rows * oc);
        fixed (float* pb = b)
            gemm.Run(f.Pool, f.F(x), ic, packed!.Floats, f.F(y), oc, rows, oc, ic, null, pb, epi.Lo, epi.Hi, epi);
    }

    readonly ParallelGemm gemm = new();

    public void Dispose() => packed?.Dispose();
}
