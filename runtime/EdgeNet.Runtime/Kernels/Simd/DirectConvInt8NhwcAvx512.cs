using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// The stem convolution (few input channels, NCHW in, channels-last out) on AVX-512BW, the VPMADDWD twin of
/// <see cref="DirectConvInt8Nhwc.Run"/>: for Zen 4 and Ice Lake (no AVX-VNNI), and faster than that VNNI form where
/// both exist (MobileNetV2-1.0's stem on Zen 5: 104 → 86 µs; without VNNI the im2col GEMM took ~180). The input is packed once as int16 [Hp, Wp, C] with a
/// border of the zero-point code and no channel padding (<see cref="PackInput"/>), so one window row is KW·C contiguous
/// int16 (dilation 1): taken a pair at a time, each pair one dword broadcast. Weights are int16 panels of 16 output
/// channels, per (kh, pair) the two weights of each channel side by side: VPMADDWD then gives the 16 channels' sums of
/// that pair in their own lanes, with no lane gathering after the loop, and a 3-channel 3×3 window is 15 pairs (the
/// im2col GEMM's 36 padded k). Tiles of 8 output pixels × 32 channels (16 accumulators); a row's last tile starts at
/// OW − 8, recomputing pixels rather than handling a tail. Every sum is the reference's exact int32.
/// </summary>
internal static unsafe class DirectConvInt8NhwcAvx512
{
    const int NR = GemmInt8.NR, Pixels = 8;

    /// <summary>Runs for this geometry: AVX-512BW, no column dilation, a whole tile of output columns.</summary>
    public static bool Supports(in ConvGeometry g) => Avx512BW.IsSupported && g.DilationW == 1 && g.OW >= Pixels && g.Group == 1;

    /// <summary>Pairs of one window row: ⌈KW·C / 2⌉ (an odd row's last pair reads one value past it, at weight 0).</summary>
    static int Pairs(in ConvGeometry g) => (g.KW * g.C + 1) / 2;

    public static (int Hp, int Wp) PaddedSize(in ConvGeometry g) => DirectConvInt8Nhwc.PaddedSize(g);

    /// <summary>Bytes of <see cref="PackInput"/>'s output, with room for the last pair's read past the end.</summary>
    public static long PackedInputBytes(in ConvGeometry g) { var (hp, wp) = PaddedSize(g); return 2L * hp * wp * g.C + 64; }

    public static long PackedWeightBytes(in ConvGeometry g) => 2L * ((g.OC + NR - 1) / NR * NR) * g.KH * Pairs(g) * 2;

    /// <summary>Weights [OC, C, KH, KW] → int16 panels [OC/16][KH][pair][16 channels][2], zeros past KW·C and OC.</summary>
    public static void PackWeights(ReadOnlySpan<sbyte> w, in ConvGeometry g, short* dst)
    {
        int pairs = Pairs(g), panels = (g.OC + NR - 1) / NR, row = g.KW * g.C;
        new Span<short>(dst, panels * g.KH * pairs * 2 * NR).Clear();
        for (int o = 0; o < g.OC; o++)
            for (int kh = 0; kh < g.KH; kh++)
                for (int e = 0; e < row; e++)   // element e of the window row: column e / C, channel e % C
                {
                    int kw = e / g.C, c = e % g.C;
                    dst[(((long)(o / NR) * g.KH + kh) * pairs + e / 2) * 2 * NR + o % NR * 2 + e % 2] = w[((o * g.C + c) * g.KH + kh) * g.KW + kw];
                }
    }

