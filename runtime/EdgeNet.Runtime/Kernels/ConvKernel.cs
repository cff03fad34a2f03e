using System.Runtime.InteropServices;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Kernels;

/// <summary>
/// Conv2D over NCHW with groups (depthwise has its own kernel), strides, pads, dilations and a fused activation.
/// General convolutions run as GEMM: weights [OC/g, K] as A, im2col columns packed as B.
/// </summary>
internal sealed unsafe class ConvKernel : Kernel, IDisposable
{
    readonly int x, y;
    readonly ConvGeometry g;
    readonly float[] w, b;
    readonly NativeBuffer wBuf, bBuf;
    readonly Activation act;
    readonly bool reference, pointwise, transposed;
    readonly bool padded;   // stride-1 im2col from a zero-padded copy of the input
    readonly NativeBuffer? packedWT;   // transposed mode: Wᵀ packed as GEMM panels
    readonly int K, N;

    public ConvKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        var wt = ConstantFloat(m, node.Inputs[1], "weight");
        if (xt.Shape.Length != 4) throw Error($"input must be NCHW, got {Format.Shape.Format(xt.Shape)}");
        if (wt.Shape.Length != 4) throw Error($"weight must be [OC, C/group, KH, KW], got {Format.Shape.Format(wt.Shape)}");
        for (int d = 1; d < 4; d++) RequireFixed(xt, d, $"dimension {d}");
        int group = (int)node.Attributes.Int("group", 1);
        g = Window.Geometry(this, node.Attributes, xt.Shape, wt.Shape[0], [wt.Shape[2], wt.Shape[3]], group, ceil: false);
        if (wt.Shape[1] * group != g.C || g.OC % group != 0) throw Error($"weight {Format.Shape.Format(wt.Shape)} does not fit {g.C} input channels in {group} groups");
        w = wt.Floats().ToArray();
        b = node.Inputs.Length > 2 && node.Inputs[2] >= 0 ? ConstantFloat(m, node.Inputs[2], "bias").Floats().ToArray() : new float[g.OC];
        if (b.Length != g.OC) throw Error($"bias has {b.Length} values for {g.OC} output channels");
        act = Activation.FromAttributes(node.Attributes, node.Name);
        ExpectShape(m, y, [xt.Shape[0], g.OC, g.OH, g.OW]);
        reference = o.Reference;
        K = g.CinPerGroup * g.KH * g.KW; N = g.OH * g.OW;
        pointwise = g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadTop == 0 && g.PadLeft == 0;
        wBuf = NativeBuffer.Of(w); bBuf = NativeBuffer.Of(b);
        padded = !pointwise && !g.IsDepthwise && Im2Col.CanPad(g);
        // Small feature maps (late MobileNet layers: 7x7, 14x14) have too few columns to fill GEMM panels; there the
        // roles swap: Cᵀ[HW, OC] = Xᵀ[HW, C] · Wᵀ[C, OC], with Wᵀ packed once here, then one transpose into NCHW.
        transposed = !reference && pointwise && g.Group == 1 && N < TransposeBelow;
        if (transposed)
        {
            packedWT = new NativeBuffer(Gemm.PackedSize(K, g.OC) * 4);
            Gemm.Pack(wBuf.Floats, 1, K, K, g.OC, packedWT.Floats);   // B[k, j] = W[j, k]
        }
    }

    /// <summary>Feature maps with fewer positions than this run in transposed mode.</summary>
    public static int TransposeBelow = 4 * Gemm.NR;

    public override long ScratchBytes(int batch) =>
        reference ? 0 : g.IsDepthwise ? Depthwise.ScratchFloats(g) * 4
        : transposed ? 4L * ((long)K * N + (long)g.OC * N + 64)
        : 4 * (Gemm.TailScratch(K) + (pointwise ? 0 : (long)K * N) + (padded ? Im2Col.PaddedFloats(g) : 0) + 16);

    public override void Run(Frame f)
    {
        int n = f.Shape(x)[0];
        if (reference) { Reference.Conv.Run(f.Span(x), w, b, f.Span(y), n, g, act); return; }
        float* xs = f.F(x), ys = f.F(y), wp = wBuf.Floats, bp = bBuf.Floats;
        long inImage = (long)g.C * g.H * g.W, outImage = (long)g.OC * N;
        int og = g.CoutPerGroup;
        for (int i = 0; i < n; i++)
        {
            if (g.IsDepthwise && !Depthwise.Supports(g)) Reference.Conv.Run(new ReadOnlySpan<float>(xs + i * inImage, (int)inImage), w, b, new Span<float>(ys + i * outImage, (int)outImage), 1, g, act);
            else if (g.IsDepthwise) Depthwise.Run(xs + i * inImage, wp, bp, ys + i * outImage, g, act.ClampMin, act.ClampMax, (float*)f.Scratch);
            else if (transposed)
            {
                float* xt = (float*)f.Scratch, ct = xt + (long)K * N;
                Transpose2D.Run(xs + i * inImage, K, N, xt);                 // Xᵀ [N, K]
                Gemm.Run(xt, K, packedWT!.Floats, ct, g.OC, N, g.OC, K, null, bp, act.ClampMin, act.ClampMax);
                Transpose2D.Run(ct, N, g.OC, ys + i * outImage);            // Cᵀ [N, OC] -> [OC, N]
            }
            else
                for (int grp = 0; grp < g.Group; grp++)
                {
                    float* xg = xs + i * inImage + (long)grp * g.CinPerGroup * g.H * g.W;
                    float* scratch = (float*)f.Scratch, yg = ys + i * outImage + (long)grp * og * N;
                    if (pointwise) Gemm.RunStrided(wp + (long)grp * og * K, K, xg, N, yg, N, og, N, K, bp + grp * og, null, act.ClampMin, act.ClampMax, scratch);
                    else if (N <= Gemm.NR)   // small maps: the columns are one GEMM panel as written, no packing copy
                    {
                        if (padded) Im2Col.FillPadded(g, xg, scratch, Gemm.NR, scratch + Gemm.PackedSize(K, N));
                        else Im2Col.Fill(g, xg, scratch, Gemm.NR);
                        Gemm.Run(wp + (long)grp * og * K, K, scratch, yg, N, og, N, K, bp + grp * og, null, act.ClampMin, act.ClampMax);
                    }
                    else
                    {
                        float* cols = scratch + Gemm.TailScratch(K);
                        if (padded) Im2Col.FillPadded(g, xg, cols, N, cols + (long)K * N);
                        else Im2Col.Fill(g, xg, cols);
                        Gemm.RunStrided(wp + (long)grp * og * K, K, cols, N, yg, N, og, N, K, bp + grp * og, null, act.ClampMin, act.ClampMax, scratch);
                    }
                }
            if (!act.IsClamp && !(g.IsDepthwise && !Depthwise.Supports(g))) act.Apply(new Span<float>(ys + i * outImage, (int)outImage));
        }
    }

    public void Dispose() { wBuf.Dispose(); bBuf.Dispose(); packedWT?.Dispose(); }
}
