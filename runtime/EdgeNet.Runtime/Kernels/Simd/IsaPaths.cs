using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeNet.Kernels.Simd;

/// <summary>The vector paths this machine's sessions run, each chosen once at load: what `edgenet bench` prints.</summary>
internal static class IsaPaths
{
    public static string Describe()
    {
        string fp32 = Gemm.Selected switch
        {
            Gemm.Isa.V512 => "AVX-512 8×32",
            Gemm.Isa.V256 => "AVX2 6×16",
            _ => AdvSimd.Arm64.IsSupported ? "NEON 8×8 (FMLA by element)" : Vector128.IsHardwareAccelerated ? "SSE 8×8" : "scalar",
        };
        string int8 = GemmInt8.Selected switch
        {
            GemmInt8.Isa.AvxVnni => "AVX-VNNI (VPDPBUSD), fused requantization",
            GemmInt8.Isa.Avx2 => "AVX2 (VPMADDWD)",
            GemmInt8.Isa.ArmDp => "NEON SDOT by element, fused requantization",
            GemmInt8.Isa.ArmNeon => "NEON SMULL/SADALP, fused requantization",
            _ => "scalar",
        };
        string dw8 = DepthwiseInt8Nhwc.Supported ? "AVX-512" : DepthwiseInt8NhwcNeon.Supported ? "NEON SMLAL" : "via fp32";
        return $"fp32 GEMM {fp32}; int8 GEMM {int8}; int8 depthwise 3×3 {dw8}";
    }
}
