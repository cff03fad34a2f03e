using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Int8;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// The int8 GEMM on AVX-512BW without VNNI: Zen 4, Ice Lake, Cascade Lake have AVX512-VNNI, which .NET 10 does not
/// expose, and lack the VEX AVX-VNNI. The panels are <see cref="GemmInt8.Pack"/>'s (not shifted): 32 bytes of a panel,
/// 8 columns × 4 k, are sign-extended to int16 (VPMOVSXBW), and so are a row's 4 activations (the fused path widens A
/// once per block of rows into a stack buffer, then broadcasts 4 int16 from memory), repeated; VPMADDWD
/// multiplies them and sums pairs in int32, so lane 2j holds column j's terms of k0, k1 and lane 2j+1 those of k2, k3,
/// never saturating. Not VPMADDUBSW (u8 × s8, MLAS's kernels without VNNI): its int16 pair sums saturate
/// (2·255·128 &gt; 2^15) and would change results: an exact int16 form costs as many instructions. At the end VPERMT2D gathers the even and the odd lanes of columns
/// 0-7 and 8-15, and their sum is the 16 columns: the exact int32 of the reference. The epilogue is the VNNI panels'
/// (StoreColumns512).
/// </summary>
internal static unsafe partial class GemmInt8
{
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

    /// <summary>A row's k..k+3, already int16, repeated across the vector: one VPBROADCASTQ from memory, no ALU.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<short> Repeat4(short* a) => Vector512.Create(*(long*)a).AsInt16();

    /// <summary>Bias of columns 0-7 (<paramref name="half"/> 0) or 8-15 (1) in the even lanes, zeros in the odd: the
    /// accumulators start there, so <see cref="Columns16"/>'s sum of even and odd lanes adds each bias once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<int> BiasEven(int* bias, int half) =>
        Avx512F.PermuteVar16x32x2(Vector512.Load(bias), Vector512.Create(0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16) + Vector512.Create(8 * half, 0, 8 * half, 0, 8 * half, 0, 8 * half, 0, 8 * half, 0, 8 * half, 0, 8 * half, 0, 8 * half, 0), Vector512<int>.Zero);

    /// <summary>int16 copy of A that the fused panels read: at most this many shorts (32 KiB) on the stack.</summary>
    const int WideShorts = 16384;

    /// <summary>With the requantization fused (activations in A, the channels are the columns), as the VNNI panels.
    /// A is sign-extended to int16 once per block of rows (every panel then reads it: a broadcast from memory
    /// instead of a broadcast and a VPMOVSXBW per row, k quad and panel pair, a third of the ALU work of a tile).</summary>
    [SkipLocalsInit]
    static void RunAvx512Fused(sbyte* A, int lda, sbyte* packedB, int M, int N, int K, ref Epilogue e)
    {
        if (e.ColBias == null) throw new ArgumentException("activations in A need per-column bias");
        int kp = KPad(K);
        if (kp * 4 > WideShorts) { RunAvx512Unfused(A, lda, packedB, M, N, kp, ref e); return; }
        int block = Math.Min(M, WideShorts / kp);
        if (block >= 24) block -= block % 24;   // whole 4-, 6- and 8-row tiles but in the last block
        short* wide = stackalloc short[block * kp];
        int* padBias = stackalloc int[NR]; float* padMult = stackalloc float[NR];
        for (int r0 = 0; r0 < M; r0 += block)
        {
            int rows = Math.Min(block, M - r0);
            WidenRows(A + (long)r0 * lda, lda, rows, kp, wide);
            sbyte* o = e.Out + (long)r0 * e.Ldo;
            for (int p = 0, j0 = 0; j0 < N; p++, j0 += NR)
            {
                sbyte* b = packedB + (long)p * kp * NR;
                int w = Math.Min(NR, N - j0);
                int* bias = e.ColBias + j0; float* mult = e.ColMult + j0;
                if (N - j0 >= 2 * NR)   // two whole panels: 6×32 tiles
                {
                    Panel32Avx512(wide, kp, b, rows, bias, mult, e.Zp, e.Lo, e.Hi, o + j0, e.Ldo, !e.SaturationOnly);
                    p++; j0 += NR;
                    continue;
                }
                if (w < NR)   // the last, partial panel: its packed columns past w are zeros; bias and multipliers padded likewise
                {
                    for (int j = 0; j < NR; j++) { padBias[j] = j < w ? bias[j] : 0; padMult[j] = j < w ? mult[j] : 0f; }
                    bias = padBias; mult = padMult;
                }
                if (w <= 8) Panel8Avx512(wide, kp, b, rows, bias, mult, e.Zp, e.Lo, e.Hi, o + j0, e.Ldo, w, !e.SaturationOnly);   // 24, 40 channels: no wasted half panel
                else Panel16Avx512(wide, kp, b, rows, bias, mult, e.Zp, e.Lo, e.Hi, o + j0, e.Ldo, w, !e.SaturationOnly);
            }
        }
    }

