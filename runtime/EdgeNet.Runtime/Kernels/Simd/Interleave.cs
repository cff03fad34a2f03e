using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeNet.Kernels.Simd;

/// <summary>Splits a row into its even and odd elements (for stride-2 windows): one permute per 16 floats on
/// AVX-512 (VPERMT2PS), UZP1/UZP2 on arm64, a scalar loop elsewhere.</summary>
internal static unsafe class Interleave
{
    /// <summary>even[j] = src[2j], odd[j] = src[2j+1] for 2j+1 &lt; n (n even).</summary>
    public static void Split(float* src, int n, float* even, float* odd)
    {
        int j = 0, half = n / 2;
        if (Avx512F.IsSupported)
        {
            var ie = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var io = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            for (; j + 16 <= half; j += 16)
            {
                var a = Vector512.Load(src + 2 * j); var b = Vector512.Load(src + 2 * j + 16);
                Avx512F.PermuteVar16x32x2(a, ie, b).Store(even + j);
                Avx512F.PermuteVar16x32x2(a, io, b).Store(odd + j);
            }
        }
        else if (AdvSimd.Arm64.IsSupported)
        {
            for (; j + 4 <= half; j += 4)
            {
                var a = Vector128.Load(src + 2 * j); var b = Vector128.Load(src + 2 * j + 4);
                AdvSimd.Arm64.UnzipEven(a, b).Store(even + j);
                AdvSimd.Arm64.UnzipOdd(a, b).Store(odd + j);
            }
        }
        for (; j < half; j++) { even[j] = src[2 * j]; odd[j] = src[2 * j + 1]; }
    }
}
