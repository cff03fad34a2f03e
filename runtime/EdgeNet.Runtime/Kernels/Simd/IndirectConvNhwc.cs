using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// A k×k / strided / dilated / grouped channels-last conv as an indirect GEMM on AVX-512 (XNNPACK's indirection
/// buffer; MLAS's NCHWc conv likewise reads its input in place): Y[pixels, OC] = A[pixels, K] · Wᵀ[K, OC] where A's
/// rows are not copied out (im2col) but read where they lie. A row (K = KH·KW·Cg, ordered (kh, kw, c) like
/// <see cref="Im2ColNhwc"/>) is a few segments contiguous in the input: with one group and no horizontal dilation a
/// kernel row (KW·C floats), else a tap (Cg floats). A block of pixels gets a table of segment pointers per tile of
/// 8 pixels: into the input, at a shared run of zeros (a kernel row or tap in the padding), or at a copy with the
/// padded taps zeroed (a kernel row clipped at the left or right edge: the only data copied). Then every panel of
/// the packed Wᵀ (<see cref="Gemm.Pack"/>) passes over all the block's tiles while it is cache-resident, so a large
/// Wᵀ (ResNet's 3×3×512×512: 9 MiB) is read once per block, not once per 24 pixels; and a panel is taken in chunks
/// of K (whole segments or pieces of one, ≤ 256 k: 32 KiB, BLIS's kc) that stay in L1 while every tile passes over
/// them, the tiles' partial sums kept in Y between chunks (bias and clamp on the last).
/// The 8×32 register tile is <see cref="Gemm"/>'s: 16 zmm accumulators, one broadcast per row and k. A block's pixels
/// are split evenly over its tiles (49 pixels: 7 tiles of 7, not 6 of 8 and one of 1) and the tile kernel is compiled
/// per row count (<see cref="IRows"/>), so a short tile does only its own rows' FMAs, not 8 rows' with zeros.
/// </summary>
[SkipLocalsInit]
internal static unsafe class IndirectConvNhwc
{
    const int MR = 8, NR = 32;

    /// <summary>AVX-512 and output channels per group wider than 16 (narrower ones keep the im2col path: Gemm's 8×16 tile).</summary>
    public static bool Supports(in ConvGeometry g) => Gemm.Selected == Gemm.Isa.V512 && g.CoutPerGroup > 16;

    /// <summary>Pixels per block: a multiple of the tile height; Wᵀ is streamed once per block (2·128 FLOPs per float read).</summary>
    public const int BlockRows = 128;

    /// <summary>k per chunk of a panel at most: 256·32 floats, 32 KiB of the 48 KiB L1.</summary>
    const int ChunkK = 256;

    static bool KernelRows(in ConvGeometry g) => g.Group == 1 && g.DilationW == 1;
    public static int Segments(in ConvGeometry g) => KernelRows(g) ? g.KH : g.KH * g.KW;
    public static int SegmentLength(in ConvGeometry g) => KernelRows(g) ? g.KW * g.C : g.CinPerGroup;

    /// <summary>Bytes of scratch one block needs: its pointer tables, and room for its edge pixels' copied kernel rows.</summary>
    public static long SlotBytes(in ConvGeometry g) =>
        (long)BlockRows * Segments(g) * sizeof(nint) + (KernelRows(g) ? 4L * BlockRows * g.KH * g.KW * g.C : 0) + 64;

