namespace EdgeNet.Kernels.Reference;

/// <summary>
/// Winograd F(2×2, 3×3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2015): a 2×2 block of a
/// 3×3 stride-1 conv's outputs from a 4×4 block of its input, Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, 16 multiplies per
/// (input channel, output channel) instead of 36. The three transforms below are the specification that
/// <see cref="EdgeNet.Kernels.Simd.WinogradNhwc"/> vectorizes along channels (their additions in the same order), and
/// <see cref="Run"/> the whole conv, channels-last, for the tests.
///   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]   Aᵀ = [1 1 1 0; 0 1 −1 −1]
/// </summary>
internal static class Winograd
{
    /// <summary>u [4·4] = G g Gᵀ for one 3×3 filter g [3·3] (row-major).</summary>
    public static void Weight(ReadOnlySpan<float> g, Span<float> u)
    {
        Span<float> t = stackalloc float[12];   // G g: 4×3
        for (int j = 0; j < 3; j++)
        {
            float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
            t[j] = g0; t[3 + j] = 0.5f * (g0 + g1 + g2); t[6 + j] = 0.5f * (g0 - g1 + g2); t[9 + j] = g2;
        }
        for (int i = 0; i < 4; i++)
        {
            float t0 = t[3 * i], t1 = t[3 * i + 1], t2 = t[3 * i + 2];
            u[4 * i] = t0; u[4 * i + 1] = 0.5f * (t0 + t1 + t2); u[4 * i + 2] = 0.5f * (t0 - t1 + t2); u[4 * i + 3] = t2;
        }
    }

    /// <summary>v [4·4] = Bᵀ d B for one 4×4 input block d (row-major).</summary>
    public static void Input(ReadOnlySpan<float> d, Span<float> v)
    {
        Span<float> t = stackalloc float[16];   // Bᵀ d
        for (int j = 0; j < 4; j++)
        {
            t[j] = d[j] - d[8 + j]; t[4 + j] = d[4 + j] + d[8 + j]; t[8 + j] = d[8 + j] - d[4 + j]; t[12 + j] = d[4 + j] - d[12 + j];
        }
        for (int i = 0; i < 4; i++)
        {
            float t0 = t[4 * i], t1 = t[4 * i + 1], t2 = t[4 * i + 2], t3 = t[4 * i + 3];
            v[4 * i] = t0 - t2; v[4 * i + 1] = t1 + t2; v[4 * i + 2] = t2 - t1; v[4 * i + 3] = t1 - t3;
        }
    }

    /// <summary>y [2·2] = Aᵀ m A for one 4×4 block of products summed over the input channels.</summary>
    public static void Output(ReadOnlySpan<float> m, Span<float> y)
    {
        Span<float> s = stackalloc float[8];   // Aᵀ m: 2×4
        for (int j = 0; j < 4; j++) { s[j] = m[j] + m[4 + j] + m[8 + j]; s[4 + j] = m[4 + j] - m[8 + j] - m[12 + j]; }
        for (int i = 0; i < 2; i++) { y[2 * i] = s[4 * i] + s[4 * i + 1] + s[4 * i + 2]; y[2 * i + 1] = s[4 * i + 1] - s[4 * i + 2] - s[4 * i + 3]; }
    }

    // F(4×4, 3×3): 36 multiplies per 4×4 outputs (4× fewer than the direct conv's 144), larger transforms (Lavin's):
    //   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
    //   G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1]   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]

    /// <summary>u [6·6] = G g Gᵀ for one 3×3 filter g [3·3] (in double, rounded once).</summary>
    public static void Weight43(ReadOnlySpan<float> g, Span<float> u)
    {
        Span<double> t = stackalloc double[18];   // G g: 6×3
        for (int j = 0; j < 3; j++) Column43(g[j], g[3 + j], g[6 + j], t, j, 3);
        Span<double> r = stackalloc double[6];
        for (int i = 0; i < 6; i++)
        {
            Column43(t[3 * i], t[3 * i + 1], t[3 * i + 2], r, 0, 1);
            for (int k = 0; k < 6; k++) u[6 * i + k] = (float)r[k];
        }
    }

    static void Column43(double g0, double g1, double g2, Span<double> t, int at, int stride)
    {
        t[at] = g0 / 4; t[at + stride] = -(g0 + g1 + g2) / 6; t[at + 2 * stride] = -(g0 - g1 + g2) / 6;
        t[at + 3 * stride] = g0 / 24 + g1 / 12 + g2 / 6; t[at + 4 * stride] = g0 / 24 - g1 / 12 + g2 / 6; t[at + 5 * stride] = g2;
    }

