using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// <see cref="DirectConvNhwc"/> for NEON: a tile of 8 output pixels × 8 output channels (16 accumulators). Per tap,
/// the 8 pixels' input values are two vector loads (stride 1) or two LD2 de-interleaving loads (stride 2: the even
/// elements are the pixels), the 8 weights one LDP, and the tile 16 FMLA by element: no broadcast per pixel.
/// Border pixels and rows skip the taps outside the image by looping over the valid kernel rows and columns only,
/// never a check per tap. The sums are the generic kernel's, in its order (bias first, then taps in (c, kh, kw)
/// order), so the two agree bit for bit.
/// </summary>
[SkipLocalsInit]
internal static unsafe class DirectConvNhwcNeon
{
    public static bool Supports(in ConvGeometry g) => AdvSimd.Arm64.IsSupported && g.OC % 8 == 0 && g.StrideW is 1 or 2 && g.DilationW == 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* x, float* w, float* b, float* y, in ConvGeometry g, float lo, float hi, int* tapOffset, int oh0, int oh1)
    {
        int H = g.H, W = g.W, OW = g.OW, OC = g.OC, KH = g.KH, KW = g.KW, sh = g.StrideH, sw = g.StrideW, pt = g.PadTop, pl = g.PadLeft, dh = g.DilationH;
        var vlo = Vector128.Create(lo); var vhi = Vector128.Create(hi);
        // Output columns whose window is inside the image (colLo ≤ ow < colHi), and those whose tile loads stay in the
        // row too (LD2 reads one float past a stride-2 pixel's last tap): ow < tileHi.
        int colLo = Math.Min(OW, (pl + sw - 1) / sw);
        int colHi = W - KW + pl >= 0 ? Math.Max(colLo, Math.Min(OW, (W - KW + pl) / sw + 1)) : colLo;
        int last = W - KW - (sw - 1) + pl;
        int tileHi = last >= 0 ? Math.Max(colLo, Math.Min(colHi, last / sw + 1)) : colLo;
        for (int oc0 = 0; oc0 < OC; oc0 += 8)
        {
            var b0 = Vector128.Load(b + oc0); var b1 = Vector128.Load(b + oc0 + 4);
            float* wc = w + oc0;
            for (int oh = oh0; oh < oh1; oh++)
            {
                int ih = oh * sh - pt, kh0 = 0, kh1 = KH;
                while (kh0 < KH && ih + kh0 * dh < 0) kh0++;
                while (kh1 > kh0 && ih + (kh1 - 1) * dh >= H) kh1--;
                float* yr = y + (long)oh * OW * OC + oc0;
                float* row = x + (long)ih * W;   // not read outside kh0..kh1
                int ow = 0;
                for (; ow < colLo; ow++) Pixel(x, wc, g, ih, kh0, kh1, ow * sw - pl, b0, b1, vlo, vhi, yr + (long)ow * OC);
                // The tiles' window origin as a pointer that steps with ow: passed as an expression, the inlined Tile
                // recomputed it (pl reloaded from the stack) at every tap.
                float* px = row + sw * ow - pl;
                if (sw == 1)
                {
                    for (; ow + 8 <= tileHi; ow += 8, px += 8) Tile(px, wc, g, tapOffset, kh0, kh1, b0, b1, vlo, vhi, yr + (long)ow * OC, false, false);
                    if (ow + 4 <= tileHi) { Tile(px, wc, g, tapOffset, kh0, kh1, b0, b1, vlo, vhi, yr + (long)ow * OC, false, true); ow += 4; }
                }
                else
                {
                    for (; ow + 8 <= tileHi; ow += 8, px += 16) Tile(px, wc, g, tapOffset, kh0, kh1, b0, b1, vlo, vhi, yr + (long)ow * OC, true, false);
                    if (ow + 4 <= tileHi) { Tile(px, wc, g, tapOffset, kh0, kh1, b0, b1, vlo, vhi, yr + (long)ow * OC, true, true); ow += 4; }
                }
                for (; ow < OW; ow++) Pixel(x, wc, g, ih, kh0, kh1, ow * sw - pl, b0, b1, vlo, vhi, yr + (long)ow * OC);
            }
        }
    }

    /// <summary>8 (or, with <paramref name="four"/>, 4) pixels from <paramref name="px"/> (the first one's window origin), taps of
    /// kernel rows kh0..kh1 only. The bool parameters are constants at each call site, so each is its own loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile(float* px, float* wc, in ConvGeometry g, int* tapOffset, int kh0, int kh1, Vector128<float> b0, Vector128<float> b1,
                     Vector128<float> lo, Vector128<float> hi, float* o, bool stride2, bool four)
    {
        Vector128<float> a0 = b0, a1 = b1, c0 = b0, c1 = b1, d0 = b0, d1 = b1, e0 = b0, e1 = b1,
                         f0 = b0, f1 = b1, g0 = b0, g1 = b1, h0 = b0, h1 = b1, i0 = b0, i1 = b1;
        int KW = g.KW, OC = g.OC, perC = g.KH * KW;
        for (int c = 0; c < g.C; c++)
        {
            int t0 = c * perC + kh0 * KW, t1 = c * perC + kh1 * KW;
            float* wt = wc + (long)t0 * OC;
            for (int* to = tapOffset + t0, end = tapOffset + t1; to < end; to++, wt += OC)
            {
                float* p = px + *to;
                Vector128<float> xa, xb;
                if (stride2) { xa = AdvSimd.Arm64.Load2xVector128AndUnzip(p).Value1; xb = four ? xa : AdvSimd.Arm64.Load2xVector128AndUnzip(p + 8).Value1; }
                else { xa = Vector128.Load(p); xb = four ? xa : Vector128.Load(p + 4); }
                var u0 = Vector128.Load(wt); var u1 = Vector128.Load(wt + 4);
                a0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(a0, u0, xa, 0); a1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(a1, u1, xa, 0);
                c0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c0, u0, xa, 1); c1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c1, u1, xa, 1);
                d0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(d0, u0, xa, 2); d1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(d1, u1, xa, 2);
                e0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(e0, u0, xa, 3); e1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(e1, u1, xa, 3);
                if (four) continue;
                f0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(f0, u0, xb, 0); f1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(f1, u1, xb, 0);
                g0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(g0, u0, xb, 1); g1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(g1, u1, xb, 1);
                h0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(h0, u0, xb, 2); h1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(h1, u1, xb, 2);
                i0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(i0, u0, xb, 3); i1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(i1, u1, xb, 3);
            }
        }
        Store(o, a0, a1, lo, hi); Store(o + OC, c0, c1, lo, hi); Store(o + 2 * OC, d0, d1, lo, hi); Store(o + 3 * OC, e0, e1, lo, hi);
        if (four) return;
        Store(o + 4 * OC, f0, f1, lo, hi); Store(o + 5 * OC, g0, g1, lo, hi); Store(o + 6 * OC, h0, h1, lo, hi); Store(o + 7 * OC, i0, i1, lo, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* o, Vector128<float> v0, Vector128<float> v1, Vector128<float> lo, Vector128<float> hi)
    {
        Clamp.Of(v0, lo, hi).Store(o);
        Clamp.Of(v1, lo, hi).Store(o + 4);
    }

    /// <summary>One pixel: kernel rows kh0..kh1 and the columns inside the image, one broadcast load (LD1R) per tap.</summary>
    static void Pixel(float* x, float* wc, in ConvGeometry g, int ih, int kh0, int kh1, int iw, Vector128<float> a0, Vector128<float> a1,
                      Vector128<float> lo, Vector128<float> hi, float* o)
    {
        int KW = g.KW, OC = g.OC, kw0 = Math.Max(0, -iw), kw1 = Math.Min(KW, g.W - iw);
        for (int c = 0; c < g.C; c++)
            for (int kh = kh0; kh < kh1; kh++)
            {
                // Pointers stepped per tap (an index multiplied by OC every tap cost 13 instructions per 2 FMLA).
                float* p = x + ((long)c * g.H + ih + kh * g.DilationH) * g.W + iw + kw0, end = p + (kw1 - kw0);
                float* wt = wc + ((long)(c * g.KH + kh) * KW + kw0) * OC;
                for (; p < end; p++, wt += OC)
                {
                    var v = AdvSimd.LoadAndReplicateToVector128(p);
                    a0 = AdvSimd.FusedMultiplyAdd(a0, Vector128.Load(wt), v);
                    a1 = AdvSimd.FusedMultiplyAdd(a1, Vector128.Load(wt + 4), v);
                }
            }
        Store(o, a0, a1, lo, hi);
    }
}
