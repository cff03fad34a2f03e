using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Int8;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// An int8 convolution with few input channels (a network's first layer: 3 colour planes, 3×3, stride 2) on AVX-VNNI,
/// NCHW in, channels-last out, as an implicit GEMM. The input is first packed channels-last with the channels padded
/// to 4 and a border of the zero-point code, shifted to u8 (<see cref="PackInput"/>): then the 4 channels of one input
/// pixel are one dword, one VPDPBUSD operand, and a window is KH rows of KW·4 contiguous bytes, with no border tests.
/// Weights are packed as <see cref="GemmInt8"/> panels of 16 output channels over k = (kh, kw, c4); the epilogue is
/// the pointwise GEMM's (bias in the accumulators, per-channel requantization in registers). Every sum is the exact
/// int32 of the reference, so the bytes are the reference's.
/// On arm64 the same packed input (signed codes, no shift) is cut into GEMM rows, one per output pixel, KH copies of
/// KW·4 contiguous bytes (<see cref="Im2Col"/>), and the fused SDOT / SMLAL GEMM of the pointwise layers runs on them.
/// </summary>
internal static unsafe class DirectConvInt8Nhwc
{
    const int NR = GemmInt8.NR;

    /// <summary>Channels padded to a multiple of 4 (a dword per pixel).</summary>
    public static int C4(int c) => (c + 3) & ~3;

    /// <summary>The padded input: rows and columns every window reads.</summary>
    public static (int Hp, int Wp) PaddedSize(in ConvGeometry g) =>
        ((g.OH - 1) * g.StrideH + (g.KH - 1) * g.DilationH + 1, (g.OW - 1) * g.StrideW + (g.KW - 1) * g.DilationW + 1);

    /// <summary>Weights [OC, C, KH, KW] → panels over k = ((kh·KW + kw)·C4 + c), zeros for the padded channels;
    /// <paramref name="mlal"/>: in <see cref="GemmInt8.PackMlal"/>'s layout (the A72 GEMM) instead of the SDOT one.</summary>
    public static void PackWeights(ReadOnlySpan<sbyte> w, in ConvGeometry g, sbyte* dst, bool mlal = false)
    {
        int c4 = C4(g.C), K = g.KH * g.KW * c4;
        var wk = new sbyte[K * g.OC];
        for (int o = 0; o < g.OC; o++)
            for (int c = 0; c < g.C; c++)
                for (int kh = 0; kh < g.KH; kh++)
                    for (int kw = 0; kw < g.KW; kw++)
                        wk[((kh * g.KW + kw) * c4 + c) * g.OC + o] = w[((o * g.C + c) * g.KH + kh) * g.KW + kw];
        fixed (sbyte* p = wk)
            if (mlal) GemmInt8.PackMlal(p, g.OC, 1, K, g.OC, dst);
            else GemmInt8.Pack(p, g.OC, 1, K, g.OC, dst, shift: false);
    }

    public static long PackedWeightBytes(in ConvGeometry g, bool mlal = false) =>
        mlal ? GemmInt8.PackedBytesMlal(K(g), g.OC) : GemmInt8.PackedBytes(K(g), g.OC);

