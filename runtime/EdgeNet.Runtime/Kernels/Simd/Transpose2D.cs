using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeNet.Kernels.Simd;

/// <summary>dst [cols, rows] = src [rows, cols]ᵀ in 8×8 blocks, so both sides stay in cache lines (NCHW ↔ NHWC per image).
/// fp32 blocks move as 4×4 register transposes (NEON ZIP1/ZIP2, SSE UNPCKLPS/UNPCKHPS): four loads, eight
/// shuffles and four stores per 16 floats instead of a scalar load and store each.</summary>
internal static unsafe class Transpose2D
{
    static bool Vectors => AdvSimd.Arm64.IsSupported || Sse.IsSupported;

    public static void Run(float* src, int rows, int cols, float* dst) => Run(src, rows, cols, dst, rows);

    /// <summary>As <see cref="Run(float*, int, int, float*)"/> with dst's rows <paramref name="ldd"/> floats apart
    /// (≥ rows: either direction, NHWC → NCHW or NCHW → NHWC, into a Concat's wider rows, <see cref="Engine.ConcatInPlace"/>);
    /// the same stores, elsewhere.</summary>
    public static void Run(float* src, int rows, int cols, float* dst, int ldd)
    {
        if (ldd != rows && (rows == 2 || cols == 3 || rows < 4 || cols < 4 || !Vectors))
        {
            for (int c = 0; c < cols; c++)
                for (int r = 0; r < rows; r++) dst[(long)c * ldd + r] = src[(long)r * cols + c];
            return;
        }
        if (rows == 2) { Interleave2(src, cols, dst); return; }
        if (cols == 3) { Deinterleave3(src, rows, dst); return; }
        if (rows < 4 || cols < 4) { Narrow(src, rows, cols, dst); return; }
        if (!Vectors) { Run<float>(src, rows, cols, dst); return; }
        const int B = 8;
        for (int r0 = 0; r0 < rows; r0 += B)
        {
            int r1 = Math.Min(rows, r0 + B);
            for (int c0 = 0; c0 < cols; c0 += B)
            {
                int c1 = Math.Min(cols, c0 + B);
                int rv = r0 + (r1 - r0) / 4 * 4, cv = c0 + (c1 - c0) / 4 * 4;
                for (int r = r0; r < rv; r += 4)
                    for (int c = c0; c < cv; c += 4) Block4(src + (long)r * cols + c, cols, dst + (long)c * ldd + r, ldd);
                // Two rows past rv (a block of 6, 14 rows: attention's Kᵀ of 14 tokens), their columns to cv by 4: ZIP1/ZIP2
                // make the four columns' pairs, each stored as one 64-bit store (was a scalar load and store per float)
                int re = rv;
                if (AdvSimd.Arm64.IsSupported)
                    for (; re + 2 <= r1; re += 2)
                    {
                        float* s0 = src + (long)re * cols, s1 = s0 + cols;
                        for (int c = c0; c < cv; c += 4)
                        {
                            var u = Vector128.Load(s0 + c); var v = Vector128.Load(s1 + c);
                            var lo = AdvSimd.Arm64.ZipLow(u, v); var hi = AdvSimd.Arm64.ZipHigh(u, v);   // u0 v0 u1 v1, u2 v2 u3 v3
                            float* d = dst + (long)c * ldd + re;
                            lo.GetLower().Store(d); lo.GetUpper().Store(d + ldd); hi.GetLower().Store(d + 2 * ldd); hi.GetUpper().Store(d + 3 * ldd);
                        }
                    }
                for (int r = r0; r < r1; r++)   // the block's edges: rows past re, columns past cv
                {
                    float* s = src + (long)r * cols;
                    for (int c = r < re ? cv : c0; c < c1; c++) dst[(long)c * ldd + r] = s[c];
                }
            }
        }
    }