    /// <summary>Output pixels first..first+rows−1 of one image (x [H, W, C] → y [OH, OW, OC]), panels p0..p1−1 of
    /// each group's packed Wᵀ (<paramref name="per"/> floats a group). <paramref name="zeros"/>: SegmentLength zeros.</summary>
    public static void Run(float* x, float* packed, long per, float* bias, float* y, in ConvGeometry g, int first, int rows, int p0, int p1,
                           float* zeros, byte* slot, float lo, float hi)
    {
        int segs = Segments(g), len = SegmentLength(g), og = g.CoutPerGroup, tiles = (rows + MR - 1) / MR;
        float** table = (float**)(((nint)slot + 63) & ~(nint)63);
        float* copies = (float*)(table + (long)tiles * segs * MR);
        var tmp = stackalloc float[64];
        var starts = stackalloc int[BlockRows / MR + 1];   // each tile's first row, computed once a block, not per chunk
        for (int t = 0; t <= tiles; t++) starts[t] = TileStart(t, rows, tiles);
        var o = new Epilogue { Ldc = g.OC, Lo = lo, Hi = hi, T = tmp };
        // Chunks: `chunkSegs` whole segments at a time, or a segment in `pieces` pieces of `piece` k.
        int chunkSegs = Math.Max(1, ChunkK / len), pieces = (len + ChunkK - 1) / ChunkK, piece = (len + pieces - 1) / pieces;
        PrefetchRows(x, g, first, rows);
        for (int grp = 0; grp < g.Group; grp++)
        {
            Fill(x + grp * g.CinPerGroup, g, first, rows, tiles, table, copies, zeros);
            float* wg = packed + grp * per;
            for (int p = p0; p < p1; p++)
            {
                int j0 = p * NR;
                if (j0 >= og) break;
                o.W = Math.Min(NR, og - j0);
                o.ColBias = bias + grp * og + j0;
                float* panel = wg + (long)p * len * segs * NR;
                for (int s0 = 0; s0 < segs; s0 += chunkSegs)
                    for (int k0 = 0; k0 < len; k0 += piece)
                    {
                        int s1 = Math.Min(segs, s0 + chunkSegs), kc = chunkSegs > 1 ? len : Math.Min(piece, len - k0);
                        o.First = s0 == 0 && k0 == 0;
                        o.Last = s1 == segs && k0 + kc == len;
                        // The next chunk (the packed Wᵀ is read in memory order, panel after panel) toward L2, a share per
                        // tile spread over its k steps, so the next chunk's first tile does not wait on memory for every
                        // line (a burst of the share before each tile gained nothing: it queues behind the fill buffers).
                        // Past the last panel it prefetches beyond the weights, which is harmless: prefetches do not fault.
                        long chunkBytes = 4L * (s1 - s0) * kc * NR, share = (chunkBytes + tiles - 1) / tiles;
                        byte* next = (byte*)(panel + ((long)s0 * len + k0) * NR) + chunkBytes;
                        o.PfStep = (nint)((share + (long)(s1 - s0) * kc - 1) / ((long)(s1 - s0) * kc));
                        for (int t = 0; t < tiles; t++)
                        {
                            o.Pf = next + t * share;
                            int r0 = starts[t];
                            o.C = y + (long)(first + r0) * g.OC + grp * og + j0;
                            o.M = starts[t + 1] - r0;
                            float** tt = table + (long)t * segs * MR + s0 * MR;
                            float* bp = panel + ((long)s0 * len + k0) * NR;
                            switch (o.M)
                            {
                                case 8: Tile512<R8>(tt, s1 - s0, k0, kc, bp, &o); break;
                                case 7: Tile512<R7>(tt, s1 - s0, k0, kc, bp, &o); break;
                                case 6: Tile512<R6>(tt, s1 - s0, k0, kc, bp, &o); break;
                                case 5: Tile512<R5>(tt, s1 - s0, k0, kc, bp, &o); break;
                                case 4: Tile512<R4>(tt, s1 - s0, k0, kc, bp, &o); break;
                                case 3: Tile512<R3>(tt, s1 - s0, k0, kc, bp, &o); break;
                                case 2: Tile512<R2>(tt, s1 - s0, k0, kc, bp, &o); break;
                                default: Tile512<R1>(tt, s1 - s0, k0, kc, bp, &o); break;
                            }
                        }
                    }
            }
        }
    }

