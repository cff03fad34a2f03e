namespace EdgeNet.Kernels.Reference;

/// <summary>MaxPool / AveragePool over NCHW with the window of <see cref="ConvGeometry"/> (OC = C, Group = C).</summary>
internal static class Pool
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

    /// <summary>Average pooling of <c>x</c> into <c>y</c>; <paramref name="countIncludePad"/>: divide by the whole window (pads
    /// count as zeros, but not the part past the end added by ceil_mode) rather than by the valid elements.</summary>
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
                        int ih = h0 + kh * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = w0 + kw * g.DilationW;
                            if ((uint)iw >= (uint)g.W) continue;
                            s += x[(nc * g.H + ih) * g.W + iw]; valid++;
                        }
                    }
                    int count = countIncludePad ? IncludedPad(g, h0, w0, padBottom, padRight) : valid;
                    y[(nc * g.OH + oh) * g.OW + ow] = count > 0 ? s / count : 0f;
                }
    }

    /// <summary>The window's taps inside the padded input (count_include_pad): those before the end pads, not the part
    /// past them that ceil_mode adds.</summary>
    public static int IncludedPad(in ConvGeometry g, int h0, int w0, int padBottom, int padRight)
    {
        int hs = 0, ws = 0;
        for (int kh = 0; kh < g.KH; kh++) if (h0 + kh * g.DilationH < g.H + padBottom) hs++;
        for (int kw = 0; kw < g.KW; kw++) if (w0 + kw * g.DilationW < g.W + padRight) ws++;
        return hs * ws;
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
