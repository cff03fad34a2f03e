using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// col [K = C/group·KH·KW, OH·OW]: row (c, kh, kw) holds the input pixel each output position sees under that filter
/// tap (0 in the padding). Used by the Conv forward GEMM and by the Conv backward pass. With a row stride
/// <c>ld</c> of <see cref="Gemm.NR"/> and OH·OW ≤ NR, the columns are one packed GEMM panel (zero-padded).
/// </summary>
internal static unsafe class Im2Col
{
    public static void Fill(in ConvGeometry g, float* xg, float* col, int ld = 0)
    {
        // Locals, not g's fields: stores through col could alias g, and the JIT would reload every field per element.
        int H = g.H, W = g.W, OH = g.OH, OW = g.OW, sh = g.StrideH, sw = g.StrideW, pt = g.PadTop, pl = g.PadLeft;
        int C = g.CinPerGroup, KH = g.KH, KW = g.KW, dh = g.DilationH, dw = g.DilationW, n = OH * OW;
        if (ld == 0) ld = n;
        for (int c = 0; c < C; c++)
            for (int kh = 0; kh < KH; kh++)
                for (int kw = 0; kw < KW; kw++, col += ld)
                {
                    for (int j = n; j < ld; j++) col[j] = 0f;
                    int off = kw * dw - pl;
                    // Output columns whose input column is inside the image: ow0 <= ow < ow1 (stride sw).
                    int ow0 = Math.Min(OW, off >= 0 ? 0 : (-off + sw - 1) / sw), ow1 = Math.Max(ow0, Math.Min(OW, W - off <= 0 ? 0 : (W - off + sw - 1) / sw));
                    for (int oh = 0; oh < OH; oh++)
                    {
                        float* row = col + oh * OW;
                        int ih = oh * sh - pt + kh * dh;
                        if ((uint)ih >= (uint)H) { for (int ow = 0; ow < OW; ow++) row[ow] = 0f; continue; }
                        float* xr = xg + ((long)c * H + ih) * W + off;
                        for (int ow = 0; ow < ow0; ow++) row[ow] = 0f;
                        if (sw == 1) for (int ow = ow0; ow < ow1; ow++) row[ow] = xr[ow];
                        else for (int ow = ow0; ow < ow1; ow++) row[ow] = xr[ow * sw];
                        for (int ow = ow1; ow < OW; ow++) row[ow] = 0f;
                    }
                }
    }

    /// <summary>Floats of scratch <see cref="FillPadded"/> needs for the zero-padded copy of one group's input.</summary>
    public static long PaddedFloats(in ConvGeometry g) => (long)g.CinPerGroup * (g.OH + g.KH - 1) * (g.OW + g.KW - 1);

    /// <summary>Stride 1 and dilation 1 (the 3×3 convolutions of small CNNs): the input is zero-padded once into
    /// <c>padded</c>, then every column row is a run of plain copies with no bounds checks. Same result as <see cref="Fill"/>.</summary>
    public static bool CanPad(in ConvGeometry g) => g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1;

    public static void FillPadded(in ConvGeometry g, float* xg, float* col, int ld, float* padded)
    {
        int H = g.H, W = g.W, OH = g.OH, OW = g.OW, pt = g.PadTop, pl = g.PadLeft;
        int C = g.CinPerGroup, KH = g.KH, KW = g.KW, n = OH * OW, Hp = OH + KH - 1, Wp = OW + KW - 1;
        for (int c = 0; c < C; c++)
            for (int hp = 0; hp < Hp; hp++)
            {
                float* d = padded + ((long)c * Hp + hp) * Wp;
                int ih = hp - pt;
                int w0 = Math.Clamp(pl, 0, Wp), w1 = Math.Clamp(pl + W, w0, Wp);   // padded columns that hold input
                if ((uint)ih >= (uint)H) { w1 = w0; }
                for (int j = 0; j < w0; j++) d[j] = 0f;
                if (w1 > w0) Copy(xg + ((long)c * H + ih) * W + (w0 - pl), d + w0, w1 - w0);
                for (int j = w1; j < Wp; j++) d[j] = 0f;
            }
        for (int c = 0; c < C; c++)
            for (int kh = 0; kh < KH; kh++)
                for (int kw = 0; kw < KW; kw++, col += ld)
                {
                    float* src = padded + ((long)c * Hp + kh) * Wp + kw;
                    for (int oh = 0; oh < OH; oh++, src += Wp) Copy(src, col + oh * OW, OW);
                    Zero(col + n, ld - n);
                }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Zero(float* d, int n)
    {
        int i = 0;
        for (; i + 4 <= n; i += 4) Vector128<float>.Zero.Store(d + i);
        for (; i < n; i++) d[i] = 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Copy(float* s, float* d, int n)
    {
        if (n >= 32) { new ReadOnlySpan<float>(s, n).CopyTo(new Span<float>(d, n)); return; }
        int i = 0;
        for (; i + 4 <= n; i += 4) Vector128.Store(Vector128.Load(s + i), d + i);
        for (; i < n; i++) d[i] = s[i];
    }
}
