using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Int8;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// The int8 GEMM on AVX-512BW without VNNI: Zen 4, Ice Lake, Cascade Lake have AVX512-VNNI, which .NET 10 does not
/// expose, and lack the VEX AVX-VNNI. The panels are <see cref="GemmInt8.Pack"/>'s (not shifted). VPMADDWD multiplies
/// int16 pairs and sums each pair in int32, never saturating. The fused panels (activations in A) widen A's rows to
/// int16 once per block of rows and read a panel's k quad as two int16 pairs of each column in its own int32 lane: one
/// column per lane, so the sums need no gathering and the epilogue (StoreColumns512) reads them as they are. With
/// <see cref="SplitPanels"/>' copy (a layer's weights) the pairs are (k0, k1) and (k2, k3) and the rows are widened as
/// they are; from the packed bytes (<see cref="SplitPairs"/>: three shifts) they are (k0, k2) and (k1, k3), and each
/// row's k quad is widened as (k0, k2, k1, k3). The int32 tiles (TileAvx512, RowAvx512)
/// sign-extend 8 columns × 4 k (VPMOVSXBW), so lane 2j holds column j's terms of k0, k1 and lane 2j+1 those of k2, k3,
/// and VPERMT2D gathers the even and the odd lanes at the end. Not VPMADDUBSW (u8 × s8, MLAS's kernels without VNNI):
/// its int16 pair sums saturate (2·255·128 &gt; 2^15) and would change results; an exact int16 form costs as many
/// instructions. Every form computes the exact int32 of the reference.
/// </summary>
internal static unsafe partial class GemmInt8
{
    /// <summary>How far ahead (bytes) the first tile of a panel prefetches the weights it streams. In a whole model the
    /// weights (MobileNetV2-1.0: ~7 MB of int16 pairs an inference) come from L3 or memory, not L1/L2 as when a node runs
    /// alone again and again; the first tile that reads a panel then waited on each line (the out-of-order window covers
    /// ~3 k quads of ~30 cycles, far less than the latency), the later tiles find them in L1. A prefetch per line 2 KiB
    /// ahead (16 k quads of an int16 panel) hides it. DOTNET_EnableAVXVNNI=0, MobileNetV2-1.0 int8, each inference
    /// after an ONNX Runtime one (as compare runs them), medians of 4 × 150 in one process: features.18 (1280×320, 7×7)
    /// 159.9 -> 133.6 µs, 17.conv.2 101.9 -> 89.8, the 960×160 expands 56.8 -> 52.1; the large-M nodes unchanged
    /// (139.6 -> 140.1); sum of node medians 2395 -> 2296. 512-1024 ahead hid less, 3-6 KiB the same. The one-row Dense
    /// (RowAvx512) was slower with it: its single stream is the hardware prefetcher's.</summary>
    const int PrefetchAhead = 2048;

    /// <summary>The int16 weights of a GEMM from which its first tiles prefetch (<see cref="PrefetchAhead"/>): a
    /// smaller layer's are likely in L2 still (a small model's all are), and there the prefetches only took issue
    /// slots and brought lines 2 KiB past a short panel. MobileNetV2-0.35-96 int8 (96×96: no pointwise layer of 96 KiB
    /// but its last, 287 KiB) was 3-5% slower with prefetching in every GEMM, MobileNetV2-1.0's layers of 110 KiB
    /// (576×96) 2-3 µs faster with it.</summary>
    const int PrefetchMinBytes = 96 * 1024;

    /// <summary>Whether a tile prefetches its panels' weights ahead (<see cref="PrefetchAhead"/>): the first tile of
    /// each panel (or pair) in a block of rows, a type constant (the JIT compiles each form).</summary>
    interface IPrefetch { static abstract bool On { get; } }
    readonly struct Prefetch : IPrefetch { public static bool On => true; }
    readonly struct NoPrefetch : IPrefetch { public static bool On => false; }

    /// <summary>The lines of a k quad <see cref="PrefetchAhead"/> bytes past <paramref name="b"/> (one or two of 64 bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Ahead<S>(sbyte* b) where S : struct, IPanelWeights
    {
        Sse.Prefetch0(b + PrefetchAhead);
        if (S.QuadBytes > 64) Sse.Prefetch0(b + PrefetchAhead + 64);
    }

    /// <summary>A row's k..k+3 as int16, repeated across the vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<short> Repeat4(sbyte* a) => Avx512BW.ConvertToVector512Int16(Vector256.Create(*(int*)a).AsSByte());

    /// <summary>8 packed columns × 4 k as int16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<short> Widen(sbyte* b) => Avx512BW.ConvertToVector512Int16(Vector256.Load(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<int> Dot(Vector512<int> c, Vector512<short> w, Vector512<short> x) => c + Avx512BW.MultiplyAddAdjacent(w, x);

    /// <summary>Partials of columns 0-7 (lo) and 8-15 (hi), two lanes a column, → the 16 columns' sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<int> Columns16(Vector512<int> lo, Vector512<int> hi, Vector512<int> even, Vector512<int> odd) =>
        Avx512F.PermuteVar16x32x2(lo, even, hi) + Avx512F.PermuteVar16x32x2(lo, odd, hi);

    static Vector512<int> EvenLanes => Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    static Vector512<int> OddLanes => Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

    /// <summary>A widened row's k quad, repeated across the vector: one VPBROADCASTQ from memory, no ALU.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<short> Repeat4(short* a) => Vector512.Create(*(long*)a).AsInt16();

    /// <summary>Bias of columns 0-7 (<paramref name="half"/> 0) or 8-15 (1) in the even lanes, zeros in the odd: the
    /// accumulators start there, so <see cref="Columns16"/>'s sum of even and odd lanes adds each bias once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<int> BiasEven(int* bias, int half) =>
        Avx512F.PermuteVar16x32x2(Vector512.Load(bias), Vector512.Create(0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16) + Vector512.Create(8 * half, 0, 8 * half, 0, 8 * half, 0, 8 * half, 0, 8 * half, 0, 8 * half, 0, 8 * half, 0, 8 * half, 0), Vector512<int>.Zero);

    /// <summary>int16 copy of A that the fused panels read: at most this many shorts (40 KiB) on the stack, slack
    /// included (K 576: blocks of 24 rows, K 960: 12).</summary>
    const int WideShorts = 20480;

    /// <summary>Rows of the int16 copy past a block's last: a partial 12- or 6-row tile reads up to 5 more rows (their
    /// sums are not stored), so its rows are addressed from three pointers without a check per row.</summary>
    const int TileSlack = 5;

    /// <summary>Whether a block of rows of A's int16 copy fits <see cref="WideShorts"/> (else the unfused path).</summary>
    static bool WideFits(int kp) => kp * (1 + TileSlack) <= WideShorts;

    /// <summary>Whether the fused panels of a K×N GEMM read <see cref="SplitPanels"/>' copy: A's int16 copy fits and some
    /// panel is wider than 8 columns (Panel8 and the unfused path read the packed bytes).</summary>
    public static bool ReadsSplitWeights(int K, int N) => WideFits(KPad(K)) && N > 8;