    /// <summary>K past what the int16 copy holds (kp &gt; 4096, not a convnet's): int32 tiles, then Requantize.Columns.</summary>
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

    /// <summary>rows × kp int8 (row stride lda) → int16, row stride kp.</summary>
    static void WidenRows(sbyte* a, int lda, int rows, int kp, short* dst)
    {
        if (lda == kp) { WidenSpan(a, (long)rows * kp, dst); return; }   // contiguous: one pass
        for (int r = 0; r < rows; r++) WidenSpan(a + (long)r * lda, kp, dst + (long)r * kp);
    }

    static void WidenSpan(sbyte* a, long n, short* dst)
    {
        long i = 0;
        for (; i + 32 <= n; i += 32) Avx512BW.ConvertToVector512Int16(Vector256.Load(a + i)).Store(dst + i);
        for (; i + 8 <= n; i += 8) Sse41.ConvertToVector128Int16(Vector128.CreateScalar(*(long*)(a + i)).AsSByte()).Store(dst + i);
        for (; i < n; i++) dst[i] = a[i];
    }

    /// <summary>Two whole panels (32 columns) over all rows in 6×32 tiles: 24 accumulators, 4 widened weight vectors and a
    /// broadcast in 29 of the 32 zmm registers (EVEX VPMADDWD reaches zmm16-31, unlike VEX VPDPBUSD), so each k quad's
    /// four VPMOVSXBW feed 24 multiplies instead of 16 (int8-gemm without VNNI: 2-6% at MobileNetV2's shapes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Panel32Avx512(short* a, int lda, sbyte* b, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, bool clamp)
    {
        int kp = lda;
        var vlo = Vector512.Create((float)(lo - zp)); var vhi = Vector512.Create((float)(hi - zp)); var vz = Vector512.Create(zp);
        var even = EvenLanes; var odd = OddLanes;
        var bias0 = BiasEven(bias, 0); var bias1 = BiasEven(bias, 1); var bias2 = BiasEven(bias + NR, 0); var bias3 = BiasEven(bias + NR, 1);
        sbyte* b2 = b + (long)kp * NR;   // the second panel
        for (int i = 0; i < rows; i += 6, a += 6 * lda, o += 6 * ldo)
        {
            int m = Math.Min(6, rows - i);
            short* a0 = a, a1 = m > 1 ? a + lda : a, a2 = m > 2 ? a + 2 * lda : a, a3 = m > 3 ? a + 3 * lda : a, a4 = m > 4 ? a + 4 * lda : a, a5 = m > 5 ? a + 5 * lda : a;
            Vector512<int> c00 = bias0, c01 = bias1, c02 = bias2, c03 = bias3, c10 = bias0, c11 = bias1, c12 = bias2, c13 = bias3;
            Vector512<int> c20 = bias0, c21 = bias1, c22 = bias2, c23 = bias3, c30 = bias0, c31 = bias1, c32 = bias2, c33 = bias3;
            Vector512<int> c40 = bias0, c41 = bias1, c42 = bias2, c43 = bias3, c50 = bias0, c51 = bias1, c52 = bias2, c53 = bias3;
            sbyte* bk = b, bl = b2;
            for (int kq = 0; kq < kp; kq += 4, bk += 4 * NR, bl += 4 * NR)
            {
                var w0 = Widen(bk); var w1 = Widen(bk + 32); var w2 = Widen(bl); var w3 = Widen(bl + 32);
                var x = Repeat4(a0 + kq);
                c00 = Dot(c00, w0, x); c01 = Dot(c01, w1, x); c02 = Dot(c02, w2, x); c03 = Dot(c03, w3, x);
                x = Repeat4(a1 + kq);
                c10 = Dot(c10, w0, x); c11 = Dot(c11, w1, x); c12 = Dot(c12, w2, x); c13 = Dot(c13, w3, x);
                x = Repeat4(a2 + kq);
                c20 = Dot(c20, w0, x); c21 = Dot(c21, w1, x); c22 = Dot(c22, w2, x); c23 = Dot(c23, w3, x);
                x = Repeat4(a3 + kq);
                c30 = Dot(c30, w0, x); c31 = Dot(c31, w1, x); c32 = Dot(c32, w2, x); c33 = Dot(c33, w3, x);
                x = Repeat4(a4 + kq);
                c40 = Dot(c40, w0, x); c41 = Dot(c41, w1, x); c42 = Dot(c42, w2, x); c43 = Dot(c43, w3, x);
                x = Repeat4(a5 + kq);
                c50 = Dot(c50, w0, x); c51 = Dot(c51, w1, x); c52 = Dot(c52, w2, x); c53 = Dot(c53, w3, x);
            }
            var vm0 = Vector512.Load(mult); var vm1 = Vector512.Load(mult + NR);
            StoreColumns512(Columns16(c00, c01, even, odd), vm0, vlo, vhi, vz, o, NR, null, clamp);
            StoreColumns512(Columns16(c02, c03, even, odd), vm1, vlo, vhi, vz, o + NR, NR, null, clamp);
            if (m > 1) { StoreColumns512(Columns16(c10, c11, even, odd), vm0, vlo, vhi, vz, o + ldo, NR, null, clamp); StoreColumns512(Columns16(c12, c13, even, odd), vm1, vlo, vhi, vz, o + ldo + NR, NR, null, clamp); }
            if (m > 2) { StoreColumns512(Columns16(c20, c21, even, odd), vm0, vlo, vhi, vz, o + 2 * ldo, NR, null, clamp); StoreColumns512(Columns16(c22, c23, even, odd), vm1, vlo, vhi, vz, o + 2 * ldo + NR, NR, null, clamp); }
            if (m > 3) { StoreColumns512(Columns16(c30, c31, even, odd), vm0, vlo, vhi, vz, o + 3 * ldo, NR, null, clamp); StoreColumns512(Columns16(c32, c33, even, odd), vm1, vlo, vhi, vz, o + 3 * ldo + NR, NR, null, clamp); }
            if (m > 4) { StoreColumns512(Columns16(c40, c41, even, odd), vm0, vlo, vhi, vz, o + 4 * ldo, NR, null, clamp); StoreColumns512(Columns16(c42, c43, even, odd), vm1, vlo, vhi, vz, o + 4 * ldo + NR, NR, null, clamp); }
            if (m > 5) { StoreColumns512(Columns16(c50, c51, even, odd), vm0, vlo, vhi, vz, o + 5 * ldo, NR, null, clamp); StoreColumns512(Columns16(c52, c53, even, odd), vm1, vlo, vhi, vz, o + 5 * ldo + NR, NR, null, clamp); }
        }
    }