    /// <summary>x [C, H, W] int8 → [Hp, Wp, C4] u8 (x + 128; <paramref name="flip"/> 0: the int8 codes as they are),
    /// the window origin at (PadTop, PadLeft); outside the image and in the padded channels, the zero point's code (a
    /// real 0; the padded channels' weights are 0 anyway).</summary>
    public static void PackInput(sbyte* x, in ConvGeometry g, int zx, byte* dst, byte flip = 0x80)
    {
        var (hp, wp) = PaddedSize(g);
        int c4 = C4(g.C), H = g.H, W = g.W, C = g.C;
        byte z = (byte)(zx ^ flip);
        new Span<byte>(dst, hp * wp * c4).Fill(z);
        for (int r = 0; r < hp; r++)
        {
            int ih = r - g.PadTop;
            if ((uint)ih >= (uint)H) continue;
            int n = Math.Min(W, wp - g.PadLeft);   // image columns that some window reads
            if (n <= 0) continue;
            byte* d = dst + ((long)r * wp + g.PadLeft) * c4;
            sbyte* s0 = x + (long)ih * W;
            int i = 0;
            if (C == 3 && c4 == 4 && Sse2.IsSupported)   // RGB: three planes and the zero point interleaved, 16 pixels at a time
            {
                var fv = Vector128.Create(flip); var zv = Vector128.Create(z);
                long plane = (long)H * W;
                for (; i + 16 <= n; i += 16)
                {
                    var a = Sse2.Xor(Vector128.Load((byte*)(s0 + i)), fv); var b = Sse2.Xor(Vector128.Load((byte*)(s0 + plane + i)), fv);
                    var c = Sse2.Xor(Vector128.Load((byte*)(s0 + 2 * plane + i)), fv);
                    var abLo = Sse2.UnpackLow(a, b).AsUInt16(); var abHi = Sse2.UnpackHigh(a, b).AsUInt16();
                    var czLo = Sse2.UnpackLow(c, zv).AsUInt16(); var czHi = Sse2.UnpackHigh(c, zv).AsUInt16();
                    byte* o = d + (long)i * 4;
                    Sse2.UnpackLow(abLo, czLo).AsByte().Store(o); Sse2.UnpackHigh(abLo, czLo).AsByte().Store(o + 16);
                    Sse2.UnpackLow(abHi, czHi).AsByte().Store(o + 32); Sse2.UnpackHigh(abHi, czHi).AsByte().Store(o + 48);
                }
            }
            else if (C == 3 && c4 == 4 && AdvSimd.Arm64.IsSupported)   // the same with NEON's byte zips
            {
                var fv = Vector128.Create(flip); var zv = Vector128.Create(z);
                long plane = (long)H * W;
                for (; i + 16 <= n; i += 16)
                {
                    var a = Vector128.Load((byte*)(s0 + i)) ^ fv; var b = Vector128.Load((byte*)(s0 + plane + i)) ^ fv;
                    var c = Vector128.Load((byte*)(s0 + 2 * plane + i)) ^ fv;
                    var abLo = AdvSimd.Arm64.ZipLow(a, b).AsUInt16(); var abHi = AdvSimd.Arm64.ZipHigh(a, b).AsUInt16();
                    var czLo = AdvSimd.Arm64.ZipLow(c, zv).AsUInt16(); var czHi = AdvSimd.Arm64.ZipHigh(c, zv).AsUInt16();
                    byte* o = d + (long)i * 4;
                    AdvSimd.Arm64.ZipLow(abLo, czLo).AsByte().Store(o); AdvSimd.Arm64.ZipHigh(abLo, czLo).AsByte().Store(o + 16);
                    AdvSimd.Arm64.ZipLow(abHi, czHi).AsByte().Store(o + 32); AdvSimd.Arm64.ZipHigh(abHi, czHi).AsByte().Store(o + 48);
                }
            }
            for (; i < n; i++)
                for (int c = 0; c < C; c++) d[(long)i * c4 + c] = (byte)((byte)s0[(long)c * H * W + i] ^ flip);
        }
    }

    /// <summary>The bytes <see cref="PackInput"/> writes, plus the 16 that <see cref="Im2Col"/>'s last copy may read past them.</summary>
    public static long PackedInputBytes(in ConvGeometry g) { var (hp, wp) = PaddedSize(g); return (long)hp * wp * C4(g.C) + 16; }

    /// <summary>The GEMM's K: KH·KW·C4.</summary>
    public static int K(in ConvGeometry g) => g.KH * g.KW * C4(g.C);

