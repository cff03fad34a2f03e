using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Int8;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// int8 GEMM with exact int32 accumulation, C[M,N] = A[M,K]·B[K,N]. A is row-major int8 with K padded to a multiple of 4
/// (zeros); B is packed in panels of 16 columns, each holding, per group of 4 k, 16 columns × 4 bytes, the layout the
/// dot-product instructions read. The path is chosen once for the machine:
/// <list type="bullet">
/// <item>x64 AVX-VNNI: VPDPBUSD (u8 × s8 → s32). Activations are stored +128 as u8; the kernel's bias subtracts 128·Σw.</item>
/// <item>x64 AVX-512BW without VNNI (Zen 4, Ice Lake): the same at 512 bits, fused requantization (GemmInt8Avx512.cs).</item>
/// <item>x64 AVX2: sign-extend to int16 and VPMADDWD (pairs summed in int32, never saturating), fused requantization (GemmInt8Avx2.cs).</item>
/// <item>arm64 with Dp (Pi 5): SDOT.</item>
/// <item>arm64 AdvSimd (Pi 4): SMULL/SMULL2 (int16 products, at most 2^14) then SADALP into int32.</item>
/// </list>
/// Every path computes the same integers, so int8 results are bit-identical across machines.
/// </summary>
internal static unsafe partial class GemmInt8
{
    public enum Isa { Scalar, Avx2, AvxVnni, ArmNeon, ArmDp, Avx512 }
    public static Isa Selected { get; } = AvxVnni.IsSupported ? Isa.AvxVnni : Avx512BW.IsSupported ? Isa.Avx512 : Avx2.IsSupported ? Isa.Avx2
        : Dp.Arm64.IsSupported || Dp.IsSupported ? Isa.ArmDp : AdvSimd.Arm64.IsSupported ? Isa.ArmNeon : Isa.Scalar;
    public const int NR = 16;

    /// <summary>Every path this machine runs, best first: the twin tests hold each one against the reference.</summary>
    public static IEnumerable<Isa> Runnable()
    {
        if (AvxVnni.IsSupported) yield return Isa.AvxVnni;
        if (Avx512BW.IsSupported) yield return Isa.Avx512;
        if (Avx2.IsSupported) yield return Isa.Avx2;
        if (Dp.Arm64.IsSupported || Dp.IsSupported) yield return Isa.ArmDp;
        if (AdvSimd.Arm64.IsSupported) yield return Isa.ArmNeon;
        yield return Isa.Scalar;
    }

    /// <summary>True when activations are stored as u8 (value + 128) for this ISA.</summary>
    public static bool ShiftsActivations(Isa isa) => isa == Isa.AvxVnni;
    public static int KPad(int k) => (k + 3) & ~3;
    public static long PackedBytes(int K, int N) => (long)((N + NR - 1) / NR) * KPad(K) * NR;

    /// <summary>Packs B[k, j] = src[k·ldk + j·ldj]; <paramref name="shift"/> adds 128 (stores u8) for activations on VNNI.</summary>
    public static void Pack(sbyte* src, long ldk, long ldj, int K, int N, sbyte* dst, bool shift)
    {
        int kp = KPad(K);
        byte x = shift ? (byte)0x80 : (byte)0;
        for (int p = 0; p * NR < N; p++)
        {
            int j0 = p * NR, w = Math.Min(NR, N - j0);
            sbyte* d = dst + (long)p * kp * NR;
            for (int kq = 0; kq < kp; kq += 4, d += 4 * NR)
                for (int t = 0; t < 4; t++)
                {
                    int k = kq + t;
                    if (k >= K || w < NR) { for (int j = 0; j < NR; j++) d[j * 4 + t] = (sbyte)((k < K && j < w ? (byte)src[k * ldk + (j0 + j) * ldj] : (byte)0) ^ x); continue; }
                    sbyte* s = src + k * ldk + j0 * ldj;
                    if (ldj == 1 && t == 0 && kq + 3 < K && Interleave4(s, ldk, d, x)) { t = 3; continue; }   // four rows at once
                    if (ldj == 1) for (int j = 0; j < NR; j++) d[j * 4 + t] = (sbyte)((byte)s[j] ^ x);   // full panel: no conditions
                    else for (int j = 0; j < NR; j++) d[j * 4 + t] = (sbyte)((byte)s[j * ldj] ^ x);
                }
        }
    }