    /// <summary>The input rows the block reads, toward L2 with many lines in flight: the tiles read them in short runs
    /// (a kernel row per pixel) the hardware prefetcher does not follow, and a map larger than L2 (PP-OCR's 120×160×96:
    /// 7 MiB) would otherwise stall the tiles on each line's first touch.</summary>
    static void PrefetchRows(float* x, in ConvGeometry g, int first, int rows)
    {
        if (!Sse.IsSupported) return;
        int ih0 = Math.Max(0, first / g.OW * g.StrideH - g.PadTop);
        int ih1 = Math.Min(g.H - 1, (first + rows - 1) / g.OW * g.StrideH - g.PadTop + (g.KH - 1) * g.DilationH);
        for (byte* p = (byte*)(x + (long)ih0 * g.W * g.C), end = (byte*)(x + (long)(ih1 + 1) * g.W * g.C); p < end; p += 64) Sse.Prefetch1(p);
    }

    /// <summary>The block's first row of tile <paramref name="t"/> of <paramref name="tiles"/>: rows spread evenly.</summary>
    static int TileStart(int t, int rows, int tiles) => (int)((long)t * rows / tiles);

    /// <summary>Per tile, per segment, 8 row pointers (entries past a tile's rows are not read). The pixel's position
    /// advances by additions (no division per pixel) and each form (kernel rows, taps) has its own loop with few locals:
    /// at 16 input channels (YOLOv5n's 3×3/2 on 160²) a fill with a division per pixel and its locals spilled to the stack
    /// cost a quarter of the tiles' time.</summary>
    static void Fill(float* x, in ConvGeometry g, int first, int rows, int tiles, float** table, float* copies, float* zeros)
    {
        int segs = Segments(g);
        int oh = first / g.OW, ow = first % g.OW;
        var at = new Position { Ih0 = oh * g.StrideH - g.PadTop, Iw0 = ow * g.StrideW - g.PadLeft, Ow = ow };
        for (int t = 0, r = 0; t < tiles; t++)
        {
            int r1 = TileStart(t + 1, rows, tiles);
            float** e = table + (long)t * segs * MR;
            if (KernelRows(g)) copies = FillKernelRows(x, g, e, r1 - r, ref at, copies, zeros);
            else FillTaps(x, g, e, r1 - r, ref at, zeros);
            r = r1;
        }
    }

    /// <summary>The next pixel's window: its top-left input row and column, its output column.</summary>
    struct Position { public int Ih0, Iw0, Ow; }

    /// <summary>One entry per kernel row for <paramref name="n"/> pixels from <paramref name="at"/> (a tile's rows); returns the
    /// copies' next free float.</summary>
    static float* FillKernelRows(float* x, in ConvGeometry g, float** e, int n, ref Position at, float* copies, float* zeros)
    {
        int C = g.C, H = g.H, W = g.W, KH = g.KH, KW = g.KW, dh = g.DilationH;
        long rowStride = (long)W * C, khStride = dh * rowStride;
        int ih0 = at.Ih0, iw0 = at.Iw0, ow = at.Ow;
        for (int r = 0; r < n; r++, e++)
        {
            if (iw0 >= 0 && iw0 + KW <= W)
            {
                float* p = x + ih0 * rowStride + (long)iw0 * C;
                for (int kh = 0, ih = ih0; kh < KH; kh++, ih += dh, p += khStride) e[kh * MR] = (uint)ih < (uint)H ? p : zeros;
            }
            else copies = EdgeRows(x, g, e, ih0, iw0, copies, zeros);
            if (++ow < g.OW) iw0 += g.StrideW;
            else { ow = 0; iw0 = -g.PadLeft; ih0 += g.StrideH; }
        }
        at = new Position { Ih0 = ih0, Iw0 = iw0, Ow = ow };
        return copies;
    }

    /// <summary>A pixel whose kernel rows are clipped at the left or right edge: each row's taps inside the image copied
    /// between zeros (rows in the padding: the shared zeros).</summary>
    static float* EdgeRows(float* x, in ConvGeometry g, float** e, int ih0, int iw0, float* copies, float* zeros)
    {
        int C = g.C, KW = g.KW;
        int lo = Math.Min(KW, Math.Max(0, -iw0)), hi = Math.Clamp(g.W - iw0, lo, KW);
        for (int kh = 0; kh < g.KH; kh++)
        {
            int ih = ih0 + kh * g.DilationH;
            if ((uint)ih >= (uint)g.H) { e[kh * MR] = zeros; continue; }
            float* row = x + (long)ih * g.W * C, d = copies;
            copies += KW * C;
            new Span<float>(d, lo * C).Clear();
            new ReadOnlySpan<float>(row + (long)(iw0 + lo) * C, (hi - lo) * C).CopyTo(new Span<float>(d + lo * C, (hi - lo) * C));
            new Span<float>(d + hi * C, (KW - hi) * C).Clear();
            e[kh * MR] = d;
        }
        return copies;
    }

