using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeNet.Engine;

namespace EdgeNet.Kernels.Simd;

/// <summary>
/// The LSTM, GRU and RNN steps for arm64 in NEON passes, as MLAS's LSTM does it (one GEMV per step, then the gates;
/// a GRU without linear_before_reset takes a second GEMV on r·h between its two gate passes):
/// <see cref="Gemv"/> adds h·Rᵀ onto the step's input projection in place, streaming R from blocks of 32 output
/// columns packed once at load (per k, 32 contiguous floats: two LD1 {4 registers}, eight FMLA by element, eight
/// accumulators); <see cref="LstmGates"/> applies σ and tanh and updates c and h in one pass. σ and tanh are the
/// rational approximation MLAS and Eigen use (<see cref="Tanh(Vector128{float})"/>); each vector form has a scalar
/// twin with the same operations in the same order, so the two agree bit for bit.
/// </summary>
[SkipLocalsInit]
internal static unsafe class RecurrentNeon
{
    public const int Block = 32;   // output columns per GEMV block: 8 accumulators of 4

    /// <summary>W [n, k] row-major packed for <see cref="Gemv"/>: block p holds, for each k, W[p·32 + 0..31, k] (zero past n).</summary>
    public static NativeBuffer Pack(ReadOnlySpan<float> w, int n, int k)
    {
        int blocks = (n + Block - 1) / Block;
        var p = new NativeBuffer((long)blocks * k * Block * 4);
        float* d = p.Floats;
        for (int b = 0; b < blocks; b++)
            for (int q = 0; q < k; q++, d += Block)
                for (int j = 0; j < Block; j++)
                {
                    int row = b * Block + j;
                    d[j] = row < n ? w[row * k + q] : 0f;
                }
        return p;
    }