    /// <summary>With the requantization fused (activations in A, the channels are the columns), as the VNNI panels.
    /// A is sign-extended to int16 once per block of rows (every panel then reads it: a broadcast from memory
    /// instead of a broadcast and a VPMOVSXBW per row, k quad and panel pair, a third of the ALU work of a tile).</summary>
    [SkipLocalsInit]
    static void RunAvx512Fused(sbyte* A, int lda, sbyte* packedB, int M, int N, int K, ref Epilogue e)
    {
        if (e.ColBias == null) throw new ArgumentException("activations in A need per-column bias");
        int kp = KPad(K);
        if (!WideFits(kp)) { RunAvx512Unfused(A, lda, packedB, M, N, kp, ref e); return; }
        int block = Math.Min(M, WideShorts / kp - TileSlack);
        // Whole 12-row tiles (and 8-row ones) but in the last block. All rows in one block are that last block: a 7×7
        // map's 49 rows were cut to 48 + 1, and the one row streamed every panel's weights again.
        if (block < M) block -= block >= 48 ? block % 24 : block >= 12 ? block % 12 : 0;
        short* wide = stackalloc short[(block + TileSlack) * kp];
        bool ahead = (long)kp * N * 2 >= PrefetchMinBytes;   // weights that a whole model streams from past L2
        int* padBias = stackalloc int[NR]; float* padMult = stackalloc float[NR];
        for (int r0 = 0, rows; r0 < M; r0 += rows)
        {
            rows = Math.Min(block, M - r0);
            // One row left after a block of whole 12-row tiles goes with it (13 rows fit the slack): the 12×32 panels end
            // in a 13×32 tile, not a one-row pass that streams every panel's weights again (K 960, blocks of 12: a 7×7
            // map's 49 rows as 12 + 12 + 12 + 13; K 576, blocks of 24: 24 + 25).
            if (M - r0 - rows == 1 && rows % 12 == 0) rows++;
            WidenRows(A + (long)r0 * lda, lda, rows, kp, wide, quadOrder: e.SplitB == null);
            sbyte* o = e.Out + (long)r0 * e.Ldo;
            for (int p = 0, j0 = 0; j0 < N; p++, j0 += NR)
            {
                sbyte* b = packedB + (long)p * kp * NR;
                sbyte* split = e.SplitB == null ? null : (sbyte*)(e.SplitB + (long)p * kp * NR);   // the panel's int16 pairs
                int w = Math.Min(NR, N - j0);
                int* bias = e.ColBias + j0; float* mult = e.ColMult + j0;
                if (N - j0 >= 2 * NR)   // two whole panels: 12×32 tiles (Panel32Avx512: a last 13-, 6- or 4-row tile, or one-row tiles)
                {
                    if (split != null) Panel32Avx512<SplitWeights>(wide, kp, split, rows, bias, mult, e.Zp, e.Lo, e.Hi, o + j0, e.Ldo, !e.SaturationOnly, ahead);
                    else Panel32Avx512<PackedWeights>(wide, kp, b, rows, bias, mult, e.Zp, e.Lo, e.Hi, o + j0, e.Ldo, !e.SaturationOnly, ahead);
                    p++; j0 += NR;
                    continue;
                }
                if (w < NR)   // the last, partial panel: its packed columns past w are zeros; bias and multipliers padded likewise
                {
                    for (int j = 0; j < NR; j++) { padBias[j] = j < w ? bias[j] : 0; padMult[j] = j < w ? mult[j] : 0f; }
                    bias = padBias; mult = padMult;
                }
                if (w <= 8)   // 24, 40 channels: no wasted half panel
                {
                    if (split != null) Panel8Avx512<WidenedWeights8>(wide, kp, split, rows, bias, mult, e.Zp, e.Lo, e.Hi, o + j0, e.Ldo, w, !e.SaturationOnly, ahead);
                    else Panel8Avx512<PackedWeights8>(wide, kp, b, rows, bias, mult, e.Zp, e.Lo, e.Hi, o + j0, e.Ldo, w, !e.SaturationOnly, ahead);
                }
                else if (split != null) Panel16Avx512<SplitWeights>(wide, kp, split, rows, bias, mult, e.Zp, e.Lo, e.Hi, o + j0, e.Ldo, w, !e.SaturationOnly, ahead);
                else Panel16Avx512<PackedWeights>(wide, kp, b, rows, bias, mult, e.Zp, e.Lo, e.Hi, o + j0, e.Ldo, w, !e.SaturationOnly, ahead);
            }
        }
    }

    /// <summary>K past what the int16 copy holds (kp &gt; 3412, not a convnet's): int32 tiles, then Requantize.Columns.</summary>
    static void RunAvx512Unfused(sbyte* A, int lda, sbyte* packedB, int M, int N, int kp, ref Epilogue e)
    {
        int* tile = stackalloc int[4 * NR];
        for (int p = 0, j0 = 0; j0 < N; p++, j0 += NR)
        {
            int w = Math.Min(NR, N - j0);
            for (int i = 0; i < M; i += 4)
            {
                int m = Math.Min(4, M - i);
                TileAvx512(A + (long)i * lda, lda, packedB + (long)p * kp * NR, tile, NR, kp, w, m);
                for (int r = 0; r < m; r++) Requantize.Columns(tile + r * NR, e.ColBias + j0, e.ColMult + j0, e.Zp, e.Lo, e.Hi, e.Out + (long)(i + r) * e.Ldo + j0, w);
            }
        }
    }

    /// <summary>rows × kp int8 (row stride lda) → int16, row stride kp. <paramref name="quadOrder"/>: each k quad stored
    /// as (k0, k2, k1, k3), the order <see cref="SplitPairs"/> splits the packed weights into (one VPBROADCASTD of a
    /// row's k0, k2 or k1, k3); else in order, as <see cref="SplitPanels"/> stores its pairs (k0, k1) and (k2, k3): one
    /// VPMOVSXBW per 32 bytes, no VPSHUFB.</summary>
    static void WidenRows(sbyte* a, int lda, int rows, int kp, short* dst, bool quadOrder)
    {
        if (lda == kp) { WidenAny(a, (long)rows * kp, dst, quadOrder); return; }   // contiguous: one pass
        for (int r = 0; r < rows; r++) WidenAny(a + (long)r * lda, kp, dst + (long)r * kp, quadOrder);
    }

    static void WidenAny(sbyte* a, long n, short* dst, bool quadOrder)
    {
        if (quadOrder) WidenSpan(a, n, dst);
        else WidenInOrder(a, n, dst);
    }

    /// <summary>n int8 (a multiple of 4) → int16 in order.</summary>
    static void WidenInOrder(sbyte* a, long n, short* dst)
    {
        long i = 0;
        for (; i + 32 <= n; i += 32) Avx512BW.ConvertToVector512Int16(Vector256.Load(a + i)).Store(dst + i);
        for (; i + 8 <= n; i += 8) Sse41.ConvertToVector128Int16(Vector128.CreateScalar(*(long*)(a + i)).AsSByte()).Store(dst + i);
        for (; i < n; i++) dst[i] = a[i];
    }

    /// <summary>Swaps the middle two bytes of every 4 (a row's k1 and k2 in each k quad).</summary>
    static Vector256<sbyte> QuadOrder => Vector256.Create((sbyte)0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15, 0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15);

