using EdgeNet.Kernels.Simd;
using EdgeNet.Quant;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>The A72 int8 GEMM (<see cref="GemmInt8.RunMlal"/>: 4×4 tiles over k blocks of 16, SMULL/SMLAL/SADALP,
/// requantized in registers) against the exact int32 sum and <see cref="QuantMath.Requantize"/>, bit for bit: every
/// k tail (4, 8, 12; K short of its padded kp too), partial row tiles, partial column groups and panels, weights of
/// −128 (the unpaired path), the int8 range as the clamp (saturating narrows). It runs on any arm64 (qemu cortex-a72
/// and a76 in CI).</summary>
public unsafe class GemmInt8MlalTests
{
    [Theory]
    [InlineData(1, 4, 1, false, 100)]
    [InlineData(3, 8, 3, false, 100)]
    [InlineData(4, 12, 4, false, 100)]
    [InlineData(5, 16, 7, false, 100)]
    [InlineData(9, 20, 16, false, 100)]
    [InlineData(13, 24, 17, false, 127)]
    [InlineData(8, 28, 24, true, 100)]     // weights of −128: each product widened on its own
    [InlineData(7, 36, 40, true, 127)]
    [InlineData(6, 64, 33, false, 127)]
    [InlineData(17, 76, 20, false, 90)]
    [InlineData(4, 144, 24, true, 100)]
    [InlineData(5, 27, 9, false, 100)]     // K 27 (the RGB stem's 3×3×3 taps): kp 28, A's pad byte in the last block of 12
    [InlineData(3, 3, 5, false, 127)]      // K 3: one block of 4 with a pad byte
    [InlineData(6, 11, 17, true, 100)]     // K 11: kp 12, the tail of 12 (8 bytes and a 4-byte load) with K short of kp
    public void Equals_exact_sum_then_QuantMath(int M, int K, int N, bool minWeight, int hi)
    {
        if (!System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported) Assert.Skip("the A72 GEMM is arm64 NEON");
        var r = new Random(M * 1000 + K * 10 + N);
        int kp = GemmInt8.KPad(K);
        var a = new sbyte[M * kp]; var w = new sbyte[K * N];
        for (int i = 0; i < M; i++) for (int k = 0; k < K; k++) a[i * kp + k] = (sbyte)r.Next(-128, 128);
        // A's pad bytes (K..kp) not zero: the kernel may read them (a 4-byte load at the k tail), B's zero rows past K
        // must cancel them. The exact sum below stops at K.
        for (int i = 0; i < M; i++) for (int k = K; k < kp; k++) a[i * kp + k] = (sbyte)r.Next(-128, 128);
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)r.Next(-127, 128);
        if (minWeight)   // −128·−128 at k 0 and k 8 of column 0: 2^15 in int16 had they been paired
        {
            w[0] = -128; w[^1] = -128;
            if (K > 8) w[8 * N] = -128;
            for (int i = 0; i < M; i++) { a[i * kp] = -128; if (K > 8) a[i * kp + 8] = -128; }
        }
        var bias = Enumerable.Range(0, N).Select(_ => r.Next(-30000, 30000)).ToArray();
        var mult = Enumerable.Range(0, N).Select(j => j % 3 == 0 ? 0.5f : 1f / r.Next(20, 3000)).ToArray();
        var packed = new sbyte[GemmInt8.PackedBytesMlal(K, N)];
        var got = new sbyte[M * N];
        bool saturation = GemmInt8.SaturationClamps(-128, hi, 30000 + 128L * 128 * K, mult);
        fixed (sbyte* pa = a, pw = w, pp = packed, pg = got) fixed (int* pb = bias) fixed (float* pm = mult)
        {
            GemmInt8.PackMlal(pw, N, 1, K, N, pp);
            var e = new GemmInt8.Epilogue { Out = pg, Ldo = N, ColBias = pb, ColMult = pm, Zp = -7, Lo = -128, Hi = hi, SaturationOnly = saturation, NoMinWeight = !minWeight };
            GemmInt8.RunMlal(pa, kp, pp, M, N, K, ref e);
        }
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                int exact = bias[j];
                for (int k = 0; k < K; k++) exact += a[i * kp + k] * w[k * N + j];
                Assert.Equal(QuantMath.Requantize(exact, mult[j], -7, -128, hi), got[i * N + j]);
            }
    }

    /// <summary>A multiplier that is NaN or infinite (t NaN, or ±∞): the group clamps in float before rounding, so NaN
    /// goes to hi as in QuantMath (the clamp on the bytes alone would give z_y), ±∞ to hi and lo; the finite
    /// columns beside them clamp on the bytes. Row 0 and the bias of column 1 are zeros: ∞·0 is NaN.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Non_finite_multipliers_as_QuantMath(bool minWeight)
    {
        if (!System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported) Assert.Skip("the A72 GEMM is arm64 NEON");
        const int M = 6, K = 20, N = 11, hi = 100;
        var r = new Random(7);
        int kp = GemmInt8.KPad(K);
        var a = new sbyte[M * kp]; var w = new sbyte[K * N];
        for (int i = 1; i < M; i++) for (int k = 0; k < K; k++) a[i * kp + k] = (sbyte)r.Next(-128, 128);
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)r.Next(minWeight ? -128 : -127, 128);
        var bias = Enumerable.Range(0, N).Select(j => j == 1 ? 0 : r.Next(-3000, 3000)).ToArray();
        var mult = new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0.01f, 1e30f, 0.002f, 0.5f, 0.003f, float.PositiveInfinity, 0.001f, float.NaN };
        var packed = new sbyte[GemmInt8.PackedBytesMlal(K, N)];
        var got = new sbyte[M * N];
        fixed (sbyte* pa = a, pw = w, pp = packed, pg = got) fixed (int* pb = bias) fixed (float* pm = mult)
        {
            GemmInt8.PackMlal(pw, N, 1, K, N, pp);
            var e = new GemmInt8.Epilogue { Out = pg, Ldo = N, ColBias = pb, ColMult = pm, Zp = 9, Lo = -120, Hi = hi, NoMinWeight = !minWeight };
            GemmInt8.RunMlal(pa, kp, pp, M, N, K, ref e);
        }
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                int exact = bias[j];
                for (int k = 0; k < K; k++) exact += a[i * kp + k] * w[k * N + j];
                Assert.Equal(QuantMath.Requantize(exact, mult[j], 9, -120, hi), got[i * N + j]);
            }
    }
}
