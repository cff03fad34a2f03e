using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeNet.Engine;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// A 3×3 stride-1 channels-last conv by Winograd F(2×2, 3×3) (<see cref="Winograd"/>, the scalar specification) on
/// AVX-512, AVX2 and NEON (the transforms generic over <see cref="ILanes{TV}"/>): 16 multiplies per 2×2 outputs per (c, oc) instead of 36, where the direct conv (<see cref="IndirectConvNhwc"/>)
/// already runs near the FMA peak. As in ncnn's conv3x3s1_winograd23 and MNN's ConvolutionWinograd, the products
/// become 16 GEMMs: for a block of output tiles (2×2 pixels each), the input transform writes V[pos][tile][c] (16
/// vectors of channels from each tile's 4×4 input, vector = channels, so channels-last needs no reordering), then for
/// each of the 16 positions M[pos] = V[pos] · U[pos] with U = G g Gᵀ packed once at load as <see cref="Gemm"/>'s
/// panels (K = C, N = OC), then the output transform reads the 16 M[pos] of a tile and writes its 2×2 pixels with
/// bias and clamp. Where channels are whole vectors and the map is large enough, F(4×4, 3×3) instead (<see cref="Size"/>:
/// 36 positions, 4× fewer multiplies; its transforms in two passes through a small buffer, as ncnn's winograd43).
/// Blocks are sized so V and M stay in L2 while the GEMMs pass over them; block boundaries depend only
/// on the geometry, so results are the same on any number of threads. Rounding: the transforms add at most 9 terms
/// of the products, so the error stays within a few ulps of the sums' magnitude (the tests hold it to the reference
/// conv's tolerance; F(4×4)'s transforms have coefficients up to 8, about 10× F(2×2)'s error, still far inside the
/// real models' tolerances against ONNX Runtime). EDGENET_WINOGRAD=0 turns it off, =2 keeps F(2×2) (to measure the
/// choices against each other in one build).
/// </summary>
[SkipLocalsInit]
internal static unsafe class WinogradNhwc
{
    static readonly bool Off = Environment.GetEnvironmentVariable("EDGENET_WINOGRAD") == "0";
    static readonly bool Only23 = Environment.GetEnvironmentVariable("EDGENET_WINOGRAD") == "2";

    /// <summary>AVX-512, AVX2 or NEON (not SSE alone), 3×3, stride 1, no dilation, one group, enough channels that the
    /// transforms are a small share (by measurement: <c>bench conv-shape H W C OC 3 1</c>; AVX2: ResNet-18's 56×56×64,
    /// 28×28×128 and 14×14×256 convs 2–3× faster than the direct conv; NEON, arm64 instructions on A72 and A76: two 3×3
    /// convs 56×56×64 0.42× the direct conv's, 28×28×128 0.34×). Narrow outputs too where they are whole 8-lane vectors
    /// (U-Net's and YOLO's 16-channel 3×3 convs, which the direct conv runs as im2col rows, not as an indirect GEMM): 256×256×16 →
    /// 16 and 256×256×32 → 16 3.2× faster (AVX-512) and 2.5–2.8× (AVX2), 128×128×16 → 8 2.7× and 4.4×; 128×128×16 → 12
    /// (a scalar tail of 4) 0.9× and 0.7×, so not those.</summary>
    public static bool Supports(in ConvGeometry g) =>
        !Off && (Gemm.Selected != Gemm.Isa.V128 || AdvSimd.Arm64.IsSupported) && g.Group == 1 && g.KH == 3 && g.KW == 3 && g.StrideH == 1 && g.StrideW == 1
        && g.DilationH == 1 && g.DilationW == 1 && g.C >= 16 && (g.OC >= 32 || g.OC % 8 == 0) && Tiles(g, 2) >= MinTiles;