    /// <summary>x [C, H, W] int8 → int16 [Hp, Wp, C], the window origin at (PadTop, PadLeft), the zero point's code
    /// outside the image (a real 0).</summary>
    public static void PackInput(sbyte* x, in ConvGeometry g, int zx, short* dst)
    {
        var (hp, wp) = PaddedSize(g);
        int H = g.H, W = g.W, C = g.C;
        new Span<short>(dst, (int)(PackedInputBytes(g) / 2)).Fill((short)zx);
        long plane = (long)H * W;
        for (int r = 0; r < hp; r++)
        {
            int ih = r - g.PadTop;
            if ((uint)ih >= (uint)H) continue;
            int n = Math.Min(W, wp - g.PadLeft);   // image columns that some window reads
            short* d = dst + ((long)r * wp + g.PadLeft) * C;
            sbyte* s = x + (long)ih * W;
            int i = 0;
            if (C == 3)   // RGB: 32 pixels of each plane widened, then interleaved by two two-source permutes per output vector
            {
                var (i0, i1, i2) = (Vector512.Create(Rgb.First0), Vector512.Create(Rgb.First1), Vector512.Create(Rgb.First2));
                var (j0, j1, j2) = (Vector512.Create(Rgb.Third0), Vector512.Create(Rgb.Third1), Vector512.Create(Rgb.Third2));
                for (; i + 32 <= n; i += 32)
                {
                    var a = Widen(s + i); var b = Widen(s + plane + i); var c = Widen(s + 2 * plane + i);
                    short* o = d + (long)i * 3;
                    Avx512BW.PermuteVar32x16x2(Avx512BW.PermuteVar32x16x2(a, i0, b), j0, c).Store(o);
                    Avx512BW.PermuteVar32x16x2(Avx512BW.PermuteVar32x16x2(a, i1, b), j1, c).Store(o + 32);
                    Avx512BW.PermuteVar32x16x2(Avx512BW.PermuteVar32x16x2(a, i2, b), j2, c).Store(o + 64);
                }
            }
            for (; i < n; i++)
                for (int c = 0; c < C; c++) d[(long)i * C + c] = s[c * plane + i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<short> Widen(sbyte* p) => Avx512BW.ConvertToVector512Int16(Vector256.Load(p));

    /// <summary>Permute indices that interleave three planes of 32 int16 (a, b, c) into 96 values a0 b0 c0 a1 ...:
    /// output vector k's lane l is value q = 32k + l, plane q % 3, pixel q / 3. First: a (index p) or b (32 + p), any
    /// lane for c; Third: keeps that lane, or c's (32 + p).</summary>
    static class Rgb
    {
        public static readonly short[] First0 = First(0), First1 = First(1), First2 = First(2), Third0 = Third(0), Third1 = Third(1), Third2 = Third(2);
        static short[] First(int k) => Enumerable.Range(32 * k, 32).Select(q => (short)(q % 3 == 1 ? 32 + q / 3 : q % 3 == 0 ? q / 3 : 0)).ToArray();
        static short[] Third(int k) => Enumerable.Range(32 * k, 32).Select(q => (short)(q % 3 == 2 ? 32 + q / 3 : q - 32 * k)).ToArray();
    }

    /// <summary>Output rows oh0..oh1 of y [OH, OW, OC] int8 from the packed input; bias (zero point folded) and
    /// multipliers per output channel.</summary>
    public static void Run(short* xp, short* packedW, int* bias, float* mult, sbyte* y, in ConvGeometry g, int zp, int lo, int hi, int oh0, int oh1, bool clamp)
    {
        int panelShorts = g.KH * Pairs(g) * 2 * NR;
        int* padBias = stackalloc int[2 * NR]; float* padMult = stackalloc float[2 * NR];
        for (int j0 = 0; j0 < g.OC; j0 += 2 * NR)
        {
            int w = Math.Min(2 * NR, g.OC - j0);
            int* b = bias + j0; float* m = mult + j0;
            if (w < 2 * NR)   // the last panels: their packed weights past w are zeros; bias and multipliers padded likewise
            {
                for (int j = 0; j < 2 * NR; j++) { padBias[j] = j < w ? b[j] : 0; padMult[j] = j < w ? m[j] : 0f; }
                b = padBias; m = padMult;
            }
            short* pw = packedW + (long)j0 / NR * panelShorts;
            if (w > NR) Tile32(xp, pw, pw + panelShorts, b, m, y + j0, g, zp, lo, hi, oh0, oh1, w - NR, clamp);
            else Tile16(xp, pw, b, m, y + j0, g, zp, lo, hi, oh0, oh1, w, clamp);
        }
    }

    /// <summary>Two panels (16 + <paramref name="w1"/> channels) of rows oh0..oh1, 8 pixels at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile32(short* xp, short* w0p, short* w1p, int* bias, float* mult, sbyte* y, in ConvGeometry g, int zp, int lo, int hi, int oh0, int oh1, int w1, bool clamp)
    {
        var (_, wp) = PaddedSize(g);
        int C = g.C, OW = g.OW, OC = g.OC, KH = g.KH, pairs = Pairs(g);
        long rowStep = (long)wp * C, tapRow = g.DilationH * rowStep, s = (long)g.StrideW * C * 2;   // s: bytes between pixels
        var vlo = Vector512.Create((float)(lo - zp)); var vhi = Vector512.Create((float)(hi - zp)); var vz = Vector512.Create(zp);
        var b0 = Vector512.Load(bias); var b1 = Vector512.Load(bias + NR); var m0 = Vector512.Load(mult); var m1 = Vector512.Load(mult + NR);
        sbyte* t = stackalloc sbyte[NR];
        for (int oh = oh0; oh < oh1; oh++)
            for (int ow = 0; ow < OW; ow += Pixels)
            {
                if (ow > OW - Pixels) ow = OW - Pixels;   // the last tile overlaps the one before
                byte* x0 = (byte*)(xp + oh * g.StrideH * rowStep + (long)ow * g.StrideW * C), x4 = x0 + 4 * s;
                Vector512<int> c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
                Vector512<int> c40 = b0, c41 = b1, c50 = b0, c51 = b1, c60 = b0, c61 = b1, c70 = b0, c71 = b1;
                short* k0 = w0p, k1 = w1p;
                for (int kh = 0; kh < KH; kh++)
                {
                    long off = kh * tapRow * 2;
                    for (int q = 0; q < pairs; q++, off += 4, k0 += 2 * NR, k1 += 2 * NR)
                    {
                        var w0 = Vector512.Load(k0); var w1v = Vector512.Load(k1);
                        var x = Pair(x0 + off); c00 = Dot(c00, w0, x); c01 = Dot(c01, w1v, x);
                        x = Pair(x0 + s + off); c10 = Dot(c10, w0, x); c11 = Dot(c11, w1v, x);
                        x = Pair(x0 + 2 * s + off); c20 = Dot(c20, w0, x); c21 = Dot(c21, w1v, x);
                        x = Pair(x0 + 3 * s + off); c30 = Dot(c30, w0, x); c31 = Dot(c31, w1v, x);
                        x = Pair(x4 + off); c40 = Dot(c40, w0, x); c41 = Dot(c41, w1v, x);
                        x = Pair(x4 + s + off); c50 = Dot(c50, w0, x); c51 = Dot(c51, w1v, x);
                        x = Pair(x4 + 2 * s + off); c60 = Dot(c60, w0, x); c61 = Dot(c61, w1v, x);
                        x = Pair(x4 + 3 * s + off); c70 = Dot(c70, w0, x); c71 = Dot(c71, w1v, x);
                    }
                }
                sbyte* o = y + ((long)oh * OW + ow) * OC;
                GemmInt8.StoreColumns512(c00, m0, vlo, vhi, vz, o, NR, t, clamp); GemmInt8.StoreColumns512(c01, m1, vlo, vhi, vz, o + NR, w1, t, clamp); o += OC;
                GemmInt8.StoreColumns512(c10, m0, vlo, vhi, vz, o, NR, t, clamp); GemmInt8.StoreColumns512(c11, m1, vlo, vhi, vz, o + NR, w1, t, clamp); o += OC;
                GemmInt8.StoreColumns512(c20, m0, vlo, vhi, vz, o, NR, t, clamp); GemmInt8.StoreColumns512(c21, m1, vlo, vhi, vz, o + NR, w1, t, clamp); o += OC;
                GemmInt8.StoreColumns512(c30, m0, vlo, vhi, vz, o, NR, t, clamp); GemmInt8.StoreColumns512(c31, m1, vlo, vhi, vz, o + NR, w1, t, clamp); o += OC;
                GemmInt8.StoreColumns512(c40, m0, vlo, vhi, vz, o, NR, t, clamp); GemmInt8.StoreColumns512(c41, m1, vlo, vhi, vz, o + NR, w1, t, clamp); o += OC;
                GemmInt8.StoreColumns512(c50, m0, vlo, vhi, vz, o, NR, t, clamp); GemmInt8.StoreColumns512(c51, m1, vlo, vhi, vz, o + NR, w1, t, clamp); o += OC;
                GemmInt8.StoreColumns512(c60, m0, vlo, vhi, vz, o, NR, t, clamp); GemmInt8.StoreColumns512(c61, m1, vlo, vhi, vz, o + NR, w1, t, clamp); o += OC;
                GemmInt8.StoreColumns512(c70, m0, vlo, vhi, vz, o, NR, t, clamp); GemmInt8.StoreColumns512(c71, m1, vlo, vhi, vz, o + NR, w1, t, clamp);
            }
    }

    /// <summary>One panel (<paramref name="w"/> ≤ 16 channels) of rows oh0..oh1, 8 pixels at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile16(short* xp, short* wp0, int* bias, float* mult, sbyte* y, in ConvGeometry g, int zp, int lo, int hi, int oh0, int oh1, int w, bool clamp)
    {
        var (_, wp) = PaddedSize(g);
        int C = g.C, OW = g.OW, OC = g.OC, KH = g.KH, pairs = Pairs(g);
        long rowStep = (long)wp * C, tapRow = g.DilationH * rowStep, s = (long)g.StrideW * C * 2;
        var vlo = Vector512.Create((float)(lo - zp)); var vhi = Vector512.Create((float)(hi - zp)); var vz = Vector512.Create(zp);
        var b0 = Vector512.Load(bias); var m0 = Vector512.Load(mult);
        sbyte* t = stackalloc sbyte[NR];
        for (int oh = oh0; oh < oh1; oh++)
            for (int ow = 0; ow < OW; ow += Pixels)
            {
                if (ow > OW - Pixels) ow = OW - Pixels;
                byte* x0 = (byte*)(xp + oh * g.StrideH * rowStep + (long)ow * g.StrideW * C), x4 = x0 + 4 * s;
                Vector512<int> c0 = b0, c1 = b0, c2 = b0, c3 = b0, c4 = b0, c5 = b0, c6 = b0, c7 = b0;
                short* k0 = wp0;
                for (int kh = 0; kh < KH; kh++)
                {
                    long off = kh * tapRow * 2;
                    for (int q = 0; q < pairs; q++, off += 4, k0 += 2 * NR)
                    {
                        var w0 = Vector512.Load(k0);
                        c0 = Dot(c0, w0, Pair(x0 + off)); c1 = Dot(c1, w0, Pair(x0 + s + off));
                        c2 = Dot(c2, w0, Pair(x0 + 2 * s + off)); c3 = Dot(c3, w0, Pair(x0 + 3 * s + off));
                        c4 = Dot(c4, w0, Pair(x4 + off)); c5 = Dot(c5, w0, Pair(x4 + s + off));
                        c6 = Dot(c6, w0, Pair(x4 + 2 * s + off)); c7 = Dot(c7, w0, Pair(x4 + 3 * s + off));
                    }
                }
                sbyte* o = y + ((long)oh * OW + ow) * OC;
                GemmInt8.StoreColumns512(c0, m0, vlo, vhi, vz, o, w, t, clamp); GemmInt8.StoreColumns512(c1, m0, vlo, vhi, vz, o + OC, w, t, clamp);
                GemmInt8.StoreColumns512(c2, m0, vlo, vhi, vz, o + 2 * OC, w, t, clamp); GemmInt8.StoreColumns512(c3, m0, vlo, vhi, vz, o + 3 * OC, w, t, clamp);
                GemmInt8.StoreColumns512(c4, m0, vlo, vhi, vz, o + 4 * OC, w, t, clamp); GemmInt8.StoreColumns512(c5, m0, vlo, vhi, vz, o + 5 * OC, w, t, clamp);
                GemmInt8.StoreColumns512(c6, m0, vlo, vhi, vz, o + 6 * OC, w, t, clamp); GemmInt8.StoreColumns512(c7, m0, vlo, vhi, vz, o + 7 * OC, w, t, clamp);
            }
    }

    /// <summary>Two int16 inputs, repeated across the vector: one VPBROADCASTD from memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<short> Pair(byte* p) => Vector512.Create(*(int*)p).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<int> Dot(Vector512<int> c, Vector512<short> w, Vector512<short> x) => c + Avx512BW.MultiplyAddAdjacent(w, x);
}