    /// <summary>One entry per tap (groups, horizontal dilation) for <paramref name="n"/> pixels from <paramref name="at"/>.</summary>
    static void FillTaps(float* x, in ConvGeometry g, float** e, int n, ref Position at, float* zeros)
    {
        int C = g.C, H = g.H, W = g.W, KH = g.KH, KW = g.KW;
        int ih0 = at.Ih0, iw0 = at.Iw0, ow = at.Ow;
        for (int r = 0; r < n; r++, e++)
        {
            for (int kh = 0; kh < KH; kh++)
            {
                int ih = ih0 + kh * g.DilationH;
                float* row = x + (long)ih * W * C;
                for (int kw = 0; kw < KW; kw++)
                {
                    int iw = iw0 + kw * g.DilationW;
                    e[(kh * KW + kw) * MR] = (uint)ih < (uint)H && (uint)iw < (uint)W ? row + (long)iw * C : zeros;
                }
            }
            if (++ow < g.OW) iw0 += g.StrideW;
            else { ow = 0; iw0 = -g.PadLeft; ih0 += g.StrideH; }
        }
        at = new Position { Ih0 = ih0, Iw0 = iw0, Ow = ow };
    }

    /// <summary>Where a tile's results go; one pointer, so the tile's loop keeps its eight row pointers in registers.</summary>
    struct Epilogue
    {
        public float* C, ColBias, T;
        public byte* Pf; public nint PfStep;   // a share of the next chunk, prefetched PfStep bytes further each k
        public int Ldc, W, M;
        public float Lo, Hi;
        public bool First, Last;   // chunk: start from zeros (else from the partial sums in C); add bias, clamp
    }

    /// <summary>A tile's row count as a compile-time constant of each instantiation.</summary>
    interface IRows { static abstract int M { get; } }
    struct R1 : IRows { public static int M => 1; }
    struct R2 : IRows { public static int M => 2; }
    struct R3 : IRows { public static int M => 3; }
    struct R4 : IRows { public static int M => 4; }
    struct R5 : IRows { public static int M => 5; }
    struct R6 : IRows { public static int M => 6; }
    struct R7 : IRows { public static int M => 7; }
    struct R8 : IRows { public static int M => 8; }

