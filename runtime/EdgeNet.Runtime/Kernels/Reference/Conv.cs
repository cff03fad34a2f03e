namespace EdgeNet.Kernels.Reference;

/// <summary>Geometry of a 2-D convolution or pooling window (NCHW).</summary>
internal readonly record struct ConvGeometry(int C, int H, int W, int OC, int OH, int OW, int KH, int KW,
    int StrideH, int StrideW, int PadTop, int PadLeft, int DilationH, int DilationW, int Group)
{
    public int CinPerGroup => C / Group;
    public int CoutPerGroup => OC / Group;
    public bool IsDepthwise => Group == C && Group == OC;
}

/// <summary>Conv2D: x [N,C,H,W], w [OC, C/group, KH, KW], b [OC] -> y [N,OC,OH,OW]; zero padding.</summary>
internal static class Conv
{
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int n, in ConvGeometry g, Activation act)
    {
        int cg = g.CinPerGroup, og = g.CoutPerGroup;
        for (int i = 0; i < n; i++)
            for (int oc = 0; oc < g.OC; oc++)
            {
                int group = oc / og;
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        float s = b.IsEmpty ? 0f : b[oc];
                        for (int c = 0; c < cg; c++)
                            for (int kh = 0; kh < g.KH; kh++)
                            {
                                int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                                if ((uint)ih >= (uint)g.H) continue;
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                                    if ((uint)iw >= (uint)g.W) continue;
                                    s += x[((i * g.C + group * cg + c) * g.H + ih) * g.W + iw] * w[((oc * cg + c) * g.KH + kh) * g.KW + kw];
                                }
                            }
                        y[((i * g.OC + oc) * g.OH + oh) * g.OW + ow] = act.Scalar(s);
                    }
            }
    }
}
