using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// A 1×1 convolution channels-last to at most <see cref="MaxOutputs"/> channels (a detector head's score, box and
/// landmark maps: YuNet's 40×40×48 → 1, and → 4 without AVX-512): y [P, OC] = x [P, K] · Wᵀ + b, each output one
/// dot product of a pixel's K channels with a weight row, in vectors along K. The GEMM's tiles are 2 vectors of output channels wide,
/// so at OC = 1 they did 32 (AVX-512) times the work. Per output: the 16-lane sums over K, then the Vector&lt;float&gt;
/// ones, then the scalar tail, each reduced and added in that order, then the bias; the same on every pixel.
/// </summary>
internal static unsafe class PointwiseNarrow
{
    /// <summary>Each output costs a dot product ending in a horizontal sum, so the time grows with OC while the GEMM's
    /// narrow panel costs the same for 1-16 outputs. On AVX-512 its 16-row tile (Gemm.TileNarrow16x512) is faster from 3
    /// outputs (conv-shape 40 40 48 OC 1 1: here 6.1, 12.0, 17.8, 23.7 us for OC 1-4, the GEMM 15-18 us for 5 or 10);
    /// the AVX2 and NEON tiles have no narrow form, and at 4 (YuNet 40×40×48 → 4) this was about their time.</summary>
    public static int MaxOutputs => Gemm.Selected == Gemm.Isa.V512 ? 2 : 4;

    /// <summary>At most <see cref="MaxOutputs"/> outputs and at least one vector of inputs.</summary>
    public static bool Fits(int oc, int k) => oc <= MaxOutputs && Vector.IsHardwareAccelerated && k >= Vector<float>.Count;

    /// <summary>x [pixels, K], w [OC, K] (the ONNX weight as it is), b [OC] → y [pixels, OC], clamped to [lo, hi].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* x, float* w, float* b, float* y, long pixels, int K, int OC, float lo, float hi)
    {
        bool wide = Vector512.IsHardwareAccelerated;
        for (long p = 0; p < pixels; p++)
        {
            float* xr = x + p * K, yr = y + p * OC;
            for (int j = 0; j < OC; j++)
            {
                float s = Dot(xr, w + (long)j * K, K, wide) + b[j];
                yr[j] = Math.Min(Math.Max(s, lo), hi);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Dot(float* a, float* w, int K, bool wide)
    {
        int k = 0;
        float s = 0f;
        if (wide && K >= 16)
        {
            var acc = Vector512.Multiply(Vector512.Load(a), Vector512.Load(w));
            for (k = 16; k + 16 <= K; k += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + k), Vector512.Load(w + k), acc);
            s = Vector512.Sum(acc);
        }
        if (k + Vector<float>.Count <= K)
        {
            var acc = Vector.Load(a + k) * Vector.Load(w + k);
            for (k += Vector<float>.Count; k + Vector<float>.Count <= K; k += Vector<float>.Count) acc = Vector.FusedMultiplyAdd(Vector.Load(a + k), Vector.Load(w + k), acc);
            s += Vector.Sum(acc);
        }
        for (; k < K; k++) s = MathF.FusedMultiplyAdd(a[k], w[k], s);
        return s;
    }
}