    /// <summary>n int8 (a multiple of 4, from a k quad's start) → int16 with each quad's middle two swapped.</summary>
    static void WidenSpan(sbyte* a, long n, short* dst)
    {
        long i = 0;
        var order = QuadOrder;
        for (; i + 32 <= n; i += 32) Avx512BW.ConvertToVector512Int16(Avx2.Shuffle(Vector256.Load(a + i), order)).Store(dst + i);
        for (; i + 8 <= n; i += 8) Sse41.ConvertToVector128Int16(Ssse3.Shuffle(Vector128.CreateScalar(*(long*)(a + i)).AsSByte(), order.GetLower())).Store(dst + i);
        for (; i < n; i += 4) { dst[i] = a[i]; dst[i + 1] = a[i + 2]; dst[i + 2] = a[i + 1]; dst[i + 3] = a[i + 3]; }
    }

    /// <summary>A k quad of 16 packed columns (64 bytes; column j's k0..k3 in bytes 4j..4j+3) → (k0, k2) and (k1, k3)
    /// of column j as int16 in int32 lane j: three shifts for 16 columns. With the rows' quads widened as (k0, k2, k1,
    /// k3), VPMADDWD then puts each column's sum in one lane (VPMOVSXBW gives 8 columns with two lanes each, whose
    /// halves must be gathered into columns after the k loop: two VPERMT2D and an add per 16 columns and row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector512<short> P, Vector512<short> Q) SplitPairs(sbyte* b)
    {
        var s = Vector512.Load(b).AsInt16();   // word 2j = k0 | k1·256, word 2j+1 = k2 | k3·256 of column j
        return (Avx512BW.ShiftRightArithmetic(Avx512BW.ShiftLeftLogical(s, 8), 8), Avx512BW.ShiftRightArithmetic(s, 8));
    }

    /// <summary>Where a panel's k quad comes from as two int16 pairs, one column per int32 lane: the packed bytes split
    /// per tile into (k0, k2) and (k1, k3) (<see cref="SplitPairs"/>), or the pairs (k0, k1) and (k2, k3) that
    /// <see cref="SplitPanels"/> stored once (the rows widened in the same order: <see cref="WidenRows"/>).
    /// A type constant: the JIT compiles each panel form for each.</summary>
    interface IPanelWeights
    {
        /// <summary>Bytes of one k quad of one panel.</summary>
        static abstract int QuadBytes { get; }
        static abstract (Vector512<short> P, Vector512<short> Q) Pairs(sbyte* b);
        /// <summary>A pair of whole panels holds its 32 columns interleaved by fours (<see cref="SplitPanels"/>): the
        /// 12×32 tiles' rows are requantized as one 32-byte vector (<see cref="StoreRow32"/>).</summary>
        static abstract bool Interleaved { get; }
    }

    readonly struct PackedWeights : IPanelWeights
    {
        public static int QuadBytes => 4 * NR;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static (Vector512<short> P, Vector512<short> Q) Pairs(sbyte* b) => SplitPairs(b);
        public static bool Interleaved => false;
    }

    readonly struct SplitWeights : IPanelWeights
    {
        public static int QuadBytes => 8 * NR;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static (Vector512<short> P, Vector512<short> Q) Pairs(sbyte* b) => (Vector512.Load(b).AsInt16(), Vector512.Load(b + 4 * NR).AsInt16());
        public static bool Interleaved => true;
    }

    /// <summary>Shorts of <see cref="SplitPanels"/>' copy of weights packed for K × N.</summary>
    public static long SplitShorts(int K, int N) => PackedBytes(K, N);

    /// <summary>The packed panels (<see cref="Pack"/>, not shifted) as int16 pairs, panel by panel and k quad by k quad:
    /// (k0, k1) of columns 0..15, then (k2, k3), 64 bytes each, done once (a layer's weights) instead of split in every
    /// 12-row tile (<see cref="SplitPairs"/>: 6 shifts of the ~128 instructions of a 12×32 tile's k quad: 24 broadcasts,
    /// 48 VPMADDWD, 48 VPADDD, 2 loads). In k order, as the rows are widened for them (<see cref="WidenRows"/>: one
    /// VPMOVSXBW per 32 bytes, no VPSHUFB). The same integers: bit-identical sums.
    /// A last panel of at most 8 columns (24, 40 channels: <see cref="Panel8Avx512{S}"/>) holds instead its 8 columns'
    /// k quads widened to int16, 64 bytes, then 64 unused: what Panel8 made with a VPSHUFB and a VPMOVSXBW per k quad
    /// of every 8-row tile. Pairs of whole panels (the 12×32 tiles' 32 columns)
    /// hold their columns interleaved by fours (<see cref="PairColumn"/>).</summary>
    public static void SplitPanels(sbyte* packed, int K, int N, short* dst)
    {
        int quads = KPad(K) / 4;
        long panel = (long)quads * 4 * NR;   // bytes of a packed panel, shorts of a split one
        for (int p = 0; p * NR < N; p++)
        {
            bool narrow = N - p * NR <= 8, paired = Paired(p, N);
            for (int q = 0; q < quads; q++, dst += 4 * NR)
                for (int j = 0; j < NR; j++)
                {
                    if (narrow)
                    {
                        sbyte* w = packed + p * panel + q * 4 * NR + 4 * j;
                        if (j < 8) { dst[4 * j] = w[0]; dst[4 * j + 1] = w[1]; dst[4 * j + 2] = w[2]; dst[4 * j + 3] = w[3]; }
                        else { dst[4 * j] = 0; dst[4 * j + 1] = 0; dst[4 * j + 2] = 0; dst[4 * j + 3] = 0; }
                        continue;
                    }
                    int c = paired ? PairColumn(p & 1, j) : j;   // the column of the pair (or of the panel) in lane j
                    sbyte* b = packed + ((paired ? p & ~1 : p) + c / NR) * panel + q * 4 * NR + 4 * (c % NR);
                    dst[2 * j] = b[0]; dst[2 * j + 1] = b[1];
                    dst[2 * NR + 2 * j] = b[2]; dst[2 * NR + 2 * j + 1] = b[3];
                }
        }
    }

    /// <summary>Whether panel p is one of a pair of whole panels that <see cref="RunAvx512Fused"/> runs as 12×32 tiles.</summary>
    static bool Paired(int p, int N) => ((p & ~1) + 2) * NR <= N;

    /// <summary>The column (0-31) of a panel pair that lane j of its first (<paramref name="half"/> 0) or second panel
    /// holds in <see cref="SplitPanels"/>' copy: columns 8g..8g+3 in lanes 4g..4g+3 of the first, 8g+4..8g+7 in those
    /// of the second, so that VPACKSSDW of the two (per 128-bit lane: 4 int32 of the first, then 4 of the second) lists
    /// the 32 columns in order.</summary>
    static int PairColumn(int half, int j) => 8 * (j >> 2) + 4 * half + (j & 3);

    /// <summary>Bias or multipliers of a panel pair's 32 columns (two vectors) in <see cref="PairColumn"/>'s lanes.</summary>
    static Vector512<int> PairLanes(int half) => half == 0
        ? Vector512.Create(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27)
        : Vector512.Create(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);