    /// <summary>The output tile's edge: 4, F(4×4, 3×3) (36 multiplies per 16 outputs, and less transform work per output),
    /// where channels are whole vectors and the map has at least MinTiles43 4×4 tiles; else 2, F(2×2, 3×3).</summary>
    public static int Size(in ConvGeometry g) => !Only23 && g.C % Width == 0 && g.OC % Width == 0 && Tiles(g, 4) >= MinTiles43 ? 4 : 2;
    const int MinTiles43 = 36;

    /// <summary>The transforms' widest vector: 16 lanes on AVX-512, else the machine's Vector&lt;float&gt;.</summary>
    static int Width => Vector512.IsHardwareAccelerated ? 16 : Vector<float>.Count;

    static int Tiles(in ConvGeometry g, int size) => (g.OH + size - 1) / size * ((g.OW + size - 1) / size);
    static int Positions(in ConvGeometry g) => (Size(g) + 2) * (Size(g) + 2);

    /// <summary>Fewer tiles an image (ResNet's 7×7 maps: 16) read the 16·C·OC transformed weights for too little work
    /// (7×7×512: 1.6× the direct conv's time; 7×7×256 about even; 10×10×256 (25 tiles) 0.6×).</summary>
    const int MinTiles = 20;

    public static int TilesHigh(in ConvGeometry g) => (g.OH + Size(g) - 1) / Size(g);
    public static int TilesWide(in ConvGeometry g) => (g.OW + Size(g) - 1) / Size(g);

    /// <summary>Tiles per block: V and M (16·(C + OC) floats a tile) about 1 MiB, half the L2, but at least 64 tiles (a
    /// block reads all 16·C·OC transformed weights, 2·B FLOPs per float: with ResNet's 512 channels, 16 tiles a block
    /// made it a third slower than the direct conv); a multiple of the GEMM tile's 8 rows, at most one image's tiles.</summary>
    public static int BlockTiles(in ConvGeometry g)
    {
        int b = Math.Clamp((1 << 20) / (4 * Positions(g) * (g.C + g.OC)) / 8 * 8, 64, 512);
        return Math.Min(b, (TilesHigh(g) * TilesWide(g) + 7) / 8 * 8);
    }

    public static int BlocksPerImage(in ConvGeometry g) => (TilesHigh(g) * TilesWide(g) + BlockTiles(g) - 1) / BlockTiles(g);

    /// <summary>Bytes of scratch one thread needs: a block's V and M.</summary>
    public static long SlotBytes(in ConvGeometry g) => ((long)4 * Positions(g) * BlockTiles(g) * (g.C + g.OC) + 63) / 64 * 64;

    /// <summary>Floats of the packed weights: per position, U[pos] [C, OC] as GEMM panels.</summary>
    public static long PackedPer(in ConvGeometry g) => Gemm.PackedSize(g.C, g.OC);

    /// <summary>w [OC, C, 3, 3] → 16 (or 36) × U[pos][c, oc] packed (<see cref="Gemm.Pack"/>).</summary>
    public static NativeBuffer PackWeights(ReadOnlySpan<float> w, in ConvGeometry g)
    {
        int c = g.C, oc = g.OC, positions = Positions(g);
        long per = PackedPer(g);
        var packed = new NativeBuffer(per * positions * 4);
        using var u = new NativeBuffer(4L * positions * c * oc);   // u[pos][c][oc]
        Span<float> t = stackalloc float[positions];
        for (int o = 0; o < oc; o++)
            for (int i = 0; i < c; i++)
            {
                if (Size(g) == 2) Winograd.Weight(w.Slice((o * c + i) * 9, 9), t);
                else Winograd.Weight43(w.Slice((o * c + i) * 9, 9), t);
                for (int p = 0; p < positions; p++) u.Floats[((long)p * c + i) * oc + o] = t[p];
            }
        for (int p = 0; p < positions; p++) Gemm.Pack(u.Floats + (long)p * c * oc, oc, 1, c, oc, packed.Floats + p * per);
        return packed;
    }

