using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// col [K = C/group·KH·KW, OH·OW]: row (c, kh, kw) holds the input pixel each output position sees under that filter
/// tap (0 in the padding). Used by the Conv forward GEMM and by the Conv backward pass.
/// </summary>
public static unsafe class Im2Col
{
    public static void Fill(in ConvGeometry g, float* xg, float* col)
    {
        int n = g.OH * g.OW;
        for (int c = 0; c < g.CinPerGroup; c++)
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++, col += n)
                {
                    int off = kw * g.DilationW - g.PadLeft;
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        float* row = col + oh * g.OW;
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)ih >= (uint)g.H) { new Span<float>(row, g.OW).Clear(); continue; }
                        float* xr = xg + ((long)c * g.H + ih) * g.W;
                        for (int ow = 0; ow < g.OW; ow++)
                        {
                            int iw = ow * g.StrideW + off;
                            row[ow] = (uint)iw < (uint)g.W ? xr[iw] : 0f;
                        }
                    }
                }
    }
}
