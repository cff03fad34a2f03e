using System.Numerics;
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
            GemmInt8.Isa.Avx512 => "AVX-512BW (VPMADDWD, no VNNI), fused requantization",
            GemmInt8.Isa.Avx2 => "AVX2 (VPMADDWD), fused requantization",
            GemmInt8.Isa.ArmDp => "NEON SDOT by element, fused requantization",
            GemmInt8.Isa.ArmNeon => "NEON SMULL/SADALP, fused requantization",
            _ => "scalar",
        };
        string dw8 = DepthwiseInt8Nhwc.Supported ? "AVX-512" : DepthwiseInt8Nhwc.Supported256 ? "AVX2" : DepthwiseInt8NhwcNeon.Supported ? "NEON SMLAL" : "via fp32";
        // The LSTM's gates (RecurrentX86/RecurrentNeon): one pass, rational σ and tanh, the same bits on each.
        string lstm = AdvSimd.Arm64.IsSupported ? "NEON" : Avx512F.IsSupported ? "AVX-512" : Fma.IsSupported ? "AVX2+FMA" : "scalar";
        string build = Jitted ? "JIT" : "NativeAOT";
        // The width of Vector<T> and whether Vector512 counts as accelerated are the build's or the JIT's choice, not
        // only the CPU's: the element-wise paths (TensorPrimitives, Vector<T> loops) follow them.
        string vectors = $"Vector<T> {Vector<float>.Count * 32}-bit, Vector512 {(Vector512.IsHardwareAccelerated ? "on" : "off")}";
        return $"{build}; fp32 GEMM {fp32}; int8 GEMM {int8}; int8 depthwise 3×3 {dw8}; LSTM gates {lstm}; {vectors}{MissingAvx512()}";
    }

    // NativeAOT compiles nothing at run time; RuntimeFeature.IsDynamicCodeSupported is no test, as PublishAot turns it
    // off under the JIT too.
    static bool Jitted => System.Runtime.JitInfo.GetCompiledMethodCount() > 0;

    /// <summary>NativeAOT fixes each ISA check at build time: a binary built for x86-64-v3 runs none of the AVX-512
    /// kernels even on a CPU that has them. Says so (CPUID leaf 7: EBX bit 16 AVX512F, bit 30 AVX512BW).</summary>
    static string MissingAvx512()
    {
        if (Jitted) return "";   // the JIT checks the CPU itself (AVX-512 off only by DOTNET_EnableAVX512=0)
        if (!X86Base.IsSupported || Avx512F.IsSupported || X86Base.CpuId(0, 0).Eax < 7) return "";
        int ebx = X86Base.CpuId(7, 0).Ebx;
        // The OS must also save the ZMM state (XCR0 bits 5-7), which CPUID does not say; a v4 binary checks that at start.
        return (ebx & (1 << 16)) != 0 && (ebx & (1 << 30)) != 0
            ? " (this CPU has AVX-512 but this build has no AVX-512 kernels: publish with -p:EdgeNetProfile=linux-x64-v4)" : "";
    }
}
