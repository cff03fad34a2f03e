using System.Numerics.Tensors;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Kernels;

/// <summary>
/// ConvTranspose over NCHW (1-D arrives as H = 1) with groups, strides, dilations, pads (negative ones widen the
/// output: the converter resolves auto_pad and output_shape into them) and output_padding. The fast path is
/// GEMM + col2im, as MLAS and Caffe do it: per image and group, cols[OC/g·KH·KW, H·W] = W_gᵀ · X_g, then each
/// column row is added into the output at its kernel offset. Weights and bias are read through the frame at run
/// time (transposed into scratch each run, a small cost beside the GEMM), so training updates reach them.
/// Channels-last (the planner's <c>channels_last</c>, x [N,H,W,C] → y [N,OH,OW,OC]): cols[H·W, KH·KW·OC/g] =
/// X_g · W_g with the pixels as rows, then each input pixel's KH·KW runs of OC/g channels are added at their output
/// pixels: contiguous vectors, no transposes around an up-sampling decoder.
/// </summary>
internal sealed unsafe class ConvTransposeKernel : Kernel
{
    readonly int x, w, b = -1, y;
    readonly ConvGeometry g;
    readonly bool reference, nhwc;
    readonly int K, HW;

    /// <summary>What the channels-last path needs: 2-D, constant weights and bias, fixed C/H/W.</summary>
    public static bool Accepts(Model m, Node n)
    {
        if (n.Inputs.Length < 2 || n.Inputs[1] < 0) return false;
        var x = m.Tensors[n.Inputs[0]]; var w = m.Tensors[n.Inputs[1]];
        return x.Shape.Length == 4 && x.Shape.Skip(1).All(d => d > 0) && w.IsConstant && w.Type == DataType.Float32 && w.Shape.Length == 4
            && (n.Inputs.Length < 3 || n.Inputs[2] < 0 || m.Tensors[n.Inputs[2]].IsConstant);
    }

