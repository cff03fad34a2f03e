using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Quant;

namespace EdgeNet.Kernels.Int8;

/// <summary>
/// Vectorized epilogues of the int8 kernels: q = clamp(roundEven((acc + bias)·m) + zp, lo, hi), bit-identical to
/// <see cref="QuantMath.Requantize"/>. The vector form clamps before rounding, clamp(t, lo − zp, hi − zp), rounds and
/// converts in one step (x86 VCVTPS2DQ rounds to nearest even) and adds zp as an integer: for integer bounds
/// round(clamp(t)) = clamp(round(t)), so every step gives the reference's integer; the clamp takes the minimum first,
/// which sends a NaN (a quantized NaN input) to hi as <see cref="QuantMath.Quantize"/> does.
/// On x86 these are single instructions; .NET's Vector256.Min/Max/ConvertToInt32 carry NaN and saturation fix-ups
/// (VRANGEPS + 2 VFIXUPIMMPS per Min) that tripled the cost of the int8 GEMM's epilogue.
/// </summary>
internal static unsafe class Requantize
{
    /// <summary>The constants of one requantization, as x86 vectors: float bounds shifted by −zp, and zp.</summary>
    public readonly struct Bounds256(int zp, int lo, int hi)
    {
        public readonly Vector256<float> Lo = Vector256.Create((float)(lo - zp)), Hi = Vector256.Create((float)(hi - zp));
        public readonly Vector256<int> Zp = Vector256.Create(zp);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Round(Vector256<float> t) => Avx.ConvertToVector256Int32(Avx.Max(Lo, Avx.Min(t, Hi))) + Zp;   // MINPS returns Hi for NaN

        /// <summary>round(t) + zp unclamped: the saturating packs of <see cref="Store16"/> and <see cref="Store8"/> clamp
        /// it to the int8 range, equal to <see cref="Round"/> when the bounds are −128..127 and |t| &lt; 2^30
        /// (<see cref="Simd.GemmInt8.SaturationClamps"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> RoundUnclamped(Vector256<float> t) => Avx.ConvertToVector256Int32(t) + Zp;
    }

    /// <summary><see cref="Bounds256"/> at 512 bits.</summary>
    public readonly struct Bounds512(int zp, int lo, int hi)
    {
        public readonly Vector512<float> Lo = Vector512.Create((float)(lo - zp)), Hi = Vector512.Create((float)(hi - zp));
        public readonly Vector512<int> Zp = Vector512.Create(zp);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<int> Round(Vector512<float> t) => Avx512F.ConvertToVector512Int32(Avx512F.Max(Lo, Avx512F.Min(t, Hi))) + Zp;

        /// <summary>Sixteen results (already in −128..127) stored as bytes (VPMOVDB).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector512<int> q, sbyte* dst) => Avx512F.ConvertToVector128SByte(q).Store(dst);

        /// <summary>round(t) + zp saturated to int8 by the narrow (VPMOVSDB): equal to <see cref="Round"/> when the bounds
        /// are −128..127 and |t| &lt; 2^30 (<see cref="Simd.GemmInt8.SaturationClamps"/>), two instructions fewer.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void StoreSaturated(Vector512<float> t, sbyte* dst) => Avx512F.ConvertToVector128SByteWithSaturation(Avx512F.ConvertToVector512Int32(t) + Zp).Store(dst);
    }

    /// <summary>The 128-bit form (arm64 NEON; x64 SSE when AVX2 is off), NaN to hi like the others. arm64: FMINNM
    /// returns Hi for a NaN (FMIN, .NET's Vector128.Min, would carry the NaN on, and FCVTZS makes it 0, so a NaN came
    /// out as the zero point), and FCVTNS rounds half to even and converts in one instruction. SSE: MINPS returns Hi
    /// for a NaN and CVTPS2DQ rounds to nearest even, as in the forms above.</summary>
    public readonly struct Bounds128(int zp, int lo, int hi)
    {
        public readonly Vector128<float> Lo = Vector128.Create((float)(lo - zp)), Hi = Vector128.Create((float)(hi - zp));
        public readonly Vector128<int> Zp = Vector128.Create(zp);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<int> Round(Vector128<float> t)
        {
            if (AdvSimd.IsSupported) return AdvSimd.ConvertToInt32RoundToEven(AdvSimd.MaxNumber(Lo, AdvSimd.MinNumber(t, Hi))) + Zp;
            if (Sse2.IsSupported) return Sse2.ConvertToVector128Int32(Sse.Max(Lo, Sse.Min(t, Hi))) + Zp;
            var c = Vector128.ConditionalSelect(Vector128.Equals(t, t), Vector128.Max(Lo, Vector128.Min(t, Hi)), Hi);
            return Vector128.ConvertToInt32(Vector128.Round(c)) + Zp;
        }

        /// <summary>Sixteen results (already in −128..127) stored as 16 bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store16(Vector128<int> a, Vector128<int> b, Vector128<int> c, Vector128<int> d, sbyte* dst) =>
            Vector128.Narrow(Vector128.Narrow(a, b), Vector128.Narrow(c, d)).Store(dst);

        /// <summary>Eight results (already in −128..127) stored as 8 bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store8(Vector128<int> a, Vector128<int> b, sbyte* d)
        {
            var s = Vector128.Narrow(a, b);
            *(long*)d = Vector128.Narrow(s, s).AsInt64().ToScalar();
        }
    }

