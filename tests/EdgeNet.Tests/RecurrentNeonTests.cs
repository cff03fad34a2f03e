using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Simd;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// The arm64 LSTM, GRU and RNN steps (RecurrentNeon): σ and tanh against their scalar twins (bit for bit) and the exact functions,
/// the packed GEMV against a scalar loop on odd sizes and tails, the gate pass's vector body against its scalar tail,
/// and whole LSTMs without peepholes (the path arm64 takes) against the reference kernel at batch 1, 2 and 3.
/// On x64 the portable forms run; the qemu tiers run the NEON ones.
/// </summary>
public unsafe class RecurrentNeonTests
{
    static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    [Fact]
    public void Tanh_and_sigmoid_equal_their_scalar_twins_and_the_exact_functions()
    {
        var xs = new List<float> { 0f, -0f, 1e-30f, -1e-30f, 8.99f, 9f, 9.01f, -9f, 20f, -20f, 100f, -100f, float.PositiveInfinity, float.NegativeInfinity };
        for (float x = -12f; x <= 12f; x += 0.00173f) xs.Add(x);
        while (xs.Count % 4 != 0) xs.Add(0.5f);
        double worstT = 0, worstS = 0;
        for (int i = 0; i < xs.Count; i += 4)
        {
            var v = System.Runtime.Intrinsics.Vector128.Create(xs[i], xs[i + 1], xs[i + 2], xs[i + 3]);
            var t = RecurrentNeon.Tanh(v); var s = RecurrentNeon.Sigmoid(v);
            for (int l = 0; l < 4; l++)
            {
                float x = xs[i + l];
                Assert.Equal(BitConverter.SingleToInt32Bits(RecurrentNeon.Tanh(x)), BitConverter.SingleToInt32Bits(t[l]));
                Assert.Equal(BitConverter.SingleToInt32Bits(RecurrentNeon.Sigmoid(x)), BitConverter.SingleToInt32Bits(s[l]));
                worstT = Math.Max(worstT, Math.Abs(t[l] - Math.Tanh(x)));
                worstS = Math.Max(worstS, Math.Abs(s[l] - 1 / (1 + Math.Exp(-(double)x))));
            }
        }
        Assert.True(worstT < 4e-7, $"tanh: max |error| {worstT}");
        Assert.True(worstS < 4e-7, $"sigmoid: max |error| {worstS}");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(31, 5)]
    [InlineData(32, 4)]
    [InlineData(33, 9)]
    [InlineData(64, 67)]
    [InlineData(256, 64)]
    [InlineData(100, 13)]
    public void Gemv_adds_the_same_sums_as_a_scalar_loop(int n, int k)
    {
        var w = Random(n * k, 1); var a = Random(k, 2); var g0 = Random(n + 1, 3);
        var expect = new float[n + 1];
        for (int j = 0; j < n; j++)
        {
            float s = g0[j];
            for (int q = 0; q < k; q++) s = MathF.FusedMultiplyAdd(w[j * k + q], a[q], s);
            expect[j] = s;
        }
        expect[n] = g0[n];   // one past the end: untouched
        using var packed = RecurrentNeon.Pack(w, n, k);
        var g = (float[])g0.Clone();
        fixed (float* pa = a, pg = g) RecurrentNeon.Gemv(pa, k, packed.Floats, n, pg);
        for (int j = 0; j <= n; j++) Assert.Equal(BitConverter.SingleToInt32Bits(expect[j]), BitConverter.SingleToInt32Bits(g[j]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(13)]
    [InlineData(29)]
    [InlineData(64)]
    public void Gate_pass_vector_body_equals_its_scalar_form(int H)
    {
        foreach (bool x86 in new[] { false, true })   // RecurrentX86: 512- and 256-bit bodies (where there), scalar tail
        foreach (bool withQ in new[] { false, true })
        {
            var g = Random(4 * H, 4, 12f); var q = Random(4 * H, 5, 2f); var c0 = Random(H, 6, 3f);
            var c = (float[])c0.Clone(); var h = new float[H];
            fixed (float* pg = g, pq = q, pc = c, ph = h)
                if (x86) RecurrentX86.LstmGates(pg, withQ ? pq : null, pc, ph, H);
                else RecurrentNeon.LstmGates(pg, withQ ? pq : null, pc, ph, H);
            for (int j = 0; j < H; j++)
            {
                float P(int blk) => g[blk * H + j] + (withQ ? q[blk * H + j] : 0f);
                float ct = MathF.FusedMultiplyAdd(RecurrentNeon.Sigmoid(P(0)), RecurrentNeon.Tanh(P(3)), RecurrentNeon.Sigmoid(P(2)) * c0[j]);
                Assert.Equal(BitConverter.SingleToInt32Bits(ct), BitConverter.SingleToInt32Bits(c[j]));
                Assert.Equal(BitConverter.SingleToInt32Bits(RecurrentNeon.Sigmoid(P(1)) * RecurrentNeon.Tanh(ct)), BitConverter.SingleToInt32Bits(h[j]));
            }
        }
    }

    public static TheoryData<string, int, int, int> LstmCases()
    {
        var d = new TheoryData<string, int, int, int>();
        foreach (var dir in new[] { "forward", "reverse", "bidirectional" })
            foreach (var (hidden, layout, batch) in new[] { (1, 0, 1), (5, 1, 1), (8, 0, 2), (33, 1, 2), (64, 0, 1), (67, 1, 3) })
                d.Add(dir, hidden, layout, batch);
        return d;
    }

    /// <summary>Default activations, no peepholes, no clip: the fast path (NEON on arm64) against the reference kernel.</summary>
    [Theory]
    [MemberData(nameof(LstmCases))]
    public void Lstm_without_peepholes_matches_the_reference(string direction, int hidden, int layout, int batch)
    {
        int D = direction == "bidirectional" ? 2 : 1, I = 9, S = 7, G = 4;
        var g = new GraphBuilder();
        int x = g.Input("x", layout == 0 ? [S, batch, I] : [batch, S, I]);
        var a = new Attributes().Set("hidden_size", (long)hidden).Set("direction", direction).Set("layout", (long)layout);
        int[] state = layout == 0 ? [D, batch, hidden] : [batch, D, hidden];
        int y = g.Add(OpType.Lstm, [x, g.Constant("W", Random(D * G * hidden * I, 8, 0.5f), D, G * hidden, I),
            g.Constant("R", Random(D * G * hidden * hidden, 9, 0.5f), D, G * hidden, hidden), g.Constant("B", Random(D * 2 * G * hidden, 10), D, 2 * G * hidden), -1,
            g.Constant("h0", Random(D * batch * hidden, 11), state), g.Constant("c0", Random(D * batch * hidden, 12), state)], a, outputs: 3);
        var outs = g.Model.Nodes[0].Outputs;
        int all = g.Add(OpType.Concat, [g.Reshape(y, [S * D * batch * hidden]), g.Reshape(outs[1], [D * batch * hidden]), g.Reshape(outs[2], [D * batch * hidden])],
                        new Attributes().Set("axis", 0L));
        var m = g.Build(all);
        using var fast = new Session(m, 1);
        using var slow = new Session(m, 1, KernelOptions.Default with { Reference = true });
        var input = Random((int)m.Input().Elements(1), 7, 2f);
        input.CopyTo(fast.Input(0, 1)); input.CopyTo(slow.Input(0, 1));
        fast.Run(1); slow.Run(1);
        Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), 1e-5f, 1e-4f, "LSTM");
    }