    /// <summary>A row's 32 columns of a panel pair (<see cref="PairColumn"/>'s lanes; the bias in the sums) → 32 int8:
    /// each lane as <see cref="StoreColumns512"/> computes it, then VPACKSSDW, the zero point added in int16 with
    /// saturation and VPMOVSWB (saturating to int16 and then int8 after adding zp ∈ [−128, 127] is saturating once:
    /// a sum past int16 stays past int8), one 32-byte store. Per 32 outputs one VPADDW, one narrow and one store instead
    /// of two each. DOTNET_EnableAVXVNNI=0 conv-probe, MobileNetV2-1.0 int8 (minima of 14 interleaved runs): its pointwise
    /// nodes of ≥ 32 output channels 1431.7 -> 1410.1 µs, the 7×7 and 14×14 ones 1-2.4 µs each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow32(Vector512<int> c0, Vector512<int> c1, Vector512<float> m0, Vector512<float> m1, Vector512<float> lo, Vector512<float> hi, Vector512<short> zp, sbyte* dst, bool clamp)
    {
        var t0 = Avx512F.ConvertToVector512Single(c0) * m0; var t1 = Avx512F.ConvertToVector512Single(c1) * m1;
        if (clamp) { t0 = Avx512F.Max(lo, Avx512F.Min(t0, hi)); t1 = Avx512F.Max(lo, Avx512F.Min(t1, hi)); }
        var w = Avx512BW.AddSaturate(Avx512BW.PackSignedSaturate(Avx512F.ConvertToVector512Int32(t0), Avx512F.ConvertToVector512Int32(t1)), zp);
        Avx512BW.ConvertToVector256SByteWithSaturation(w).Store(dst);
    }

    /// <summary>Two int16 of a widened row (the first or the second pair of a k quad) repeated: one VPBROADCASTD from memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<short> Repeat2(byte* a) => Vector512.Create(*(int*)a).AsInt16();

    /// <summary>Rows per tile of the one-column-per-lane panels, a type constant (the JIT compiles each form).</summary>
    interface ITileRows { static abstract int Count { get; } }
    readonly struct Rows13 : ITileRows { public static int Count => 13; }
    readonly struct Rows12 : ITileRows { public static int Count => 12; }
    readonly struct Rows6 : ITileRows { public static int Count => 6; }
    readonly struct Rows4 : ITileRows { public static int Count => 4; }
    readonly struct Rows1 : ITileRows { public static int Count => 1; }

    /// <summary>Rows in 12-row tiles, but for a last 1-6 rows: 4-6 one 6-row tile (the panels run exactly 4 as a 4-row
    /// tile: 14×14 maps, 196 = 16·12 + 4), 1-3 one-row tiles (7×7 maps: 49 rows = 4·12 + 1, which 6-row tiles made 54
    /// rows of work; a one-row Dense: 1 row of work, not 6 or 12).</summary>
    static (int Twelve, int Six) RowSplit(int rows)
    {
        int t = rows % 12;
        if (t == 0 || t > 6) return (rows, rows);
        return (rows - t, t > 3 ? rows : rows - t);
    }

    /// <summary>Two whole panels (32 columns) over all rows: 12×32 tiles, the last rows as <see cref="RowSplit"/> says,
    /// but one row past whole tiles (a 7×7 map's 49 rows) ends in a 13×32 tile: 26 accumulators, the panels' pairs and
    /// a broadcast in 31 zmm. A one-row tile after the 12-row ones streams both panels' weights once more (61 KB at K 960:
    /// past L1) for one row's work. DOTNET_EnableAVXVNNI=0 conv-probe, MobileNetV2's 7×7 pointwise nodes: 416.1 -> 409.0 µs.</summary>
    static void Panel32Avx512<S>(short* a, int lda, sbyte* b, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, bool clamp, bool ahead) where S : struct, IPanelWeights
    {
        if (rows % 12 == 1 && rows > 12)   // the last 13 rows in one tile (7×7 maps: 49 = 3·12 + 13)
        {
            if (rows == 13)
            {
                if (ahead) Panel32Avx512<Rows13, S, Prefetch>(a, lda, b, 13, bias, mult, zp, lo, hi, o, ldo, clamp);
                else Panel32Avx512<Rows13, S, NoPrefetch>(a, lda, b, 13, bias, mult, zp, lo, hi, o, ldo, clamp);
                return;
            }
            Panel32Twelve<S>(a, lda, b, rows - 13, bias, mult, zp, lo, hi, o, ldo, clamp, ahead);
            Panel32Avx512<Rows13, S, NoPrefetch>(a + (long)(rows - 13) * lda, lda, b, 13, bias, mult, zp, lo, hi, o + (long)(rows - 13) * ldo, ldo, clamp);
            return;
        }
        var (twelve, six) = RowSplit(rows);
        if (twelve > 0) Panel32Twelve<S>(a, lda, b, twelve, bias, mult, zp, lo, hi, o, ldo, clamp, ahead);
        short* a6 = a + (long)twelve * lda; sbyte* o6 = o + (long)twelve * ldo;
        if (six - twelve == 4)
        {
            if (twelve > 0 || !ahead) Panel32Avx512<Rows4, S, NoPrefetch>(a6, lda, b, 4, bias, mult, zp, lo, hi, o6, ldo, clamp);
            else Panel32Avx512<Rows4, S, Prefetch>(a6, lda, b, 4, bias, mult, zp, lo, hi, o6, ldo, clamp);
        }
        else if (six > twelve)
        {
            if (twelve > 0 || !ahead) Panel32Avx512<Rows6, S, NoPrefetch>(a6, lda, b, six - twelve, bias, mult, zp, lo, hi, o6, ldo, clamp);
            else Panel32Avx512<Rows6, S, Prefetch>(a6, lda, b, six - twelve, bias, mult, zp, lo, hi, o6, ldo, clamp);
        }
        if (rows > six)
        {
            if (six > 0 || !ahead) Panel32Avx512<Rows1, S, NoPrefetch>(a + (long)six * lda, lda, b, rows - six, bias, mult, zp, lo, hi, o + (long)six * ldo, ldo, clamp);
            else Panel32Avx512<Rows1, S, Prefetch>(a, lda, b, rows, bias, mult, zp, lo, hi, o, ldo, clamp);
        }
    }

    /// <summary>12-row tiles (the last may be partial: 7-11 rows): the first prefetches the panels' weights ahead as it
    /// streams them (<paramref name="ahead"/>), the others find them in L1.</summary>
    static void Panel32Twelve<S>(short* a, int lda, sbyte* b, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, bool clamp, bool ahead) where S : struct, IPanelWeights
    {
        if (ahead) Panel32Avx512<Rows12, S, Prefetch>(a, lda, b, Math.Min(12, rows), bias, mult, zp, lo, hi, o, ldo, clamp);
        else Panel32Avx512<Rows12, S, NoPrefetch>(a, lda, b, Math.Min(12, rows), bias, mult, zp, lo, hi, o, ldo, clamp);
        if (rows > 12) Panel32Avx512<Rows12, S, NoPrefetch>(a + 12L * lda, lda, b, rows - 12, bias, mult, zp, lo, hi, o + 12L * ldo, ldo, clamp);
    }

