namespace EdgeNet.Kernels.Reference;

/// <summary>MaxPool / AveragePool over NCHW with the window of <see cref="ConvGeometry"/> (OC = C, Group = C).</summary>
public static class Pool
{
    public static void Max(ReadOnlySpan<float> x, Span<float> y, int n, in ConvGeometry g)
    {
        for (int nc = 0; nc < n * g.C; nc++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    float m = float.NegativeInfinity;
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                            if ((uint)iw >= (uint)g.W) continue;
                            m = Math.Max(m, x[(nc * g.H + ih) * g.W + iw]);
                        }
                    }
                    y[(nc * g.OH + oh) * g.OW + ow] = m;
                }
    }

    /// <param name="countIncludePad">divide by the whole window (pads count as zeros, but not the part past the end
    /// added by ceil_mode) rather than by the valid elements</param>
    public static void Average(ReadOnlySpan<float> x, Span<float> y, int n, in ConvGeometry g, bool countIncludePad, int padBottom, int padRight)
    {
        for (int nc = 0; nc < n * g.C; nc++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    float s = 0; int valid = 0;
                    int h0 = oh * g.StrideH - g.PadTop, w0 = ow * g.StrideW - g.PadLeft;
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = h0 + kh;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = w0 + kw;
                            if ((uint)iw >= (uint)g.W) continue;
                            s += x[(nc * g.H + ih) * g.W + iw]; valid++;
                        }
                    }
                    int count = valid;
                    if (countIncludePad)
                    {
                        int hEnd = Math.Min(h0 + g.KH, g.H + padBottom), wEnd = Math.Min(w0 + g.KW, g.W + padRight);
                        count = (hEnd - h0) * (wEnd - w0);
                    }
                    y[(nc * g.OH + oh) * g.OW + ow] = count > 0 ? s / count : 0f;
                }
    }

    /// <summary>x [N*C, HW] -> y [N*C]</summary>
    public static void GlobalAverage(ReadOnlySpan<float> x, Span<float> y, int nc, int hw)
    {
        for (int i = 0; i < nc; i++)
        {
            float s = 0;
            for (int j = 0; j < hw; j++) s += x[i * hw + j];
            y[i] = s / hw;
        }
    }
}