    /// <summary>The row stride of <see cref="Im2Col"/>'s rows: K plus room for the last 16-byte copy's overrun, so that
    /// a row's copies never touch the next row (threads write neighbouring rows).</summary>
    public static int Im2ColStride(in ConvGeometry g) { int seg = g.KW * C4(g.C); return K(g) + ((seg + 15) & ~15) - seg; }

    /// <summary>GEMM rows (k = (kh·KW + kw)·C4 + c, the order of <see cref="PackWeights"/>) of output pixels oh0·OW ..
    /// oh1·OW from the packed input, written to a (row stride <see cref="Im2ColStride"/>) from its first row. A window
    /// row is KW·C4 contiguous bytes (dilation 1), copied 16 at a time; a copy's overrun lands where the next copy of
    /// the row writes, or in the row's slack.</summary>
    public static void Im2Col(byte* xp, in ConvGeometry g, int oh0, int oh1, sbyte* a)
    {
        var (_, wp) = PaddedSize(g);
        int c4 = C4(g.C), KH = g.KH, KW = g.KW, seg = KW * c4, lda = Im2ColStride(g);
        long rowBytes = (long)wp * c4, tapRow = g.DilationH * rowBytes, colStep = (long)g.StrideW * c4, tapCol = (long)g.DilationW * c4;
        if (g.DilationW == 1 && seg <= 16 && KH == 3)
        {
            // A stem of up to 4 channels (MobileNet's 3×3 over RGB: window rows of 12 bytes): the three copies of a pixel
            // straight, the geometry in locals (the general loops below cost ~65 arm64 instructions a pixel, this 11).
            // The same bytes: each copy's overrun is overwritten by the next, the last one's lands in the row's slack.
            long tapRow2 = 2 * tapRow, ld = lda;
            int OW = g.OW, sh = g.StrideH;
            for (int oh = oh0; oh < oh1; oh++)
            {
                byte* s = xp + (long)oh * sh * rowBytes;
                for (sbyte* end = a + OW * ld; a < end; a += ld, s += colStep)
                {
                    Vector128.Store(Vector128.Load(s), (byte*)a);
                    Vector128.Store(Vector128.Load(s + tapRow), (byte*)a + seg);
                    Vector128.Store(Vector128.Load(s + tapRow2), (byte*)a + 2 * seg);
                }
            }
            return;
        }
        for (int oh = oh0; oh < oh1; oh++)
        {
            byte* row = xp + (long)oh * g.StrideH * rowBytes;
            for (int ow = 0; ow < g.OW; ow++, a += lda)
            {
                byte* s = row + ow * colStep;
                if (g.DilationW == 1)
                    for (int kh = 0; kh < KH; kh++, s += tapRow)
                        for (int i = 0; i < seg; i += 16) Vector128.Store(Vector128.Load(s + i), (byte*)a + kh * seg + i);
                else
                    for (int kh = 0; kh < KH; kh++)
                        for (int kw = 0; kw < KW; kw++)
                            for (int c = 0; c < c4; c += 4) *(int*)(a + (kh * KW + kw) * c4 + c) = *(int*)(s + kh * tapRow + kw * tapCol + c);
            }
        }
    }