    /// <summary>dst = src XOR flip (0x80 stores int8 activations as the u8 that VNNI multiplies; 0 copies).</summary>
    public static void CopyShifted(sbyte* src, sbyte* dst, long n, byte flip)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var f = Vector256.Create(flip);
            for (; i + 32 <= n; i += 32) (Vector256.Load((byte*)src + i) ^ f).Store((byte*)dst + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var f = Vector128.Create(flip);
            for (; i + 16 <= n; i += 16) (Vector128.Load((byte*)src + i) ^ f).Store((byte*)dst + i);
        }
        for (; i < n; i++) dst[i] = (sbyte)((byte)src[i] ^ flip);
    }

    /// <summary>Rows k..k+3 (16 bytes each, stride ldk) interleaved to 16 columns × 4 bytes: SSE2 or NEON byte zips.</summary>
    static bool Interleave4(sbyte* s, long ldk, sbyte* d, byte flip)
    {
        if (Sse2.IsSupported)
        {
            var f = Vector128.Create(flip);
            var a = Sse2.Xor(Vector128.Load((byte*)s), f); var b = Sse2.Xor(Vector128.Load((byte*)(s + ldk)), f);
            var c = Sse2.Xor(Vector128.Load((byte*)(s + 2 * ldk)), f); var e = Sse2.Xor(Vector128.Load((byte*)(s + 3 * ldk)), f);
            var abLo = Sse2.UnpackLow(a, b).AsUInt16(); var abHi = Sse2.UnpackHigh(a, b).AsUInt16();
            var cdLo = Sse2.UnpackLow(c, e).AsUInt16(); var cdHi = Sse2.UnpackHigh(c, e).AsUInt16();
            Sse2.UnpackLow(abLo, cdLo).AsByte().Store((byte*)d);
            Sse2.UnpackHigh(abLo, cdLo).AsByte().Store((byte*)d + 16);
            Sse2.UnpackLow(abHi, cdHi).AsByte().Store((byte*)d + 32);
            Sse2.UnpackHigh(abHi, cdHi).AsByte().Store((byte*)d + 48);
            return true;
        }
        if (AdvSimd.Arm64.IsSupported)
        {
            var f = Vector128.Create(flip);
            var a = AdvSimd.Xor(Vector128.Load((byte*)s), f); var b = AdvSimd.Xor(Vector128.Load((byte*)(s + ldk)), f);
            var c = AdvSimd.Xor(Vector128.Load((byte*)(s + 2 * ldk)), f); var e = AdvSimd.Xor(Vector128.Load((byte*)(s + 3 * ldk)), f);
            var abLo = AdvSimd.Arm64.ZipLow(a, b).AsUInt16(); var abHi = AdvSimd.Arm64.ZipHigh(a, b).AsUInt16();
            var cdLo = AdvSimd.Arm64.ZipLow(c, e).AsUInt16(); var cdHi = AdvSimd.Arm64.ZipHigh(c, e).AsUInt16();
            AdvSimd.Arm64.ZipLow(abLo, cdLo).AsByte().Store((byte*)d);
            AdvSimd.Arm64.ZipHigh(abLo, cdLo).AsByte().Store((byte*)d + 16);
            AdvSimd.Arm64.ZipLow(abHi, cdHi).AsByte().Store((byte*)d + 32);
            AdvSimd.Arm64.ZipHigh(abHi, cdHi).AsByte().Store((byte*)d + 48);
            return true;
        }
        return false;
    }

    /// <summary>What to do with a finished tile: store int32 (Out == null), or requantize to int8 in place of the store
    /// (q = clamp(roundEven((acc + bias)·m) + zp)), with bias and multiplier per row when the weights are A (Conv) and
    /// per column when the activations are A (Dense, channels-last pointwise).</summary>
    public struct Epilogue
    {
        public sbyte* Out; public int Ldo;
        public int* RowBias; public float* RowMult;   // per output channel when channels are rows
        public int* ColBias; public float* ColMult;   // per output channel when channels are columns
        public int Zp, Lo, Hi;
        /// <summary>A holds signed activations as they are; the VNNI panels add 128 (XOR 0x80) to each as they
        /// broadcast it, which saves the pass that would copy A shifted (channels-last pointwise, K a multiple of 4).</summary>
        public bool ShiftA;
        /// <summary>The clamp is the int8 range and no product reaches 2^30 (<see cref="SaturationClamps"/>): the
        /// saturating narrow (VPMOVSDB) clamps, and the float min/max are skipped.</summary>
        public bool SaturationOnly;
        /// <summary>No weight is −128: two int8 products fit int16 (A72's SMLAL path sums two k quads before widening).</summary>
        public bool NoMinWeight;
        /// <summary>The packed weights as <see cref="SplitPanels"/> made them once (the AVX-512BW panels without VNNI
        /// then load each k quad's int16 pairs instead of splitting it per 12-row tile), or null.</summary>
        public short* SplitB;
    }

    /// <summary>True when [lo, hi] is all of int8 and |acc·m| &lt; 2^30 for sums bounded by <paramref name="maxAcc"/>:
    /// then round(acc·m) + zp fits int32 and saturating it to int8 equals the reference's clamp.</summary>
    public static bool SaturationClamps(int lo, int hi, long maxAcc, ReadOnlySpan<float> multipliers)
    {
        float mMax = 0;
        foreach (var v in multipliers) mMax = Math.Max(mMax, Math.Abs(v));
        return lo == -128 && hi == 127 && float.IsFinite(mMax) && maxAcc * (double)mMax < 1 << 30;
    }

    /// <summary>C (int32, row stride ldc) = A · B. <paramref name="activationsInA"/>: A holds the (possibly shifted)
    /// activations and B the weights (Dense); otherwise A holds weights and B activations (Conv).</summary>
    public static void Run(sbyte* A, int lda, sbyte* packedB, int* C, int ldc, int M, int N, int K, Isa isa, bool activationsInA)
    {
        var none = default(Epilogue);
        Run(A, lda, packedB, C, ldc, M, N, K, isa, activationsInA, ref none);
    }

    /// <summary>With an epilogue: requantized int8 goes to e.Out (C is then scratch for one 4×16 tile).</summary>
    public static void Run(sbyte* A, int lda, sbyte* packedB, int* C, int ldc, int M, int N, int K, Isa isa, bool activationsInA, ref Epilogue e)
    {
        if (e.Out != null && isa == Isa.AvxVnni) { RunVnniFused(A, lda, packedB, M, N, K, activationsInA, ref e); return; }
        if (e.Out != null && isa is Isa.ArmDp or Isa.ArmNeon && activationsInA) { RunArmFused(A, lda, packedB, M, N, K, isa == Isa.ArmDp, ref e); return; }
        if (e.Out != null && isa == Isa.Avx512 && activationsInA) { RunAvx512Fused(A, lda, packedB, M, N, K, ref e); return; }
        if (e.Out != null && isa == Isa.Avx2 && activationsInA) { RunAvx2Fused(A, lda, packedB, M, N, K, ref e); return; }
        int kp = KPad(K);
        if (AvxVnni.IsSupported && isa == Isa.AvxVnni && M == 1) { RowVnni(A, packedB, C, kp, N, activationsInA); return; }
        if (Avx512BW.IsSupported && isa == Isa.Avx512 && M == 1) { RowAvx512(A, packedB, C, kp, N); return; }
        if (Avx2.IsSupported && isa == Isa.Avx2 && M == 1) { RowAvx2(A, packedB, C, kp, N); return; }
        for (int p = 0, j0 = 0; j0 < N; p++, j0 += NR)
        {
            sbyte* b = packedB + (long)p * kp * NR;
            int w = Math.Min(NR, N - j0);
            int i = 0;
            switch (isa)
            {
                case Isa.AvxVnni: for (; i < M; i += 4) TileVnni(A + (long)i * lda, lda, b, C + (long)i * ldc + j0, ldc, kp, w, Math.Min(4, M - i), activationsInA); break;
                case Isa.Avx512: for (; i < M; i += 4) TileAvx512(A + (long)i * lda, lda, b, C + (long)i * ldc + j0, ldc, kp, w, Math.Min(4, M - i)); break;
                case Isa.Avx2: for (; i < M; i += 2) TileAvx2(A + (long)i * lda, lda, b, C + (long)i * ldc + j0, ldc, kp, w, Math.Min(2, M - i)); break;
                case Isa.ArmDp when M == 1: RowDp(A, b, C + j0, kp, w); break;
                case Isa.ArmNeon when M == 1: RowNeon(A, b, C + j0, kp, w); break;
                case Isa.ArmDp: for (; i < M; i += 4) TileDp(A + (long)i * lda, lda, b, C + (long)i * ldc + j0, ldc, kp, w, Math.Min(4, M - i)); break;
                case Isa.ArmNeon: for (; i < M; i += 2) TileNeon(A + (long)i * lda, lda, b, C + (long)i * ldc + j0, ldc, kp, w, Math.Min(2, M - i)); break;
                default: for (; i < M; i++) RowScalar(A + (long)i * lda, b, C + (long)i * ldc + j0, kp, w); break;
            }
        }
    }

    /// <summary>VNNI with the requantization fused into the tile store: no int32 round trip through memory.</summary>
    static void RunVnniFused(sbyte* A, int lda, sbyte* packedB, int M, int N, int K, bool actInA, ref Epilogue e)
    {
        if ((actInA ? e.ColBias : e.RowBias) == null) throw new ArgumentException(actInA ? "activations in A need per-column bias" : "weights in A need per-row bias");
        int kp = KPad(K);
        var tile = stackalloc int[4 * NR];
        int* padBias = stackalloc int[NR]; float* padMult = stackalloc float[NR];
        for (int p = 0, j0 = 0; j0 < N; p++, j0 += NR)
        {
            sbyte* b = packedB + (long)p * kp * NR;
            int w = Math.Min(NR, N - j0);
            if (actInA)   // channels-last pointwise and Dense: the channels are the columns
            {
                int* bias = e.ColBias + j0; float* mult = e.ColMult + j0;
                if (w < NR)   // the last, partial panel: its packed columns past w are zeros; bias and multipliers padded likewise
                {
                    for (int j = 0; j < NR; j++) { padBias[j] = j < w ? bias[j] : 0; padMult[j] = j < w ? mult[j] : 0f; }
                    bias = padBias; mult = padMult;
                }
                var shift = Vector256.Create(e.ShiftA ? (byte)0x80 : (byte)0);
                if (N - j0 >= 2 * NR && Avx512F.IsSupported)   // two whole panels: 3×32 tiles
                {
                    PanelVnni32Columns(A, lda, b, kp, M, bias, mult, e.Zp, e.Lo, e.Hi, e.Out + j0, e.Ldo, shift, !e.SaturationOnly);
                    p++; j0 += NR;
                    continue;
                }
                if (w == 8) PanelVnni8Columns(A, lda, b, kp, M, bias, mult, e.Zp, e.Lo, e.Hi, e.Out + j0, e.Ldo, shift, !e.SaturationOnly);   // 24, 56 channels: no wasted half panel
                else PanelVnniColumns(A, lda, b, kp, M, bias, mult, e.Zp, e.Lo, e.Hi, e.Out + j0, e.Ldo, w, shift, !e.SaturationOnly);
                continue;
            }
            for (int i = 0; i < M; i += 4)
            {
                int m = Math.Min(4, M - i);
                TileVnni(A + (long)i * lda, lda, b, tile, NR, kp, NR, m, actInA);
                for (int r = 0; r < m; r++)   // Conv (weights in A): the channels are the rows
                {
                    sbyte* o = e.Out + (long)(i + r) * e.Ldo + j0;
                    if (w == NR) Requant16(tile + r * NR, e.RowBias[i + r], e.RowMult[i + r], e.Zp, e.Lo, e.Hi, o);
                    else Requantize.Row(tile + r * NR, e.RowBias[i + r], e.RowMult[i + r], e.Zp, e.Lo, e.Hi, o, w);
                }
            }
        }
    }

    /// <summary>Sixteen accumulators of one output channel requantized in registers (the same operations as
    /// <see cref="Kernels.Int8.Requantize.Row"/>): no call and no loop per tile row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Requant16(int* acc, int bias, float m, int zp, int lo, int hi, sbyte* dst)
    {
        if (Avx512F.IsSupported)
        {
            var t = Avx512F.ConvertToVector512Single(Vector512.Load(acc) + Vector512.Create(bias)) * Vector512.Create(m);
            Requantize.Bounds512.Store(new Requantize.Bounds512(zp, lo, hi).Round(t), dst);
            return;
        }
        var q = new Requantize.Bounds256(zp, lo, hi); var vb = Vector256.Create(bias); var vm = Vector256.Create(m);
        Requantize.Store16(q.Round(Avx.ConvertToVector256Single(Vector256.Load(acc) + vb) * vm), q.Round(Avx.ConvertToVector256Single(Vector256.Load(acc + 8) + vb) * vm), dst);
    }

    /// <summary>
    /// One 16-column panel over all rows, in 4×16 VNNI tiles (activations in A) whose int32 sums are requantized in
    /// registers and stored as int8: the sums never go through memory (a store and reload per tile cost more than
    /// the tile's multiplies at small K). The accumulators start at the bias; the multipliers and bounds stay in
    /// registers across the panel, which matters at MobileNet's K of 16 to 32 where a tile is only 4 to 8 k-steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PanelVnniColumns(sbyte* a, int lda, sbyte* b, int kp, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, int w, Vector256<byte> shift, bool clamp)
    {
        var bias0 = Vector256.Load(bias); var bias1 = Vector256.Load(bias + 8);
        var vm = Avx512F.IsSupported ? Vector512.Load(mult) : default;
        var vlo = Vector512.Create((float)(lo - zp)); var vhi = Vector512.Create((float)(hi - zp)); var vz = Vector512.Create(zp);
        var m0 = Vector256.Load(mult); var m1 = Vector256.Load(mult + 8);
        var q = new Requantize.Bounds256(zp, lo, hi);
        sbyte* t = stackalloc sbyte[NR];   // a partial panel's row before its first w bytes are copied out
        for (int i = 0; i < rows; i += 4, a += 4 * lda, o += 4 * ldo)
        {
            int m = Math.Min(4, rows - i);
            sbyte* a0 = a, a1 = m > 1 ? a + lda : a, a2 = m > 2 ? a + 2 * lda : a, a3 = m > 3 ? a + 3 * lda : a;
            Vector256<int> c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1, c30 = bias0, c31 = bias1;
            sbyte* bk = b;
            for (int kq = 0; kq < kp; kq += 4, bk += 4 * NR)
            {
                var b0 = Vector256.Load((byte*)bk).AsSByte(); var b1 = Vector256.Load((byte*)bk + 32).AsSByte();
                var x0 = Vector256.Create(*(int*)(a0 + kq)).AsByte() ^ shift; var x1 = Vector256.Create(*(int*)(a1 + kq)).AsByte() ^ shift;
                var x2 = Vector256.Create(*(int*)(a2 + kq)).AsByte() ^ shift; var x3 = Vector256.Create(*(int*)(a3 + kq)).AsByte() ^ shift;
                c00 = AvxVnni.MultiplyWideningAndAdd(c00, x0, b0); c01 = AvxVnni.MultiplyWideningAndAdd(c01, x0, b1);
                c10 = AvxVnni.MultiplyWideningAndAdd(c10, x1, b0); c11 = AvxVnni.MultiplyWideningAndAdd(c11, x1, b1);
                c20 = AvxVnni.MultiplyWideningAndAdd(c20, x2, b0); c21 = AvxVnni.MultiplyWideningAndAdd(c21, x2, b1);
                c30 = AvxVnni.MultiplyWideningAndAdd(c30, x3, b0); c31 = AvxVnni.MultiplyWideningAndAdd(c31, x3, b1);
            }
            if (Avx512F.IsSupported)   // both halves as one 512-bit vector: convert, scale, clamp, round, VPMOVDB
            {
                Columns512(c00, c01, vm, vlo, vhi, vz, o, w, t, clamp);
                if (m > 1) Columns512(c10, c11, vm, vlo, vhi, vz, o + ldo, w, t, clamp);
                if (m > 2) Columns512(c20, c21, vm, vlo, vhi, vz, o + 2 * ldo, w, t, clamp);
                if (m > 3) Columns512(c30, c31, vm, vlo, vhi, vz, o + 3 * ldo, w, t, clamp);
                continue;
            }
            Columns256(c00, c01, m0, m1, q, o, w, t, clamp);
            if (m > 1) Columns256(c10, c11, m0, m1, q, o + ldo, w, t, clamp);
            if (m > 2) Columns256(c20, c21, m0, m1, q, o + 2 * ldo, w, t, clamp);
            if (m > 3) Columns256(c30, c31, m0, m1, q, o + 3 * ldo, w, t, clamp);
        }
    }

    /// <summary>
    /// Two whole panels (32 columns) over all rows in 3×32 tiles: twelve accumulator chains, which cover VPDPBUSD's
    /// latency (5 cycles at 2 per cycle) where the 4×16 tile's eight leave a fifth of the issue slots empty, and each
    /// broadcast (and XOR) of a row's four activations feeds four multiplies instead of two. Not 4×32: the JIT keeps
    /// VPDPBUSD's accumulator in ymm0-15 and copies one from ymm16-31 in and out around every multiply. Bias and
    /// multipliers are loaded per tile (L1 hits) so that the accumulators, not loop invariants, hold the low registers.
    /// The same sums as <see cref="PanelVnniColumns"/> on each panel, so the same bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PanelVnni32Columns(sbyte* a, int lda, sbyte* b, int kp, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, Vector256<byte> shift, bool clamp)
    {
        var vlo = Vector512.Create((float)(lo - zp)); var vhi = Vector512.Create((float)(hi - zp)); var vz = Vector512.Create(zp);
        sbyte* b2 = b + (long)kp * NR;   // the second panel
        for (int i = 0; i < rows; i += 3, a += 3 * lda, o += 3 * ldo)
        {
            int m = Math.Min(3, rows - i);
            sbyte* a0 = a, a1 = m > 1 ? a + lda : a, a2 = m > 2 ? a + 2 * lda : a;
            Vector256<int> c00 = Vector256.Load(bias), c01 = Vector256.Load(bias + 8), c02 = Vector256.Load(bias + 16), c03 = Vector256.Load(bias + 24);
            Vector256<int> c10 = c00, c11 = c01, c12 = c02, c13 = c03, c20 = c00, c21 = c01, c22 = c02, c23 = c03;
            sbyte* bk = b, bl = b2;
            for (int kq = 0; kq < kp; kq += 4, bk += 4 * NR, bl += 4 * NR)
            {
                var b0 = Vector256.Load((byte*)bk).AsSByte(); var b1 = Vector256.Load((byte*)bk + 32).AsSByte();
                var b2v = Vector256.Load((byte*)bl).AsSByte(); var b3 = Vector256.Load((byte*)bl + 32).AsSByte();
                var x = Vector256.Create(*(int*)(a0 + kq)).AsByte() ^ shift;
                c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, b0); c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, b1);
                c02 = AvxVnni.MultiplyWideningAndAdd(c02, x, b2v); c03 = AvxVnni.MultiplyWideningAndAdd(c03, x, b3);
                x = Vector256.Create(*(int*)(a1 + kq)).AsByte() ^ shift;
                c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, b0); c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, b1);
                c12 = AvxVnni.MultiplyWideningAndAdd(c12, x, b2v); c13 = AvxVnni.MultiplyWideningAndAdd(c13, x, b3);
                x = Vector256.Create(*(int*)(a2 + kq)).AsByte() ^ shift;
                c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, b0); c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, b1);
                c22 = AvxVnni.MultiplyWideningAndAdd(c22, x, b2v); c23 = AvxVnni.MultiplyWideningAndAdd(c23, x, b3);
            }
            var vm0 = Vector512.Load(mult); var vm1 = Vector512.Load(mult + 16);
            Columns512(c00, c01, vm0, vlo, vhi, vz, o, NR, null, clamp); Columns512(c02, c03, vm1, vlo, vhi, vz, o + NR, NR, null, clamp);
            if (m > 1) { Columns512(c10, c11, vm0, vlo, vhi, vz, o + ldo, NR, null, clamp); Columns512(c12, c13, vm1, vlo, vhi, vz, o + ldo + NR, NR, null, clamp); }
            if (m > 2) { Columns512(c20, c21, vm0, vlo, vhi, vz, o + 2 * ldo, NR, null, clamp); Columns512(c22, c23, vm1, vlo, vhi, vz, o + 2 * ldo + NR, NR, null, clamp); }
        }
    }

    /// <summary>
    /// A panel of exactly 8 columns (the last of 24 or 56 output channels): 8×8 tiles, one accumulator per row, so
    /// the empty half of the packed panel is never multiplied. Rows are requantized two at a time on AVX-512.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PanelVnni8Columns(sbyte* a, int lda, sbyte* b, int kp, int rows, int* bias, float* mult, int zp, int lo, int hi, sbyte* o, int ldo, Vector256<byte> shift, bool clamp)
    {
        var vb = Vector256.Load(bias); var m0 = Vector256.Load(mult);
        var vm = Vector512.Create(m0, m0);
        var vlo = Vector512.Create((float)(lo - zp)); var vhi = Vector512.Create((float)(hi - zp)); var vz = Vector512.Create(zp);
        var q = new Requantize.Bounds256(zp, lo, hi);
        for (int i = 0; i < rows; i += 8, a += 8 * lda, o += 8 * ldo)
        {
            int m = Math.Min(8, rows - i);
            sbyte* a0 = a, a1 = m > 1 ? a + lda : a, a2 = m > 2 ? a + 2 * lda : a, a3 = m > 3 ? a + 3 * lda : a;
            sbyte* a4 = m > 4 ? a + 4 * lda : a, a5 = m > 5 ? a + 5 * lda : a, a6 = m > 6 ? a + 6 * lda : a, a7 = m > 7 ? a + 7 * lda : a;
            Vector256<int> c0 = vb, c1 = vb, c2 = vb, c3 = vb, c4 = vb, c5 = vb, c6 = vb, c7 = vb;
            sbyte* bk = b;
            for (int kq = 0; kq < kp; kq += 4, bk += 4 * NR)
            {
                var b0 = Vector256.Load((byte*)bk).AsSByte();
                c0 = AvxVnni.MultiplyWideningAndAdd(c0, Vector256.Create(*(int*)(a0 + kq)).AsByte() ^ shift, b0);
                c1 = AvxVnni.MultiplyWideningAndAdd(c1, Vector256.Create(*(int*)(a1 + kq)).AsByte() ^ shift, b0);
                c2 = AvxVnni.MultiplyWideningAndAdd(c2, Vector256.Create(*(int*)(a2 + kq)).AsByte() ^ shift, b0);
                c3 = AvxVnni.MultiplyWideningAndAdd(c3, Vector256.Create(*(int*)(a3 + kq)).AsByte() ^ shift, b0);
                c4 = AvxVnni.MultiplyWideningAndAdd(c4, Vector256.Create(*(int*)(a4 + kq)).AsByte() ^ shift, b0);
                c5 = AvxVnni.MultiplyWideningAndAdd(c5, Vector256.Create(*(int*)(a5 + kq)).AsByte() ^ shift, b0);
                c6 = AvxVnni.MultiplyWideningAndAdd(c6, Vector256.Create(*(int*)(a6 + kq)).AsByte() ^ shift, b0);
                c7 = AvxVnni.MultiplyWideningAndAdd(c7, Vector256.Create(*(int*)(a7 + kq)).AsByte() ^ shift, b0);
            }
            if (Avx512F.IsSupported && m == 8)   // two rows per 512-bit vector: VPMOVDB gives row r in bytes 0-7, row r+1 in 8-15
            {
                TwoRows512(c0, c1, vm, vlo, vhi, vz, o, ldo, clamp); TwoRows512(c2, c3, vm, vlo, vhi, vz, o + 2 * ldo, ldo, clamp);
                TwoRows512(c4, c5, vm, vlo, vhi, vz, o + 4 * ldo, ldo, clamp); TwoRows512(c6, c7, vm, vlo, vhi, vz, o + 6 * ldo, ldo, clamp);
                continue;
            }
            Requantize.Store8(q.Round(Avx.ConvertToVector256Single(c0) * m0), o);
            if (m > 1) Requantize.Store8(q.Round(Avx.ConvertToVector256Single(c1) * m0), o + ldo);
            if (m > 2) Requantize.Store8(q.Round(Avx.ConvertToVector256Single(c2) * m0), o + 2 * ldo);
            if (m > 3) Requantize.Store8(q.Round(Avx.ConvertToVector256Single(c3) * m0), o + 3 * ldo);
            if (m > 4) Requantize.Store8(q.Round(Avx.ConvertToVector256Single(c4) * m0), o + 4 * ldo);
            if (m > 5) Requantize.Store8(q.Round(Avx.ConvertToVector256Single(c5) * m0), o + 5 * ldo);
            if (m > 6) Requantize.Store8(q.Round(Avx.ConvertToVector256Single(c6) * m0), o + 6 * ldo);
            if (m > 7) Requantize.Store8(q.Round(Avx.ConvertToVector256Single(c7) * m0), o + 7 * ldo);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void TwoRows512(Vector256<int> r0, Vector256<int> r1, Vector512<float> m, Vector512<float> lo, Vector512<float> hi, Vector512<int> zp, sbyte* dst, int ldo, bool clamp)
    {
        var t = Avx512F.ConvertToVector512Single(Avx512F.InsertVector256(r0.ToVector512Unsafe(), r1, 1)) * m;
        if (clamp) t = Avx512F.Max(lo, Avx512F.Min(t, hi));
        var q = Avx512F.ConvertToVector128SByteWithSaturation(Avx512F.ConvertToVector512Int32(t) + zp).AsInt64();
        *(long*)dst = q.ToScalar();
        *(long*)(dst + ldo) = q.GetElement(1);
    }

    /// <summary>The AVX2 form of <see cref="Columns512"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Columns256(Vector256<int> c0, Vector256<int> c1, Vector256<float> m0, Vector256<float> m1, Requantize.Bounds256 q, sbyte* dst, int w, sbyte* t, bool clamp)
    {
        var t0 = Avx.ConvertToVector256Single(c0) * m0; var t1 = Avx.ConvertToVector256Single(c1) * m1;
        var (q0, q1) = clamp ? (q.Round(t0), q.Round(t1)) : (q.RoundUnclamped(t0), q.RoundUnclamped(t1));   // else the packs' saturation clamps
        if (w == NR) { Requantize.Store16(q0, q1, dst); return; }
        Requantize.Store16(q0, q1, t);
        StoreFirst(t, dst, w);
    }

    /// <summary>The first w of 16 requantized bytes (a partial panel): 8 at once where they are a whole half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreFirst(sbyte* t, sbyte* dst, int w)
    {
        int j = 0;
        if (w >= 8) { *(long*)dst = *(long*)t; j = 8; }
        for (; j < w; j++) dst[j] = t[j];
    }

    /// <summary>Accumulators (bias included) of columns 0-7 and 8-15 → 16 int8, as one 512-bit vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Columns512(Vector256<int> c0, Vector256<int> c1, Vector512<float> m, Vector512<float> lo, Vector512<float> hi, Vector512<int> zp, sbyte* dst, int w, sbyte* s, bool clamp = true) =>
        StoreColumns512(Avx512F.InsertVector256(c0.ToVector512Unsafe(), c1, 1), m, lo, hi, zp, dst, w, s, clamp);

    /// <summary>Accumulators (bias included) of 16 columns → 16 int8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreColumns512(Vector512<int> c, Vector512<float> m, Vector512<float> lo, Vector512<float> hi, Vector512<int> zp, sbyte* dst, int w, sbyte* s, bool clamp)
    {
        var t = Avx512F.ConvertToVector512Single(c) * m;
        if (clamp) t = Avx512F.Max(lo, Avx512F.Min(t, hi));   // otherwise the saturating narrow is the clamp (SaturationClamps)
        var q = Avx512F.ConvertToVector128SByteWithSaturation(Avx512F.ConvertToVector512Int32(t) + zp);
        if (w == NR) { q.Store(dst); return; }
        q.Store(s);
        StoreFirst(s, dst, w);
    }

    static void RowScalar(sbyte* a, sbyte* b, int* c, int kp, int w)
    {
        for (int j = 0; j < w; j++)
        {
            int s = 0;
            for (int kq = 0; kq < kp; kq += 4)
                for (int t = 0; t < 4; t++) s += a[kq + t] * b[kq * NR + j * 4 + t];
            c[j] = s;
        }
    }

    /// <summary>One row (batch-1 recurrent steps and Dense): four accumulator chains instead of a 4-row tile's wasted
    /// rows, every panel in one call (a panel is only kp/4 VPDPBUSD pairs: NativeAOT, without the JIT's profile to
    /// inline a per-panel call, spent a call and a prologue on each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RowVnni(sbyte* a, sbyte* packedB, int* c, int kp, int N, bool actInA)
    {
        for (int j0 = 0; j0 < N; j0 += NR) RowVnniPanel(a, packedB + (long)j0 * kp, c + j0, kp, Math.Min(NR, N - j0), actInA);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void RowVnniPanel(sbyte* a, sbyte* b, int* c, int kp, int w, bool actInA)
    {
        Vector256<int> p0 = default, p1 = default, q0 = default, q1 = default;
        int kq = 0;
        for (; kq + 8 <= kp; kq += 8, b += 8 * NR)
        {
            var x = Vector256.Create(*(int*)(a + kq)).AsByte(); var y = Vector256.Create(*(int*)(a + kq + 4)).AsByte();
            var b0 = Vector256.Load((byte*)b); var b1 = Vector256.Load((byte*)b + 32); var b2 = Vector256.Load((byte*)b + 4 * NR); var b3 = Vector256.Load((byte*)b + 4 * NR + 32);
            if (actInA)
            {
                p0 = AvxVnni.MultiplyWideningAndAdd(p0, x, b0.AsSByte()); p1 = AvxVnni.MultiplyWideningAndAdd(p1, x, b1.AsSByte());
                q0 = AvxVnni.MultiplyWideningAndAdd(q0, y, b2.AsSByte()); q1 = AvxVnni.MultiplyWideningAndAdd(q1, y, b3.AsSByte());
            }
            else
            {
                p0 = AvxVnni.MultiplyWideningAndAdd(p0, b0, x.AsSByte()); p1 = AvxVnni.MultiplyWideningAndAdd(p1, b1, x.AsSByte());
                q0 = AvxVnni.MultiplyWideningAndAdd(q0, b2, y.AsSByte()); q1 = AvxVnni.MultiplyWideningAndAdd(q1, b3, y.AsSByte());
            }
        }
        if (kq < kp)
        {
            var x = Vector256.Create(*(int*)(a + kq)).AsByte();
            var b0 = Vector256.Load((byte*)b); var b1 = Vector256.Load((byte*)b + 32);
            if (actInA) { p0 = AvxVnni.MultiplyWideningAndAdd(p0, x, b0.AsSByte()); p1 = AvxVnni.MultiplyWideningAndAdd(p1, x, b1.AsSByte()); }
            else { p0 = AvxVnni.MultiplyWideningAndAdd(p0, b0, x.AsSByte()); p1 = AvxVnni.MultiplyWideningAndAdd(p1, b1, x.AsSByte()); }
        }
        Store(c, p0 + q0, p1 + q1, w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileVnni(sbyte* a, int lda, sbyte* b, int* c, int ldc, int kp, int w, int m, bool actInA)
    {
        sbyte* a0 = a, a1 = m > 1 ? a + lda : a, a2 = m > 2 ? a + 2 * lda : a, a3 = m > 3 ? a + 3 * lda : a;
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int kq = 0; kq < kp; kq += 4, b += 4 * NR)
        {
            var b0 = Vector256.Load((byte*)b); var b1 = Vector256.Load((byte*)b + 32);
            var x0 = Vector256.Create(*(int*)(a0 + kq)).AsByte(); var x1 = Vector256.Create(*(int*)(a1 + kq)).AsByte();
            var x2 = Vector256.Create(*(int*)(a2 + kq)).AsByte(); var x3 = Vector256.Create(*(int*)(a3 + kq)).AsByte();
            if (actInA)
            {
                c00 = AvxVnni.MultiplyWideningAndAdd(c00, x0, b0.AsSByte()); c01 = AvxVnni.MultiplyWideningAndAdd(c01, x0, b1.AsSByte());
                c10 = AvxVnni.MultiplyWideningAndAdd(c10, x1, b0.AsSByte()); c11 = AvxVnni.MultiplyWideningAndAdd(c11, x1, b1.AsSByte());
                c20 = AvxVnni.MultiplyWideningAndAdd(c20, x2, b0.AsSByte()); c21 = AvxVnni.MultiplyWideningAndAdd(c21, x2, b1.AsSByte());
                c30 = AvxVnni.MultiplyWideningAndAdd(c30, x3, b0.AsSByte()); c31 = AvxVnni.MultiplyWideningAndAdd(c31, x3, b1.AsSByte());
            }
            else
            {
                c00 = AvxVnni.MultiplyWideningAndAdd(c00, b0, x0.AsSByte()); c01 = AvxVnni.MultiplyWideningAndAdd(c01, b1, x0.AsSByte());
                c10 = AvxVnni.MultiplyWideningAndAdd(c10, b0, x1.AsSByte()); c11 = AvxVnni.MultiplyWideningAndAdd(c11, b1, x1.AsSByte());
                c20 = AvxVnni.MultiplyWideningAndAdd(c20, b0, x2.AsSByte()); c21 = AvxVnni.MultiplyWideningAndAdd(c21, b1, x2.AsSByte());
                c30 = AvxVnni.MultiplyWideningAndAdd(c30, b0, x3.AsSByte()); c31 = AvxVnni.MultiplyWideningAndAdd(c31, b1, x3.AsSByte());
            }
        }
        Store(c, c00, c01, w);
        if (m > 1) Store(c + ldc, c10, c11, w);
        if (m > 2) Store(c + 2 * ldc, c20, c21, w);
        if (m > 3) Store(c + 3 * ldc, c30, c31, w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(int* c, Vector256<int> v0, Vector256<int> v1, int w)
    {
        if (w == NR) { v0.Store(c); v1.Store(c + 8); return; }
        for (int j = 0; j < w; j++) c[j] = j < 8 ? v0.GetElement(j) : v1.GetElement(j - 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileDp(sbyte* a, int lda, sbyte* b, int* c, int ldc, int kp, int w, int m)
    {
        sbyte* a0 = a, a1 = m > 1 ? a + lda : a, a2 = m > 2 ? a + 2 * lda : a, a3 = m > 3 ? a + 3 * lda : a;
        Vector128<int> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default,
                       c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int kq = 0; kq < kp; kq += 4, b += 4 * NR)
        {
            var b0 = Vector128.Load(b); var b1 = Vector128.Load(b + 16); var b2 = Vector128.Load(b + 32); var b3 = Vector128.Load(b + 48);
            var x = Vector128.Create(*(int*)(a0 + kq)).AsSByte();
            c00 = Dp.DotProduct(c00, b0, x); c01 = Dp.DotProduct(c01, b1, x); c02 = Dp.DotProduct(c02, b2, x); c03 = Dp.DotProduct(c03, b3, x);
            x = Vector128.Create(*(int*)(a1 + kq)).AsSByte();
            c10 = Dp.DotProduct(c10, b0, x); c11 = Dp.DotProduct(c11, b1, x); c12 = Dp.DotProduct(c12, b2, x); c13 = Dp.DotProduct(c13, b3, x);
            x = Vector128.Create(*(int*)(a2 + kq)).AsSByte();
            c20 = Dp.DotProduct(c20, b0, x); c21 = Dp.DotProduct(c21, b1, x); c22 = Dp.DotProduct(c22, b2, x); c23 = Dp.DotProduct(c23, b3, x);
            x = Vector128.Create(*(int*)(a3 + kq)).AsSByte();
            c30 = Dp.DotProduct(c30, b0, x); c31 = Dp.DotProduct(c31, b1, x); c32 = Dp.DotProduct(c32, b2, x); c33 = Dp.DotProduct(c33, b3, x);
        }
        Store4(c, c00, c01, c02, c03, w);
        if (m > 1) Store4(c + ldc, c10, c11, c12, c13, w);
        if (m > 2) Store4(c + 2 * ldc, c20, c21, c22, c23, w);
        if (m > 3) Store4(c + 3 * ldc, c30, c31, c32, c33, w);
    }

    /// <summary>Inlined: a call after the tile loop, with the 16 accumulators live across it, made RyuJIT arm64 spill
    /// the half of them in v8-v15 and above to the stack inside the k loop (AAPCS64 saves only their lower halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store4(int* c, Vector128<int> v0, Vector128<int> v1, Vector128<int> v2, Vector128<int> v3, int w)
    {
        if (w == NR) { v0.Store(c); v1.Store(c + 4); v2.Store(c + 8); v3.Store(c + 12); return; }
        for (int j = 0; j < w; j++) c[j] = ((j >> 2) switch { 0 => v0, 1 => v1, 2 => v2, _ => v3 }).GetElement(j & 3);
    }

    /// <summary>arm64 without Dp (Pi 4): SMULL/SMULL2 give int16 products (|p| ≤ 2^14), SADALP adds pairs into int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileNeon(sbyte* a, int lda, sbyte* b, int* c, int ldc, int kp, int w, int m)
    {
        sbyte* a0 = a, a1 = m > 1 ? a + lda : a;
        Vector128<int> p0 = default, p1 = default, p2 = default, p3 = default, p4 = default, p5 = default, p6 = default, p7 = default;
        Vector128<int> q0 = default, q1 = default, q2 = default, q3 = default, q4 = default, q5 = default, q6 = default, q7 = default;
        for (int kq = 0; kq < kp; kq += 4, b += 4 * NR)
        {
            var b0 = Vector128.Load(b); var b1 = Vector128.Load(b + 16); var b2 = Vector128.Load(b + 32); var b3 = Vector128.Load(b + 48);
            var x = Vector128.Create(*(int*)(a0 + kq)).AsSByte(); var xl = x.GetLower();
            p0 = AdvSimd.AddPairwiseWideningAndAdd(p0, AdvSimd.MultiplyWideningLower(b0.GetLower(), xl)); p1 = AdvSimd.AddPairwiseWideningAndAdd(p1, AdvSimd.MultiplyWideningUpper(b0, x));
            p2 = AdvSimd.AddPairwiseWideningAndAdd(p2, AdvSimd.MultiplyWideningLower(b1.GetLower(), xl)); p3 = AdvSimd.AddPairwiseWideningAndAdd(p3, AdvSimd.MultiplyWideningUpper(b1, x));
            p4 = AdvSimd.AddPairwiseWideningAndAdd(p4, AdvSimd.MultiplyWideningLower(b2.GetLower(), xl)); p5 = AdvSimd.AddPairwiseWideningAndAdd(p5, AdvSimd.MultiplyWideningUpper(b2, x));
            p6 = AdvSimd.AddPairwiseWideningAndAdd(p6, AdvSimd.MultiplyWideningLower(b3.GetLower(), xl)); p7 = AdvSimd.AddPairwiseWideningAndAdd(p7, AdvSimd.MultiplyWideningUpper(b3, x));
            x = Vector128.Create(*(int*)(a1 + kq)).AsSByte(); xl = x.GetLower();
            q0 = AdvSimd.AddPairwiseWideningAndAdd(q0, AdvSimd.MultiplyWideningLower(b0.GetLower(), xl)); q1 = AdvSimd.AddPairwiseWideningAndAdd(q1, AdvSimd.MultiplyWideningUpper(b0, x));
            q2 = AdvSimd.AddPairwiseWideningAndAdd(q2, AdvSimd.MultiplyWideningLower(b1.GetLower(), xl)); q3 = AdvSimd.AddPairwiseWideningAndAdd(q3, AdvSimd.MultiplyWideningUpper(b1, x));
            q4 = AdvSimd.AddPairwiseWideningAndAdd(q4, AdvSimd.MultiplyWideningLower(b2.GetLower(), xl)); q5 = AdvSimd.AddPairwiseWideningAndAdd(q5, AdvSimd.MultiplyWideningUpper(b2, x));
            q6 = AdvSimd.AddPairwiseWideningAndAdd(q6, AdvSimd.MultiplyWideningLower(b3.GetLower(), xl)); q7 = AdvSimd.AddPairwiseWideningAndAdd(q7, AdvSimd.MultiplyWideningUpper(b3, x));
        }
        StoreNeon(c, p0, p1, p2, p3, p4, p5, p6, p7, w);
        if (m > 1) StoreNeon(c + ldc, q0, q1, q2, q3, q4, q5, q6, q7, w);
    }

    /// <summary>Vector 2g holds columns 4g, 4g+1 (two partials each), vector 2g+1 columns 4g+2, 4g+3: ADDP sums the
    /// partials into columns 4g..4g+3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreNeon(int* c, Vector128<int> v0, Vector128<int> v1, Vector128<int> v2, Vector128<int> v3, Vector128<int> v4, Vector128<int> v5, Vector128<int> v6, Vector128<int> v7, int w) =>
        Store4(c, AdvSimd.Arm64.AddPairwise(v0, v1), AdvSimd.Arm64.AddPairwise(v2, v3), AdvSimd.Arm64.AddPairwise(v4, v5), AdvSimd.Arm64.AddPairwise(v6, v7), w);
}