    /// <summary>Eight int32 already in −128..127 stored as 8 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store8(Vector256<int> q, sbyte* d)
    {
        var s = Avx2.PackSignedSaturate(q, q);                                      // q0-3 q0-3 | q4-7 q4-7 (int16)
        var b = Avx2.PackSignedSaturate(s, s).AsInt32();                            // dword 0: q0-3, dword 4: q4-7
        *(long*)d = Avx2.PermuteVar8x32(b, Vector256.Create(0, 4, 0, 4, 0, 4, 0, 4)).AsInt64().ToScalar();
    }

    /// <summary>Sixteen int32 already in −128..127 (a: 0-7, b: 8-15) stored as 16 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store16(Vector256<int> a, Vector256<int> b, sbyte* d)
    {
        var s = Avx2.PackSignedSaturate(a, b);                                      // a0-3 b0-3 | a4-7 b4-7 (int16)
        var q = Avx2.PackSignedSaturate(s, s).AsInt32();                            // dwords: a0-3 b0-3 a0-3 b0-3 | a4-7 b4-7 …
        Avx2.PermuteVar8x32(q, Vector256.Create(0, 4, 1, 5, 0, 4, 1, 5)).GetLower().AsSByte().Store(d);
    }

    /// <summary>One output channel's row (Conv): the same bias and multiplier for all n accumulators.</summary>
    public static void Row(int* acc, int bias, float m, int zp, int lo, int hi, sbyte* dst, int n)
    {
        int i = 0;
        if (Avx2.IsSupported)
        {
            var q = new Bounds256(zp, lo, hi); var vb = Vector256.Create(bias); var vm = Vector256.Create(m);
            for (; i + 8 <= n; i += 8) Store8(q.Round(Avx.ConvertToVector256Single(Vector256.Load(acc + i) + vb) * vm), dst + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var q = new Bounds128(zp, lo, hi); var vb = Vector128.Create(bias); var vm = Vector128.Create(m);
            for (; i + 8 <= n; i += 8)
                Bounds128.Store8(q.Round(Vector128.ConvertToSingle(Vector128.Load(acc + i) + vb) * vm), q.Round(Vector128.ConvertToSingle(Vector128.Load(acc + i + 4) + vb) * vm), dst + i);
        }
        for (; i < n; i++) dst[i] = QuantMath.Requantize(acc[i] + bias, m, zp, lo, hi);
    }

    /// <summary>Like <see cref="Row"/> for accumulators held exactly as floats (the depthwise path): the same products.</summary>
    public static void RowFromFloat(float* acc, float m, int zp, int lo, int hi, sbyte* dst, int n)
    {
        int i = 0;
        if (Avx2.IsSupported)
        {
            var q = new Bounds256(zp, lo, hi); var vm = Vector256.Create(m);
            for (; i + 8 <= n; i += 8) Store8(q.Round(Vector256.Load(acc + i) * vm), dst + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var q = new Bounds128(zp, lo, hi); var vm = Vector128.Create(m);
            for (; i + 8 <= n; i += 8) Bounds128.Store8(q.Round(Vector128.Load(acc + i) * vm), q.Round(Vector128.Load(acc + i + 4) * vm), dst + i);
        }
        for (; i < n; i++) dst[i] = QuantMath.Requantize((int)acc[i], m, zp, lo, hi);
    }

    /// <summary>Channels-last pixels of C channels held exactly as floats (bias included), per-channel multipliers.</summary>
    public static void PixelsFromFloat(float* acc, float* m, int zp, int lo, int hi, sbyte* dst, int pixels, int C)
    {
        int vec = Avx512F.IsSupported ? C / 16 * 16 : C / 8 * 8;
        for (long p = 0; p < pixels; p++, acc += C, dst += C)
        {
            int c = 0;
            if (Avx512F.IsSupported)
            {
                var q = new Bounds512(zp, lo, hi);
                for (; c < vec; c += 16) Bounds512.Store(q.Round(Vector512.Load(acc + c) * Vector512.Load(m + c)), dst + c);
            }
            else if (Avx2.IsSupported)
            {
                var q = new Bounds256(zp, lo, hi);
                for (; c < vec; c += 8) Store8(q.Round(Vector256.Load(acc + c) * Vector256.Load(m + c)), dst + c);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                var q = new Bounds128(zp, lo, hi);
                for (; c < vec; c += 8)
                    Bounds128.Store8(q.Round(Vector128.Load(acc + c) * Vector128.Load(m + c)), q.Round(Vector128.Load(acc + c + 4) * Vector128.Load(m + c + 4)), dst + c);
            }
            for (; c < C; c++) dst[c] = QuantMath.Requantize((int)acc[c], m[c], zp, lo, hi);
        }
    }

    /// <summary>One row of a Dense output: per-column bias and multiplier.</summary>
    public static void Columns(int* acc, int* bias, float* m, int zp, int lo, int hi, sbyte* dst, int n)
    {
        int i = 0;
        if (Avx2.IsSupported)
        {
            var q = new Bounds256(zp, lo, hi);
            for (; i + 8 <= n; i += 8)
                Store8(q.Round(Avx.ConvertToVector256Single(Vector256.Load(acc + i) + Vector256.Load(bias + i)) * Vector256.Load(m + i)), dst + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var q = new Bounds128(zp, lo, hi);
            for (; i + 8 <= n; i += 8)
                Bounds128.Store8(q.Round(Vector128.ConvertToSingle(Vector128.Load(acc + i) + Vector128.Load(bias + i)) * Vector128.Load(m + i)),
                                 q.Round(Vector128.ConvertToSingle(Vector128.Load(acc + i + 4) + Vector128.Load(bias + i + 4)) * Vector128.Load(m + i + 4)), dst + i);
        }
        for (; i < n; i++) dst[i] = QuantMath.Requantize(acc[i] + bias[i], m[i], zp, lo, hi);
    }
}