    /// <summary>Two whole panels in R×32 tiles (R = 12: 24 accumulators, the split weights of both panels, the
    /// broadcast and a product in 30 of the 32 zmm registers; EVEX VPMADDWD reaches zmm16-31). One column per int32
    /// lane (<see cref="SplitPairs"/>): the accumulators start at the bias and end as the columns' sums, which the
    /// requantization reads as they are. Per k quad, 2R broadcasts and the panels' int16 pairs (<see cref="SplitWeights"/>:
    /// 4 loads of the pairs split at load; <see cref="PackedWeights"/>: 2 loads and 6 shifts) feed 4R VPMADDWD (the 6×32 tiles of
    /// two-lane columns: 4 VPMOVSXBW and 6 broadcasts for 24, then 3 gathering instructions per 16 outputs).
    /// Exact int32 sums: the same bits in any order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Panel32Avx512<R, S, P>(short* a, int lda, sbyte* b, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, bool clamp) where R : struct, ITileRows where S : struct, IPanelWeights where P : struct, IPrefetch
    {
        int kp = lda, mr = R.Count, step = S.QuadBytes;
        nint l1 = 2 * lda, l2 = 4 * lda, l3 = 6 * lda;   // bytes
        var vlo = Vector512.Create((float)(lo - zp)); var vhi = Vector512.Create((float)(hi - zp)); var vz = Vector512.Create(zp);
        sbyte* b2 = b + (long)(kp / 4) * step;   // the second panel
        var vz16 = Vector512.Create((short)zp);
        int* pb = stackalloc int[2 * NR]; float* pm = stackalloc float[2 * NR];   // bias and multipliers in the tiles' lanes
        if (S.Interleaved)
        {
            Vector512<int> b0 = Vector512.Load(bias), b1 = Vector512.Load(bias + NR);
            Avx512F.PermuteVar16x32x2(b0, PairLanes(0), b1).Store(pb); Avx512F.PermuteVar16x32x2(b0, PairLanes(1), b1).Store(pb + NR);
            Vector512<float> f0 = Vector512.Load(mult), f1 = Vector512.Load(mult + NR);
            Avx512F.PermuteVar16x32x2(f0, PairLanes(0), f1).Store(pm); Avx512F.PermuteVar16x32x2(f0, PairLanes(1), f1).Store(pm + NR);
            bias = pb; mult = pm;
        }
        for (int i = 0; i < rows; i += mr, a += mr * lda, o += mr * ldo)
        {
            int m = Math.Min(mr, rows - i);   // rows past m (TileSlack) are summed, not stored
            byte* r0 = (byte*)a, r4 = (byte*)(a + 4 * lda), r8 = (byte*)(a + 8 * lda), r12 = (byte*)(a + 12 * lda);   // rows 4g + j at r4g + j·lda
            var bias0 = Vector512.Load(bias); var bias1 = Vector512.Load(bias + NR);
            Vector512<int> c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1, c30 = bias0, c31 = bias1, c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1;
            Vector512<int> c60 = bias0, c61 = bias1, c70 = bias0, c71 = bias1, c80 = bias0, c81 = bias1, c90 = bias0, c91 = bias1, ca0 = bias0, ca1 = bias1, cb0 = bias0, cb1 = bias1, cc0 = bias0, cc1 = bias1;
            sbyte* bk = b, bl = b2;
            for (int kq = 0; kq < kp; kq += 4, bk += step, bl += step, r0 += 8, r4 += 8, r8 += 8, r12 += 8)
            {
                if (P.On) { Ahead<S>(bk); Ahead<S>(bl); }
                var (p0, q0) = S.Pairs(bk); var (p1, q1) = S.Pairs(bl);
                var x = Repeat2(r0); c00 = Dot(c00, p0, x); c01 = Dot(c01, p1, x);
                if (R.Count > 1)
                {
                    x = Repeat2(r0 + l1); c10 = Dot(c10, p0, x); c11 = Dot(c11, p1, x);
                    x = Repeat2(r0 + l2); c20 = Dot(c20, p0, x); c21 = Dot(c21, p1, x);
                    x = Repeat2(r0 + l3); c30 = Dot(c30, p0, x); c31 = Dot(c31, p1, x);
                }
                if (R.Count > 4)
                {
                    x = Repeat2(r4); c40 = Dot(c40, p0, x); c41 = Dot(c41, p1, x);
                    x = Repeat2(r4 + l1); c50 = Dot(c50, p0, x); c51 = Dot(c51, p1, x);
                }
                if (R.Count > 6)
                {
                    x = Repeat2(r4 + l2); c60 = Dot(c60, p0, x); c61 = Dot(c61, p1, x);
                    x = Repeat2(r4 + l3); c70 = Dot(c70, p0, x); c71 = Dot(c71, p1, x);
                    x = Repeat2(r8); c80 = Dot(c80, p0, x); c81 = Dot(c81, p1, x);
                    x = Repeat2(r8 + l1); c90 = Dot(c90, p0, x); c91 = Dot(c91, p1, x);
                    x = Repeat2(r8 + l2); ca0 = Dot(ca0, p0, x); ca1 = Dot(ca1, p1, x);
                    x = Repeat2(r8 + l3); cb0 = Dot(cb0, p0, x); cb1 = Dot(cb1, p1, x);
                }
                if (R.Count > 12) { x = Repeat2(r12); cc0 = Dot(cc0, p0, x); cc1 = Dot(cc1, p1, x); }
                x = Repeat2(r0 + 4); c00 = Dot(c00, q0, x); c01 = Dot(c01, q1, x);
                if (R.Count > 1)
                {
                    x = Repeat2(r0 + l1 + 4); c10 = Dot(c10, q0, x); c11 = Dot(c11, q1, x);
                    x = Repeat2(r0 + l2 + 4); c20 = Dot(c20, q0, x); c21 = Dot(c21, q1, x);
                    x = Repeat2(r0 + l3 + 4); c30 = Dot(c30, q0, x); c31 = Dot(c31, q1, x);
                }
                if (R.Count > 4)
                {
                    x = Repeat2(r4 + 4); c40 = Dot(c40, q0, x); c41 = Dot(c41, q1, x);
                    x = Repeat2(r4 + l1 + 4); c50 = Dot(c50, q0, x); c51 = Dot(c51, q1, x);
                }
                if (R.Count > 6)
                {
                    x = Repeat2(r4 + l2 + 4); c60 = Dot(c60, q0, x); c61 = Dot(c61, q1, x);
                    x = Repeat2(r4 + l3 + 4); c70 = Dot(c70, q0, x); c71 = Dot(c71, q1, x);
                    x = Repeat2(r8 + 4); c80 = Dot(c80, q0, x); c81 = Dot(c81, q1, x);
                    x = Repeat2(r8 + l1 + 4); c90 = Dot(c90, q0, x); c91 = Dot(c91, q1, x);
                    x = Repeat2(r8 + l2 + 4); ca0 = Dot(ca0, q0, x); ca1 = Dot(ca1, q1, x);
                    x = Repeat2(r8 + l3 + 4); cb0 = Dot(cb0, q0, x); cb1 = Dot(cb1, q1, x);
                }
                if (R.Count > 12) { x = Repeat2(r12 + 4); cc0 = Dot(cc0, q0, x); cc1 = Dot(cc1, q1, x); }
            }
            var vm0 = Vector512.Load(mult); var vm1 = Vector512.Load(mult + NR);
            if (S.Interleaved)
            {
                StoreRow32(c00, c01, vm0, vm1, vlo, vhi, vz16, o, clamp);
                if (m > 1) StoreRow32(c10, c11, vm0, vm1, vlo, vhi, vz16, o + ldo, clamp);
                if (m > 2) StoreRow32(c20, c21, vm0, vm1, vlo, vhi, vz16, o + 2 * ldo, clamp);
                if (m > 3) StoreRow32(c30, c31, vm0, vm1, vlo, vhi, vz16, o + 3 * ldo, clamp);
                if (m > 4) StoreRow32(c40, c41, vm0, vm1, vlo, vhi, vz16, o + 4 * ldo, clamp);
                if (m > 5) StoreRow32(c50, c51, vm0, vm1, vlo, vhi, vz16, o + 5 * ldo, clamp);
                if (R.Count <= 6) continue;
                if (m > 6) StoreRow32(c60, c61, vm0, vm1, vlo, vhi, vz16, o + 6 * ldo, clamp);
                if (m > 7) StoreRow32(c70, c71, vm0, vm1, vlo, vhi, vz16, o + 7 * ldo, clamp);
                if (m > 8) StoreRow32(c80, c81, vm0, vm1, vlo, vhi, vz16, o + 8 * ldo, clamp);
                if (m > 9) StoreRow32(c90, c91, vm0, vm1, vlo, vhi, vz16, o + 9 * ldo, clamp);
                if (m > 10) StoreRow32(ca0, ca1, vm0, vm1, vlo, vhi, vz16, o + 10 * ldo, clamp);
                if (m > 11) StoreRow32(cb0, cb1, vm0, vm1, vlo, vhi, vz16, o + 11 * ldo, clamp);
                if (R.Count > 12 && m > 12) StoreRow32(cc0, cc1, vm0, vm1, vlo, vhi, vz16, o + 12 * ldo, clamp);
                continue;
            }
            StoreColumns512(c00, vm0, vlo, vhi, vz, o, NR, null, clamp); StoreColumns512(c01, vm1, vlo, vhi, vz, o + NR, NR, null, clamp);
            if (m > 1) { StoreColumns512(c10, vm0, vlo, vhi, vz, o + ldo, NR, null, clamp); StoreColumns512(c11, vm1, vlo, vhi, vz, o + ldo + NR, NR, null, clamp); }
            if (m > 2) { StoreColumns512(c20, vm0, vlo, vhi, vz, o + 2 * ldo, NR, null, clamp); StoreColumns512(c21, vm1, vlo, vhi, vz, o + 2 * ldo + NR, NR, null, clamp); }
            if (m > 3) { StoreColumns512(c30, vm0, vlo, vhi, vz, o + 3 * ldo, NR, null, clamp); StoreColumns512(c31, vm1, vlo, vhi, vz, o + 3 * ldo + NR, NR, null, clamp); }
            if (m > 4) { StoreColumns512(c40, vm0, vlo, vhi, vz, o + 4 * ldo, NR, null, clamp); StoreColumns512(c41, vm1, vlo, vhi, vz, o + 4 * ldo + NR, NR, null, clamp); }
            if (m > 5) { StoreColumns512(c50, vm0, vlo, vhi, vz, o + 5 * ldo, NR, null, clamp); StoreColumns512(c51, vm1, vlo, vhi, vz, o + 5 * ldo + NR, NR, null, clamp); }
            if (R.Count <= 6) continue;
            if (m > 6) { StoreColumns512(c60, vm0, vlo, vhi, vz, o + 6 * ldo, NR, null, clamp); StoreColumns512(c61, vm1, vlo, vhi, vz, o + 6 * ldo + NR, NR, null, clamp); }
            if (m > 7) { StoreColumns512(c70, vm0, vlo, vhi, vz, o + 7 * ldo, NR, null, clamp); StoreColumns512(c71, vm1, vlo, vhi, vz, o + 7 * ldo + NR, NR, null, clamp); }
            if (m > 8) { StoreColumns512(c80, vm0, vlo, vhi, vz, o + 8 * ldo, NR, null, clamp); StoreColumns512(c81, vm1, vlo, vhi, vz, o + 8 * ldo + NR, NR, null, clamp); }
            if (m > 9) { StoreColumns512(c90, vm0, vlo, vhi, vz, o + 9 * ldo, NR, null, clamp); StoreColumns512(c91, vm1, vlo, vhi, vz, o + 9 * ldo + NR, NR, null, clamp); }
            if (m > 10) { StoreColumns512(ca0, vm0, vlo, vhi, vz, o + 10 * ldo, NR, null, clamp); StoreColumns512(ca1, vm1, vlo, vhi, vz, o + 10 * ldo + NR, NR, null, clamp); }
            if (m > 11) { StoreColumns512(cb0, vm0, vlo, vhi, vz, o + 11 * ldo, NR, null, clamp); StoreColumns512(cb1, vm1, vlo, vhi, vz, o + 11 * ldo + NR, NR, null, clamp); }
            if (R.Count > 12 && m > 12) { StoreColumns512(cc0, vm0, vlo, vhi, vz, o + 12 * ldo, NR, null, clamp); StoreColumns512(cc1, vm1, vlo, vhi, vz, o + 12 * ldo + NR, NR, null, clamp); }
        }
    }

