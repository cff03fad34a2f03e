namespace EdgeNet.Kernels.Reference;

/// <summary>
/// ConvTranspose (the gradient of Conv with respect to its input): x [N,C,H,W], w [C, OC/group, KH, KW], b [OC]
/// -> y [N,OC,OH,OW] with OH = SH·(H−1) + output_padding + (KH−1)·DH + 1 − pads; the geometry is a
/// <see cref="ConvGeometry"/> whose C/H/W describe the input and OC/OH/OW the output. Each input pixel scatters
/// its weighted kernel into the output: y[oc, ih·SH − PadTop + kh·DH, iw·SW − PadLeft + kw·DW] += x[c, ih, iw]·w[c, oc, kh, kw].
/// </summary>
internal static class ConvTranspose
{
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int n, in ConvGeometry g)
    {
        int cg = g.CinPerGroup, og = g.CoutPerGroup;
        for (int i = 0; i < n; i++)
            for (int oc = 0; oc < g.OC; oc++)
                y.Slice(((i * g.OC) + oc) * g.OH * g.OW, g.OH * g.OW).Fill(b.IsEmpty ? 0f : b[oc]);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < g.C; c++)
            {
                int grp = c / cg;
                for (int ih = 0; ih < g.H; ih++)
                    for (int iw = 0; iw < g.W; iw++)
                    {
                        float v = x[((i * g.C + c) * g.H + ih) * g.W + iw];
                        for (int o = 0; o < og; o++)
                            for (int kh = 0; kh < g.KH; kh++)
                            {
                                int oh = ih * g.StrideH - g.PadTop + kh * g.DilationH;
                                if ((uint)oh >= (uint)g.OH) continue;
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int ow = iw * g.StrideW - g.PadLeft + kw * g.DilationW;
                                    if ((uint)ow >= (uint)g.OW) continue;
                                    y[((i * g.OC + grp * og + o) * g.OH + oh) * g.OW + ow] += v * w[((c * og + o) * g.KH + kh) * g.KW + kw];
                                }
                            }
                    }
            }
    }

    /// <summary>dx += Σ dy·w (a convolution of dy), dw += Σ x·dy, db += Σ dy; empty spans are skipped.</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dw, Span<float> db, int n, in ConvGeometry g)
    {
        int cg = g.CinPerGroup, og = g.CoutPerGroup;
        if (!db.IsEmpty)
            for (int i = 0; i < n; i++)
                for (int oc = 0; oc < g.OC; oc++)
                {
                    float s = 0;
                    foreach (var v in dy.Slice((i * g.OC + oc) * g.OH * g.OW, g.OH * g.OW)) s += v;
                    db[oc] += s;
                }
        if (dx.IsEmpty && dw.IsEmpty) return;
        for (int i = 0; i < n; i++)
            for (int c = 0; c < g.C; c++)
            {
                int grp = c / cg;
                for (int ih = 0; ih < g.H; ih++)
                    for (int iw = 0; iw < g.W; iw++)
                    {
                        int xi = ((i * g.C + c) * g.H + ih) * g.W + iw;
                        float xv = x[xi], sx = 0;
                        for (int o = 0; o < og; o++)
                            for (int kh = 0; kh < g.KH; kh++)
                            {
                                int oh = ih * g.StrideH - g.PadTop + kh * g.DilationH;
                                if ((uint)oh >= (uint)g.OH) continue;
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int ow = iw * g.StrideW - g.PadLeft + kw * g.DilationW;
                                    if ((uint)ow >= (uint)g.OW) continue;
                                    float d = dy[((i * g.OC + grp * og + o) * g.OH + oh) * g.OW + ow];
                                    int wi = ((c * og + o) * g.KH + kh) * g.KW + kw;
                                    sx += d * w[wi];
                                    if (!dw.IsEmpty) dw[wi] += xv * d;
                                }
                            }
                        if (!dx.IsEmpty) dx[xi] += sx;
                    }
            }
    }
}