    static int Bits(float v) => BitConverter.SingleToInt32Bits(v);

    /// <summary>The GRU and RNN gate passes: vector bodies against the scalar form of the same operations, bit for bit.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(13)]
    [InlineData(29)]
    [InlineData(64)]
    public void Gru_and_rnn_gate_passes_equal_their_scalar_form(int H)
    {
        foreach (bool withQ in new[] { false, true })
        {
            var g0 = Random(3 * H, 4, 12f); var q = Random(3 * H, 5, 2f); var hn = Random(H, 6, 3f); var rbh = Random(H, 7);
            var h0 = Random(H, 8);
            float Pre(int blk, int j) => withQ ? g0[blk * H + j] + q[blk * H + j] : g0[blk * H + j];
            var g = (float[])g0.Clone(); var h = (float[])h0.Clone(); var rh = new float[H];
            fixed (float* pg = g, pq = q, pn = hn, pb = rbh, ph = h)
                RecurrentNeon.GruGates(pg, withQ ? pq : null, withQ ? pq + 2 * H : pn, withQ ? pb : null, ph, H);
            for (int j = 0; j < H; j++)
            {
                float n = RecurrentNeon.Tanh(MathF.FusedMultiplyAdd(RecurrentNeon.Sigmoid(Pre(1, j)), withQ ? q[2 * H + j] + rbh[j] : hn[j], g0[2 * H + j]));
                Assert.Equal(Bits(MathF.FusedMultiplyAdd(RecurrentNeon.Sigmoid(Pre(0, j)), h0[j] - n, n)), Bits(h[j]));
            }

            g = (float[])g0.Clone(); h = (float[])h0.Clone();
            fixed (float* pg = g, pq = q, ph = h, prh = rh)
            {
                RecurrentNeon.GruReset(pg, withQ ? pq : null, ph, prh, H);
                RecurrentNeon.GruUpdate(pg + 2 * H, withQ ? pq + 2 * H : null, pg, ph, H);
            }
            for (int j = 0; j < H; j++)
            {
                float z = RecurrentNeon.Sigmoid(Pre(0, j));
                Assert.Equal(Bits(z), Bits(g[j]));
                Assert.Equal(Bits(RecurrentNeon.Sigmoid(Pre(1, j)) * h0[j]), Bits(rh[j]));
                float n = RecurrentNeon.Tanh(Pre(2, j));
                Assert.Equal(Bits(MathF.FusedMultiplyAdd(z, h0[j] - n, n)), Bits(h[j]));
            }

            fixed (float* pg = g0, pq = q, ph = h) RecurrentNeon.RnnGates(pg, withQ ? pq : null, ph, H);
            for (int j = 0; j < H; j++) Assert.Equal(Bits(RecurrentNeon.Tanh(Pre(0, j))), Bits(h[j]));
        }
    }