    /// <summary>One panel (w ≤ 16 columns) over all rows: 12×16 tiles, the last rows as <see cref="RowSplit"/> says.</summary>
    static void Panel16Avx512<S>(short* a, int lda, sbyte* b, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, int w, bool clamp, bool ahead) where S : struct, IPanelWeights
    {
        var (twelve, six) = RowSplit(rows);
        if (twelve > 0)
        {
            if (ahead) Panel16Avx512<Rows12, S, Prefetch>(a, lda, b, Math.Min(12, twelve), bias, mult, zp, lo, hi, o, ldo, w, clamp);   // 7-11 rows: one partial tile
            else Panel16Avx512<Rows12, S, NoPrefetch>(a, lda, b, Math.Min(12, twelve), bias, mult, zp, lo, hi, o, ldo, w, clamp);
            if (twelve > 12) Panel16Avx512<Rows12, S, NoPrefetch>(a + 12L * lda, lda, b, twelve - 12, bias, mult, zp, lo, hi, o + 12L * ldo, ldo, w, clamp);
        }
        short* a6 = a + (long)twelve * lda; sbyte* o6 = o + (long)twelve * ldo;
        if (six - twelve == 4)
        {
            if (twelve > 0 || !ahead) Panel16Avx512<Rows4, S, NoPrefetch>(a6, lda, b, 4, bias, mult, zp, lo, hi, o6, ldo, w, clamp);
            else Panel16Avx512<Rows4, S, Prefetch>(a6, lda, b, 4, bias, mult, zp, lo, hi, o6, ldo, w, clamp);
        }
        else if (six > twelve)
        {
            if (twelve > 0 || !ahead) Panel16Avx512<Rows6, S, NoPrefetch>(a6, lda, b, six - twelve, bias, mult, zp, lo, hi, o6, ldo, w, clamp);
            else Panel16Avx512<Rows6, S, Prefetch>(a6, lda, b, six - twelve, bias, mult, zp, lo, hi, o6, ldo, w, clamp);
        }
        if (rows > six)
        {
            if (six > 0 || !ahead) Panel16Avx512<Rows1, S, NoPrefetch>(a + (long)six * lda, lda, b, rows - six, bias, mult, zp, lo, hi, o + (long)six * ldo, ldo, w, clamp);
            else Panel16Avx512<Rows1, S, Prefetch>(a, lda, b, rows, bias, mult, zp, lo, hi, o, ldo, w, clamp);
        }
    }