    public ConvTransposeKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; w = node.Inputs[1]; y = node.Outputs[0];
        if (node.Inputs.Length > 2 && node.Inputs[2] >= 0) b = node.Inputs[2];
        var xt = FloatTensor(m, x, "input");
        var wt = ConstantFloat(m, w, "weight");
        if (xt.Shape.Length != 4) throw Error($"input must be NCHW, got {Format.Shape.Format(xt.Shape)}");
        if (wt.Shape.Length != 4) throw Error($"weight must be [C, OC/group, KH, KW], got {Format.Shape.Format(wt.Shape)}");
        for (int d = 1; d < 4; d++) RequireFixed(xt, d, $"dimension {d}");
        var a = node.Attributes;
        long group = a.Int("group", 1);
        var strides = a.Ints("strides", [1, 1]); var dil = a.Ints("dilations", [1, 1]);
        var pads = a.Ints("pads", [0, 0, 0, 0]); var outPad = a.Ints("output_padding", [0, 0]);
        if (strides.Length != 2 || dil.Length != 2 || pads.Length != 4 || outPad.Length != 2) throw Error("strides/dilations/pads/output_padding must have 2/2/4/2 values");
        nhwc = a.Int(ChannelsLast.Attribute, 0) != 0;
        int C = xt.Shape[nhwc ? 3 : 1], H = xt.Shape[nhwc ? 1 : 2], W = xt.Shape[nhwc ? 2 : 3];
        if (group < 1 || C % group != 0) throw Error($"group {group} does not divide {C} channels");
        if (wt.Shape[0] != C) throw Error($"weight {Format.Shape.Format(wt.Shape)} has {wt.Shape[0]} input channels, the input {C}");
        int kh = wt.Shape[2], kw = wt.Shape[3];
        if (kh < 1 || kw < 1 || kh > 1024 || kw > 1024) throw Error($"kernel {kh}x{kw} is out of range");
        foreach (var s in strides) if (s < 1 || s > 1024) throw Error($"stride {s} is out of range 1..1024");
        foreach (var d in dil) if (d < 1 || d > 1024) throw Error($"dilation {d} is out of range 1..1024");
        foreach (var p in pads) if (p < -4096 || p > 4096) throw Error($"pad {p} is out of range -4096..4096");
        for (int i = 0; i < 2; i++)
            if (outPad[i] < 0 || outPad[i] >= Math.Max(strides[i], dil[i])) throw Error($"output_padding {outPad[i]} must be below the stride or dilation");
        long oh = strides[0] * (H - 1) + outPad[0] + (kh - 1) * dil[0] + 1 - pads[0] - pads[2];
        long ow = strides[1] * (W - 1) + outPad[1] + (kw - 1) * dil[1] + 1 - pads[1] - pads[3];
        if (oh < 1 || ow < 1 || oh > 1 << 20 || ow > 1 << 20) throw Error($"output {oh}x{ow} is out of range");
        int oc = checked(wt.Shape[1] * (int)group);
        g = new ConvGeometry(C, H, W, oc, (int)oh, (int)ow, kh, kw, (int)strides[0], (int)strides[1], (int)pads[0], (int)pads[1], (int)dil[0], (int)dil[1], (int)group);
        if (b >= 0 && ConstantFloat(m, b, "bias").Elements(1) != oc) throw Error($"bias has {m.Tensors[b].Elements(1)} values for {oc} output channels");
        ExpectShape(m, y, nhwc ? [xt.Shape[0], g.OH, g.OW, oc] : [xt.Shape[0], oc, g.OH, g.OW]);
        reference = o.Reference;
        K = g.CoutPerGroup * kh * kw; HW = H * W;
    }

    public ConvGeometry Geometry => g;

    public override long ScratchBytes(int batch) => reference ? 0 : 4 * ((long)g.C * K + (long)K * HW + Gemm.TailScratch(g.CinPerGroup) + 64);

    public override void Run(Frame f)
    {
        int n = f.Shape(x)[0];
        if (reference) { Reference.ConvTranspose.Run(f.Span(x), f.Span(w), b >= 0 ? f.Span(b) : default, f.Span(y), n, g); return; }
        if (nhwc) { RunNhwc(f, n); return; }
        float* xs = f.F(x), ys = f.F(y), wp = f.F(w), bp = b >= 0 ? f.F(b) : null;
        float* wt = (float*)(((nint)f.Scratch + 63) & ~(nint)63), cols = wt + (long)g.C * K, tail = cols + (long)K * HW;
        int cg = g.CinPerGroup, og = g.CoutPerGroup, ohw = g.OH * g.OW;
        for (int grp = 0; grp < g.Group; grp++) Transpose2D.Run(wp + (long)grp * cg * K, cg, K, wt + (long)grp * K * cg);   // W_g [Cg, K] -> [K, Cg]
        for (int i = 0; i < n; i++)
            for (int grp = 0; grp < g.Group; grp++)
            {
                float* xg = xs + ((long)i * g.C + grp * cg) * HW, yg = ys + ((long)i * g.OC + grp * og) * ohw;
                Gemm.RunStrided(wt + (long)grp * K * cg, cg, xg, HW, cols, HW, K, HW, cg, null, null, float.NegativeInfinity, float.PositiveInfinity, tail);
                for (int o = 0; o < og; o++) new Span<float>(yg + (long)o * ohw, ohw).Fill(bp == null ? 0f : bp[grp * og + o]);
                Col2Im(cols, yg);
            }
    }

    void RunNhwc(Frame f, int n)
    {
        float* xs = f.F(x), ys = f.F(y), wp = f.F(w), bp = b >= 0 ? f.F(b) : null;
        float* wt = (float*)(((nint)f.Scratch + 63) & ~(nint)63), cols = wt + (long)g.C * K, tail = cols + (long)K * HW;
        int cg = g.CinPerGroup, og = g.CoutPerGroup, taps = g.KH * g.KW, ohw = g.OH * g.OW;
        // W [C, OC/g, KH, KW] -> [C, KH·KW, OC/g]: a pixel's row of cols holds each tap's output channels contiguous
        for (int c = 0; c < g.C; c++)
            for (int o = 0; o < og; o++)
                for (int t = 0; t < taps; t++) wt[((long)c * taps + t) * og + o] = wp[((long)c * og + o) * taps + t];
        for (int i = 0; i < n; i++)
        {
            float* xi = xs + (long)i * HW * g.C, yi = ys + (long)i * ohw * g.OC;
            for (int p = 0; p < ohw; p++)
            {
                var d = new Span<float>(yi + (long)p * g.OC, g.OC);
                if (bp == null) d.Clear(); else new ReadOnlySpan<float>(bp, g.OC).CopyTo(d);
            }
            for (int grp = 0; grp < g.Group; grp++)
            {
                Gemm.RunStrided(xi + grp * cg, g.C, wt + (long)grp * cg * K, K, cols, K, HW, K, cg, null, null, float.NegativeInfinity, float.PositiveInfinity, tail);
                for (int ih = 0; ih < g.H; ih++)
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int oh = ih * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)oh >= (uint)g.OH) continue;
                        for (int iw = 0; iw < g.W; iw++)
                        {
                            float* row = cols + ((long)(ih * g.W + iw) * g.KH + kh) * g.KW * og;
                            for (int kw = 0; kw < g.KW; kw++)
                            {
                                int ow = iw * g.StrideW - g.PadLeft + kw * g.DilationW;
                                if ((uint)ow >= (uint)g.OW) continue;
                                float* dst = yi + ((long)oh * g.OW + ow) * g.OC + grp * og, src = row + (long)kw * og;
                                if (og < 16) for (int o = 0; o < og; o++) dst[o] += src[o];   // a head of few channels: no call per pixel
                                else TensorPrimitives.Add(new ReadOnlySpan<float>(dst, og), new ReadOnlySpan<float>(src, og), new Span<float>(dst, og));
                            }
                        }
                    }
            }
        }
    }

    /// <summary>Adds each row of cols [OC/g·KH·KW, H·W] into the output plane of its channel at its kernel offset.</summary>
    void Col2Im(float* cols, float* yg)
    {
        for (int o = 0; o < g.CoutPerGroup; o++)
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++)
                {
                    float* row = cols + ((long)(o * g.KH + kh) * g.KW + kw) * HW;
                    int shift = kw * g.DilationW - g.PadLeft;   // ow = iw·SW + shift
                    int iw0 = Math.Max(0, CeilDiv(-shift, g.StrideW)), iw1 = Math.Min(g.W, FloorDiv(g.OW - 1 - shift, g.StrideW) + 1);
                    if (iw1 <= iw0) continue;
                    for (int ih = 0; ih < g.H; ih++)
                    {
                        int oh = ih * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)oh >= (uint)g.OH) continue;
                        float* src = row + (long)ih * g.W, dst = yg + ((long)o * g.OH + oh) * g.OW + shift;
                        if (g.StrideW == 1)
                        {
                            var d = new Span<float>(dst + iw0, iw1 - iw0);
                            TensorPrimitives.Add(d, new ReadOnlySpan<float>(src + iw0, iw1 - iw0), d);
                        }
                        else for (int iw = iw0; iw < iw1; iw++) dst[(long)iw * g.StrideW] += src[iw];
                    }
                }
    }

    static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);
    static int CeilDiv(int a, int b) => -FloorDiv(-a, b);
}