    /// <summary>Tiles first..first+count−1 (row-major over TilesHigh × TilesWide) of one image: x [H, W, C] → y [OH, OW, OC],
    /// its pixels <paramref name="ldp"/> ≥ OC floats apart (more: the OC channels of a Concat's wider pixels, written in place).
    /// <paramref name="zeros"/>: C zeros (what taps in the padding read); <paramref name="slot"/>: <see cref="SlotBytes"/>, 64-byte aligned.</summary>
    public static void Run(float* x, float* packed, float* bias, float* y, int ldp, in ConvGeometry g, int first, int count, float* zeros, float* slot, float lo, float hi)
    {
        int C = g.C, OC = g.OC, tw = TilesWide(g), size = Size(g), e = size + 2, positions = e * e;
        float* v = slot, m = slot + (long)positions * count * C;
        long vs = (long)count * C, ms = (long)count * OC;   // one position's rows
        var p = stackalloc float*[36];
        var tmp = stackalloc float[36 * 16];
        for (int t = 0; t < count; t++)
        {
            int ty = (first + t) / tw, tx = (first + t) % tw;
            for (int r = 0; r < e; r++)
                for (int q = 0; q < e; q++)
                {
                    int ih = size * ty - g.PadTop + r, iw = size * tx - g.PadLeft + q;
                    p[e * r + q] = (uint)ih < (uint)g.H && (uint)iw < (uint)g.W ? x + ((long)ih * g.W + iw) * C : zeros;
                }
            if (size == 2) InputTile(p, C, v + (long)t * C, vs, tmp);
            else InputTile43(p, C, v + (long)t * C, vs, tmp);
        }
        long per = PackedPer(g);
        for (int pos = 0; pos < positions; pos++)
            Gemm.Run(v + pos * vs, C, packed + pos * per, m + pos * ms, OC, count, OC, C, null, null, float.NegativeInfinity, float.PositiveInfinity);
        for (int t = 0; t < count; t++)
        {
            int oh = (first + t) / tw * size, ow = (first + t) % tw * size;
            float* y0 = y + ((long)oh * g.OW + ow) * ldp;
            if (size == 2) OutputTile(m + (long)t * OC, ms, OC, bias, y0, oh + 1 < g.OH ? y0 + (long)g.OW * ldp : null, ldp, ow + 1 < g.OW, lo, hi, tmp);
            else OutputTile43(m + (long)t * OC, ms, OC, bias, y0, (long)g.OW * ldp, ldp, Math.Min(4, g.OH - oh), Math.Min(4, g.OW - ow), lo, hi, tmp);
        }
    }