    /// <summary>One panel in R×16 tiles, one column per lane as <see cref="Panel32Avx512{R, S, P}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Panel16Avx512<R, S, P>(short* a, int lda, sbyte* b, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, int w, bool clamp) where R : struct, ITileRows where S : struct, IPanelWeights where P : struct, IPrefetch
    {
        int kp = lda, mr = R.Count, step = S.QuadBytes;
        nint l1 = 2 * lda, l2 = 4 * lda, l3 = 6 * lda;
        var vlo = Vector512.Create((float)(lo - zp)); var vhi = Vector512.Create((float)(hi - zp)); var vz = Vector512.Create(zp);
        var vb = Vector512.Load(bias); var vm = Vector512.Load(mult);
        sbyte* t = stackalloc sbyte[NR];   // a partial panel's row before its first w bytes are copied out
        for (int i = 0; i < rows; i += mr, a += mr * lda, o += mr * ldo)
        {
            int m = Math.Min(mr, rows - i);
            byte* r0 = (byte*)a, r4 = (byte*)(a + 4 * lda), r8 = (byte*)(a + 8 * lda);
            Vector512<int> c0 = vb, c1 = vb, c2 = vb, c3 = vb, c4 = vb, c5 = vb, c6 = vb, c7 = vb, c8 = vb, c9 = vb, c10 = vb, c11 = vb;
            sbyte* bk = b;
            for (int kq = 0; kq < kp; kq += 4, bk += step, r0 += 8, r4 += 8, r8 += 8)
            {
                if (P.On) Ahead<S>(bk);
                var (p, q) = S.Pairs(bk);
                c0 = Dot(c0, p, Repeat2(r0));
                if (R.Count > 1)
                {
                    c1 = Dot(c1, p, Repeat2(r0 + l1)); c2 = Dot(c2, p, Repeat2(r0 + l2));
                    c3 = Dot(c3, p, Repeat2(r0 + l3));
                }
                if (R.Count > 4)
                {
                    c4 = Dot(c4, p, Repeat2(r4)); c5 = Dot(c5, p, Repeat2(r4 + l1));
                }
                if (R.Count > 6)
                {
                    c6 = Dot(c6, p, Repeat2(r4 + l2)); c7 = Dot(c7, p, Repeat2(r4 + l3)); c8 = Dot(c8, p, Repeat2(r8));
                    c9 = Dot(c9, p, Repeat2(r8 + l1)); c10 = Dot(c10, p, Repeat2(r8 + l2)); c11 = Dot(c11, p, Repeat2(r8 + l3));
                }
                c0 = Dot(c0, q, Repeat2(r0 + 4));
                if (R.Count > 1)
                {
                    c1 = Dot(c1, q, Repeat2(r0 + l1 + 4)); c2 = Dot(c2, q, Repeat2(r0 + l2 + 4));
                    c3 = Dot(c3, q, Repeat2(r0 + l3 + 4));
                }
                if (R.Count > 4)
                {
                    c4 = Dot(c4, q, Repeat2(r4 + 4)); c5 = Dot(c5, q, Repeat2(r4 + l1 + 4));
                }
                if (R.Count > 6)
                {
                    c6 = Dot(c6, q, Repeat2(r4 + l2 + 4)); c7 = Dot(c7, q, Repeat2(r4 + l3 + 4)); c8 = Dot(c8, q, Repeat2(r8 + 4));
                    c9 = Dot(c9, q, Repeat2(r8 + l1 + 4)); c10 = Dot(c10, q, Repeat2(r8 + l2 + 4)); c11 = Dot(c11, q, Repeat2(r8 + l3 + 4));
                }
            }
            StoreColumns512(c0, vm, vlo, vhi, vz, o, w, t, clamp);
            if (m > 1) StoreColumns512(c1, vm, vlo, vhi, vz, o + ldo, w, t, clamp);
            if (m > 2) StoreColumns512(c2, vm, vlo, vhi, vz, o + 2 * ldo, w, t, clamp);
            if (m > 3) StoreColumns512(c3, vm, vlo, vhi, vz, o + 3 * ldo, w, t, clamp);
            if (m > 4) StoreColumns512(c4, vm, vlo, vhi, vz, o + 4 * ldo, w, t, clamp);
            if (m > 5) StoreColumns512(c5, vm, vlo, vhi, vz, o + 5 * ldo, w, t, clamp);
            if (R.Count <= 6) continue;
            if (m > 6) StoreColumns512(c6, vm, vlo, vhi, vz, o + 6 * ldo, w, t, clamp);
            if (m > 7) StoreColumns512(c7, vm, vlo, vhi, vz, o + 7 * ldo, w, t, clamp);
            if (m > 8) StoreColumns512(c8, vm, vlo, vhi, vz, o + 8 * ldo, w, t, clamp);
            if (m > 9) StoreColumns512(c9, vm, vlo, vhi, vz, o + 9 * ldo, w, t, clamp);
            if (m > 10) StoreColumns512(c10, vm, vlo, vhi, vz, o + 10 * ldo, w, t, clamp);
            if (m > 11) StoreColumns512(c11, vm, vlo, vhi, vz, o + 11 * ldo, w, t, clamp);
        }
    }

    /// <summary>Where <see cref="Panel8Avx512{S}"/>'s 8 columns × k quad come from as int16 in the rows' order: the
    /// packed bytes shuffled to (k0, k2, k1, k3) and widened per tile, or <see cref="SplitPanels"/>' copy (k in order), loaded.</summary>
    interface IPanel8Weights
    {
        static abstract int QuadBytes { get; }
        static abstract Vector512<short> Widened(sbyte* b);
    }

    readonly struct PackedWeights8 : IPanel8Weights
    {
        public static int QuadBytes => 4 * NR;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<short> Widened(sbyte* b) => Avx512BW.ConvertToVector512Int16(Avx2.Shuffle(Vector256.Load(b), QuadOrder));
    }

    readonly struct WidenedWeights8 : IPanel8Weights
    {
        public static int QuadBytes => 8 * NR;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<short> Widened(sbyte* b) => Vector512.Load(b).AsInt16();
    }