    /// <summary>g[j] += Σ_k a[k]·W[j, k] for j &lt; n (W packed by <see cref="Pack"/>); the accumulators start from g.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv(float* a, int k, float* packed, int n, float* g)
    {
        float* t = stackalloc float[Block];
        float* aEnd4 = a + (k & ~3), aEnd = a + k;
        for (int j0 = 0; j0 < n; j0 += Block, packed += (long)k * Block)
        {
            int w = Math.Min(Block, n - j0);
            float* dst = g + j0;
            if (w < Block)   // the last, partial block accumulates in t
            {
                for (int j = 0; j < Block; j++) t[j] = j < w ? dst[j] : 0f;
                dst = t;
            }
            if (AdvSimd.Arm64.IsSupported) GemvBlockNeon(a, aEnd4, aEnd, packed, dst);
            else GemvBlock(a, aEnd, packed, dst);
            if (w < Block) for (int j = 0; j < w; j++) g[j0 + j] = t[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GemvBlockNeon(float* a, float* aEnd4, float* aEnd, float* b, float* dst)
    {
        var (c0, c1, c2, c3) = AdvSimd.Arm64.Load4xVector128(dst);
        var (c4, c5, c6, c7) = AdvSimd.Arm64.Load4xVector128(dst + 16);
        for (; a < aEnd4; a += 4, b += 4 * Block)
        {
            var x = Vector128.Load(a);
            Step(b, x, 0, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
            Step(b + Block, x, 1, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
            Step(b + 2 * Block, x, 2, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
            Step(b + 3 * Block, x, 3, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
        }
        for (; a < aEnd; a++, b += Block)
            Step(b, Vector128.CreateScalarUnsafe(*a), 0, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
        AdvSimd.Arm64.Store(dst, (c0, c1, c2, c3));
        AdvSimd.Arm64.Store(dst + 16, (c4, c5, c6, c7));
    }

    /// <summary>One k: 32 floats of the block times element <paramref name="i"/> of x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Step(float* b, Vector128<float> x, [System.Diagnostics.CodeAnalysis.ConstantExpected(Max = (byte)3)] byte i,
                     ref Vector128<float> c0, ref Vector128<float> c1, ref Vector128<float> c2, ref Vector128<float> c3,
                     ref Vector128<float> c4, ref Vector128<float> c5, ref Vector128<float> c6, ref Vector128<float> c7)
    {
        var (b0, b1, b2, b3) = AdvSimd.Arm64.Load4xVector128(b);
        c0 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c0, b0, x, i); c1 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c1, b1, x, i);
        c2 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c2, b2, x, i); c3 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c3, b3, x, i);
        var (b4, b5, b6, b7) = AdvSimd.Arm64.Load4xVector128(b + 16);
        c4 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c4, b4, x, i); c5 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c5, b5, x, i);
        c6 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c6, b6, x, i); c7 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c7, b7, x, i);
    }

    /// <summary>The portable form (x64, tests): the same sums in the same order, one k at a time.</summary>
    static void GemvBlock(float* a, float* aEnd, float* b, float* dst)
    {
        for (int v = 0; v < Block; v += 4)
        {
            var c = Vector128.Load(dst + v);
            float* bk = b + v;
            for (float* ak = a; ak < aEnd; ak++, bk += Block) c = Vector128.FusedMultiplyAdd(Vector128.Load(bk), Vector128.Create(*ak), c);
            c.Store(dst + v);
        }
    }

    /// <summary>
    /// LSTM gates of one step (ONNX order i, o, f, c in g's four H-blocks, default activations): c = σ(f)·c + σ(i)·tanh(g),
    /// h = σ(o)·tanh(c). With <paramref name="q"/> non-null, g + q are the pre-activations (g is not written).
    /// </summary>
    public static void LstmGates(float* g, float* q, float* c, float* h, int H)
    {
        int j = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var t = TanhTerms.Load();
            if (q == null)
                for (; j + 4 <= H; j += 4)
                    LstmVector(t, Vector128.Load(g + j), Vector128.Load(g + H + j), Vector128.Load(g + 2 * H + j), Vector128.Load(g + 3 * H + j), c + j, h + j);
            else
                for (; j + 4 <= H; j += 4)
                    LstmVector(t, Vector128.Load(g + j) + Vector128.Load(q + j), Vector128.Load(g + H + j) + Vector128.Load(q + H + j),
                               Vector128.Load(g + 2 * H + j) + Vector128.Load(q + 2 * H + j), Vector128.Load(g + 3 * H + j) + Vector128.Load(q + 3 * H + j), c + j, h + j);
        }
        for (; j < H; j++)
        {
            float gi = g[j], go = g[H + j], gf = g[2 * H + j], gc = g[3 * H + j];
            if (q != null) { gi += q[j]; go += q[H + j]; gf += q[2 * H + j]; gc += q[3 * H + j]; }
            float ct = MathF.FusedMultiplyAdd(Sigmoid(gi), Tanh(gc), Sigmoid(gf) * c[j]);
            c[j] = ct;
            h[j] = Sigmoid(go) * Tanh(ct);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void LstmVector(in TanhTerms t, Vector128<float> i, Vector128<float> o, Vector128<float> f, Vector128<float> gc, float* c, float* h)
    {
        var ct = Vector128.FusedMultiplyAdd(t.Sigmoid(i), t.Tanh(gc), t.Sigmoid(f) * Vector128.Load(c));
        ct.Store(c);
        (t.Sigmoid(o) * t.Tanh(ct)).Store(h);
    }

    /// <summary>
    /// GRU gates of one step with linear_before_reset = 1 (ONNX order z, r, h in g's three H-blocks, default activations):
    /// n = tanh(g_h + σ(r)·hn), h = n + σ(z)·(h − n), where hn = h·R_hᵀ + Rb_h. With <paramref name="q"/> null, g holds
    /// z's and r's full pre-activations; otherwise g + q does and hn + <paramref name="rbh"/> is h·R_hᵀ + Rb_h.
    /// </summary>
    public static void GruGates(float* g, float* q, float* hn, float* rbh, float* h, int H)
    {
        int j = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var t = TanhTerms.Load();
            if (q == null)
                for (; j + 4 <= H; j += 4)
                    GruVector(t, Vector128.Load(g + j), Vector128.Load(g + H + j), Vector128.Load(g + 2 * H + j), Vector128.Load(hn + j), h + j);
            else
                for (; j + 4 <= H; j += 4)
                    GruVector(t, Vector128.Load(g + j) + Vector128.Load(q + j), Vector128.Load(g + H + j) + Vector128.Load(q + H + j),
                              Vector128.Load(g + 2 * H + j), Vector128.Load(hn + j) + Vector128.Load(rbh + j), h + j);
        }
        for (; j < H; j++)
        {
            float z = g[j], r = g[H + j], n = hn[j];
            if (q != null) { z += q[j]; r += q[H + j]; n += rbh[j]; }
            n = Tanh(MathF.FusedMultiplyAdd(Sigmoid(r), n, g[2 * H + j]));
            h[j] = MathF.FusedMultiplyAdd(Sigmoid(z), h[j] - n, n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GruVector(in TanhTerms t, Vector128<float> z, Vector128<float> r, Vector128<float> gh, Vector128<float> hn, float* h)
    {
        var n = t.Tanh(Vector128.FusedMultiplyAdd(t.Sigmoid(r), hn, gh));
        Vector128.FusedMultiplyAdd(t.Sigmoid(z), Vector128.Load(h) - n, n).Store(h);
    }

    /// <summary>
    /// The first half of a GRU step with linear_before_reset = 0: z = σ(g_z) kept in g's z-block, rh = σ(g_r)·h
    /// (the input of the second GEMV, rh·R_hᵀ). With <paramref name="q"/> non-null, g + q are the pre-activations.
    /// </summary>
    public static void GruReset(float* g, float* q, float* h, float* rh, int H)
    {
        int j = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var t = TanhTerms.Load();
            if (q == null)
                for (; j + 4 <= H; j += 4)
                {
                    t.Sigmoid(Vector128.Load(g + j)).Store(g + j);
                    (t.Sigmoid(Vector128.Load(g + H + j)) * Vector128.Load(h + j)).Store(rh + j);
                }
            else
                for (; j + 4 <= H; j += 4)
                {
                    t.Sigmoid(Vector128.Load(g + j) + Vector128.Load(q + j)).Store(g + j);
                    (t.Sigmoid(Vector128.Load(g + H + j) + Vector128.Load(q + H + j)) * Vector128.Load(h + j)).Store(rh + j);
                }
        }
        for (; j < H; j++)
        {
            float z = g[j], r = g[H + j];
            if (q != null) { z += q[j]; r += q[H + j]; }
            g[j] = Sigmoid(z);
            rh[j] = Sigmoid(r) * h[j];
        }
    }

    /// <summary>The second half (linear_before_reset = 0): n = tanh(gh (+ add)), h = n + z·(h − n), z from <see cref="GruReset"/>.</summary>
    public static void GruUpdate(float* gh, float* add, float* z, float* h, int H)
    {
        int j = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var t = TanhTerms.Load();
            if (add == null)
                for (; j + 4 <= H; j += 4) UpdateVector(t.Tanh(Vector128.Load(gh + j)), Vector128.Load(z + j), h + j);
            else
                for (; j + 4 <= H; j += 4) UpdateVector(t.Tanh(Vector128.Load(gh + j) + Vector128.Load(add + j)), Vector128.Load(z + j), h + j);
        }
        for (; j < H; j++)
        {
            float n = Tanh(add == null ? gh[j] : gh[j] + add[j]);
            h[j] = MathF.FusedMultiplyAdd(z[j], h[j] - n, n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void UpdateVector(Vector128<float> n, Vector128<float> z, float* h) => Vector128.FusedMultiplyAdd(z, Vector128.Load(h) - n, n).Store(h);

    /// <summary>The RNN step's activation (default tanh): h = tanh(g (+ q)).</summary>
    public static void RnnGates(float* g, float* q, float* h, int H)
    {
        int j = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var t = TanhTerms.Load();
            if (q == null)
                for (; j + 4 <= H; j += 4) t.Tanh(Vector128.Load(g + j)).Store(h + j);
            else
                for (; j + 4 <= H; j += 4) t.Tanh(Vector128.Load(g + j) + Vector128.Load(q + j)).Store(h + j);
        }
        for (; j < H; j++) h[j] = Tanh(q == null ? g[j] : g[j] + q[j]);
    }

    // tanh(x) ≈ x·P(x²)/Q(x²) on x clamped to [−9, 9] (MLAS's MlasTanhConstants, from Eigen): within a few ulp of tanh.
    internal const float Lo = -9f, Hi = 9f;
    internal const float A13 = -2.76076847742355e-16f, A11 = 2.00018790482477e-13f, A9 = -8.60467152213735e-11f, A7 = 5.12229709037114e-08f,
                A5 = 1.48572235717979e-05f, A3 = 6.37261928875436e-04f, A1 = 4.89352455891786e-03f;
    internal const float B6 = 1.19825839466702e-06f, B4 = 1.18534705686654e-04f, B2 = 2.26843463243900e-03f, B0 = 4.89352518554385e-03f;

    /// <summary>tanh(x) of four lanes: <see cref="TanhTerms.Tanh"/> (the one vector form; the gate loops hold its
    /// constants in registers), for callers outside a loop and the twin tests.</summary>
    public static Vector128<float> Tanh(Vector128<float> x) => TanhTerms.Load().Tanh(x);

    /// <summary>σ(x) = ½ + ½·tanh(x/2), with <see cref="Tanh(Vector128{float})"/>.</summary>
    public static Vector128<float> Sigmoid(Vector128<float> x) => TanhTerms.Load().Sigmoid(x);

    /// <summary>
    /// <see cref="Tanh(Vector128{float})"/>'s 13 constants as values the gate loops keep in registers (as
    /// <see cref="VectorExp.Terms"/>): ILC's RyuJIT left their literal-pool loads inside LstmGates' loop (13 LDR q of
    /// its 166 instructions a vector, objdump of the NativeAOT edgenet). <see cref="Load"/> is not inlined, so the
    /// values are not constants to the loop and stay in registers.
    /// </summary>
    internal readonly struct TanhTerms
    {
        readonly Vector128<float> lo, hi, a13, a11, a9, a7, a5, a3, a1, b6, b4, b2, b0, half;

        TanhTerms(bool _)
        {
            lo = Vector128.Create(Lo); hi = Vector128.Create(Hi);
            a13 = Vector128.Create(A13); a11 = Vector128.Create(A11); a9 = Vector128.Create(A9); a7 = Vector128.Create(A7);
            a5 = Vector128.Create(A5); a3 = Vector128.Create(A3); a1 = Vector128.Create(A1);
            b6 = Vector128.Create(B6); b4 = Vector128.Create(B4); b2 = Vector128.Create(B2); b0 = Vector128.Create(B0);
            half = Vector128.Create(0.5f);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static TanhTerms Load() => new(true);

        /// <summary>tanh(x) ≈ x·P(x²)/Q(x²): the same operations in the same order as <see cref="RecurrentNeon.Tanh(float)"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<float> Tanh(Vector128<float> x)
        {
            x = Vector128.Min(Vector128.Max(x, lo), hi);
            var s = x * x;
            var p = Vector128.FusedMultiplyAdd(s, a13, a11);
            p = Vector128.FusedMultiplyAdd(p, s, a9);
            p = Vector128.FusedMultiplyAdd(p, s, a7);
            p = Vector128.FusedMultiplyAdd(p, s, a5);
            p = Vector128.FusedMultiplyAdd(p, s, a3);
            p = Vector128.FusedMultiplyAdd(p, s, a1);
            p *= x;
            var d = Vector128.FusedMultiplyAdd(s, b6, b4);
            d = Vector128.FusedMultiplyAdd(d, s, b2);
            d = Vector128.FusedMultiplyAdd(d, s, b0);
            return p / d;
        }

        /// <summary>σ(x) = ½ + ½·tanh(x/2).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<float> Sigmoid(Vector128<float> x) => Vector128.FusedMultiplyAdd(Tanh(x * half), half, half);
    }

    /// <summary>The scalar twin of <see cref="Tanh(Vector128{float})"/>: the same operations in the same order.</summary>
    public static float Tanh(float x)
    {
        x = MathF.Min(MathF.Max(x, Lo), Hi);
        float s = x * x;
        float p = MathF.FusedMultiplyAdd(s, A13, A11);
        p = MathF.FusedMultiplyAdd(p, s, A9);
        p = MathF.FusedMultiplyAdd(p, s, A7);
        p = MathF.FusedMultiplyAdd(p, s, A5);
        p = MathF.FusedMultiplyAdd(p, s, A3);
        p = MathF.FusedMultiplyAdd(p, s, A1);
        p *= x;
        float d = MathF.FusedMultiplyAdd(s, B6, B4);
        d = MathF.FusedMultiplyAdd(d, s, B2);
        d = MathF.FusedMultiplyAdd(d, s, B0);
        return p / d;
    }

    /// <summary>The scalar twin of <see cref="Sigmoid(Vector128{float})"/>.</summary>
    public static float Sigmoid(float x) => MathF.FusedMultiplyAdd(Tanh(x * 0.5f), 0.5f, 0.5f);
}
