using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// Activation clamps of the fp32 kernel epilogues: one MAXPS and one MINPS on x86. .NET's Vector*.Min/Max follow
/// IEEE 754-2019 (NaN and −0 rules), which x86 has no instruction for: each costs a VRANGEPS and two VFIXUPIMMPS,
/// and in a GEMM tile's store that was a third of the epilogue. The operand order keeps a NaN input NaN (MAXPS and
/// MINPS return the second operand when unordered), as the scalar reference's Math.Clamp does. On arm64 FMAX/FMIN
/// already are the IEEE operations.
/// </summary>
internal static class Clamp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Of(Vector512<float> v, Vector512<float> lo, Vector512<float> hi) =>
        Avx512F.IsSupported ? Avx512F.Min(hi, Avx512F.Max(lo, v)) : Vector512.Min(Vector512.Max(v, lo), hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Of(Vector256<float> v, Vector256<float> lo, Vector256<float> hi) =>
        Avx.IsSupported ? Avx.Min(hi, Avx.Max(lo, v)) : Vector256.Min(Vector256.Max(v, lo), hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Of(Vector128<float> v, Vector128<float> lo, Vector128<float> hi) =>
        Sse.IsSupported ? Sse.Min(hi, Sse.Max(lo, v)) : Vector128.Min(Vector128.Max(v, lo), hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Of(Vector<float> v, Vector<float> lo, Vector<float> hi) =>
        Vector<float>.Count == 8 ? Of(v.AsVector256(), lo.AsVector256(), hi.AsVector256()).AsVector()
        : Vector<float>.Count == 4 ? Of(v.AsVector128(), lo.AsVector128(), hi.AsVector128()).AsVector()
        : Vector.Min(Vector.Max(v, lo), hi);
}