    /// <summary>A panel of at most 8 columns (the last of 24 or 40 output channels): only its first half is multiplied,
    /// 8×8 tiles, one accumulator per row, two lanes a column (the weights' k quads in the widened rows' order).
    /// Two rows' sums are gathered into one vector (row r in lanes 0-7, row r+1 in 8-15) and requantized together: one
    /// epilogue and one VPMOVSDB per two rows. With <see cref="WidenedWeights8"/> the k loop is a load, 8 broadcasts,
    /// 8 VPMADDWD and 8 VPADDD (the packed bytes' VPSHUFB and VPMOVSXBW done once, at construction).
    /// DOTNET_EnableAVXVNNI=0, M=3136 K=144 N=8 alone: 35.5-36.9 -> 28.7-31.7 µs. The first 8-row tile prefetches
    /// the weights ahead (<see cref="PrefetchAhead"/>), the others find them in L1.</summary>
    static void Panel8Avx512<S>(short* a, int lda, sbyte* b, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, int w, bool clamp, bool ahead) where S : struct, IPanel8Weights
    {
        if (!ahead) { Panel8Avx512<S, NoPrefetch>(a, lda, b, rows, bias, mult, zp, lo, hi, o, ldo, w, clamp); return; }
        Panel8Avx512<S, Prefetch>(a, lda, b, Math.Min(8, rows), bias, mult, zp, lo, hi, o, ldo, w, clamp);
        if (rows > 8) Panel8Avx512<S, NoPrefetch>(a + 8L * lda, lda, b, rows - 8, bias, mult, zp, lo, hi, o + 8L * ldo, ldo, w, clamp);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Panel8Avx512<S, P>(short* a, int lda, sbyte* b, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, int w, bool clamp) where S : struct, IPanel8Weights where P : struct, IPrefetch
    {
        int kp = lda, step = S.QuadBytes;
        var vlo = Vector512.Create((float)(lo - zp)); var vhi = Vector512.Create((float)(hi - zp)); var vz = Vector512.Create(zp);
        var even = EvenLanes; var odd = OddLanes;
        var vb = BiasEven(bias, 0); var m8 = Vector256.Load(mult); var vm = Vector512.Create(m8, m8);
        sbyte* t = stackalloc sbyte[NR];
        for (int i = 0; i < rows; i += 8, a += 8 * lda, o += 8 * ldo)
        {
            int m = Math.Min(8, rows - i);
            short* a0 = a, a1 = m > 1 ? a + lda : a, a2 = m > 2 ? a + 2 * lda : a, a3 = m > 3 ? a + 3 * lda : a;
            short* a4 = m > 4 ? a + 4 * lda : a, a5 = m > 5 ? a + 5 * lda : a, a6 = m > 6 ? a + 6 * lda : a, a7 = m > 7 ? a + 7 * lda : a;
            Vector512<int> c0 = vb, c1 = vb, c2 = vb, c3 = vb, c4 = vb, c5 = vb, c6 = vb, c7 = vb;
            sbyte* bk = b;
            for (int kq = 0; kq < kp; kq += 4, bk += step)
            {
                if (P.On) Sse.Prefetch0(bk + PrefetchAhead);   // the used half of a widened quad: one line
                var w0 = S.Widened(bk);
                c0 = Dot(c0, w0, Repeat4(a0 + kq)); c1 = Dot(c1, w0, Repeat4(a1 + kq));
                c2 = Dot(c2, w0, Repeat4(a2 + kq)); c3 = Dot(c3, w0, Repeat4(a3 + kq));
                c4 = Dot(c4, w0, Repeat4(a4 + kq)); c5 = Dot(c5, w0, Repeat4(a5 + kq));
                c6 = Dot(c6, w0, Repeat4(a6 + kq)); c7 = Dot(c7, w0, Repeat4(a7 + kq));
            }
            StoreRows8(Columns16(c0, c1, even, odd), vm, vlo, vhi, vz, o, ldo, w, m > 1, t, clamp);
            if (m > 2) StoreRows8(Columns16(c2, c3, even, odd), vm, vlo, vhi, vz, o + 2 * ldo, ldo, w, m > 3, t, clamp);
            if (m > 4) StoreRows8(Columns16(c4, c5, even, odd), vm, vlo, vhi, vz, o + 4 * ldo, ldo, w, m > 5, t, clamp);
            if (m > 6) StoreRows8(Columns16(c6, c7, even, odd), vm, vlo, vhi, vz, o + 6 * ldo, ldo, w, m > 7, t, clamp);
        }
    }

    /// <summary>Two rows' sums of at most 8 columns (row r in lanes 0-7, row r+1 in 8-15; <paramref name="second"/>:
    /// whether row r+1 is stored) → int8, as <see cref="StoreColumns512"/> computes each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRows8(Vector512<int> c, Vector512<float> m, Vector512<float> lo, Vector512<float> hi, Vector512<int> zp, sbyte* dst, int ldo, int w, bool second, sbyte* s, bool clamp)
    {
        var f = Avx512F.ConvertToVector512Single(c) * m;
        if (clamp) f = Avx512F.Max(lo, Avx512F.Min(f, hi));
        var q = Avx512F.ConvertToVector128SByteWithSaturation(Avx512F.ConvertToVector512Int32(f) + zp).AsInt64();
        if (w == 8)
        {
            *(long*)dst = q.ToScalar();
            if (second) *(long*)(dst + ldo) = q.GetElement(1);
            return;
        }
        q.AsSByte().Store(s);
        StoreFirst(s, dst, w);
        if (second) StoreFirst(s + 8, dst + ldo, w);
    }

    /// <summary>int32 sums of up to 4 rows × one panel (no epilogue: weights in A, or the caller requantizes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileAvx512(sbyte* a, int lda, sbyte* b, int* c, int ldc, int kp, int w, int m)
    {
        sbyte* a0 = a, a1 = m > 1 ? a + lda : a, a2 = m > 2 ? a + 2 * lda : a, a3 = m > 3 ? a + 3 * lda : a;
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int kq = 0; kq < kp; kq += 4, b += 4 * NR)
        {
            var w0 = Widen(b); var w1 = Widen(b + 32);
            var x = Repeat4(a0 + kq); c00 = Dot(c00, w0, x); c01 = Dot(c01, w1, x);
            x = Repeat4(a1 + kq); c10 = Dot(c10, w0, x); c11 = Dot(c11, w1, x);
            x = Repeat4(a2 + kq); c20 = Dot(c20, w0, x); c21 = Dot(c21, w1, x);
            x = Repeat4(a3 + kq); c30 = Dot(c30, w0, x); c31 = Dot(c31, w1, x);
        }
        var even = EvenLanes; var odd = OddLanes;
        Store16(c, Columns16(c00, c01, even, odd), w);
        if (m > 1) Store16(c + ldc, Columns16(c10, c11, even, odd), w);
        if (m > 2) Store16(c + 2 * ldc, Columns16(c20, c21, even, odd), w);
        if (m > 3) Store16(c + 3 * ldc, Columns16(c30, c31, even, odd), w);
    }

    /// <summary>One row (batch-1 recurrent steps, Dense), every panel in one call: two chains over alternate k quads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RowAvx512(sbyte* a, sbyte* packedB, int* c, int kp, int N)
    {
        var even = EvenLanes; var odd = OddLanes;
        for (int j0 = 0; j0 < N; j0 += NR)
        {
            sbyte* b = packedB + (long)j0 * kp;
            Vector512<int> p0 = default, p1 = default, q0 = default, q1 = default;
            int kq = 0;
            for (; kq + 8 <= kp; kq += 8, b += 8 * NR)
            {
                var x = Repeat4(a + kq); var y = Repeat4(a + kq + 4);
                p0 = Dot(p0, Widen(b), x); p1 = Dot(p1, Widen(b + 32), x);
                q0 = Dot(q0, Widen(b + 4 * NR), y); q1 = Dot(q1, Widen(b + 4 * NR + 32), y);
            }
            if (kq < kp) { var x = Repeat4(a + kq); p0 = Dot(p0, Widen(b), x); p1 = Dot(p1, Widen(b + 32), x); }
            Store16(c + j0, Columns16(p0 + q0, p1 + q1, even, odd), Math.Min(NR, N - j0));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store16(int* c, Vector512<int> v, int w)
    {
        if (w == NR) { v.Store(c); return; }
        for (int j = 0; j < w; j++) c[j] = v.GetElement(j);
    }
}
