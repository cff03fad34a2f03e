using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Engine;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// A 3×3 stride-1 channels-last conv by Winograd F(2×2, 3×3) (<see cref="Winograd"/>, the scalar specification) on
/// AVX-512: 16 multiplies per 2×2 outputs per (c, oc) instead of 36, where the direct conv (<see cref="IndirectConvNhwc"/>)
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

    /// <summary>AVX-512 (where the GEMM tile is 8×32), 3×3, stride 1, no dilation, one group, enough channels that the
    /// transforms are a small share (by measurement: <c>bench conv-shape H W C OC 3 1</c>).</summary>
    public static bool Supports(in ConvGeometry g) =>
        !Off && Gemm.Selected == Gemm.Isa.V512 && g.Group == 1 && g.KH == 3 && g.KW == 3 && g.StrideH == 1 && g.StrideW == 1
        && g.DilationH == 1 && g.DilationW == 1 && g.C >= 16 && g.OC >= 32 && Tiles(g, 2) >= MinTiles;

    /// <summary>The output tile's edge: 4, F(4×4, 3×3) (36 multiplies per 16 outputs, and less transform work per output),
    /// where channels are whole vectors and the map has at least MinTiles43 4×4 tiles; else 2, F(2×2, 3×3).</summary>
    public static int Size(in ConvGeometry g) => !Only23 && g.C % 16 == 0 && g.OC % 16 == 0 && Tiles(g, 4) >= MinTiles43 ? 4 : 2;
    const int MinTiles43 = 36;

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

    /// <summary>Tiles first..first+count−1 (row-major over TilesHigh × TilesWide) of one image: x [H, W, C] → y [OH, OW, OC].
    /// <paramref name="zeros"/>: C zeros (what taps in the padding read); <paramref name="slot"/>: <see cref="SlotBytes"/>, 64-byte aligned.</summary>
    public static void Run(float* x, float* packed, float* bias, float* y, in ConvGeometry g, int first, int count, float* zeros, float* slot, float lo, float hi)
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
            float* y0 = y + ((long)oh * g.OW + ow) * OC;
            if (size == 2) OutputTile(m + (long)t * OC, ms, OC, bias, y0, oh + 1 < g.OH ? y0 + (long)g.OW * OC : null, ow + 1 < g.OW, lo, hi, tmp);
            else OutputTile43(m + (long)t * OC, ms, OC, bias, y0, (long)g.OW * OC, Math.Min(4, g.OH - oh), Math.Min(4, g.OW - ow), lo, hi, tmp);
        }
    }

    /// <summary>F(4×4): Bᵀ d B of one tile, 16 channels at a time (C a multiple of 16): Bᵀ down the 6 columns into
    /// <paramref name="tmp"/> (36 vectors), then along the 6 rows into v[pos·vs + c].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void InputTile43(float** p, int C, float* v, long vs, float* tmp)
    {
        for (int c = 0; c < C; c += 16)
        {
            for (int j = 0; j < 6; j++)
                Column43(Vector512.Load(p[j] + c), Vector512.Load(p[6 + j] + c), Vector512.Load(p[12 + j] + c), Vector512.Load(p[18 + j] + c),
                         Vector512.Load(p[24 + j] + c), Vector512.Load(p[30 + j] + c), tmp + 16 * j, 16 * 6);
            for (int i = 0; i < 6; i++)
            {
                float* t = tmp + 16 * 6 * i;
                Column43(Vector512.Load(t), Vector512.Load(t + 16), Vector512.Load(t + 32), Vector512.Load(t + 48), Vector512.Load(t + 64), Vector512.Load(t + 80),
                         v + 6 * i * vs + c, vs);
            }
        }
    }

    /// <summary>Bᵀ times six vectors, stored <paramref name="stride"/> floats apart (<see cref="Winograd.InputColumn43"/>'s order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Column43(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, Vector512<float> d4, Vector512<float> d5, float* t, long stride)
    {
        var four = Vector512.Create(4f); var five = Vector512.Create(5f); var two = Vector512.Create(2f);
        (four * d0 - five * d2 + d4).Store(t);
        (d4 + d3 - four * (d1 + d2)).Store(t + stride);
        (d4 - d3 + four * (d1 - d2)).Store(t + 2 * stride);
        (d4 - d2 + two * (d3 - d1)).Store(t + 3 * stride);
        (d4 - d2 - two * (d3 - d1)).Store(t + 4 * stride);
        (four * d1 - five * d3 + d5).Store(t + 5 * stride);
    }

    /// <summary>F(4×4): Aᵀ m A of one tile, 16 output channels at a time (OC a multiple of 16), + bias, clamped, to its
    /// first <paramref name="rows"/> × <paramref name="cols"/> pixels (rows <paramref name="ldy"/> floats apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void OutputTile43(float* m, long ms, int OC, float* bias, float* y, long ldy, int rows, int cols, float lo, float hi, float* tmp)
    {
        var vlo = Vector512.Create(lo); var vhi = Vector512.Create(hi);
        var two = Vector512.Create(2f); var four = Vector512.Create(4f); var eight = Vector512.Create(8f);
        for (int o = 0; o < OC; o += 16)
        {
            float* q = m + o;
            for (int j = 0; j < 6; j++)   // Aᵀ down the columns: tmp[i·6 + j]
            {
                var m0 = Vector512.Load(q + j * ms); var m1 = Vector512.Load(q + (6 + j) * ms); var m2 = Vector512.Load(q + (12 + j) * ms);
                var m3 = Vector512.Load(q + (18 + j) * ms); var m4 = Vector512.Load(q + (24 + j) * ms); var m5 = Vector512.Load(q + (30 + j) * ms);
                var a = m1 + m2; var b = m1 - m2; var c = m3 + m4; var d = m3 - m4;
                (m0 + a + c).Store(tmp + 16 * j); (b + two * d).Store(tmp + 16 * (6 + j));
                (a + four * c).Store(tmp + 16 * (12 + j)); (b + eight * d + m5).Store(tmp + 16 * (18 + j));
            }
            var bv = Vector512.Load(bias + o);
            for (int i = 0; i < rows; i++)   // then along the rows, to the pixels inside the map
            {
                float* t = tmp + 16 * 6 * i, yr = y + i * ldy + o;
                var m0 = Vector512.Load(t); var m1 = Vector512.Load(t + 16); var m2 = Vector512.Load(t + 32);
                var m3 = Vector512.Load(t + 48); var m4 = Vector512.Load(t + 64); var m5 = Vector512.Load(t + 80);
                var a = m1 + m2; var b = m1 - m2; var c = m3 + m4; var d = m3 - m4;
                Clamp.Of(m0 + a + c + bv, vlo, vhi).Store(yr);
                if (cols > 1) Clamp.Of(b + two * d + bv, vlo, vhi).Store(yr + OC);
                if (cols > 2) Clamp.Of(a + four * c + bv, vlo, vhi).Store(yr + 2 * OC);
                if (cols > 3) Clamp.Of(b + eight * d + m5 + bv, vlo, vhi).Store(yr + 3 * OC);
            }
        }
    }

    /// <summary>Bᵀ d B of one tile for every channel: d from the 16 pointers (input pixels or zeros), v[pos·vs + c].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void InputTile(float** p, int C, float* v, long vs, float* tmp)
    {
        int c = 0;
        for (; c + 16 <= C; c += 16)
        {
            var d0 = Vector512.Load(p[0] + c); var d1 = Vector512.Load(p[1] + c); var d2 = Vector512.Load(p[2] + c); var d3 = Vector512.Load(p[3] + c);
            var d4 = Vector512.Load(p[4] + c); var d5 = Vector512.Load(p[5] + c); var d6 = Vector512.Load(p[6] + c); var d7 = Vector512.Load(p[7] + c);
            var d8 = Vector512.Load(p[8] + c); var d9 = Vector512.Load(p[9] + c); var d10 = Vector512.Load(p[10] + c); var d11 = Vector512.Load(p[11] + c);
            var d12 = Vector512.Load(p[12] + c); var d13 = Vector512.Load(p[13] + c); var d14 = Vector512.Load(p[14] + c); var d15 = Vector512.Load(p[15] + c);
            // Bᵀ d: rows d0 − d2, d1 + d2, d2 − d1, d1 − d3 (rows of 4 pixels); then each row times B.
            InputRow(d0 - d8, d1 - d9, d2 - d10, d3 - d11, v + c, vs);
            InputRow(d4 + d8, d5 + d9, d6 + d10, d7 + d11, v + 4 * vs + c, vs);
            InputRow(d8 - d4, d9 - d5, d10 - d6, d11 - d7, v + 8 * vs + c, vs);
            InputRow(d4 - d12, d5 - d13, d6 - d14, d7 - d15, v + 12 * vs + c, vs);
        }
        for (; c + 8 <= C; c += 8)   // the same on 8 channels (24, 40, 56, … channel convs)
        {
            var d0 = Vector256.Load(p[0] + c); var d1 = Vector256.Load(p[1] + c); var d2 = Vector256.Load(p[2] + c); var d3 = Vector256.Load(p[3] + c);
            var d4 = Vector256.Load(p[4] + c); var d5 = Vector256.Load(p[5] + c); var d6 = Vector256.Load(p[6] + c); var d7 = Vector256.Load(p[7] + c);
            var d8 = Vector256.Load(p[8] + c); var d9 = Vector256.Load(p[9] + c); var d10 = Vector256.Load(p[10] + c); var d11 = Vector256.Load(p[11] + c);
            var d12 = Vector256.Load(p[12] + c); var d13 = Vector256.Load(p[13] + c); var d14 = Vector256.Load(p[14] + c); var d15 = Vector256.Load(p[15] + c);
            InputRow(d0 - d8, d1 - d9, d2 - d10, d3 - d11, v + c, vs);
            InputRow(d4 + d8, d5 + d9, d6 + d10, d7 + d11, v + 4 * vs + c, vs);
            InputRow(d8 - d4, d9 - d5, d10 - d6, d11 - d7, v + 8 * vs + c, vs);
            InputRow(d4 - d12, d5 - d13, d6 - d14, d7 - d15, v + 12 * vs + c, vs);
        }
        for (; c < C; c++)
        {
            for (int i = 0; i < 16; i++) tmp[i] = p[i][c];
            Winograd.Input(new ReadOnlySpan<float>(tmp, 16), new Span<float>(tmp + 16, 16));
            for (int i = 0; i < 16; i++) v[i * vs + c] = tmp[16 + i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void InputRow(Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3, float* v, long vs)
    {
        (t0 - t2).Store(v); (t1 + t2).Store(v + vs); (t2 - t1).Store(v + 2 * vs); (t1 - t3).Store(v + 3 * vs);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void InputRow(Vector256<float> t0, Vector256<float> t1, Vector256<float> t2, Vector256<float> t3, float* v, long vs)
    {
        (t0 - t2).Store(v); (t1 + t2).Store(v + vs); (t2 - t1).Store(v + 2 * vs); (t1 - t3).Store(v + 3 * vs);
    }

    /// <summary>Aᵀ m A of one tile for every output channel, + bias, clamped, to its 2×2 pixels (<paramref name="y1"/> null:
    /// the tile's second row is past the bottom; <paramref name="right"/> false: its second column past the right edge).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void OutputTile(float* m, long ms, int OC, float* bias, float* y0, float* y1, bool right, float lo, float hi, float* tmp)
    {
        var vlo = Vector512.Create(lo); var vhi = Vector512.Create(hi);
        int o = 0;
        for (; o + 16 <= OC; o += 16)
        {
            float* q = m + o;
            var m0 = Vector512.Load(q); var m1 = Vector512.Load(q + ms); var m2 = Vector512.Load(q + 2 * ms); var m3 = Vector512.Load(q + 3 * ms);
            var m4 = Vector512.Load(q + 4 * ms); var m5 = Vector512.Load(q + 5 * ms); var m6 = Vector512.Load(q + 6 * ms); var m7 = Vector512.Load(q + 7 * ms);
            var m8 = Vector512.Load(q + 8 * ms); var m9 = Vector512.Load(q + 9 * ms); var m10 = Vector512.Load(q + 10 * ms); var m11 = Vector512.Load(q + 11 * ms);
            var m12 = Vector512.Load(q + 12 * ms); var m13 = Vector512.Load(q + 13 * ms); var m14 = Vector512.Load(q + 14 * ms); var m15 = Vector512.Load(q + 15 * ms);
            var b = Vector512.Load(bias + o);
            // Aᵀ m: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (rows); then each row times A.
            var s00 = m0 + m4 + m8; var s01 = m1 + m5 + m9; var s02 = m2 + m6 + m10; var s03 = m3 + m7 + m11;
            Clamp.Of(s00 + s01 + s02 + b, vlo, vhi).Store(y0 + o);
            if (right) Clamp.Of(s01 - s02 - s03 + b, vlo, vhi).Store(y0 + OC + o);
            if (y1 == null) continue;
            var s10 = m4 - m8 - m12; var s11 = m5 - m9 - m13; var s12 = m6 - m10 - m14; var s13 = m7 - m11 - m15;
            Clamp.Of(s10 + s11 + s12 + b, vlo, vhi).Store(y1 + o);
            if (right) Clamp.Of(s11 - s12 - s13 + b, vlo, vhi).Store(y1 + OC + o);
        }
        var wlo = Vector256.Create(lo); var whi = Vector256.Create(hi);
        for (; o + 8 <= OC; o += 8)   // the same on 8 channels
        {
            float* q = m + o;
            var m0 = Vector256.Load(q); var m1 = Vector256.Load(q + ms); var m2 = Vector256.Load(q + 2 * ms); var m3 = Vector256.Load(q + 3 * ms);
            var m4 = Vector256.Load(q + 4 * ms); var m5 = Vector256.Load(q + 5 * ms); var m6 = Vector256.Load(q + 6 * ms); var m7 = Vector256.Load(q + 7 * ms);
            var m8 = Vector256.Load(q + 8 * ms); var m9 = Vector256.Load(q + 9 * ms); var m10 = Vector256.Load(q + 10 * ms); var m11 = Vector256.Load(q + 11 * ms);
            var m12 = Vector256.Load(q + 12 * ms); var m13 = Vector256.Load(q + 13 * ms); var m14 = Vector256.Load(q + 14 * ms); var m15 = Vector256.Load(q + 15 * ms);
            var b = Vector256.Load(bias + o);
            var s00 = m0 + m4 + m8; var s01 = m1 + m5 + m9; var s02 = m2 + m6 + m10; var s03 = m3 + m7 + m11;
            Clamp.Of(s00 + s01 + s02 + b, wlo, whi).Store(y0 + o);
            if (right) Clamp.Of(s01 - s02 - s03 + b, wlo, whi).Store(y0 + OC + o);
            if (y1 == null) continue;
            var s10 = m4 - m8 - m12; var s11 = m5 - m9 - m13; var s12 = m6 - m10 - m14; var s13 = m7 - m11 - m15;
            Clamp.Of(s10 + s11 + s12 + b, wlo, whi).Store(y1 + o);
            if (right) Clamp.Of(s11 - s12 - s13 + b, wlo, whi).Store(y1 + OC + o);
        }
        for (; o < OC; o++)
        {
            for (int i = 0; i < 16; i++) tmp[i] = m[i * ms + o];
            Winograd.Output(new ReadOnlySpan<float>(tmp, 16), new Span<float>(tmp + 16, 4));
            y0[o] = Math.Clamp(tmp[16] + bias[o], lo, hi);
            if (right) y0[OC + o] = Math.Clamp(tmp[16 + 1] + bias[o], lo, hi);
            if (y1 == null) continue;
            y1[o] = Math.Clamp(tmp[16 + 2] + bias[o], lo, hi);
            if (right) y1[OC + o] = Math.Clamp(tmp[16 + 3] + bias[o], lo, hi);
        }
    }
}
