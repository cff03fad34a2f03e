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

    /// <summary>The 3×3 stride-1 conv (group 1, any zero padding) by F(2×2, 3×3): x [H, W, C], w [OC, C, 3, 3], b [OC] →
    /// y [OH, OW, OC] (one image, channels-last), then the clamp [lo, hi].</summary>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, in ConvGeometry g, float lo, float hi)
    {
        var u = new float[g.OC * g.C * 16];
        for (int o = 0; o < g.OC; o++)
            for (int c = 0; c < g.C; c++) Weight(w.Slice((o * g.C + c) * 9, 9), u.AsSpan((o * g.C + c) * 16, 16));
        Span<float> d = stackalloc float[16], m = stackalloc float[16], o4 = stackalloc float[4];
        var vs = new float[g.C * 16];
        for (int ty = 0; ty < (g.OH + 1) / 2; ty++)
            for (int tx = 0; tx < (g.OW + 1) / 2; tx++)
            {
                for (int c = 0; c < g.C; c++)
                {
                    for (int r = 0; r < 4; r++)
                        for (int q = 0; q < 4; q++)
                        {
                            int ih = 2 * ty - g.PadTop + r, iw = 2 * tx - g.PadLeft + q;
                            d[4 * r + q] = (uint)ih < (uint)g.H && (uint)iw < (uint)g.W ? x[(ih * g.W + iw) * g.C + c] : 0f;
                        }
                    Input(d, vs.AsSpan(c * 16, 16));
                }
                for (int o = 0; o < g.OC; o++)
                {
                    m.Clear();
                    for (int c = 0; c < g.C; c++)
                        for (int p = 0; p < 16; p++) m[p] += vs[c * 16 + p] * u[(o * g.C + c) * 16 + p];
                    Output(m, o4);
                    for (int i = 0; i < 2; i++)
                        for (int j = 0; j < 2; j++)
                        {
                            int oh = 2 * ty + i, ow = 2 * tx + j;
                            if (oh < g.OH && ow < g.OW) y[(oh * g.OW + ow) * g.OC + o] = Math.Clamp(o4[2 * i + j] + b[o], lo, hi);
                        }
                }
            }
    }
}