    /// <summary>One panel (w ≤ 16 columns) over all rows in 6×16 tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Panel16Avx512(short* a, int lda, sbyte* b, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, int w, bool clamp)
    {
        int kp = lda;
        var vlo = Vector512.Create((float)(lo - zp)); var vhi = Vector512.Create((float)(hi - zp)); var vz = Vector512.Create(zp);
        var even = EvenLanes; var odd = OddLanes;
        var bias0 = BiasEven(bias, 0); var bias1 = BiasEven(bias, 1); var vm = Vector512.Load(mult);
        sbyte* t = stackalloc sbyte[NR];   // a partial panel's row before its first w bytes are copied out
        for (int i = 0; i < rows; i += 6, a += 6 * lda, o += 6 * ldo)
        {
            int m = Math.Min(6, rows - i);
            short* a0 = a, a1 = m > 1 ? a + lda : a, a2 = m > 2 ? a + 2 * lda : a, a3 = m > 3 ? a + 3 * lda : a, a4 = m > 4 ? a + 4 * lda : a, a5 = m > 5 ? a + 5 * lda : a;
            Vector512<int> c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1;
            Vector512<int> c30 = bias0, c31 = bias1, c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1;
            sbyte* bk = b;
            for (int kq = 0; kq < kp; kq += 4, bk += 4 * NR)
            {
                var w0 = Widen(bk); var w1 = Widen(bk + 32);
                var x = Repeat4(a0 + kq); c00 = Dot(c00, w0, x); c01 = Dot(c01, w1, x);
                x = Repeat4(a1 + kq); c10 = Dot(c10, w0, x); c11 = Dot(c11, w1, x);
                x = Repeat4(a2 + kq); c20 = Dot(c20, w0, x); c21 = Dot(c21, w1, x);
                x = Repeat4(a3 + kq); c30 = Dot(c30, w0, x); c31 = Dot(c31, w1, x);
                x = Repeat4(a4 + kq); c40 = Dot(c40, w0, x); c41 = Dot(c41, w1, x);
                x = Repeat4(a5 + kq); c50 = Dot(c50, w0, x); c51 = Dot(c51, w1, x);
            }
            StoreColumns512(Columns16(c00, c01, even, odd), vm, vlo, vhi, vz, o, w, t, clamp);
            if (m > 1) StoreColumns512(Columns16(c10, c11, even, odd), vm, vlo, vhi, vz, o + ldo, w, t, clamp);
            if (m > 2) StoreColumns512(Columns16(c20, c21, even, odd), vm, vlo, vhi, vz, o + 2 * ldo, w, t, clamp);
            if (m > 3) StoreColumns512(Columns16(c30, c31, even, odd), vm, vlo, vhi, vz, o + 3 * ldo, w, t, clamp);
            if (m > 4) StoreColumns512(Columns16(c40, c41, even, odd), vm, vlo, vhi, vz, o + 4 * ldo, w, t, clamp);
            if (m > 5) StoreColumns512(Columns16(c50, c51, even, odd), vm, vlo, vhi, vz, o + 5 * ldo, w, t, clamp);
        }
    }