    /// <summary>Output rows oh0..oh1 of y [OH, OW, OC] int8 from the packed input; bias (zero point folded, +128 shift
    /// subtracted) and multipliers per output channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(byte* xp, sbyte* packedW, int* bias, float* mult, sbyte* y, in ConvGeometry g, int zp, int lo, int hi, int oh0, int oh1, bool clamp = true)
    {
        var (_, wp) = PaddedSize(g);
        int c4 = C4(g.C), OW = g.OW, OC = g.OC, KH = g.KH, KW = g.KW, kq = KH * KW * c4, sw = g.StrideW;
        long rowBytes = (long)wp * c4, colStep = (long)sw * c4, tapRow = g.DilationH * rowBytes, tapCol = (long)g.DilationW * c4;
        sbyte* t = stackalloc sbyte[NR];
        for (int p = 0; p * NR < OC; p++)
        {
            int j0 = p * NR;
            sbyte* b = packedW + (long)p * kq * NR;
            var bias0 = Vector256.Load(bias + j0); var bias1 = Vector256.Load(bias + j0 + 8);
            var vm = Avx512F.IsSupported ? Vector512.Load(mult + j0) : default;
            var vlo = Vector512.Create((float)(lo - zp)); var vhi = Vector512.Create((float)(hi - zp)); var vz = Vector512.Create(zp);
            var m0 = Vector256.Load(mult + j0); var m1 = Vector256.Load(mult + j0 + 8);
            var q = new Requantize.Bounds256(zp, lo, hi);
            for (int oh = oh0; oh < oh1; oh++)
            {
                byte* row = xp + (long)oh * g.StrideH * rowBytes;
                sbyte* yr = y + (long)oh * OW * OC + j0;
                for (int ow = 0; ow < OW; ow += 4)
                {
                    int m = Math.Min(4, OW - ow);
                    byte* x0 = row + ow * colStep, x1 = m > 1 ? x0 + colStep : x0, x2 = m > 2 ? x0 + 2 * colStep : x0, x3 = m > 3 ? x0 + 3 * colStep : x0;
                    Vector256<int> c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1, c30 = bias0, c31 = bias1;
                    sbyte* bk = b;
                    for (int kh = 0; kh < KH; kh++)
                        for (int kw = 0; kw < KW; kw++)
                        {
                            long off = kh * tapRow + kw * tapCol;
                            for (int c = 0; c < c4; c += 4, bk += 4 * NR)
                            {
                                var w0 = Vector256.Load(bk); var w1 = Vector256.Load(bk + 32);
                                var a0 = Vector256.Create(*(int*)(x0 + off + c)).AsByte(); var a1 = Vector256.Create(*(int*)(x1 + off + c)).AsByte();
                                var a2 = Vector256.Create(*(int*)(x2 + off + c)).AsByte(); var a3 = Vector256.Create(*(int*)(x3 + off + c)).AsByte();
                                c00 = AvxVnni.MultiplyWideningAndAdd(c00, a0, w0); c01 = AvxVnni.MultiplyWideningAndAdd(c01, a0, w1);
                                c10 = AvxVnni.MultiplyWideningAndAdd(c10, a1, w0); c11 = AvxVnni.MultiplyWideningAndAdd(c11, a1, w1);
                                c20 = AvxVnni.MultiplyWideningAndAdd(c20, a2, w0); c21 = AvxVnni.MultiplyWideningAndAdd(c21, a2, w1);
                                c30 = AvxVnni.MultiplyWideningAndAdd(c30, a3, w0); c31 = AvxVnni.MultiplyWideningAndAdd(c31, a3, w1);
                            }
                        }
                    sbyte* o = yr + (long)ow * OC;
                    if (Avx512F.IsSupported)
                    {
                        GemmInt8.Columns512(c00, c01, vm, vlo, vhi, vz, o, NR, t, clamp);
                        if (m > 1) GemmInt8.Columns512(c10, c11, vm, vlo, vhi, vz, o + OC, NR, t, clamp);
                        if (m > 2) GemmInt8.Columns512(c20, c21, vm, vlo, vhi, vz, o + 2 * OC, NR, t, clamp);
                        if (m > 3) GemmInt8.Columns512(c30, c31, vm, vlo, vhi, vz, o + 3 * OC, NR, t, clamp);
                        continue;
                    }
                    GemmInt8.Columns256(c00, c01, m0, m1, q, o, NR, t, clamp);
                    if (m > 1) GemmInt8.Columns256(c10, c11, m0, m1, q, o + OC, NR, t, clamp);
                    if (m > 2) GemmInt8.Columns256(c20, c21, m0, m1, q, o + 2 * OC, NR, t, clamp);
                    if (m > 3) GemmInt8.Columns256(c30, c31, m0, m1, q, o + 3 * OC, NR, t, clamp);
                }
            }
        }
    }
}