    /// <summary>Bᵀ times a column (d0..d5, <paramref name="stride"/> apart) into t (same stride); the kernel's order of operations.</summary>
    public static void InputColumn43(ReadOnlySpan<float> d, int stride, Span<float> t)
    {
        float d0 = d[0], d1 = d[stride], d2 = d[2 * stride], d3 = d[3 * stride], d4 = d[4 * stride], d5 = d[5 * stride];
        t[0] = 4f * d0 - 5f * d2 + d4;
        t[stride] = d4 + d3 - 4f * (d1 + d2);
        t[2 * stride] = d4 - d3 + 4f * (d1 - d2);
        t[3 * stride] = d4 - d2 + 2f * (d3 - d1);
        t[4 * stride] = d4 - d2 - 2f * (d3 - d1);
        t[5 * stride] = 4f * d1 - 5f * d3 + d5;
    }

    /// <summary>v [6·6] = Bᵀ d B for one 6×6 input block d: Bᵀ down each column, then along each row.</summary>
    public static void Input43(ReadOnlySpan<float> d, Span<float> v)
    {
        Span<float> t = stackalloc float[36];
        for (int j = 0; j < 6; j++) InputColumn43(d[j..], 6, t[j..]);
        for (int i = 0; i < 6; i++) InputColumn43(t[(6 * i)..], 1, v[(6 * i)..]);
    }

    /// <summary>Aᵀ times a column (m0..m5, <paramref name="stride"/> apart) into s (4 values, same stride).</summary>
    public static void OutputColumn43(ReadOnlySpan<float> m, int stride, Span<float> s)
    {
        float m0 = m[0], m1 = m[stride], m2 = m[2 * stride], m3 = m[3 * stride], m4 = m[4 * stride], m5 = m[5 * stride];
        float a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;
        s[0] = m0 + a + c; s[stride] = b + 2f * d; s[2 * stride] = a + 4f * c; s[3 * stride] = b + 8f * d + m5;
    }

    /// <summary>y [4·4] = Aᵀ m A for one 6×6 block of products summed over the input channels.</summary>
    public static void Output43(ReadOnlySpan<float> m, Span<float> y)
    {
        Span<float> s = stackalloc float[24];   // Aᵀ m: 4×6
        for (int j = 0; j < 6; j++) OutputColumn43(m[j..], 6, s[j..]);
        for (int i = 0; i < 4; i++) OutputColumn43(s[(6 * i)..], 1, y[(4 * i)..]);
    }

    /// <summary>The 3×3 stride-1 conv (group 1, any zero padding) by F(2×2, 3×3) (<paramref name="size"/> 2) or F(4×4, 3×3)
    /// (4): x [H, W, C], w [OC, C, 3, 3], b [OC] → y [OH, OW, OC] (one image, channels-last), then the clamp [lo, hi].</summary>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, in ConvGeometry g, float lo, float hi, int size = 2)
    {
        int e = size + 2, pn = e * e;
        var u = new float[g.OC * g.C * pn];
        for (int o = 0; o < g.OC; o++)
            for (int c = 0; c < g.C; c++)
                if (size == 2) Weight(w.Slice((o * g.C + c) * 9, 9), u.AsSpan((o * g.C + c) * pn, pn));
                else Weight43(w.Slice((o * g.C + c) * 9, 9), u.AsSpan((o * g.C + c) * pn, pn));
        Span<float> d = stackalloc float[pn], m = stackalloc float[pn], out1 = stackalloc float[size * size];
        var vs = new float[g.C * pn];
        for (int ty = 0; ty < (g.OH + size - 1) / size; ty++)
            for (int tx = 0; tx < (g.OW + size - 1) / size; tx++)
            {
                for (int c = 0; c < g.C; c++)
                {
                    for (int r = 0; r < e; r++)
                        for (int q = 0; q < e; q++)
                        {
                            int ih = size * ty - g.PadTop + r, iw = size * tx - g.PadLeft + q;
                            d[e * r + q] = (uint)ih < (uint)g.H && (uint)iw < (uint)g.W ? x[(ih * g.W + iw) * g.C + c] : 0f;
                        }
                    if (size == 2) Input(d, vs.AsSpan(c * pn, pn));
                    else Input43(d, vs.AsSpan(c * pn, pn));
                }
                for (int o = 0; o < g.OC; o++)
                {
                    m.Clear();
                    for (int c = 0; c < g.C; c++)
                        for (int p = 0; p < pn; p++) m[p] += vs[c * pn + p] * u[(o * g.C + c) * pn + p];
                    if (size == 2) Output(m, out1);
                    else Output43(m, out1);
                    for (int i = 0; i < size; i++)
                        for (int j = 0; j < size; j++)
                        {
                            int oh = size * ty + i, ow = size * tx + j;
                            if (oh < g.OH && ow < g.OW) y[(oh * g.OW + ow) * g.OC + o] = Math.Clamp(out1[size * i + j] + b[o], lo, hi);
                        }
                }
            }
    }
}
