using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// fp32 GEMM, C[M,N] = A[M,K] · B[K,N] (+ row or column bias, clamp). A is row-major (stride lda) and broadcast one
/// element at a time; B is read as vectors, either from panels packed once (Dense weights: panel p holds K rows of
/// NR floats) or straight from a row-major matrix (Conv columns, stride ldb), whose last partial panel is packed
/// into scratch. The register tile is MR rows × 2 vectors, chosen once for the machine:
/// AVX-512 8×32 (16×16, and 8×16 for the last rows, for a panel of ≤ 16 columns), AVX2 6×16, NEON (and SSE) 8×8 — as many accumulators as the register
/// file holds.
/// </summary>
[SkipLocalsInit]
internal static unsafe class Gemm
{
    public enum Isa { V128, V256, V512 }
    // Properties over the ISA checks, not static readonly fields: the JIT folds either, but NativeAOT cannot
    // preinitialize a class constructor that calls IsHardwareAccelerated, so fields would be loads behind a class-init
    // check in every kernel, all three tiles compiled into each and, in Row, its loop counter spilled to the stack
    // (HAR LSTM: Row 1.3× the JIT's time). The checks themselves are constants in both (fixed at build time by ILC).
    public static Isa Selected
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.IsHardwareAccelerated ? Isa.V512 : Vector256.IsHardwareAccelerated ? Isa.V256 : Isa.V128;
    }
    public static int VL
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 4;   // no switch: the inliners refuse one
    }
    public static int NR { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => 2 * VL; }
    /// <summary>Rows of the register tile. A row's bits depend on whether a tile or the one-row kernel computed it (their
    /// sums are ordered differently), so callers that split M cut it at multiples of this: the tiles then fall where
    /// one Gemm.Run over all rows puts them.</summary>
    public static int MR { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector512.IsHardwareAccelerated || !Vector256.IsHardwareAccelerated ? 8 : 6; }

    public static long PackedSize(int K, int N) => (long)((N + NR - 1) / NR) * K * NR;
    /// <summary>Floats of scratch <see cref="RunStrided"/> needs for one packed panel.</summary>
    public static long TailScratch(int K) => (long)K * NR + 64;

    /// <summary>Packs B given as B[k, j] = src[k * ldk + j * ldj] (so a transposed source is packed by swapping strides).</summary>
    public static void Pack(float* src, long ldk, long ldj, int K, int N, float* dst)
    {
        int nr = NR;
        for (int p = 0; p * nr < N; p++) PackPanel(src + p * nr * ldj, ldk, ldj, K, Math.Min(nr, N - p * nr), dst + (long)p * K * nr);
    }

    static void PackPanel(float* src, long ldk, long ldj, int K, int w, float* d)
    {
        int nr = NR, k = 0;
        if (ldj == 1 && w == nr)
        {
            // A whole panel row (NR floats, a constant): a fixed-size copy the compiler unrolls into vector loads and
            // stores, not a Memmove call per k (the attention MatMuls pack their B every inference)
            for (; k < K; k++, src += ldk, d += nr) Unsafe.CopyBlockUnaligned(d, src, (uint)(NR * sizeof(float)));
            return;
        }
        if (ldj == 1 && Selected == Isa.V128 && ldk >= w)
        {
            // A partial row of the 8-wide panel (attention's Q · Kᵀ with 14 keys: 32 rows of 6 a head): the row's 8 floats
            // from its start, the lanes from w on zeroed by a mask. They read up to 8 − w floats past the row, inside
            // the rows after it: all rows but the last ⌈(8 − w) / ldk⌉, which go below (MiniLM, 2304 rows of 6 an
            // inference: PackPanel 198K -> 74K arm64 instructions with the whole rows' loop above).
            long safe = K - (8 - w + ldk - 1) / ldk;
            fixed (uint* pm = PanelMask.Lanes)
            {
                var m0 = Vector128.Load(pm + 8 - w).AsSingle(); var m1 = Vector128.Load(pm + 12 - w).AsSingle();
                for (; k < safe; k++, src += ldk, d += 8)
                {
                    (Vector128.Load(src) & m0).Store(d);
                    (Vector128.Load(src + 4) & m1).Store(d + 4);
                }
            }
        }
        if (ldk == 1 && ldj != 1 && nr == 8 && AdvSimd.Arm64.IsSupported && K >= 4)   // k = 0 here: no path above took ldj != 1
        {
            // B's columns contiguous (attention's Kᵀ read from K itself): four k of 8 columns a step, transposed by ZIPs;
            // columns past w read column w − 1 (inside B) and are zeroed by the mask
            fixed (uint* pm = PanelMask.Lanes)
            {
                var m0 = Vector128.Load(pm + (w >= 4 ? 0 : 8 - w)).AsSingle(); var m1 = Vector128.Load(pm + 12 - w).AsSingle();
                long l = ldj;
                float* s0 = src, s1 = src + Math.Min(1, w - 1) * l, s2 = src + Math.Min(2, w - 1) * l, s3 = src + Math.Min(3, w - 1) * l;
                float* s4 = src + Math.Min(4, w - 1) * l, s5 = src + Math.Min(5, w - 1) * l, s6 = src + Math.Min(6, w - 1) * l, s7 = src + Math.Min(7, w - 1) * l;
                for (; k + 4 <= K; k += 4, d += 32)
                {
                    Transpose4(Vector128.Load(s0 + k), Vector128.Load(s1 + k), Vector128.Load(s2 + k), Vector128.Load(s3 + k), m0, d);
                    Transpose4(Vector128.Load(s4 + k), Vector128.Load(s5 + k), Vector128.Load(s6 + k), Vector128.Load(s7 + k), m1, d + 4);
                }
                src += k;
            }
        }
        for (; k < K; k++, src += ldk, d += nr)
        {
            int j = 0;
            if (ldj == 1) for (; j + 4 <= w; j += 4) Vector128.Load(src + j).Store(d + j);   // a partial row by vectors of 4
            for (; j < w; j++) d[j] = src[j * ldj];
            for (j = w; j < nr; j++) d[j] = 0f;
        }
    }

    /// <summary>Columns c0..c3 of four k into rows of a packed panel (8 floats apart), masked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose4(Vector128<float> c0, Vector128<float> c1, Vector128<float> c2, Vector128<float> c3, Vector128<float> mask, float* d)
    {
        var t0 = AdvSimd.Arm64.ZipLow(c0, c1); var t1 = AdvSimd.Arm64.ZipHigh(c0, c1);
        var t2 = AdvSimd.Arm64.ZipLow(c2, c3); var t3 = AdvSimd.Arm64.ZipHigh(c2, c3);
        (AdvSimd.Arm64.ZipLow(t0.AsUInt64(), t2.AsUInt64()).AsSingle() & mask).Store(d);
        (AdvSimd.Arm64.ZipHigh(t0.AsUInt64(), t2.AsUInt64()).AsSingle() & mask).Store(d + 8);
        (AdvSimd.Arm64.ZipLow(t1.AsUInt64(), t3.AsUInt64()).AsSingle() & mask).Store(d + 16);
        (AdvSimd.Arm64.ZipHigh(t1.AsUInt64(), t3.AsUInt64()).AsSingle() & mask).Store(d + 24);
    }

    /// <summary>B packed by <see cref="Pack"/>.</summary>
    public static void Run(float* A, int lda, float* packedB, float* C, int ldc, int M, int N, int K,
                           float* rowBias, float* colBias, float lo, float hi)
    {
        if (M <= 2)   // batch-1 Dense and recurrent steps: straight to the row kernel, panel after panel
        {
            var t = stackalloc float[64];
            if (AdvSimd.Arm64.IsSupported)
            {
                for (int i = 0; i < M; i++) RowNeon(A + (long)i * lda, packedB, C + (long)i * ldc, N, K, rowBias == null ? 0f : rowBias[i], colBias, lo, hi, t);
                return;
            }
            for (int p = 0, j0 = 0; j0 < N; p++, j0 += NR)
                for (int i = 0; i < M; i++)
                    Row(A + (long)i * lda, packedB + (long)p * K * NR, NR, C + (long)i * ldc + j0, K, Math.Min(NR, N - j0), rowBias == null ? 0f : rowBias[i], colBias == null ? null : colBias + j0, lo, hi, t);
            return;
        }
        if (Selected == Isa.V128) { Panels128(A, lda, packedB, C, ldc, M, N, K, rowBias, colBias, lo, hi); return; }
        for (int p = 0, j0 = 0; j0 < N; p++, j0 += NR)
            Panel(A, lda, packedB + (long)p * K * NR, NR, C + j0, ldc, M, Math.Min(NR, N - j0), K, rowBias, colBias == null ? null : colBias + j0, lo, hi);
    }

    /// <summary><see cref="Panel"/>'s 128-bit tiles (NEON, SSE) over all of <see cref="Run"/>'s packed panels in one
    /// call: the same tiles, rows and order, so the same bits. A call of Panel per 8 columns was ~117 arm64
    /// instructions besides its tiles (MiniLM's Dense layers: 2592 panels of 14 rows an inference). The last 3-7 rows'
    /// tile (RT: the narrowest that holds them) is a constant of the instantiation, so every tile is inlined here.</summary>
    static void Panels128(float* A, int lda, float* packedB, float* C, int ldc, int M, int N, int K, float* rowBias, float* colBias, float lo, float hi)
    {
        // NR and MR are the constants 8 on this path (the 128-bit tile: 8 rows × 2 vectors of 4), so M & 7 is the rows
        // after the whole tiles
        System.Diagnostics.Debug.Assert(NR == 8 && MR == 8, "Panels128's tiles are 8 × 8");
        switch (M & 7)
        {
            case 3: case 4: Panels128<Rows4>(A, lda, packedB, C, ldc, M, N, K, rowBias, colBias, lo, hi); break;
            case 5: case 6: Panels128<Rows6>(A, lda, packedB, C, ldc, M, N, K, rowBias, colBias, lo, hi); break;
            default: Panels128<Rows8>(A, lda, packedB, C, ldc, M, N, K, rowBias, colBias, lo, hi); break;
        }
    }

    /// <summary><see cref="Panels128"/> with the last rows' tile RT. Each panel's tiles are <see cref="TileCore"/> inlined:
    /// a call of Tile128 per tile (MiniLM: two per panel, 14 arguments each, prologue, epilogue, the clamp and column
    /// bias per tile) was ~48 arm64 instructions a tile more (MiniLM A72: 250K of 49.9M an inference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Panels128<RT>(float* A, int lda, float* packedB, float* C, int ldc, int M, int N, int K, float* rowBias, float* colBias, float lo, float hi)
        where RT : struct, ITileRows
    {
        var tmp = stackalloc float[64];
        int full = M & -8, rest = M - full;
        long la = lda, lc = ldc, step = (long)K * 8;
        float* a = A + full * la, rb = rowBias == null ? null : rowBias + full;
        var vlo = Vector128.Create(lo); var vhi = Vector128.Create(hi);
        bool clamp = !(float.IsNegativeInfinity(lo) && float.IsPositiveInfinity(hi));
        for (int j0 = 0; j0 < N; j0 += 8, packedB += step, C += 8)
        {
            int w = Math.Min(8, N - j0);
            float* cb = colBias == null ? null : colBias + j0;
            var (cb0, cb1) = ColBias128(cb, w, tmp);
            float* ai = A, ci = C;
            for (int i = 0; i < full; i += 8, ai += 8 * la, ci += 8 * lc)
                TileCore<Rows8>(ai, la, packedB, 8, ci, lc, K, w, 8, rowBias == null ? null : rowBias + i, cb0, cb1, vlo, vhi, clamp, tmp);
            // the last rows as Panel takes them: one or two by the row kernel, 3-7 by the narrowest tile that holds them
            if (rest == 0) continue;
            if (rest <= 2)
                for (int i = 0; i < rest; i++) Row(a + i * la, packedB, 8, C + (full + i) * lc, K, w, rb == null ? 0f : rb[i], cb, lo, hi, tmp);
            else TileCore<RT>(a, la, packedB, 8, ci, lc, K, w, rest, rb, cb0, cb1, vlo, vhi, clamp, tmp);
        }
    }

    /// <summary>B row-major with stride ldb; each panel is copied to <paramref name="tail"/> (<see cref="TailScratch"/>
    /// floats) first, so the tiles read K·NR contiguous, cache-resident floats instead of K rows far apart.</summary>
    public static void RunStrided(float* A, int lda, float* B, int ldb, float* C, int ldc, int M, int N, int K,
                                  float* rowBias, float* colBias, float lo, float hi, float* tail)
    {
        float* t = (float*)(((nint)tail + 63) & ~(nint)63);
        for (int j0 = 0; j0 < N; j0 += NR)
        {
            int w = Math.Min(NR, N - j0);
            PackPanel(B + j0, ldb, 1, K, w, t);
            Panel(A, lda, t, NR, C + j0, ldc, M, w, K, rowBias, colBias == null ? null : colBias + j0, lo, hi);
        }
    }

    /// <summary>Floats of scratch <see cref="RunUnpacked"/> needs for a B of K × N, row-major (ldj = 1) or not.</summary>
    public static long UnpackedScratch(int K, int N, bool rowMajor = true) => Selected == Isa.V128 || !rowMajor ? PackedSize(K, N) + 64 : TailScratch(K);

    /// <summary>C = A · B for a B given as B[k, j] = B[k · ldk + j · ldj] and packed on the fly (MatMul of two computed
    /// tensors: attention's Q·Kᵀ and P·V), no bias or clamp; <paramref name="scratch"/> holds
    /// <see cref="UnpackedScratch"/> floats. The 128-bit tile (NEON) packs all of B, then runs <see cref="Run"/>'s
    /// one call over all panels (the same tiles and order as <see cref="RunStrided"/>'s: the same bits): a Panel and a
    /// Tile128 call per panel cost ~270K arm64 instructions of MiniLM's 0.59M in its 72 heads' MatMuls (M = 14:
    /// 6 panels a head). Elsewhere, B with ldj = 1 goes panel by panel (<see cref="RunStrided"/>).</summary>
    public static void RunUnpacked(float* A, int lda, float* B, long ldk, long ldj, float* C, int ldc, int M, int N, int K, float* scratch)
    {
        if (Selected != Isa.V128 && ldj == 1 && ldk == (int)ldk)
        {
            RunStrided(A, lda, B, (int)ldk, C, ldc, M, N, K, null, null, float.NegativeInfinity, float.PositiveInfinity, scratch);
            return;
        }
        float* t = (float*)(((nint)scratch + 63) & ~(nint)63);
        Pack(B, ldk, ldj, K, N, t);
        Run(A, lda, t, C, ldc, M, N, K, null, null, float.NegativeInfinity, float.PositiveInfinity);
    }

    static void Panel(float* A, int lda, float* b, long ldb, float* c, int ldc, int M, int w, int K, float* rowBias, float* colBias, float lo, float hi)
    {
        // Partial stores and bias loads go through this buffer: no stackalloc inside the tiles, whose accumulators
        // the JIT then keeps in registers instead of spilling them every iteration.
        var tmp = stackalloc float[64];
        int i = 0, mr = MR;
        if (Selected == Isa.V512 && w <= 16 && M > 2)
        {
            // A narrow panel (≤ 16 output columns: the thin pointwise convs of small MobileNets, YOLO's 16-channel
            // bottlenecks): one 512-bit vector of the panel's first 16 columns per row, no lanes spent on the zero padding.
            // Blocks of 16 rows first (16 independent FMA chains, one B load per 16 FMAs), then the rest by 8.
            for (; i + 16 <= M; i += 16)
                TileNarrow16x512(A + (long)i * lda, lda, b, ldb, c + (long)i * ldc, ldc, K, w, rowBias == null ? null : rowBias + i, colBias, lo, hi, tmp);
            for (; i < M; i += mr)
                TileNarrow512(A + (long)i * lda, lda, b, ldb, c + (long)i * ldc, ldc, K, w, Math.Min(mr, M - i), rowBias == null ? null : rowBias + i, colBias, lo, hi, tmp);
            return;
        }
        switch (Selected)
        {
            case Isa.V512:
                // Many whole 8-row tiles (a pointwise conv's block of rows): in one call. Few (Winograd's GEMMs, 49-88
                // rows: 6-11 tiles a panel): a call each, as before. With one call there, SqueezeNet's 3×3 expand convs
                // took 1.13-1.27 times the JIT's time in the NativeAOT build (1.24 in the JIT without PGO) while the
                // JIT's got 10% faster; why is not known. A call a tile: 0.87-0.94 of the JIT's.
                if (M >= 16 * mr) { Tiles512(A, lda, b, ldb, c, ldc, K, w, M / mr, rowBias, colBias, lo, hi, tmp); i = M / mr * mr; }
                else for (; i + mr <= M; i += mr) Tile512(A + (long)i * lda, lda, b, ldb, c + (long)i * ldc, ldc, K, w, mr, rowBias == null ? null : rowBias + i, colBias, lo, hi, tmp);
                break;
            case Isa.V256: for (; i + mr <= M; i += mr) Tile256(A + (long)i * lda, lda, b, ldb, c + (long)i * ldc, ldc, K, w, mr, rowBias == null ? null : rowBias + i, colBias, lo, hi, tmp); break;
            default: for (; i + mr <= M; i += mr) Tile128<Rows8>(A + (long)i * lda, lda, b, ldb, c + (long)i * ldc, ldc, K, w, mr, rowBias == null ? null : rowBias + i, colBias, lo, hi, tmp); break;
        }
        if (M - i <= 2)   // one or two rows left (batch-1 Dense, recurrent steps): a row kernel, no wasted FMAs
            for (; i < M; i++) Row(A + (long)i * lda, b, ldb, c + (long)i * ldc, K, w, rowBias == null ? 0f : rowBias[i], colBias, lo, hi, tmp);
        if (i < M)
            switch (Selected)   // the last rows: the same tile, fewer rows
            {
                case Isa.V512: Tile512(A + (long)i * lda, lda, b, ldb, c + (long)i * ldc, ldc, K, w, M - i, rowBias == null ? null : rowBias + i, colBias, lo, hi, tmp); break;
                case Isa.V256: Tile256(A + (long)i * lda, lda, b, ldb, c + (long)i * ldc, ldc, K, w, M - i, rowBias == null ? null : rowBias + i, colBias, lo, hi, tmp); break;
                default:   // 3-7 rows: the narrowest tile that holds them (a row's sums are the same in any of the three)
                    if (M - i <= 4) Tile128<Rows4>(A + (long)i * lda, lda, b, ldb, c + (long)i * ldc, ldc, K, w, M - i, rowBias == null ? null : rowBias + i, colBias, lo, hi, tmp);
                    else if (M - i <= 6) Tile128<Rows6>(A + (long)i * lda, lda, b, ldb, c + (long)i * ldc, ldc, K, w, M - i, rowBias == null ? null : rowBias + i, colBias, lo, hi, tmp);
                    else Tile128<Rows8>(A + (long)i * lda, lda, b, ldb, c + (long)i * ldc, ldc, K, w, M - i, rowBias == null ? null : rowBias + i, colBias, lo, hi, tmp);
                    break;
            }
    }

    /// <summary>One row of C across a panel (batch-1 Dense, recurrent steps): four independent accumulator chains
    /// hide the FMA latency; bias and clamp are applied in vector registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Row(float* a, float* b, long ldb, float* c, int K, int w, float rowBias, float* colBias, float lo, float hi, float* t)
    {
        int k = 0;
        if (Selected == Isa.V512)
        {
            Vector512<float> p0 = default, p1 = default, q0 = default, q1 = default;
            for (; k + 1 < K; k += 2, b += 2 * ldb)
            {
                var x = Vector512.Create(a[k]); var y = Vector512.Create(a[k + 1]);
                p0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b), p0); p1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 16), p1);
                q0 = Vector512.FusedMultiplyAdd(y, Vector512.Load(b + ldb), q0); q1 = Vector512.FusedMultiplyAdd(y, Vector512.Load(b + ldb + 16), q1);
            }
            if (k < K) { var x = Vector512.Create(a[k]); p0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b), p0); p1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 16), p1); }
            Vector512<float> cb0 = default, cb1 = default;
            if (colBias != null)
            {
                if (w == 32) { cb0 = Vector512.Load(colBias); cb1 = Vector512.Load(colBias + 16); }
                else { for (int j = 0; j < 32; j++) t[j] = j < w ? colBias[j] : 0f; cb0 = Vector512.Load(t); cb1 = Vector512.Load(t + 16); }
            }
            Store512(c, p0 + q0, p1 + q1, 0, &rowBias, cb0, cb1, Vector512.Create(lo), Vector512.Create(hi), w, t);
        }
        else if (Selected == Isa.V256)
        {
            Vector256<float> p0 = default, p1 = default, q0 = default, q1 = default;
            for (; k + 1 < K; k += 2, b += 2 * ldb)
            {
                var x = Vector256.Create(a[k]); var y = Vector256.Create(a[k + 1]);
                p0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b), p0); p1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b + 8), p1);
                q0 = Vector256.FusedMultiplyAdd(y, Vector256.Load(b + ldb), q0); q1 = Vector256.FusedMultiplyAdd(y, Vector256.Load(b + ldb + 8), q1);
            }
            if (k < K) { var x = Vector256.Create(a[k]); p0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b), p0); p1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b + 8), p1); }
            Vector256<float> cb0 = default, cb1 = default;
            if (colBias != null)
            {
                if (w == 16) { cb0 = Vector256.Load(colBias); cb1 = Vector256.Load(colBias + 8); }
                else { for (int j = 0; j < 16; j++) t[j] = j < w ? colBias[j] : 0f; cb0 = Vector256.Load(t); cb1 = Vector256.Load(t + 8); }
            }
            Store256(c, p0 + q0, p1 + q1, 0, &rowBias, cb0, cb1, Vector256.Create(lo), Vector256.Create(hi), w, t);
        }
        else
        {
            Vector128<float> p0 = default, p1 = default, q0 = default, q1 = default;
            if (AdvSimd.Arm64.IsSupported && ldb == 8)   // packed panels: the same, with constant offsets (LDP, no address arithmetic)
                for (; k + 4 <= K; k += 4, b += 32)
                {
                    var x = Vector128.Load(a + k);
                    p0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(p0, Vector128.Load(b), x, 0); p1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(p1, Vector128.Load(b + 4), x, 0);
                    q0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(q0, Vector128.Load(b + 8), x, 1); q1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(q1, Vector128.Load(b + 12), x, 1);
                    p0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(p0, Vector128.Load(b + 16), x, 2); p1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(p1, Vector128.Load(b + 20), x, 2);
                    q0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(q0, Vector128.Load(b + 24), x, 3); q1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(q1, Vector128.Load(b + 28), x, 3);
                }
            if (AdvSimd.Arm64.IsSupported)   // four k per load of A, FMLA by element (no DUP per k); the same sums in the same order
                for (; k + 4 <= K; k += 4, b += 4 * ldb)
                {
                    var x = Vector128.Load(a + k);
                    p0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(p0, Vector128.Load(b), x, 0); p1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(p1, Vector128.Load(b + 4), x, 0);
                    q0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(q0, Vector128.Load(b + ldb), x, 1); q1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(q1, Vector128.Load(b + ldb + 4), x, 1);
                    p0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(p0, Vector128.Load(b + 2 * ldb), x, 2); p1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(p1, Vector128.Load(b + 2 * ldb + 4), x, 2);
                    q0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(q0, Vector128.Load(b + 3 * ldb), x, 3); q1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(q1, Vector128.Load(b + 3 * ldb + 4), x, 3);
                }
            for (; k + 1 < K; k += 2, b += 2 * ldb)
            {
                var x = Vector128.Create(a[k]); var y = Vector128.Create(a[k + 1]);
                p0 = Vector128.FusedMultiplyAdd(x, Vector128.Load(b), p0); p1 = Vector128.FusedMultiplyAdd(x, Vector128.Load(b + 4), p1);
                q0 = Vector128.FusedMultiplyAdd(y, Vector128.Load(b + ldb), q0); q1 = Vector128.FusedMultiplyAdd(y, Vector128.Load(b + ldb + 4), q1);
            }
            if (k < K) { var x = Vector128.Create(a[k]); p0 = Vector128.FusedMultiplyAdd(x, Vector128.Load(b), p0); p1 = Vector128.FusedMultiplyAdd(x, Vector128.Load(b + 4), p1); }
            Vector128<float> cb0 = default, cb1 = default;
            if (colBias != null)
            {
                if (w == 8) { cb0 = Vector128.Load(colBias); cb1 = Vector128.Load(colBias + 4); }
                else { for (int j = 0; j < 8; j++) t[j] = j < w ? colBias[j] : 0f; cb0 = Vector128.Load(t); cb1 = Vector128.Load(t + 4); }
            }
            Store128(c, p0 + q0, p1 + q1, 0, &rowBias, cb0, cb1, Vector128.Create(lo), Vector128.Create(hi), w, t);
        }
    }

    /// <summary>arm64: one row of C across all packed panels in one call (a recurrent step's h·Rᵀ is 32 panels of K = 64:
    /// a call and an epilogue set-up per panel cost a third of the multiply). <see cref="Row"/>'s sums in its order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RowNeon(float* a, float* b, float* c, int N, int K, float rowBias, float* colBias, float lo, float hi, float* t)
    {
        var vlo = Vector128.Create(lo); var vhi = Vector128.Create(hi); var rb = Vector128.Create(rowBias);
        for (int j0 = 0; j0 < N; j0 += 8, b += (long)K * 8)
        {
            Vector128<float> p0 = default, p1 = default, q0 = default, q1 = default;
            float* bk = b, ak = a, a8 = a + (K & ~7);
            // Eight k a turn (the loop's own add, add, compare, branch once per 64 MACs), B's 16 vectors by four LD1s
            // of four registers each instead of eight LDP q, A's eight k by one LD1: the same FMLAs in the same order.
            for (; ak < a8; ak += 8, bk += 64)
            {
                var (x, y) = AdvSimd.Arm64.Load2xVector128(ak);
                RowStep4(bk, x, ref p0, ref p1, ref q0, ref q1);
                RowStep4(bk + 32, y, ref p0, ref p1, ref q0, ref q1);
            }
            int k = K & ~7;
            if (k + 4 <= K) { RowStep4(bk, Vector128.Load(ak), ref p0, ref p1, ref q0, ref q1); k += 4; bk += 32; }
            for (; k + 1 < K; k += 2, bk += 16)
            {
                var x = Vector128.Create(a[k]); var y = Vector128.Create(a[k + 1]);
                p0 = Vector128.FusedMultiplyAdd(x, Vector128.Load(bk), p0); p1 = Vector128.FusedMultiplyAdd(x, Vector128.Load(bk + 4), p1);
                q0 = Vector128.FusedMultiplyAdd(y, Vector128.Load(bk + 8), q0); q1 = Vector128.FusedMultiplyAdd(y, Vector128.Load(bk + 12), q1);
            }
            if (k < K) { var x = Vector128.Create(a[k]); p0 = Vector128.FusedMultiplyAdd(x, Vector128.Load(bk), p0); p1 = Vector128.FusedMultiplyAdd(x, Vector128.Load(bk + 4), p1); }
            int w = Math.Min(8, N - j0);
            Vector128<float> cb0 = default, cb1 = default;
            if (colBias != null)
            {
                if (w == 8) { cb0 = Vector128.Load(colBias + j0); cb1 = Vector128.Load(colBias + j0 + 4); }
                else { for (int j = 0; j < 8; j++) t[j] = j < w ? colBias[j0 + j] : 0f; cb0 = Vector128.Load(t); cb1 = Vector128.Load(t + 4); }
            }
            var v0 = Clamp.Of(p0 + q0 + rb + cb0, vlo, vhi); var v1 = Clamp.Of(p1 + q1 + rb + cb1, vlo, vhi);
            if (w == 8) { v0.Store(c + j0); v1.Store(c + j0 + 4); continue; }
            v0.Store(t); v1.Store(t + 4);
            for (int j = 0; j < w; j++) c[j0 + j] = t[j];
        }
    }

    /// <summary>Four k of <see cref="RowNeon"/>: k+0 and k+2 onto p, k+1 and k+3 onto q (32 packed floats, two LD1s).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void RowStep4(float* bk, Vector128<float> x, ref Vector128<float> p0, ref Vector128<float> p1, ref Vector128<float> q0, ref Vector128<float> q1)
    {
        var (b0, b1, b2, b3) = AdvSimd.Arm64.Load4xVector128(bk);
        p0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(p0, b0, x, 0); p1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(p1, b1, x, 0);
        q0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(q0, b2, x, 1); q1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(q1, b3, x, 1);
        var (b4, b5, b6, b7) = AdvSimd.Arm64.Load4xVector128(bk + 16);
        p0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(p0, b4, x, 2); p1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(p1, b5, x, 2);
        q0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(q0, b6, x, 3); q1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(q1, b7, x, 3);
    }

    // Each tile keeps up to 8 rows × 2 vectors of accumulators in registers; rows ≥ m read row 0 and are not stored.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile512(float* a, int lda, float* b, long ldb, float* c, int ldc, int K, int w, int m, float* rowBias, float* colBias, float lo, float hi, float* t)
    {
        // TileNarrow512's loop shape: pointers past the row ends and a negative index counting up to 0. With a0[k] for
        // k < K both engines (ILC and the JIT, the same code) loaded K from the stack and stored it back every k, sign-
        // extended k and reloaded three row pointers: 40 instructions a k, now 36 (two row pointers still reloaded).
        // Same sums in the same order.
        float* a0 = a + K, a1 = (m > 1 ? a + lda : a) + K, a2 = (m > 2 ? a + 2 * lda : a) + K, a3 = (m > 3 ? a + 3 * lda : a) + K,
               a4 = (m > 4 ? a + 4 * lda : a) + K, a5 = (m > 5 ? a + 5 * lda : a) + K, a6 = (m > 6 ? a + 6 * lda : a) + K, a7 = (m > 7 ? a + 7 * lda : a) + K;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default,
                         c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (nint k = -K; k != 0; k++, b += ldb)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a0[k]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[k]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[k]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[k]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[k]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[k]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[k]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[k]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        var vlo = Vector512.Create(lo); var vhi = Vector512.Create(hi);
        Vector512<float> cb0 = default, cb1 = default;
        if (colBias != null)
        {
            if (w == 32) { cb0 = Vector512.Load(colBias); cb1 = Vector512.Load(colBias + 16); }
            else { for (int j = 0; j < 32; j++) t[j] = j < w ? colBias[j] : 0f; cb0 = Vector512.Load(t); cb1 = Vector512.Load(t + 16); }
        }
        Store512(c, c00, c01, 0, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 1) Store512(c + ldc, c10, c11, 1, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 2) Store512(c + 2 * ldc, c20, c21, 2, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 3) Store512(c + 3 * ldc, c30, c31, 3, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 4) Store512(c + 4 * ldc, c40, c41, 4, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 5) Store512(c + 5 * ldc, c50, c51, 5, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 6) Store512(c + 6 * ldc, c60, c61, 6, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 7) Store512(c + 7 * ldc, c70, c71, 7, rowBias, cb0, cb1, vlo, vhi, w, t);
    }

    /// <summary><paramref name="tiles"/> whole tiles of 8 rows, one after the other in one call: each row's sums as
    /// <see cref="Tile512"/> computes them, in its order (the same bits). A call per 8 rows cost its 14 arguments (6 on
    /// the stack), the prologue and the set-up every time, a large share of a tile at a thin pointwise conv's K
    /// (BlazeFace's 64×64×24 1×1 convs: 24 k steps a tile, 512 tiles a node), and the share where NativeAOT's code (ILC
    /// has no profile: the JIT's block layout and spills without PGO) lost to the JIT's tier-1 PGO: conv2d_1 took 1.14
    /// times the JIT's time in the AOT binary, 1.13 in the JIT without PGO. The 8 rows are read through two pointers
    /// (rows 0 and 4) and the byte offsets lda, 2·lda, 3·lda (<see cref="TileNarrow16x512"/>'s addressing): the k loop
    /// takes 7 integer registers, none spilled (Tile512's reloads two row pointers every k).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tiles512(float* a, int lda, float* b, long ldb, float* c, int ldc, int K, int w, int tiles, float* rowBias, float* colBias, float lo, float hi, float* t)
    {
        nint l1 = (nint)lda * 4, l3 = 3 * l1, kBytes = (nint)K * 4;
        var vlo = Vector512.Create(lo); var vhi = Vector512.Create(hi);
        Vector512<float> cb0 = default, cb1 = default;
        if (colBias != null)
        {
            if (w == 32) { cb0 = Vector512.Load(colBias); cb1 = Vector512.Load(colBias + 16); }
            else { for (int j = 0; j < 32; j++) t[j] = j < w ? colBias[j] : 0f; cb0 = Vector512.Load(t); cb1 = Vector512.Load(t + 16); }
        }
        for (; tiles > 0; tiles--, a += 8L * lda, c += 8L * ldc, rowBias = rowBias == null ? null : rowBias + 8)
        {
            byte* p0 = (byte*)a, p4 = p0 + 4 * l1, end = p0 + kBytes;
            float* bk = b;
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default,
                             c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
            for (; p0 != end; p0 += 4, p4 += 4, bk += ldb)
            {
                var b0 = Vector512.Load(bk); var b1 = Vector512.Load(bk + 16);
                var x = Vector512.Create(*(float*)p0); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
                x = Vector512.Create(*(float*)(p0 + l1)); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
                x = Vector512.Create(*(float*)(p0 + 2 * l1)); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
                x = Vector512.Create(*(float*)(p0 + l3)); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
                x = Vector512.Create(*(float*)p4); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
                x = Vector512.Create(*(float*)(p4 + l1)); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
                x = Vector512.Create(*(float*)(p4 + 2 * l1)); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
                x = Vector512.Create(*(float*)(p4 + l3)); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            }
            float* cr = c;
            Store512(cr, c00, c01, 0, rowBias, cb0, cb1, vlo, vhi, w, t); cr += ldc;
            Store512(cr, c10, c11, 1, rowBias, cb0, cb1, vlo, vhi, w, t); cr += ldc;
            Store512(cr, c20, c21, 2, rowBias, cb0, cb1, vlo, vhi, w, t); cr += ldc;
            Store512(cr, c30, c31, 3, rowBias, cb0, cb1, vlo, vhi, w, t); cr += ldc;
            Store512(cr, c40, c41, 4, rowBias, cb0, cb1, vlo, vhi, w, t); cr += ldc;
            Store512(cr, c50, c51, 5, rowBias, cb0, cb1, vlo, vhi, w, t); cr += ldc;
            Store512(cr, c60, c61, 6, rowBias, cb0, cb1, vlo, vhi, w, t); cr += ldc;
            Store512(cr, c70, c71, 7, rowBias, cb0, cb1, vlo, vhi, w, t);
        }
    }

    /// <summary>Up to 8 rows × the first 16 columns of a panel (w ≤ 16): 8 accumulators, each row's sum over k in the
    /// same order as <see cref="Tile512"/>'s; rows ≥ m read row 0 and are not stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileNarrow512(float* a, int lda, float* b, long ldb, float* c, int ldc, int K, int w, int m, float* rowBias, float* colBias, float lo, float hi, float* t)
    {
        // Pointers past the row ends and a negative index counting up to 0: no length register (the eight row
        // pointers, b, ldb and k fit the integer registers without spills).
        float* a0 = a + K, a1 = (m > 1 ? a + lda : a) + K, a2 = (m > 2 ? a + 2 * lda : a) + K, a3 = (m > 3 ? a + 3 * lda : a) + K,
               a4 = (m > 4 ? a + 4 * lda : a) + K, a5 = (m > 5 ? a + 5 * lda : a) + K, a6 = (m > 6 ? a + 6 * lda : a) + K, a7 = (m > 7 ? a + 7 * lda : a) + K;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (nint k = -K; k != 0; k++, b += ldb)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[k]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[k]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[k]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[k]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[k]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[k]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[k]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[k]), b0, c7);
        }
        var vlo = Vector512.Create(lo); var vhi = Vector512.Create(hi);
        Vector512<float> cb = default;
        if (colBias != null)
        {
            if (w == 16) cb = Vector512.Load(colBias);
            else { for (int j = 0; j < 16; j++) t[j] = j < w ? colBias[j] : 0f; cb = Vector512.Load(t); }
        }
        StoreNarrow512(c, c0, 0, rowBias, cb, vlo, vhi, w, t);
        if (m > 1) StoreNarrow512(c + ldc, c1, 1, rowBias, cb, vlo, vhi, w, t);
        if (m > 2) StoreNarrow512(c + 2 * ldc, c2, 2, rowBias, cb, vlo, vhi, w, t);
        if (m > 3) StoreNarrow512(c + 3 * ldc, c3, 3, rowBias, cb, vlo, vhi, w, t);
        if (m > 4) StoreNarrow512(c + 4 * ldc, c4, 4, rowBias, cb, vlo, vhi, w, t);
        if (m > 5) StoreNarrow512(c + 5 * ldc, c5, 5, rowBias, cb, vlo, vhi, w, t);
        if (m > 6) StoreNarrow512(c + 6 * ldc, c6, 6, rowBias, cb, vlo, vhi, w, t);
        if (m > 7) StoreNarrow512(c + 7 * ldc, c7, 7, rowBias, cb, vlo, vhi, w, t);
    }

    /// <summary>16 whole rows × the first 16 columns of a panel (w ≤ 16): <see cref="TileNarrow512"/> with twice the
    /// rows, each row's sum over k in the same order (the same bits wherever the 16- and 8-row tiles fall). Eight
    /// accumulators hide the FMA latency only just (two FMA pipes × 4 cycles) and a thin conv's short K (16, 32) leaves
    /// the tile's setup and stores a large share: YOLOv5n's 1×1 convs to 16 channels ran at 2/3 of the 2-vector tile's
    /// GFLOP/s. The 16 rows are read through four pointers (rows 0, 4, 8, 12) and the offsets lda, 2·lda, 3·lda, so
    /// they fit the integer registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileNarrow16x512(float* a, int lda, float* b, long ldb, float* c, int ldc, int K, int w, float* rowBias, float* colBias, float lo, float hi, float* t)
    {
        nint l1 = (nint)lda * 4, l3 = 3 * l1;   // byte offsets of rows 1 and 3 from a row pointer
        byte* p0 = (byte*)a, p4 = p0 + 4 * l1, p8 = p0 + 8 * l1, p12 = p0 + 12 * l1, end = p0 + 4L * K;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default,
                         c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        for (; p0 != end; p0 += 4, p4 += 4, p8 += 4, p12 += 4, b += ldb)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)p0), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(p0 + l1)), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(p0 + 2 * l1)), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(p0 + l3)), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)p4), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(p4 + l1)), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(p4 + 2 * l1)), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(p4 + l3)), b0, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)p8), b0, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(p8 + l1)), b0, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(p8 + 2 * l1)), b0, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(p8 + l3)), b0, c11);
            c12 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)p12), b0, c12);
            c13 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(p12 + l1)), b0, c13);
            c14 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(p12 + 2 * l1)), b0, c14);
            c15 = Vector512.FusedMultiplyAdd(Vector512.Create(*(float*)(p12 + l3)), b0, c15);
        }
        var vlo = Vector512.Create(lo); var vhi = Vector512.Create(hi);
        Vector512<float> cb = default;
        if (colBias != null)
        {
            if (w == 16) cb = Vector512.Load(colBias);
            else { for (int j = 0; j < 16; j++) t[j] = j < w ? colBias[j] : 0f; cb = Vector512.Load(t); }
        }
        StoreNarrow512(c, c0, 0, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c1, 1, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c2, 2, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c3, 3, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c4, 4, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c5, 5, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c6, 6, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c7, 7, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c8, 8, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c9, 9, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c10, 10, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c11, 11, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c12, 12, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c13, 13, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c14, 14, rowBias, cb, vlo, vhi, w, t); c += ldc;
        StoreNarrow512(c, c15, 15, rowBias, cb, vlo, vhi, w, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreNarrow512(float* c, Vector512<float> v, int row, float* rowBias, Vector512<float> cb, Vector512<float> lo, Vector512<float> hi, int w, float* t)
    {
        v = Clamp.Of(v + Vector512.Create(rowBias == null ? 0f : rowBias[row]) + cb, lo, hi);
        if (w == 16) { v.Store(c); return; }
        if (w >= 8) { v.GetLower().Store(c); if (w == 8) return; }   // 8-channel pointwise convs: one store
        int j = w >= 8 ? 8 : 0;
        v.Store(t);
        for (; j < w; j++) c[j] = t[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store512(float* c, Vector512<float> v0, Vector512<float> v1, int row, float* rowBias, Vector512<float> cb0, Vector512<float> cb1, Vector512<float> lo, Vector512<float> hi, int w, float* t)
    {
        var rb = Vector512.Create(rowBias == null ? 0f : rowBias[row]);
        v0 = Clamp.Of(v0 + rb + cb0, lo, hi);
        v1 = Clamp.Of(v1 + rb + cb1, lo, hi);
        if (w == 32) { v0.Store(c); v1.Store(c + 16); return; }
        if (w >= 16)   // whole vectors straight to C (24 output channels: 16 + 8), only the rest through t
        {
            v0.Store(c);
            var rest = v1.GetLower();
            int j = 16;
            if (w >= 24) { rest.Store(c + 16); rest = v1.GetUpper(); j = 24; }
            if (j == w) return;
            rest.Store(t);
            for (int i = j; i < w; i++) c[i] = t[i - j];
            return;
        }
        v0.Store(t); v1.Store(t + 16);
        for (int j = 0; j < w; j++) c[j] = t[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile256(float* a, int lda, float* b, long ldb, float* c, int ldc, int K, int w, int m, float* rowBias, float* colBias, float lo, float hi, float* t)
    {
        float* a0 = a, a1 = m > 1 ? a + lda : a, a2 = m > 2 ? a + 2 * lda : a, a3 = m > 3 ? a + 3 * lda : a, a4 = m > 4 ? a + 4 * lda : a, a5 = m > 5 ? a + 5 * lda : a;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                         c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int k = 0; k < K; k++, b += ldb)
        {
            var b0 = Vector256.Load(b); var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a0[k]); c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[k]); c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[k]); c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[k]); c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a4[k]); c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a5[k]); c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }
        var vlo = Vector256.Create(lo); var vhi = Vector256.Create(hi);
        Vector256<float> cb0 = default, cb1 = default;
        if (colBias != null)
        {
            if (w == 16) { cb0 = Vector256.Load(colBias); cb1 = Vector256.Load(colBias + 8); }
            else { for (int j = 0; j < 16; j++) t[j] = j < w ? colBias[j] : 0f; cb0 = Vector256.Load(t); cb1 = Vector256.Load(t + 8); }
        }
        Store256(c, c00, c01, 0, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 1) Store256(c + ldc, c10, c11, 1, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 2) Store256(c + 2 * ldc, c20, c21, 2, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 3) Store256(c + 3 * ldc, c30, c31, 3, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 4) Store256(c + 4 * ldc, c40, c41, 4, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 5) Store256(c + 5 * ldc, c50, c51, 5, rowBias, cb0, cb1, vlo, vhi, w, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store256(float* c, Vector256<float> v0, Vector256<float> v1, int row, float* rowBias, Vector256<float> cb0, Vector256<float> cb1, Vector256<float> lo, Vector256<float> hi, int w, float* t)
    {
        var rb = Vector256.Create(rowBias == null ? 0f : rowBias[row]);
        v0 = Clamp.Of(v0 + rb + cb0, lo, hi);
        v1 = Clamp.Of(v1 + rb + cb1, lo, hi);
        if (w == 16) { v0.Store(c); v1.Store(c + 8); return; }
        if (w >= 8)   // a whole first vector (8-channel pointwise convs): one store, the rest through t
        {
            v0.Store(c);
            if (w == 8) return;
            v1.Store(t);
            for (int j = 8; j < w; j++) c[j] = t[j - 8];
            return;
        }
        v0.Store(t);
        for (int j = 0; j < w; j++) c[j] = t[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile128<R>(float* a, int lda, float* b, long ldb, float* c, int ldc, int K, int w, int m, float* rowBias, float* colBias, float lo, float hi, float* t)
        where R : struct, ITileRows
    {
        var (cb0, cb1) = ColBias128(colBias, w, t);
        // Without a clamp (lo = -inf, hi = +inf) Max and Min return their input, NaN included: skipping them changes no bit.
        bool clamp = !(float.IsNegativeInfinity(lo) && float.IsPositiveInfinity(hi));
        TileCore<R>(a, lda, b, ldb, c, ldc, K, w, m, rowBias, cb0, cb1, Vector128.Create(lo), Vector128.Create(hi), clamp, t);
    }

    /// <summary>A panel's 8 column biases (0 past w, or all 0 without a bias) as two vectors, + 0: a −0 bias is +0, which
    /// changes no sum it is added to (s + −0 = s + +0 = s for every s but −0, which TileCore's first FMUL can leave
    /// where FMLA onto 0 left +0: then both give +0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector128<float>, Vector128<float>) ColBias128(float* colBias, int w, float* t)
    {
        if (colBias == null) return (default, default);
        if (w == 8) return (Vector128.Load(colBias) + Vector128<float>.Zero, Vector128.Load(colBias + 4) + Vector128<float>.Zero);
        for (int j = 0; j < 8; j++) t[j] = j < w ? colBias[j] : 0f;
        return (Vector128.Load(t) + Vector128<float>.Zero, Vector128.Load(t + 4) + Vector128<float>.Zero);
    }

    /// <summary>The 128-bit tile: rows a.. (stride la) of A times the panel at b into m ≤ R.Rows rows of C (stride lc),
    /// column bias cb0, cb1 (<see cref="ColBias128"/>), clamped to vlo..vhi where <paramref name="clamp"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void TileCore<R>(float* a, long la, float* b, long ldb, float* c, long lc, int K, int w, int m, float* rowBias,
                            Vector128<float> cb0, Vector128<float> cb1, Vector128<float> vlo, Vector128<float> vhi, bool clamp, float* t)
        where R : struct, ITileRows
    {
        // rows past m read row 0 (their sums are not stored); one branch for the usual full tile
        float* a0 = a, a1 = a + la, a2 = a1 + la, a3 = a2 + la, a4 = a3 + la, a5 = a4 + la, a6 = a5 + la, a7 = a6 + la;
        if (m < 8)
        {
            if (m <= 1) a1 = a; if (m <= 2) a2 = a; if (m <= 3) a3 = a; if (m <= 4) a4 = a;
            if (m <= 5) a5 = a; if (m <= 6) a6 = a; a7 = a;
        }
        Vector128<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        int k = 0;
        if (AdvSimd.Arm64.IsSupported && ldb == 8 && K >= 4)   // four k per load of each row of A, FMLA by element: the same sums in the same order
        {
            // The first k by FMUL, not 16 MOVI zeroing then FMLA: x·b rounded once either way, but a zero product is
            // −0 where x·b + 0 is +0, and a sum of zeros can stay −0; the column bias added at the store is never −0
            // (ColBias128), so the stored value is the same (±0 + c = +0 + c for every c but −0).
            First4x8<R>(b, a0, a1, a2, a3, a4, a5, a6, a7, out c00, out c01, out c10, out c11, out c20, out c21, out c30, out c31, out c40, out c41, out c50, out c51, out c60, out c61, out c70, out c71);
            b += 32;
            // A byte offset, not a k index: the loads take it as their register offset (no sign extension or shift per
            // step); eight k per iteration halve the loop's own instructions (its counter, B's pointer, compare, branch).
            nint o = 4 * sizeof(float), end = (nint)(K & ~3) * sizeof(float), end8 = end - 8 * sizeof(float);
            for (; o <= end8; o += 8 * sizeof(float), b += 64)
            {
                Step4x8<R>(b, 0, a0, a1, a2, a3, a4, a5, a6, a7, o, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
                Step4x8<R>(b, 4, a0, a1, a2, a3, a4, a5, a6, a7, o + 4 * sizeof(float), ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
            }
            if (o < end)
            {
                Step4x8<R>(b, 0, a0, a1, a2, a3, a4, a5, a6, a7, o, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
                b += 32;
            }
            k = K & ~3;
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = default;
            c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = default;
        }
        for (; k < K; k++, b += ldb)
        {
            var b0 = Vector128.Load(b); var b1 = Vector128.Load(b + 4);
            var x = Vector128.Create(a0[k]); c00 = Vector128.FusedMultiplyAdd(x, b0, c00); c01 = Vector128.FusedMultiplyAdd(x, b1, c01);
            x = Vector128.Create(a1[k]); c10 = Vector128.FusedMultiplyAdd(x, b0, c10); c11 = Vector128.FusedMultiplyAdd(x, b1, c11);
            x = Vector128.Create(a2[k]); c20 = Vector128.FusedMultiplyAdd(x, b0, c20); c21 = Vector128.FusedMultiplyAdd(x, b1, c21);
            x = Vector128.Create(a3[k]); c30 = Vector128.FusedMultiplyAdd(x, b0, c30); c31 = Vector128.FusedMultiplyAdd(x, b1, c31);
            if (R.Rows > 4)
            {
                x = Vector128.Create(a4[k]); c40 = Vector128.FusedMultiplyAdd(x, b0, c40); c41 = Vector128.FusedMultiplyAdd(x, b1, c41);
                x = Vector128.Create(a5[k]); c50 = Vector128.FusedMultiplyAdd(x, b0, c50); c51 = Vector128.FusedMultiplyAdd(x, b1, c51);
            }
            if (R.Rows > 6)
            {
                x = Vector128.Create(a6[k]); c60 = Vector128.FusedMultiplyAdd(x, b0, c60); c61 = Vector128.FusedMultiplyAdd(x, b1, c61);
                x = Vector128.Create(a7[k]); c70 = Vector128.FusedMultiplyAdd(x, b0, c70); c71 = Vector128.FusedMultiplyAdd(x, b1, c71);
            }
        }
        // The usual tile (pointwise convs, Winograd's GEMMs, a Dense's panels) with all of its rows: no per-row checks.
        // A call's last 6 or 4 rows as well (M = 14, a transformer's sentence: the 6-row tile of every panel), whose
        // per-row stores (row bias, clamp, width and m tests) were ~170 of its ~210 instructions besides the k loop.
        if (m == R.Rows && w == 8 && rowBias == null)
        {
            if (!clamp)
                StoreFull<R>(c, lc, cb0, cb1, vlo, vhi, false, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
            else
                StoreFull<R>(c, lc, cb0, cb1, vlo, vhi, true, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
            return;
        }
        Store128(c, c00, c01, 0, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 1) Store128(c + lc, c10, c11, 1, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 2) Store128(c + 2 * lc, c20, c21, 2, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 3) Store128(c + 3 * lc, c30, c31, 3, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 4) Store128(c + 4 * lc, c40, c41, 4, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 5) Store128(c + 5 * lc, c50, c51, 5, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 6) Store128(c + 6 * lc, c60, c61, 6, rowBias, cb0, cb1, vlo, vhi, w, t);
        if (m > 7) Store128(c + 7 * lc, c70, c71, 7, rowBias, cb0, cb1, vlo, vhi, w, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<float> Load(float* row, nint byteOffset) => Vector128.Load((float*)((byte*)row + byteOffset));

    /// <summary>All R.Rows rows × 8 columns of the tile, column bias added (v + 0 + cb, as <see cref="Store128"/> computes it without
    /// a row bias, equals v + cb), clamped when <paramref name="clamp"/> (a constant at each call site).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreFull<R>(float* c, long ldc, Vector128<float> cb0, Vector128<float> cb1, Vector128<float> lo, Vector128<float> hi, bool clamp,
                          Vector128<float> c00, Vector128<float> c01, Vector128<float> c10, Vector128<float> c11, Vector128<float> c20, Vector128<float> c21,
                          Vector128<float> c30, Vector128<float> c31, Vector128<float> c40, Vector128<float> c41, Vector128<float> c50, Vector128<float> c51,
                          Vector128<float> c60, Vector128<float> c61, Vector128<float> c70, Vector128<float> c71)
        where R : struct, ITileRows
    {
        StoreRow(c, c00, c01, cb0, cb1, lo, hi, clamp); c += ldc;
        StoreRow(c, c10, c11, cb0, cb1, lo, hi, clamp); c += ldc;
        StoreRow(c, c20, c21, cb0, cb1, lo, hi, clamp); c += ldc;
        StoreRow(c, c30, c31, cb0, cb1, lo, hi, clamp);
        if (R.Rows > 4)
        {
            c += ldc; StoreRow(c, c40, c41, cb0, cb1, lo, hi, clamp);
            c += ldc; StoreRow(c, c50, c51, cb0, cb1, lo, hi, clamp);
        }
        if (R.Rows > 6)
        {
            c += ldc; StoreRow(c, c60, c61, cb0, cb1, lo, hi, clamp);
            c += ldc; StoreRow(c, c70, c71, cb0, cb1, lo, hi, clamp);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(float* c, Vector128<float> v0, Vector128<float> v1, Vector128<float> cb0, Vector128<float> cb1, Vector128<float> lo, Vector128<float> hi, bool clamp)
    {
        v0 += cb0; v1 += cb1;
        if (clamp) { v0 = Clamp.Of(v0, lo, hi); v1 = Clamp.Of(v1, lo, hi); }
        v0.Store(c); v1.Store(c + 4);
    }

    /// <summary>Four k of the 8×8 NEON tile: each row's four A values at byte offset <paramref name="o"/> (one load), times rows
    /// <paramref name="row"/>..+3 of the packed block at b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Step4x8<R>(float* b, [System.Diagnostics.CodeAnalysis.ConstantExpected(Max = (byte)4)] byte row,
                        float* a0, float* a1, float* a2, float* a3, float* a4, float* a5, float* a6, float* a7, nint o,
                        ref Vector128<float> c00, ref Vector128<float> c01, ref Vector128<float> c10, ref Vector128<float> c11, ref Vector128<float> c20, ref Vector128<float> c21,
                        ref Vector128<float> c30, ref Vector128<float> c31, ref Vector128<float> c40, ref Vector128<float> c41, ref Vector128<float> c50, ref Vector128<float> c51,
                        ref Vector128<float> c60, ref Vector128<float> c61, ref Vector128<float> c70, ref Vector128<float> c71)
        where R : struct, ITileRows
    {
        var x0 = Load(a0, o); var x1 = Load(a1, o); var x2 = Load(a2, o); var x3 = Load(a3, o);
        Vector128<float> x4 = default, x5 = default, x6 = default, x7 = default;
        if (R.Rows > 4) { x4 = Load(a4, o); x5 = Load(a5, o); }
        if (R.Rows > 6) { x6 = Load(a6, o); x7 = Load(a7, o); }
        Step8<R>(b, row, 0, x0, x1, x2, x3, x4, x5, x6, x7, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
        Step8<R>(b, row, 1, x0, x1, x2, x3, x4, x5, x6, x7, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
        Step8<R>(b, row, 2, x0, x1, x2, x3, x4, x5, x6, x7, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
        Step8<R>(b, row, 3, x0, x1, x2, x3, x4, x5, x6, x7, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
    }

    /// <summary>A tile's first four k (<see cref="Step4x8"/> at offset 0): the first by FMUL by element, the accumulators
    /// assigned, not zeroed first; the rows R does not compute are 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void First4x8<R>(float* b, float* a0, float* a1, float* a2, float* a3, float* a4, float* a5, float* a6, float* a7,
                        out Vector128<float> c00, out Vector128<float> c01, out Vector128<float> c10, out Vector128<float> c11, out Vector128<float> c20, out Vector128<float> c21,
                        out Vector128<float> c30, out Vector128<float> c31, out Vector128<float> c40, out Vector128<float> c41, out Vector128<float> c50, out Vector128<float> c51,
                        out Vector128<float> c60, out Vector128<float> c61, out Vector128<float> c70, out Vector128<float> c71)
        where R : struct, ITileRows
    {
        var x0 = Vector128.Load(a0); var x1 = Vector128.Load(a1); var x2 = Vector128.Load(a2); var x3 = Vector128.Load(a3);
        Vector128<float> x4 = default, x5 = default, x6 = default, x7 = default;
        if (R.Rows > 4) { x4 = Vector128.Load(a4); x5 = Vector128.Load(a5); }
        if (R.Rows > 6) { x6 = Vector128.Load(a6); x7 = Vector128.Load(a7); }
        var b0 = Vector128.Load(b); var b1 = Vector128.Load(b + 4);
        c00 = AdvSimd.MultiplyBySelectedScalar(b0, x0, 0); c01 = AdvSimd.MultiplyBySelectedScalar(b1, x0, 0);
        c10 = AdvSimd.MultiplyBySelectedScalar(b0, x1, 0); c11 = AdvSimd.MultiplyBySelectedScalar(b1, x1, 0);
        c20 = AdvSimd.MultiplyBySelectedScalar(b0, x2, 0); c21 = AdvSimd.MultiplyBySelectedScalar(b1, x2, 0);
        c30 = AdvSimd.MultiplyBySelectedScalar(b0, x3, 0); c31 = AdvSimd.MultiplyBySelectedScalar(b1, x3, 0);
        c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = default;
        if (R.Rows > 4)
        {
            c40 = AdvSimd.MultiplyBySelectedScalar(b0, x4, 0); c41 = AdvSimd.MultiplyBySelectedScalar(b1, x4, 0);
            c50 = AdvSimd.MultiplyBySelectedScalar(b0, x5, 0); c51 = AdvSimd.MultiplyBySelectedScalar(b1, x5, 0);
        }
        if (R.Rows > 6)
        {
            c60 = AdvSimd.MultiplyBySelectedScalar(b0, x6, 0); c61 = AdvSimd.MultiplyBySelectedScalar(b1, x6, 0);
            c70 = AdvSimd.MultiplyBySelectedScalar(b0, x7, 0); c71 = AdvSimd.MultiplyBySelectedScalar(b1, x7, 0);
        }
        Step8<R>(b, 0, 1, x0, x1, x2, x3, x4, x5, x6, x7, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
        Step8<R>(b, 0, 2, x0, x1, x2, x3, x4, x5, x6, x7, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
        Step8<R>(b, 0, 3, x0, x1, x2, x3, x4, x5, x6, x7, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
    }

    /// <summary>One k of the 8×8 NEON tile: element <paramref name="i"/> of each row's four A values times B's 8 floats
    /// (row row + i of the packed block at b: a constant offset, folded into the LDP; b + 8i passed in was an ADD each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Step8<R>(float* b, byte row, [System.Diagnostics.CodeAnalysis.ConstantExpected(Max = (byte)3)] byte i, Vector128<float> x0, Vector128<float> x1, Vector128<float> x2, Vector128<float> x3,
                      Vector128<float> x4, Vector128<float> x5, Vector128<float> x6, Vector128<float> x7,
                      ref Vector128<float> c00, ref Vector128<float> c01, ref Vector128<float> c10, ref Vector128<float> c11, ref Vector128<float> c20, ref Vector128<float> c21,
                      ref Vector128<float> c30, ref Vector128<float> c31, ref Vector128<float> c40, ref Vector128<float> c41, ref Vector128<float> c50, ref Vector128<float> c51,
                      ref Vector128<float> c60, ref Vector128<float> c61, ref Vector128<float> c70, ref Vector128<float> c71)
        where R : struct, ITileRows
    {
        var b0 = Vector128.Load(b + 8 * (row + i)); var b1 = Vector128.Load(b + 8 * (row + i) + 4);
        c00 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c00, b0, x0, i); c01 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c01, b1, x0, i);
        c10 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c10, b0, x1, i); c11 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c11, b1, x1, i);
        c20 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c20, b0, x2, i); c21 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c21, b1, x2, i);
        c30 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c30, b0, x3, i); c31 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c31, b1, x3, i);
        if (R.Rows > 4)
        {
            c40 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c40, b0, x4, i); c41 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c41, b1, x4, i);
            c50 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c50, b0, x5, i); c51 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c51, b1, x5, i);
        }
        if (R.Rows > 6)
        {
            c60 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c60, b0, x6, i); c61 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c61, b1, x6, i);
            c70 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c70, b0, x7, i); c71 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c71, b1, x7, i);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store128(float* c, Vector128<float> v0, Vector128<float> v1, int row, float* rowBias, Vector128<float> cb0, Vector128<float> cb1, Vector128<float> lo, Vector128<float> hi, int w, float* t)
    {
        var rb = Vector128.Create(rowBias == null ? 0f : rowBias[row]);
        v0 = Clamp.Of(v0 + rb + cb0, lo, hi);
        v1 = Clamp.Of(v1 + rb + cb1, lo, hi);
        if (w == 8) { v0.Store(c); v1.Store(c + 4); return; }
        // a panel's first w < 8 columns (attention's Q·Kᵀ over 14 tokens: 6 in the second panel) by a vector, a pair
        // and a float, not through t and a float at a time
        if (w >= 4) { v0.Store(c); c += 4; v0 = v1; w -= 4; }
        if ((w & 2) != 0) { Unsafe.WriteUnaligned(c, v0.AsUInt64().ToScalar()); c += 2; v0 = v0.GetUpper().ToVector128Unsafe(); }
        if ((w & 1) != 0) *c = v0.ToScalar();
    }
}

/// <summary>Rows the 128-bit tile computes (<see cref="Gemm"/>'s Tile128): 8 for whole tiles, 6 or 4 for a call's last
/// 3-6 rows, which an 8-row tile computed with its spare rows reading row 0 (M = 14, a transformer's sentence: 16 rows of
/// FMAs for 14). A constant of each instantiation: the unused rows' loads and FMAs are not compiled.</summary>
internal interface ITileRows { static abstract int Rows { get; } }
internal readonly struct Rows8 : ITileRows { public static int Rows => 8; }
internal readonly struct Rows6 : ITileRows { public static int Rows => 6; }
internal readonly struct Rows4 : ITileRows { public static int Rows => 4; }

/// <summary>8 lanes on, 8 off: from element 8 − w, the mask of a panel row's first w lanes (Gemm.PackPanel). Its own
/// class: no static field in Gemm, whose kernels then need no class-initialization check.</summary>
file static class PanelMask
{
    public static readonly uint[] Lanes = [~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, 0, 0, 0, 0, 0, 0, 0, 0];
}