    public static TheoryData<string, string, int, int, int> GruRnnCases()
    {
        var d = new TheoryData<string, string, int, int, int>();
        foreach (var op in new[] { "Gru0", "Gru1", "Rnn" })
            foreach (var dir in new[] { "forward", "reverse", "bidirectional" })
                foreach (var (hidden, layout, batch) in new[] { (1, 0, 1), (5, 1, 1), (8, 0, 2), (33, 1, 2), (64, 0, 1), (67, 1, 3) })
                    d.Add(op, dir, hidden, layout, batch);
        return d;
    }

    /// <summary>GRU (linear_before_reset 0 and 1) and RNN with default activations: the fast path (NEON on arm64:
    /// batch ≤ 2 one row at a time, batch 3 through the GEMM) against the reference kernel, output and final state.</summary>
    [Theory]
    [MemberData(nameof(GruRnnCases))]
    public void Gru_and_rnn_match_the_reference(string kind, string direction, int hidden, int layout, int batch)
    {
        var op = kind == "Rnn" ? OpType.Rnn : OpType.Gru;
        int D = direction == "bidirectional" ? 2 : 1, I = 9, S = 7, G = op == OpType.Gru ? 3 : 1;
        var g = new GraphBuilder();
        int x = g.Input("x", layout == 0 ? [S, batch, I] : [batch, S, I]);
        var a = new Attributes().Set("hidden_size", (long)hidden).Set("direction", direction).Set("layout", (long)layout);
        if (op == OpType.Gru) a.Set("linear_before_reset", kind == "Gru1" ? 1L : 0L);
        int[] state = layout == 0 ? [D, batch, hidden] : [batch, D, hidden];
        int y = g.Add(op, [x, g.Constant("W", Random(D * G * hidden * I, 8, 0.5f), D, G * hidden, I),
            g.Constant("R", Random(D * G * hidden * hidden, 9, 0.5f), D, G * hidden, hidden), g.Constant("B", Random(D * 2 * G * hidden, 10), D, 2 * G * hidden), -1,
            g.Constant("h0", Random(D * batch * hidden, 11), state)], a, outputs: 2);
        var outs = g.Model.Nodes[0].Outputs;
        int all = g.Add(OpType.Concat, [g.Reshape(y, [S * D * batch * hidden]), g.Reshape(outs[1], [D * batch * hidden])], new Attributes().Set("axis", 0L));
        var m = g.Build(all);
        using var fast = new Session(m, 1);
        using var slow = new Session(m, 1, KernelOptions.Default with { Reference = true });
        var input = Random((int)m.Input().Elements(1), 7, 2f);
        input.CopyTo(fast.Input(0, 1)); input.CopyTo(slow.Input(0, 1));
        fast.Run(1); slow.Run(1);
        Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), 1e-5f, 1e-4f, kind);
    }
}