    /// <summary>R.M pixels (≤ 8) × 32 output channels over one chunk: k0..k0+len−1 of <paramref name="segs"/> segments, whose
    /// packed rows <paramref name="b"/> (32 floats a k) are read in order, each segment's 8 rows from their table entries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile512<R>(float** rows, int segs, int k0, int len, float* b, Epilogue* o) where R : struct, IRows
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default,
                         c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        float* t = o->T, c = o->C, colBias = o->ColBias;
        int w = o->W, m = R.M, ldc = o->Ldc;
        if (!o->First)
        {
            Load512(c, w, t, out c00, out c01);
            if (m > 1) Load512(c + ldc, w, t, out c10, out c11);
            if (m > 2) Load512(c + 2 * ldc, w, t, out c20, out c21);
            if (m > 3) Load512(c + 3 * ldc, w, t, out c30, out c31);
            if (m > 4) Load512(c + 4 * ldc, w, t, out c40, out c41);
            if (m > 5) Load512(c + 5 * ldc, w, t, out c50, out c51);
            if (m > 6) Load512(c + 6 * ldc, w, t, out c60, out c61);
            if (m > 7) Load512(c + 7 * ldc, w, t, out c70, out c71);
        }
        int end0 = k0 + len;
        byte* pf = o->Pf; nint pfStep = o->PfStep;
        for (float** end = rows + (long)segs * MR; rows < end; rows += MR)
        {
            // Pointers past the chunk's end and a negative index counting up to 0: no length register in the loop.
            // Rows past the tile's R.M are never read: their pointers alias row 0 and their FMAs are compiled out.
            float* a0 = rows[0] + end0, a1 = (R.M > 1 ? rows[1] : rows[0]) + end0, a2 = (R.M > 2 ? rows[2] : rows[0]) + end0, a3 = (R.M > 3 ? rows[3] : rows[0]) + end0,
                   a4 = (R.M > 4 ? rows[4] : rows[0]) + end0, a5 = (R.M > 5 ? rows[5] : rows[0]) + end0, a6 = (R.M > 6 ? rows[6] : rows[0]) + end0, a7 = (R.M > 7 ? rows[7] : rows[0]) + end0;
            for (nint k = -len; k != 0; k++, b += NR, pf += pfStep)
            {
                if (Sse.IsSupported) Sse.Prefetch1(pf);
                var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16);
                var x = Vector512.Create(a0[k]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
                if (R.M > 1) { x = Vector512.Create(a1[k]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11); }
                if (R.M > 2) { x = Vector512.Create(a2[k]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21); }
                if (R.M > 3) { x = Vector512.Create(a3[k]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31); }
                if (R.M > 4) { x = Vector512.Create(a4[k]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41); }
                if (R.M > 5) { x = Vector512.Create(a5[k]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51); }
                if (R.M > 6) { x = Vector512.Create(a6[k]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61); }
                if (R.M > 7) { x = Vector512.Create(a7[k]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71); }
            }
        }
        // Not the last chunk: the raw partial sums (no bias, no clamp).
        Vector512<float> cb0 = default, cb1 = default, vlo = Vector512.Create(float.NegativeInfinity), vhi = Vector512.Create(float.PositiveInfinity);
        if (o->Last)
        {
            vlo = Vector512.Create(o->Lo); vhi = Vector512.Create(o->Hi);
            if (w == NR) { cb0 = Vector512.Load(colBias); cb1 = Vector512.Load(colBias + 16); }
            else { for (int j = 0; j < NR; j++) t[j] = j < w ? colBias[j] : 0f; cb0 = Vector512.Load(t); cb1 = Vector512.Load(t + 16); }
        }
        Gemm.Store512(c, c00, c01, 0, null, cb0, cb1, vlo, vhi, w, t);
        if (m > 1) Gemm.Store512(c + ldc, c10, c11, 1, null, cb0, cb1, vlo, vhi, w, t);
        if (m > 2) Gemm.Store512(c + 2 * ldc, c20, c21, 2, null, cb0, cb1, vlo, vhi, w, t);
        if (m > 3) Gemm.Store512(c + 3 * ldc, c30, c31, 3, null, cb0, cb1, vlo, vhi, w, t);
        if (m > 4) Gemm.Store512(c + 4 * ldc, c40, c41, 4, null, cb0, cb1, vlo, vhi, w, t);
        if (m > 5) Gemm.Store512(c + 5 * ldc, c50, c51, 5, null, cb0, cb1, vlo, vhi, w, t);
        if (m > 6) Gemm.Store512(c + 6 * ldc, c60, c61, 6, null, cb0, cb1, vlo, vhi, w, t);
        if (m > 7) Gemm.Store512(c + 7 * ldc, c70, c71, 7, null, cb0, cb1, vlo, vhi, w, t);
    }

    /// <summary>A row's partial sums back from C (the first <paramref name="w"/> of 32; the rest zeros).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Load512(float* c, int w, float* t, out Vector512<float> v0, out Vector512<float> v1)
    {
        if (w == NR) { v0 = Vector512.Load(c); v1 = Vector512.Load(c + 16); return; }
        if (w == 24) { v0 = Vector512.Load(c); v1 = Vector512.Create(Vector256.Load(c + 16), Vector256<float>.Zero); return; }   // 24-channel convs (PP-OCR's heads): no copy
        for (int j = 0; j < NR; j++) t[j] = j < w ? c[j] : 0f;
        v0 = Vector512.Load(t); v1 = Vector512.Load(t + 16);
    }
}
