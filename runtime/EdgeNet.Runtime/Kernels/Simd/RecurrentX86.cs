using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static EdgeNet.Kernels.Simd.RecurrentNeon;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// <see cref="RecurrentNeon.LstmGates"/> in 256- and 512-bit vectors for x86 (AVX2+FMA, AVX-512): the LSTM gates of one
/// step in one pass with the same rational σ and tanh, instead of seven whole-vector TensorPrimitives passes (each a
/// call with its own dispatch and tails, which at H = 64 cost as much as the arithmetic). The clamp is MAXPS/MINPS
/// (<see cref="Clamp"/>: NaN stays NaN, as MathF.Min/Max do), so the scalar tail, RecurrentNeon's twin, gives the
/// same bits as the vector body. Without FMA everything runs the scalar twin: the gates, and so an int8 LSTM's output
/// (exact integer sums), come out the same on every x64 ISA and on arm64.
/// </summary>
[SkipLocalsInit]
internal static unsafe class RecurrentX86
{
    /// <summary>c = σ(f)·c + σ(i)·tanh(g), h = σ(o)·tanh(c) over g (+ q when not null) in ONNX order i, o, f, c.</summary>
    public static void LstmGates(float* g, float* q, float* c, float* h, int H)
    {
        int j = 0;
        if (Avx512F.IsSupported)
            for (; j + 16 <= H; j += 16)
            {
                Vector512<float> i = Vector512.Load(g + j), o = Vector512.Load(g + H + j), f = Vector512.Load(g + 2 * H + j), gc = Vector512.Load(g + 3 * H + j);
                if (q != null) { i += Vector512.Load(q + j); o += Vector512.Load(q + H + j); f += Vector512.Load(q + 2 * H + j); gc += Vector512.Load(q + 3 * H + j); }
                var ct = Vector512.FusedMultiplyAdd(Sigmoid(i), Tanh(gc), Sigmoid(f) * Vector512.Load(c + j));
                ct.Store(c + j);
                (Sigmoid(o) * Tanh(ct)).Store(h + j);
            }
        if (Fma.IsSupported)
        for (; j + 8 <= H; j += 8)
        {
            Vector256<float> i = Vector256.Load(g + j), o = Vector256.Load(g + H + j), f = Vector256.Load(g + 2 * H + j), gc = Vector256.Load(g + 3 * H + j);
            if (q != null) { i += Vector256.Load(q + j); o += Vector256.Load(q + H + j); f += Vector256.Load(q + 2 * H + j); gc += Vector256.Load(q + 3 * H + j); }
            var ct = Vector256.FusedMultiplyAdd(Sigmoid(i), Tanh(gc), Sigmoid(f) * Vector256.Load(c + j));
            ct.Store(c + j);
            (Sigmoid(o) * Tanh(ct)).Store(h + j);
        }
        for (; j < H; j++)
        {
            float gi = g[j], go = g[H + j], gf = g[2 * H + j], gc = g[3 * H + j];
            if (q != null) { gi += q[j]; go += q[H + j]; gf += q[2 * H + j]; gc += q[3 * H + j]; }
            float ct = MathF.FusedMultiplyAdd(RecurrentNeon.Sigmoid(gi), RecurrentNeon.Tanh(gc), RecurrentNeon.Sigmoid(gf) * c[j]);
            c[j] = ct;
            h[j] = RecurrentNeon.Sigmoid(go) * RecurrentNeon.Tanh(ct);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x) { var (p, d) = TanhTerms(x); return p / d; }

    /// <summary>The rational tanh's numerator and denominator on 16 lanes, x clamped:
    /// the polynomial in one place for the LSTM gates (p / d) and the elementwise passes (VectorSigmoid: p·rcp(d)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> P, Vector512<float> D) TanhTerms(Vector512<float> x)
    {
        x = Clamp.Of(x, Vector512.Create(Lo), Vector512.Create(Hi));
        var s = x * x;
        var p = Vector512.FusedMultiplyAdd(s, Vector512.Create(A13), Vector512.Create(A11));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(A9));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(A7));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(A5));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(A3));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(A1));
        p *= x;
        var d = Vector512.FusedMultiplyAdd(s, Vector512.Create(B6), Vector512.Create(B4));
        d = Vector512.FusedMultiplyAdd(d, s, Vector512.Create(B2));
        d = Vector512.FusedMultiplyAdd(d, s, Vector512.Create(B0));
        return (p, d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x)
    {
        var half = Vector512.Create(0.5f);
        return Vector512.FusedMultiplyAdd(Tanh(x * half), half, half);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        x = Clamp.Of(x, Vector256.Create(Lo), Vector256.Create(Hi));
        var s = x * x;
        var p = Vector256.FusedMultiplyAdd(s, Vector256.Create(A13), Vector256.Create(A11));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(A9));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(A7));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(A5));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(A3));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(A1));
        p *= x;
        var d = Vector256.FusedMultiplyAdd(s, Vector256.Create(B6), Vector256.Create(B4));
        d = Vector256.FusedMultiplyAdd(d, s, Vector256.Create(B2));
        d = Vector256.FusedMultiplyAdd(d, s, Vector256.Create(B0));
        return p / d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x)
    {
        var half = Vector256.Create(0.5f);
        return Vector256.FusedMultiplyAdd(Tanh(x * half), half, half);
    }
}