    /// <summary>F(4×4): Bᵀ d B of one tile, a vector of channels at a time (C a multiple of <see cref="Width"/>): Bᵀ down
    /// the 6 columns into <paramref name="tmp"/> (36 vectors), then along the 6 rows into v[pos·vs + c].</summary>
    static void InputTile43(float** p, int C, float* v, long vs, float* tmp)
    {
        if (Vector512.IsHardwareAccelerated) InputTile43<Vector512<float>, Lanes512>(p, C, v, vs, tmp);
        else InputTile43<Vector<float>, LanesNative>(p, C, v, vs, tmp);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void InputTile43<TV, T>(float** p, int C, float* v, long vs, float* tmp) where T : struct, ILanes<TV> where TV : struct
    {
        int n = T.Count;
        for (int c = 0; c < C; c += n)
        {
            for (int j = 0; j < 6; j++)
                Column43<TV, T>(T.Load(p[j] + c), T.Load(p[6 + j] + c), T.Load(p[12 + j] + c), T.Load(p[18 + j] + c),
                                T.Load(p[24 + j] + c), T.Load(p[30 + j] + c), tmp + n * j, n * 6);
            for (int i = 0; i < 6; i++)
            {
                float* t = tmp + n * 6 * i;
                Column43<TV, T>(T.Load(t), T.Load(t + n), T.Load(t + 2 * n), T.Load(t + 3 * n), T.Load(t + 4 * n), T.Load(t + 5 * n),
                                v + 6 * i * vs + c, vs);
            }
        }
    }

    /// <summary>Bᵀ times six vectors, stored <paramref name="stride"/> floats apart (<see cref="Winograd.InputColumn43"/>'s order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Column43<TV, T>(TV d0, TV d1, TV d2, TV d3, TV d4, TV d5, float* t, long stride) where T : struct, ILanes<TV> where TV : struct
    {
        TV four = T.Splat(4f), five = T.Splat(5f), two = T.Splat(2f);
        T.Store(t, T.Add(T.Sub(T.Mul(four, d0), T.Mul(five, d2)), d4));
        T.Store(t + stride, T.Sub(T.Add(d4, d3), T.Mul(four, T.Add(d1, d2))));
        T.Store(t + 2 * stride, T.Add(T.Sub(d4, d3), T.Mul(four, T.Sub(d1, d2))));
        T.Store(t + 3 * stride, T.Add(T.Sub(d4, d2), T.Mul(two, T.Sub(d3, d1))));
        T.Store(t + 4 * stride, T.Sub(T.Sub(d4, d2), T.Mul(two, T.Sub(d3, d1))));
        T.Store(t + 5 * stride, T.Add(T.Sub(T.Mul(four, d1), T.Mul(five, d3)), d5));
    }

    /// <summary>F(4×4): Aᵀ m A of one tile, a vector of output channels at a time (OC a multiple of <see cref="Width"/>),
    /// + bias, clamped, to its first <paramref name="rows"/> × <paramref name="cols"/> pixels (rows <paramref name="ldy"/>, pixels <paramref name="ldp"/> floats apart).</summary>
    static void OutputTile43(float* m, long ms, int OC, float* bias, float* y, long ldy, int ldp, int rows, int cols, float lo, float hi, float* tmp)
    {
        if (Vector512.IsHardwareAccelerated) OutputTile43<Vector512<float>, Lanes512>(m, ms, OC, bias, y, ldy, ldp, rows, cols, lo, hi, tmp);
        else OutputTile43<Vector<float>, LanesNative>(m, ms, OC, bias, y, ldy, ldp, rows, cols, lo, hi, tmp);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void OutputTile43<TV, T>(float* m, long ms, int OC, float* bias, float* y, long ldy, int ldp, int rows, int cols, float lo, float hi, float* tmp)
        where T : struct, ILanes<TV> where TV : struct
    {
        int n = T.Count;
        TV vlo = T.Splat(lo), vhi = T.Splat(hi), two = T.Splat(2f), four = T.Splat(4f), eight = T.Splat(8f);
        for (int o = 0; o < OC; o += n)
        {
            float* q = m + o;
            for (int j = 0; j < 6; j++)   // Aᵀ down the columns: tmp[i·6 + j]
            {
                TV m0 = T.Load(q + j * ms), m1 = T.Load(q + (6 + j) * ms), m2 = T.Load(q + (12 + j) * ms);
                TV m3 = T.Load(q + (18 + j) * ms), m4 = T.Load(q + (24 + j) * ms), m5 = T.Load(q + (30 + j) * ms);
                TV a = T.Add(m1, m2), b = T.Sub(m1, m2), c = T.Add(m3, m4), d = T.Sub(m3, m4);
                T.Store(tmp + n * j, T.Add(T.Add(m0, a), c)); T.Store(tmp + n * (6 + j), T.Add(b, T.Mul(two, d)));
                T.Store(tmp + n * (12 + j), T.Add(a, T.Mul(four, c))); T.Store(tmp + n * (18 + j), T.Add(T.Add(b, T.Mul(eight, d)), m5));
            }
            TV bv = T.Load(bias + o);
            for (int i = 0; i < rows; i++)   // then along the rows, to the pixels inside the map
            {
                float* t = tmp + n * 6 * i, yr = y + i * ldy + o;
                TV m0 = T.Load(t), m1 = T.Load(t + n), m2 = T.Load(t + 2 * n), m3 = T.Load(t + 3 * n), m4 = T.Load(t + 4 * n), m5 = T.Load(t + 5 * n);
                TV a = T.Add(m1, m2), b = T.Sub(m1, m2), c = T.Add(m3, m4), d = T.Sub(m3, m4);
                T.Store(yr, T.Add(T.Add(T.Add(m0, a), c), bv), vlo, vhi);
                if (cols > 1) T.Store(yr + ldp, T.Add(T.Add(b, T.Mul(two, d)), bv), vlo, vhi);
                if (cols > 2) T.Store(yr + 2 * ldp, T.Add(T.Add(a, T.Mul(four, c)), bv), vlo, vhi);
                if (cols > 3) T.Store(yr + 3 * ldp, T.Add(T.Add(T.Add(b, T.Mul(eight, d)), m5), bv), vlo, vhi);
            }
        }
    }

    /// <summary>Bᵀ d B of one tile for every channel: d from the 16 pointers (input pixels or zeros), v[pos·vs + c]; whole
    /// vectors (16 lanes, then the machine's 8 or 4), then one channel at a time.</summary>
    static void InputTile(float** p, int C, float* v, long vs, float* tmp)
    {
        int c = Vector512.IsHardwareAccelerated ? InputTile<Vector512<float>, Lanes512>(p, 0, C, v, vs) : 0;
        c = InputTile<Vector<float>, LanesNative>(p, c, C, v, vs);
        for (; c < C; c++)
        {
            for (int i = 0; i < 16; i++) tmp[i] = p[i][c];
            Winograd.Input(new ReadOnlySpan<float>(tmp, 16), new Span<float>(tmp + 16, 16));
            for (int i = 0; i < 16; i++) v[i * vs + c] = tmp[16 + i];
        }
    }

    /// <summary>Channels c.. in whole vectors of T; returns the first channel left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int InputTile<TV, T>(float** p, int c, int C, float* v, long vs) where T : struct, ILanes<TV> where TV : struct
    {
        for (; c + T.Count <= C; c += T.Count)
        {
            TV d0 = T.Load(p[0] + c), d1 = T.Load(p[1] + c), d2 = T.Load(p[2] + c), d3 = T.Load(p[3] + c);
            TV d4 = T.Load(p[4] + c), d5 = T.Load(p[5] + c), d6 = T.Load(p[6] + c), d7 = T.Load(p[7] + c);
            TV d8 = T.Load(p[8] + c), d9 = T.Load(p[9] + c), d10 = T.Load(p[10] + c), d11 = T.Load(p[11] + c);
            TV d12 = T.Load(p[12] + c), d13 = T.Load(p[13] + c), d14 = T.Load(p[14] + c), d15 = T.Load(p[15] + c);
            // Bᵀ d: rows d0 − d2, d1 + d2, d2 − d1, d1 − d3 (rows of 4 pixels); then each row times B.
            InputRow<TV, T>(T.Sub(d0, d8), T.Sub(d1, d9), T.Sub(d2, d10), T.Sub(d3, d11), v + c, vs);
            InputRow<TV, T>(T.Add(d4, d8), T.Add(d5, d9), T.Add(d6, d10), T.Add(d7, d11), v + 4 * vs + c, vs);
            InputRow<TV, T>(T.Sub(d8, d4), T.Sub(d9, d5), T.Sub(d10, d6), T.Sub(d11, d7), v + 8 * vs + c, vs);
            InputRow<TV, T>(T.Sub(d4, d12), T.Sub(d5, d13), T.Sub(d6, d14), T.Sub(d7, d15), v + 12 * vs + c, vs);
        }
        return c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void InputRow<TV, T>(TV t0, TV t1, TV t2, TV t3, float* v, long vs) where T : struct, ILanes<TV> where TV : struct
    {
        T.Store(v, T.Sub(t0, t2)); T.Store(v + vs, T.Add(t1, t2)); T.Store(v + 2 * vs, T.Sub(t2, t1)); T.Store(v + 3 * vs, T.Sub(t1, t3));
    }

    /// <summary>Aᵀ m A of one tile for every output channel, + bias, clamped, to its 2×2 pixels (<paramref name="y1"/> null:
    /// the tile's second row is past the bottom; <paramref name="right"/> false: its second column past the right edge).</summary>
    static void OutputTile(float* m, long ms, int OC, float* bias, float* y0, float* y1, int ldp, bool right, float lo, float hi, float* tmp)
    {
        int o = Vector512.IsHardwareAccelerated ? OutputTile<Vector512<float>, Lanes512>(m, ms, 0, OC, bias, y0, y1, ldp, right, lo, hi) : 0;
        o = OutputTile<Vector<float>, LanesNative>(m, ms, o, OC, bias, y0, y1, ldp, right, lo, hi);
        for (; o < OC; o++)
        {
            for (int i = 0; i < 16; i++) tmp[i] = m[i * ms + o];
            Winograd.Output(new ReadOnlySpan<float>(tmp, 16), new Span<float>(tmp + 16, 4));
            y0[o] = Math.Clamp(tmp[16] + bias[o], lo, hi);
            if (right) y0[ldp + o] = Math.Clamp(tmp[16 + 1] + bias[o], lo, hi);
            if (y1 == null) continue;
            y1[o] = Math.Clamp(tmp[16 + 2] + bias[o], lo, hi);
            if (right) y1[ldp + o] = Math.Clamp(tmp[16 + 3] + bias[o], lo, hi);
        }
    }

    /// <summary>Output channels o.. in whole vectors of T; returns the first channel left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int OutputTile<TV, T>(float* m, long ms, int o, int OC, float* bias, float* y0, float* y1, int ldp, bool right, float lo, float hi)
        where T : struct, ILanes<TV> where TV : struct
    {
        TV vlo = T.Splat(lo), vhi = T.Splat(hi);
        for (; o + T.Count <= OC; o += T.Count)
        {
            float* q = m + o;
            TV m0 = T.Load(q), m1 = T.Load(q + ms), m2 = T.Load(q + 2 * ms), m3 = T.Load(q + 3 * ms);
            TV m4 = T.Load(q + 4 * ms), m5 = T.Load(q + 5 * ms), m6 = T.Load(q + 6 * ms), m7 = T.Load(q + 7 * ms);
            TV m8 = T.Load(q + 8 * ms), m9 = T.Load(q + 9 * ms), m10 = T.Load(q + 10 * ms), m11 = T.Load(q + 11 * ms);
            TV m12 = T.Load(q + 12 * ms), m13 = T.Load(q + 13 * ms), m14 = T.Load(q + 14 * ms), m15 = T.Load(q + 15 * ms);
            TV b = T.Load(bias + o);
            // Aᵀ m: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (rows); then each row times A.
            TV s00 = T.Add(T.Add(m0, m4), m8), s01 = T.Add(T.Add(m1, m5), m9), s02 = T.Add(T.Add(m2, m6), m10), s03 = T.Add(T.Add(m3, m7), m11);
            T.Store(y0 + o, T.Add(T.Add(T.Add(s00, s01), s02), b), vlo, vhi);
            if (right) T.Store(y0 + ldp + o, T.Add(T.Sub(T.Sub(s01, s02), s03), b), vlo, vhi);
            if (y1 == null) continue;
            TV s10 = T.Sub(T.Sub(m4, m8), m12), s11 = T.Sub(T.Sub(m5, m9), m13), s12 = T.Sub(T.Sub(m6, m10), m14), s13 = T.Sub(T.Sub(m7, m11), m15);
            T.Store(y1 + o, T.Add(T.Add(T.Add(s10, s11), s12), b), vlo, vhi);
            if (right) T.Store(y1 + ldp + o, T.Add(T.Sub(T.Sub(s11, s12), s13), b), vlo, vhi);
        }
        return o;
    }
}