    /// <summary>dst [cols, 2] = src [2, cols]ᵀ: two rows interleaved (ShuffleNet's channel shuffle of two groups on
    /// one channels-last pixel) by zips (AVX UNPCKLPS/UNPCKHPS then VPERM2F128 to undo their lanes; NEON ZIP1/ZIP2).</summary>
    public static void Interleave2(float* src, int cols, float* dst)
    {
        float* a = src, b = src + cols;
        int j = 0;
        if (Avx.IsSupported)
            for (; j + 8 <= cols; j += 8)
            {
                var u = Vector256.Load(a + j); var v = Vector256.Load(b + j);
                var lo = Avx.UnpackLow(u, v); var hi = Avx.UnpackHigh(u, v);      // a0 b0 a1 b1 | a4 b4 a5 b5, a2 b2 a3 b3 | a6 b6 a7 b7
                Avx.Permute2x128(lo, hi, 0x20).Store(dst + 2 * j); Avx.Permute2x128(lo, hi, 0x31).Store(dst + 2 * j + 8);
            }
        if (Vectors)
            for (; j + 4 <= cols; j += 4)
            {
                var u = Vector128.Load(a + j); var v = Vector128.Load(b + j);
                if (AdvSimd.Arm64.IsSupported) { AdvSimd.Arm64.ZipLow(u, v).Store(dst + 2 * j); AdvSimd.Arm64.ZipHigh(u, v).Store(dst + 2 * j + 4); }
                else { Sse.UnpackLow(u, v).Store(dst + 2 * j); Sse.UnpackHigh(u, v).Store(dst + 2 * j + 4); }
            }
        for (; j < cols; j++) { dst[2 * j] = a[j]; dst[2 * j + 1] = b[j]; }
    }

    /// <summary>dst [3, pixels] = src [pixels, 3]ᵀ: an RGB image's channels-last pixels into planes (an NHWC model input
    /// turned NCHW). NEON: LD3. AVX2: per 8 pixels (three vectors a, b, c), each plane is one blend of a, b and c
    /// that puts every wanted element in its own lane, then one lane permute into order.</summary>
    public static void Deinterleave3(float* src, int pixels, float* dst)
    {
        float* d0 = dst, d1 = dst + pixels, d2 = dst + 2 * pixels;
        int p = 0;
        if (AdvSimd.Arm64.IsSupported)
            for (; p + 4 <= pixels; p += 4)
            {
                var (x, y, z) = AdvSimd.Arm64.Load3xVector128AndUnzip(src + 3 * p);
                x.Store(d0 + p); y.Store(d1 + p); z.Store(d2 + p);
            }
        else if (Avx2.IsSupported)
        {
            // lane masks: which of a (elements 0-7), b (8-15), c (16-23) holds the plane's element for each lane
            var fromA0 = Vector256.Create(-1, 0, 0, -1, 0, 0, -1, 0).AsSingle(); var fromB0 = Vector256.Create(0, -1, 0, 0, -1, 0, 0, -1).AsSingle();
            var fromA1 = Vector256.Create(0, -1, 0, 0, -1, 0, 0, -1).AsSingle(); var fromB1 = Vector256.Create(0, 0, -1, 0, 0, -1, 0, 0).AsSingle();
            var fromA2 = Vector256.Create(0, 0, -1, 0, 0, -1, 0, 0).AsSingle(); var fromB2 = Vector256.Create(-1, 0, 0, -1, 0, 0, -1, 0).AsSingle();
            var order0 = Vector256.Create(0, 3, 6, 1, 4, 7, 2, 5); var order1 = Vector256.Create(1, 4, 7, 2, 5, 0, 3, 6); var order2 = Vector256.Create(2, 5, 0, 3, 6, 1, 4, 7);
            for (; p + 8 <= pixels; p += 8)
            {
                float* s = src + 3 * p;
                var a = Vector256.Load(s); var b = Vector256.Load(s + 8); var c = Vector256.Load(s + 16);
                Avx2.PermuteVar8x32(Vector256.ConditionalSelect(fromA0, a, Vector256.ConditionalSelect(fromB0, b, c)), order0).Store(d0 + p);
                Avx2.PermuteVar8x32(Vector256.ConditionalSelect(fromA1, a, Vector256.ConditionalSelect(fromB1, b, c)), order1).Store(d1 + p);
                Avx2.PermuteVar8x32(Vector256.ConditionalSelect(fromA2, a, Vector256.ConditionalSelect(fromB2, b, c)), order2).Store(d2 + p);
            }
        }
        for (; p < pixels; p++) { d0[p] = src[3 * p]; d1[p] = src[3 * p + 1]; d2[p] = src[3 * p + 2]; }
    }