    /// <summary>A panel of at most 8 columns (the last of 24 or 40 output channels): only its first half is multiplied,
    /// 8×8 tiles, one accumulator per row; lanes 8-15 of the gathered sums repeat columns 0-7 and are not stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Panel8Avx512(short* a, int lda, sbyte* b, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, int w, bool clamp)
    {
        int kp = lda;
        var vlo = Vector512.Create((float)(lo - zp)); var vhi = Vector512.Create((float)(hi - zp)); var vz = Vector512.Create(zp);
        var even = EvenLanes; var odd = OddLanes;
        var vb = BiasEven(bias, 0); var vm = Vector512.Load(mult);
        sbyte* t = stackalloc sbyte[NR];
        for (int i = 0; i < rows; i += 8, a += 8 * lda, o += 8 * ldo)
        {
            int m = Math.Min(8, rows - i);
            short* a0 = a, a1 = m > 1 ? a + lda : a, a2 = m > 2 ? a + 2 * lda : a, a3 = m > 3 ? a + 3 * lda : a;
            short* a4 = m > 4 ? a + 4 * lda : a, a5 = m > 5 ? a + 5 * lda : a, a6 = m > 6 ? a + 6 * lda : a, a7 = m > 7 ? a + 7 * lda : a;
            Vector512<int> c0 = vb, c1 = vb, c2 = vb, c3 = vb, c4 = vb, c5 = vb, c6 = vb, c7 = vb;
            sbyte* bk = b;
            for (int kq = 0; kq < kp; kq += 4, bk += 4 * NR)
            {
                var w0 = Widen(bk);
                c0 = Dot(c0, w0, Repeat4(a0 + kq)); c1 = Dot(c1, w0, Repeat4(a1 + kq));
                c2 = Dot(c2, w0, Repeat4(a2 + kq)); c3 = Dot(c3, w0, Repeat4(a3 + kq));
                c4 = Dot(c4, w0, Repeat4(a4 + kq)); c5 = Dot(c5, w0, Repeat4(a5 + kq));
                c6 = Dot(c6, w0, Repeat4(a6 + kq)); c7 = Dot(c7, w0, Repeat4(a7 + kq));
            }
            StoreColumns512(Columns16(c0, c0, even, odd), vm, vlo, vhi, vz, o, w, t, clamp);
            if (m > 1) StoreColumns512(Columns16(c1, c1, even, odd), vm, vlo, vhi, vz, o + ldo, w, t, clamp);
            if (m > 2) StoreColumns512(Columns16(c2, c2, even, odd), vm, vlo, vhi, vz, o + 2 * ldo, w, t, clamp);
            if (m > 3) StoreColumns512(Columns16(c3, c3, even, odd), vm, vlo, vhi, vz, o + 3 * ldo, w, t, clamp);
            if (m > 4) StoreColumns512(Columns16(c4, c4, even, odd), vm, vlo, vhi, vz, o + 4 * ldo, w, t, clamp);
            if (m > 5) StoreColumns512(Columns16(c5, c5, even, odd), vm, vlo, vhi, vz, o + 5 * ldo, w, t, clamp);
            if (m > 6) StoreColumns512(Columns16(c6, c6, even, odd), vm, vlo, vhi, vz, o + 6 * ldo, w, t, clamp);
            if (m > 7) StoreColumns512(Columns16(c7, c7, even, odd), vm, vlo, vhi, vz, o + 7 * ldo, w, t, clamp);
        }
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
