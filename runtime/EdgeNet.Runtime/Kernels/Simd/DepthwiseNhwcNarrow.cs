using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// Depthwise Conv2D channels-last with fewer channels than one vector, at column stride 1 (a detector head's 3×3 over
/// its 1, 4 or 10 box/landmark maps: YuNet's 40×40×4 was 99 µs in the scalar loop): x [H, W, C], weights [KH·KW, C],
/// y [OH, OW, C]. At column stride 1 an output row is one run of OW·C floats, and the run of a tap's inputs is the
/// input row shifted by (kw·dilation − padLeft)·C, so a vector covers several pixels of all C channels at once; lane j
/// of a vector starting at p holds channel (p + j) mod C, so each tap's weights (and the bias) are laid out once per
/// call repeating with period C, lcm(C, lanes) long, and read at p mod that period. Columns whose taps fall in the
/// padding (padLeft·C floats on the left, as many on the right) run per element. Every output is bias + Σ taps in
/// (kh, kw) order, the order of the scalar loop, so the vector and scalar positions agree bit for bit.
/// </summary>
internal static unsafe class DepthwiseNhwcNarrow
{
    /// <summary>Floats of the repeated weights and bias on the stack, at most (any C below 16 with a 3×3 kernel).</summary>
    const int MaxTiled = 16384 / sizeof(float);

    /// <summary>Column stride 1, fewer channels than <typeparamref name="T"/>'s lanes, and the tiled weights fit.</summary>
    public static bool Fits<T>(in ConvGeometry g) where T : struct =>
        g.StrideW == 1 && g.C < Lanes<T>() && (g.KH * g.KW + 1) * (Period(g.C, Lanes<T>()) + Lanes<T>()) <= MaxTiled;

    static int Lanes<T>() where T : struct => Unsafe.SizeOf<T>() / sizeof(float);

    /// <summary>lcm(C, lanes): after it the channel pattern of the lanes repeats.</summary>
    static int Period(int c, int lanes)
    {
        int a = c, b = lanes;
        while (b != 0) (a, b) = (b, a % b);
        return c / a * lanes;
    }

    /// <summary>Output rows oh0..oh1 of one image, all channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TV, T>(float* x, float* w, float* b, float* y, in ConvGeometry g, float lo, float hi, int oh0, int oh1)
        where T : struct, ILanes<TV> where TV : struct
    {
        int C = g.C, H = g.H, W = g.W, OW = g.OW, KH = g.KH, KW = g.KW, dh = g.DilationH, dw = g.DilationW, pl = g.PadLeft, V = T.Count;
        int L = Period(C, V), stride = L + V, taps = KH * KW;
        // Per tap (and the bias last) a row of L + V floats: element i is channel i mod C, so a vector read at
        // p mod L lines up with the channels of output positions p..p+V−1.
        float* tiled = stackalloc float[(taps + 1) * stride];
        for (int t = 0; t <= taps; t++)
            for (int i = 0; i < stride; i++)
                tiled[t * stride + i] = t < taps ? w[t * C + i % C] : b == null ? 0f : b[i % C];
        float* biasRow = tiled + taps * stride;
        var vlo = T.Splat(lo); var vhi = T.Splat(hi);
        long rowStride = (long)W * C;
        int n = OW * C;
        // Positions p whose every tap is inside the row: p ≥ padLeft·C, and p + (KW−1)·dw·C − padLeft·C < W·C.
        int pLo = Math.Min(n, pl * C), pHi = Math.Clamp((W - (KW - 1) * dw + pl) * C, pLo, n);
        for (int oh = oh0; oh < oh1; oh++)
        {
            int ih0 = oh * g.StrideH - g.PadTop;
            int khLo = ih0 >= 0 ? 0 : (-ih0 + dh - 1) / dh, khHi = Math.Max(khLo, Math.Min(KH, (H - 1 - ih0) / dh + 1));
            if (ih0 > H - 1) khHi = khLo;
            float* top = x + (long)(ih0 + khLo * dh) * rowStride - (long)pl * C;   // row khLo, shifted so tap kw reads at p + kw·dw·C
            float* wTop = tiled + khLo * KW * stride;
            int rows = khHi - khLo;
            float* yr = y + (long)oh * n;
            int p = pLo;
            if (pHi - pLo >= V)
            {
                for (; p + 2 * V <= pHi; p += 2 * V)
                {
                    int ph0 = p % L, ph1 = (p + V) % L;
                    TV a0 = T.Load(biasRow + ph0), a1 = T.Load(biasRow + ph1);
                    for (int r = 0; r < rows; r++)
                    {
                        float* xr = top + r * dh * rowStride + p, wr = wTop + r * KW * stride;
                        for (int kw = 0; kw < KW; kw++)
                        {
                            float* xp = xr + kw * dw * C, wp = wr + kw * stride;
                            a0 = T.Fma(T.Load(xp), T.Load(wp + ph0), a0);
                            a1 = T.Fma(T.Load(xp + V), T.Load(wp + ph1), a1);
                        }
                    }
                    T.Store(yr + p, a0, vlo, vhi); T.Store(yr + p + V, a1, vlo, vhi);
                }
                // What is left: a vector, and one ending at pHi (overlapping positions already written, same sums).
                if (pHi - p > V) { One<TV, T>(top, wTop, yr, p, p % L, rows, KW, C, dh, dw, rowStride, stride, biasRow, vlo, vhi); p += V; }
                if (p < pHi) One<TV, T>(top, wTop, yr, pHi - V, (pHi - V) % L, rows, KW, C, dh, dw, rowStride, stride, biasRow, vlo, vhi);
                p = pHi;
            }
            for (int e = 0; e < pLo; e++) yr[e] = Element(x, tiled, stride, g, oh, e, lo, hi);
            for (int e = p; e < n; e++) yr[e] = Element(x, tiled, stride, g, oh, e, lo, hi);
        }
    }

    /// <summary>One vector of outputs at positions p..p+V−1, weights read at phase ph.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void One<TV, T>(float* top, float* wTop, float* yr, int p, int ph, int rows, int KW, int C, int dh, int dw, long rowStride, int stride,
        float* biasRow, TV lo, TV hi) where T : struct, ILanes<TV> where TV : struct
    {
        TV a = T.Load(biasRow + ph);
        for (int r = 0; r < rows; r++)
        {
            float* xr = top + r * dh * rowStride + p, wr = wTop + r * KW * stride + ph;
            for (int kw = 0; kw < KW; kw++) a = T.Fma(T.Load(xr + kw * dw * C), T.Load(wr + kw * stride), a);
        }
        T.Store(yr + p, a, lo, hi);
    }

    /// <summary>Output position e (column e / C, channel e mod C) of row oh: the taps inside the image, in order.</summary>
    static float Element(float* x, float* tiled, int stride, in ConvGeometry g, int oh, int e, float lo, float hi)
    {
        int C = g.C, ow = e / C, c = e % C;
        float acc = tiled[g.KH * g.KW * stride + c];
        for (int kh = 0; kh < g.KH; kh++)
        {
            int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
            if ((uint)ih >= (uint)g.H) continue;
            for (int kw = 0; kw < g.KW; kw++)
            {
                int iw = ow - g.PadLeft + kw * g.DilationW;
                if ((uint)iw >= (uint)g.W) continue;
                acc = MathF.FusedMultiplyAdd(x[((long)ih * g.W + iw) * C + c], tiled[(kh * g.KW + kw) * stride + c], acc);
            }
        }
        return Math.Min(Math.Max(acc, lo), hi);
    }
}