    public static void Run(sbyte* src, int rows, int cols, sbyte* dst)
    {
        if (rows < 4 || cols < 4) Narrow(src, rows, cols, dst);
        else Run<sbyte>(src, rows, cols, dst);
    }

    /// <summary>A transpose with a side of fewer than 4 (an image's 1-3 colour planes ↔ channels-last pixels): no
    /// blocks, the long side outside so one side streams, the short side inside.</summary>
    static void Narrow<T>(T* src, int rows, int cols, T* dst) where T : unmanaged
    {
        if (rows < cols)
            for (int c = 0; c < cols; c++, dst += rows)   // write pixel by pixel, reading rows streams
                for (int r = 0; r < rows; r++) dst[r] = src[(long)r * cols + c];
        else
            for (int r = 0; r < rows; r++, src += cols)   // read pixel by pixel, writing cols streams
                for (int c = 0; c < cols; c++) dst[(long)c * rows + r] = src[c];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block4(float* s, int ls, float* d, int ld)
    {
        var a = Vector128.Load(s); var b = Vector128.Load(s + ls); var c = Vector128.Load(s + 2 * ls); var e = Vector128.Load(s + 3 * ls);
        if (AdvSimd.Arm64.IsSupported)
        {
            var t0 = AdvSimd.Arm64.ZipLow(a, b).AsDouble(); var t1 = AdvSimd.Arm64.ZipHigh(a, b).AsDouble();    // a0 b0 a1 b1 | a2 b2 a3 b3
            var t2 = AdvSimd.Arm64.ZipLow(c, e).AsDouble(); var t3 = AdvSimd.Arm64.ZipHigh(c, e).AsDouble();    // c0 d0 c1 d1 | c2 d2 c3 d3
            AdvSimd.Arm64.ZipLow(t0, t2).AsSingle().Store(d); AdvSimd.Arm64.ZipHigh(t0, t2).AsSingle().Store(d + ld);
            AdvSimd.Arm64.ZipLow(t1, t3).AsSingle().Store(d + 2 * ld); AdvSimd.Arm64.ZipHigh(t1, t3).AsSingle().Store(d + 3 * ld);
        }
        else
        {
            var t0 = Sse.UnpackLow(a, b); var t1 = Sse.UnpackHigh(a, b); var t2 = Sse.UnpackLow(c, e); var t3 = Sse.UnpackHigh(c, e);
            Sse.MoveLowToHigh(t0, t2).Store(d); Sse.MoveHighToLow(t2, t0).Store(d + ld);
            Sse.MoveLowToHigh(t1, t3).Store(d + 2 * ld); Sse.MoveHighToLow(t3, t1).Store(d + 3 * ld);
        }
    }

    static void Run<T>(T* src, int rows, int cols, T* dst) where T : unmanaged
    {
        const int B = 8;
        for (int r0 = 0; r0 < rows; r0 += B)
        {
            int r1 = Math.Min(rows, r0 + B);
            for (int c0 = 0; c0 < cols; c0 += B)
            {
                int c1 = Math.Min(cols, c0 + B);
                for (int r = r0; r < r1; r++)
                {
                    T* s = src + (long)r * cols;
                    for (int c = c0; c < c1; c++) dst[(long)c * rows + r] = s[c];
                }
            }
        }
    }
}
