using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Simd;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// The arm64 int8 LSTM step (RecurrentInt8Neon): both packed layouts (SDOT, SMLAL) against a plain loop over the
/// unpacked matrix, bit for bit, on odd sizes and tails with the extreme values; QMatrix.MultiplyAdd against
/// Multiply followed by the gate pass's add (the same bits); and whole int8 LSTMs against the reference kernel.
/// On x64 the portable form runs; the qemu tiers run SMLAL (cortex-a72) and SDOT and SMLAL (cortex-a76).
/// </summary>
public unsafe class RecurrentInt8NeonTests
{
    static sbyte[] Bytes(int n, int seed, int lo = -128) { var r = new Random(seed); return Enumerable.Range(0, n).Select(_ => (sbyte)r.Next(lo, 128)).ToArray(); }
    static float[] Floats(int n, int seed, float scale = 1) { var r = new Random(seed); return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1) * scale).ToArray(); }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(8, 16)]
    [InlineData(9, 17)]
    [InlineData(16, 15)]
    [InlineData(33, 64)]
    [InlineData(67, 33)]
    [InlineData(256, 64)]
    [InlineData(100, 130)]
    public void Gemv_adds_the_dequantized_sums_of_a_plain_loop(int n, int k)
    {
        var w = Bytes(n * k, 1); var s = Floats(n, 2, 0.01f); var g0 = Floats(n, 3);
        int kp = RecurrentInt8Neon.KPad(k);
        var a = new sbyte[kp];
        Bytes(k, 4, -127).CopyTo(a, 0);
        if (k > 2) { a[0] = -127; a[1] = -127; w[0] = -128; w[1] = -128; }   // the largest int16 pair (SMULL + SMLAL)
        var expect = new float[n];
        for (int j = 0; j < n; j++)
        {
            int sum = 0;
            for (int q = 0; q < k; q++) sum += a[q] * w[j * k + q];
            expect[j] = g0[j] + sum * s[j];
        }
        foreach (bool dot in new[] { false, true })
        {
            using var packed = RecurrentInt8Neon.Pack(w, n, k, dot);
            var g = (float[])g0.Clone(); var gs = (float[])g0.Clone();
            fixed (sbyte* pa = a) fixed (float* ps = s, pg = g, pgs = gs)
            {
                RecurrentInt8Neon.GemvAdd(pa, k, (sbyte*)packed.Pointer, n, ps, pg, dot);
                RecurrentInt8Neon.GemvScalar(pa, kp, (sbyte*)packed.Pointer, n, ps, pgs, dot);
            }
            Assert.Equal(expect, g);
            Assert.Equal(expect, gs);
        }
    }

    /// <summary>The fused pass gives the bits of the unfused one: Multiply's dequantized values added to g.</summary>
    [Theory]
    [InlineData(1, 256, 64)]
    [InlineData(2, 68, 17)]
    [InlineData(2, 12, 3)]
    public void MultiplyAdd_equals_Multiply_then_add(int rows, int n, int k)
    {
        var desc = new TensorDesc("R", DataType.Int8, [1, n, k])
        {
            Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(Bytes(n * k, 5, -127).AsSpan()).ToArray(),
            Quant = new QuantParams(Floats(n, 6, 0.01f).Select(Math.Abs).ToArray(), new int[n], 1),
        };
        using var q = QMatrix.Slice(desc, 0, n, k, reference: false, GemmInt8.Selected, gemv: true);
        Assert.True(q.HasGemv);
        var a = Floats(rows * k, 7, 3f);
        var g0 = Floats(rows * n, 8);
        var hr = new float[rows * n]; var g = (float[])g0.Clone();
        var scratch = new byte[rows * (GemmInt8.KPad(k) + 4 * n) + 256];
        fixed (float* pa = a, phr = hr, pg = g) fixed (byte* ps = scratch)
        {
            q.Multiply(pa, rows, phr, n, ps);
            q.MultiplyAdd(pa, rows, pg, n, ps);
        }
        for (int i = 0; i < g.Length; i++) Assert.Equal(g0[i] + hr[i], g[i]);
    }

    public static TheoryData<string, int, int, int> Cases()
    {
        var d = new TheoryData<string, int, int, int>();
        foreach (var (dir, hidden, layout, batch) in new[] { ("forward", 64, 0, 1), ("reverse", 5, 1, 2), ("bidirectional", 33, 1, 1),
                                                             ("forward", 67, 0, 2), ("bidirectional", 8, 0, 3) })
            d.Add(dir, hidden, layout, batch);
        return d;
    }

    /// <summary>Int8 W and R with biases and initial states: the fast path (the fused step on arm64) against the reference.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Int8_lstm_matches_the_reference(string direction, int H, int layout, int batch)
    {
        int D = direction == "bidirectional" ? 2 : 1, I = 9, S = 6, G = 4;
        var g = new GraphBuilder();
        int x = g.Input("x", layout == 0 ? [S, batch, I] : [batch, S, I]);
        TensorDesc Int8(string name, int rows, int cols, int seed, float scale) => new(name, DataType.Int8, [D, rows, cols])
        {
            Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(Bytes(D * rows * cols, seed, -127).AsSpan()).ToArray(),
            Quant = new QuantParams(Enumerable.Repeat(scale, D * rows).ToArray(), new int[D * rows], 1),
        };
        int W = g.Model.AddTensor(Int8("W", G * H, I, 1, 0.004f)), R = g.Model.AddTensor(Int8("R", G * H, H, 2, 0.003f));
        int[] state = layout == 0 ? [D, batch, H] : [batch, D, H];
        var a = new Attributes().Set("hidden_size", (long)H).Set("direction", direction).Set("layout", (long)layout);
        int y = g.Add(OpType.Lstm, [x, W, R, g.Constant("B", Floats(D * 2 * G * H, 3), D, 2 * G * H), -1,
            g.Constant("h0", Floats(D * batch * H, 11), state), g.Constant("c0", Floats(D * batch * H, 12), state)], a, outputs: 3);
        var outs = g.Model.Nodes[0].Outputs;
        int all = g.Add(OpType.Concat, [g.Reshape(y, [S * D * batch * H]), g.Reshape(outs[1], [D * batch * H]), g.Reshape(outs[2], [D * batch * H])],
                        new Attributes().Set("axis", 0L));
        var m = g.Build(all);
        using var fast = new Session(m, 1);
        using var slow = new Session(m, 1, KernelOptions.Default with { Reference = true });
        var input = Floats((int)m.Input().Elements(1), 7, 2f);
        input.CopyTo(fast.Input(0, 1)); input.CopyTo(slow.Input(0, 1));
        fast.Run(1); slow.Run(1);
        Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), 1e-5f, 1e-4f, "int8 LSTM");
    }
}
