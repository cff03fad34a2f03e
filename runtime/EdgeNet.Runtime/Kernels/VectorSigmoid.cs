using System.Numerics;
using EdgeNet.Kernels.Simd;
using static EdgeNet.Kernels.Simd.RecurrentNeon;

namespace EdgeNet.Kernels;

/// <summary>
/// tanh over a <see cref="Vector{T}"/>: the rational approximation of MLAS and Eigen that the LSTM gates use
/// (<see cref="RecurrentNeon.Tanh(float)"/>, |x| clamped at 9, absolute error about 1e-7), for elementwise ops
/// built on σ(v) = ½ + ½·tanh(v/2) (Swish). One division and eleven FMAs a vector; TensorPrimitives.Sigmoid's
/// exp-based form costs about twice that.
/// </summary>
internal static class VectorSigmoid
{
    public static Vector<float> Tanh(Vector<float> x)
    {
        x = Clamp.Of(x, new Vector<float>(Lo), new Vector<float>(Hi));
        var s = x * x;
        var p = Vector.FusedMultiplyAdd(s, new Vector<float>(A13), new Vector<float>(A11));
        p = Vector.FusedMultiplyAdd(p, s, new Vector<float>(A9));
        p = Vector.FusedMultiplyAdd(p, s, new Vector<float>(A7));
        p = Vector.FusedMultiplyAdd(p, s, new Vector<float>(A5));
        p = Vector.FusedMultiplyAdd(p, s, new Vector<float>(A3));
        p = Vector.FusedMultiplyAdd(p, s, new Vector<float>(A1));
        p *= x;
        var d = Vector.FusedMultiplyAdd(s, new Vector<float>(B6), new Vector<float>(B4));
        d = Vector.FusedMultiplyAdd(d, s, new Vector<float>(B2));
        d = Vector.FusedMultiplyAdd(d, s, new Vector<float>(B0));
        return p / d;
    }
}
