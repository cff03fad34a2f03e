using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Kernels;

/// <summary>
/// eˣ in float, EdgeNet's own (Softmax, Exp, the erf of GELU). TensorPrimitives.Exp widens to double and calls its
/// per-vector exp, which NativeAOT does not inline (a call and a vector through memory every 16 floats: Softmax
/// ~1.25× the JIT's time) and which costs ~55 instructions a vector on arm64. Here (Cephes' expf, as MLAS and XNNPACK
/// do it): n = round(x·log₂e) by the magic-number addition, r = x − n·ln2 in two FMAs (|r| ≤ ½ln2), eʳ by a degree-7
/// polynomial (1 + r + r²·P(r)), and the result eʳ·2ⁿ. 2ⁿ is two exact powers of two 2^⌊n/2⌋·2^(n−⌊n/2⌋), so the one
/// rounding of the last product also gives subnormal results and overflow to +∞ (AVX-512: VSCALEFPS, the same value in
/// one instruction). x is clamped to [−104, 88.8] first: +∞ → +∞, −∞ → +0, NaN stays NaN.
/// Every form does the same float operations in the same order as <see cref="Exp(float)"/>, the scalar reference, so
/// the results are bit-identical on every ISA and width (NaN payloads aside); against the exact eˣ the error is at most
/// 2 ulp (normal results) or 1 subnormal step (VectorExpTests measure it).
/// </summary>
internal static class VectorExp
{
    const float Lo = -104f, Hi = 88.8f;
    const float Log2E = 1.44269504f;
    /// <summary>1.5·2²³: x·log₂e + Magic rounds to an integer n, held in the float's low mantissa bits as 0x4B400000 + n.</summary>
    const float Magic = 12582912f;
    const int MagicBits = 0x4B400000;
    /// <summary>ln 2 split so n·Ln2Hi is exact (XNNPACK's pair).</summary>
    const float Ln2Hi = 0.693145752f, Ln2Lo = 1.42860677e-6f;
    const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
                P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /// <summary>True where the 16-lane form runs (AVX-512).</summary>
    public static bool Wide => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>The scalar reference: the operations every vector form does, in the same order.</summary>
    public static float Exp(float x)
    {
        x = Math.Clamp(x, Lo, Hi);
        float t = MathF.FusedMultiplyAdd(x, Log2E, Magic);
        float n = t - Magic;
        float r = MathF.FusedMultiplyAdd(n, -Ln2Hi, x);
        r = MathF.FusedMultiplyAdd(n, -Ln2Lo, r);
        float r2 = r * r;
        float p = MathF.FusedMultiplyAdd(P0, r, P1);
        p = MathF.FusedMultiplyAdd(p, r, P2);
        p = MathF.FusedMultiplyAdd(p, r, P3);
        p = MathF.FusedMultiplyAdd(p, r, P4);
        p = MathF.FusedMultiplyAdd(p, r, P5);
        float e = MathF.FusedMultiplyAdd(p, r2, r) + 1f;
        int k = BitConverter.SingleToInt32Bits(t) - MagicBits, k1 = k >> 1;
        return e * BitConverter.Int32BitsToSingle((k1 + 127) << 23) * BitConverter.Int32BitsToSingle((k - k1 + 127) << 23);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> x)
    {
        x = Clamp.Of(x, new Vector<float>(Lo), new Vector<float>(Hi));
        var t = Vector.FusedMultiplyAdd(x, new Vector<float>(Log2E), new Vector<float>(Magic));
        var n = t - new Vector<float>(Magic);
        var r = Vector.FusedMultiplyAdd(n, new Vector<float>(-Ln2Hi), x);
        r = Vector.FusedMultiplyAdd(n, new Vector<float>(-Ln2Lo), r);
        var r2 = r * r;
        var p = Vector.FusedMultiplyAdd(new Vector<float>(P0), r, new Vector<float>(P1));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(P2));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(P3));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(P4));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(P5));
        var e = Vector.FusedMultiplyAdd(p, r2, r) + Vector<float>.One;
        var k = Vector.AsVectorInt32(t) - new Vector<int>(MagicBits);
        var k1 = Vector.ShiftRightArithmetic(k, 1);
        var s1 = Vector.AsVectorSingle(Vector.ShiftLeft(k1 + new Vector<int>(127), 23));
        var s2 = Vector.AsVectorSingle(Vector.ShiftLeft(k - k1 + new Vector<int>(127), 23));
        return e * s1 * s2;
    }

    /// <summary>16 lanes: the same operations, 2ⁿ applied by VSCALEFPS (one rounding, as the two products).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Clamp.Of(x, Vector512.Create(Lo), Vector512.Create(Hi));
        var t = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(Magic));
        var n = t - Vector512.Create(Magic);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var r2 = r * r;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        var e = Vector512.FusedMultiplyAdd(p, r2, r) + Vector512<float>.One;
        return Avx512F.Scale(e, n);
    }

    /// <summary>y = eˣ over a span (x and y may be the same): 16 lanes on AVX-512 (the last partial vector by masked
    /// load and store), Vector&lt;float&gt; elsewhere with the scalar reference for the tail (the same bits).</summary>
    public static unsafe void Exp(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, i = 0;
        if (y.Length < n) throw new ArgumentException("destination too short", nameof(y));
        fixed (float* px = x, py = y)
        {
            if (Wide)
            {
                for (; i <= n - 16; i += 16) Exp(Vector512.Load(px + i)).Store(py + i);
                if (i < n)
                {
                    var tail = Tail(n - i);
                    Avx512F.MaskStore(py + i, tail, Exp(Avx512F.MaskLoad(px + i, tail, Vector512<float>.Zero)));
                }
                return;
            }
            if (Vector.IsHardwareAccelerated)
                for (; i <= n - Vector<float>.Count; i += Vector<float>.Count) Exp(Vector.Load(px + i)).Store(py + i);
            for (; i < n; i++) py[i] = Exp(px[i]);
        }
    }

    /// <summary>
    /// <see cref="Exp(Vector{float})"/>'s constants as values an arm64 loop keeps in registers. ILC's RyuJIT did not
    /// hoist the inlined Exp's 13 constant loads (LDR q from the literal pool) out of loops that do more than the exp
    /// (σ's division, Softmax's sum: 48 instructions a vector in VectorSigmoid.Sigmoid, objdump of the NativeAOT
    /// linux-arm64 edgenet), and it folds a local holding a constant back into the loop. The loop goes in a method
    /// that is not inlined and takes the terms as an <c>in</c> parameter, copied into a local before the loop: values
    /// it cannot see, kept in registers (NEON has 32). A copy of <see cref="Load"/>'s result in the same method stayed
    /// partly on the stack (9 loads a vector). x64 keeps <see cref="Exp(Vector{float})"/>: its instructions take the
    /// constants as memory operands, and AVX2's 16 registers could not hold them.
    /// </summary>
    internal readonly struct Terms
    {
        readonly Vector<float> lo, hi, log2e, magic, nLn2Hi, nLn2Lo, p0, p1, p2, p3, p4, p5;
        readonly Vector<int> magicBits, bias;
        public readonly Vector<float> One;

        Terms(bool _)
        {
            lo = new(Lo); hi = new(Hi); log2e = new(Log2E); magic = new(Magic); nLn2Hi = new(-Ln2Hi); nLn2Lo = new(-Ln2Lo);
            p0 = new(P0); p1 = new(P1); p2 = new(P2); p3 = new(P3); p4 = new(P4); p5 = new(P5);
            magicBits = new(MagicBits); bias = new(127); One = Vector<float>.One;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static Terms Load() => new(true);

        /// <summary><see cref="Exp(Vector{float})"/>: the same operations in the same order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<float> Exp(Vector<float> x)
        {
            x = Clamp.Of(x, lo, hi);
            var t = Vector.FusedMultiplyAdd(x, log2e, magic);
            var n = t - magic;
            var r = Vector.FusedMultiplyAdd(n, nLn2Hi, x);
            r = Vector.FusedMultiplyAdd(n, nLn2Lo, r);
            var r2 = r * r;
            var p = Vector.FusedMultiplyAdd(p0, r, p1);
            p = Vector.FusedMultiplyAdd(p, r, p2);
            p = Vector.FusedMultiplyAdd(p, r, p3);
            p = Vector.FusedMultiplyAdd(p, r, p4);
            p = Vector.FusedMultiplyAdd(p, r, p5);
            var e = Vector.FusedMultiplyAdd(p, r2, r) + One;
            var k = Vector.AsVectorInt32(t) - magicBits;
            var k1 = Vector.ShiftRightArithmetic(k, 1);
            var s1 = Vector.AsVectorSingle(Vector.ShiftLeft(k1 + bias, 23));
            var s2 = Vector.AsVectorSingle(Vector.ShiftLeft(k - k1 + bias, 23));
            return e * s1 * s2;
        }
    }

    /// <summary>The mask of the first <paramref name="count"/> (1..16) lanes, for AVX-512's masked loads and stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tail(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
}
