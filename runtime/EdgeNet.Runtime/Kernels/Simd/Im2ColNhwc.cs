using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// im2col for channels-last input: one row per output pixel, K = KH·KW·Cg columns ordered (kh, kw, c), so a tap is
/// one contiguous run of the group's channels, and with one group and no horizontal dilation a whole kernel row is
/// one run of KW·C floats. Taps in the padding are zeros. Twin of Reference.Conv through the session-level tests.
/// </summary>
internal static unsafe class Im2ColNhwc
{
    /// <summary>Rows for output pixels first..first+rows−1 of one image x [H, W, C], group <paramref name="grp"/>, into a [rows, K].</summary>
    public static void Fill(float* x, in ConvGeometry g, int grp, int first, int rows, float* a)
    {
        int C = g.C, cg = g.CinPerGroup, K = g.KH * g.KW * cg;
        bool runs = g.Group == 1 && g.DilationW == 1;   // a kernel row's taps are adjacent pixels: one copy
        x += grp * cg;
        for (int r = 0; r < rows; r++, a += K)
        {
            int p = first + r, oh = p / g.OW, ow = p % g.OW;
            int ih0 = oh * g.StrideH - g.PadTop, iw0 = ow * g.StrideW - g.PadLeft;
            float* d = a;
            for (int kh = 0; kh < g.KH; kh++)
            {
                int ih = ih0 + kh * g.DilationH;
                if ((uint)ih >= (uint)g.H) { new Span<float>(d, g.KW * cg).Clear(); d += g.KW * cg; continue; }
                float* row = x + (long)ih * g.W * C;
                if (runs)
                {
                    int lo = Math.Max(0, -iw0), hi = Math.Min(g.KW, g.W - iw0);   // taps inside the row
                    if (hi <= lo) { new Span<float>(d, g.KW * C).Clear(); d += g.KW * C; continue; }
                    if (lo > 0) new Span<float>(d, lo * C).Clear();
                    new ReadOnlySpan<float>(row + (long)(iw0 + lo) * C, (hi - lo) * C).CopyTo(new Span<float>(d + lo * C, (hi - lo) * C));
                    if (hi < g.KW) new Span<float>(d + hi * C, (g.KW - hi) * C).Clear();
                    d += g.KW * C;
                    continue;
                }
                for (int kw = 0; kw < g.KW; kw++, d += cg)
                {
                    int iw = iw0 + kw * g.DilationW;
                    if ((uint)iw >= (uint)g.W) new Span<float>(d, cg).Clear();
                    else new ReadOnlySpan<float>(row + (long)iw * C, cg).CopyTo(new Span<float>(d, cg));
                }
            }
        }
    }
}
