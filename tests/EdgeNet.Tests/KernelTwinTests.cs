using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// Every vectorized kernel against its scalar reference, over odd sizes and tails (1..67), odd channel counts, and
/// each attribute combination the converter emits.
/// </summary>
public class KernelTwinTests
{
    static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    /// <summary>
    /// Ops that are not elementwise with a case below (elementwise ops of the op table are all covered by
    /// <see cref="Activations_and_softmax"/>; Quantize and Dequantize by QuantTests' int8 twins). OpTableTests fails
    /// for an op in neither.
    /// </summary>
    public static readonly HashSet<OpType> TwinCovered =
    [
        OpType.Dense, OpType.Conv, OpType.MaxPool, OpType.AveragePool, OpType.GlobalAveragePool, OpType.Softmax,
        OpType.Add, OpType.Sub, OpType.Mul, OpType.Div, OpType.Pow, OpType.Max, OpType.Min, OpType.Mod, OpType.PRelu, OpType.Lstm, OpType.Gru, OpType.Rnn,
        OpType.Transpose, OpType.Slice, OpType.Gather, OpType.Concat, OpType.Reshape, OpType.ChannelAffine,
        OpType.Quantize, OpType.Dequantize,
        OpType.ReduceMean, OpType.ReduceSum, OpType.ReduceMax, OpType.ReduceMin, OpType.ReduceProd, OpType.ReduceL1, OpType.ReduceL2,
        OpType.ReduceSumSquare, OpType.ReduceLogSumExp, OpType.LogSoftmax, OpType.Hardmax, OpType.MatMul,
        OpType.LayerNormalization,
        OpType.Split, OpType.Tile, OpType.Trilu, OpType.GatherElements, OpType.CumSum,   // DataMovementTests: values by index formula
        // SpatialOpTests
        OpType.ConvTranspose, OpType.Resize, OpType.Pad, OpType.GlobalMaxPool, OpType.GroupNormalization, OpType.Lrn,
        // TypedOpTests: scalar formulas only (integer and bool tensors are token-sized), values by hand and ONNX's node tests
        OpType.Equal, OpType.Greater, OpType.GreaterOrEqual, OpType.Less, OpType.LessOrEqual, OpType.And, OpType.Or, OpType.Xor,
        OpType.Not, OpType.Where, OpType.Cast, OpType.ArgMax, OpType.ArgMin, OpType.TopK,
    ];

    /// <summary>Runs the model with reference and vectorized kernels on the same random input; outputs must agree.</summary>
    static void Twins(Model m, int batch, float atol = 1e-5f, float rtol = 1e-4f, KernelOptions? options = null, float scale = 1f)
    {
        using var fast = new Session(m, batch, options);
        using var slow = new Session(m, batch, KernelOptions.Default with { Reference = true });
        var x = Random((int)(m.Input().Elements(1) * (fast.HasBatchDimension ? batch : 1)), 7, scale);
        x.CopyTo(fast.Input(0, fast.HasBatchDimension ? batch : 1));
        x.CopyTo(slow.Input(0, slow.HasBatchDimension ? batch : 1));
        fast.Run(fast.HasBatchDimension ? batch : 1); slow.Run(slow.HasBatchDimension ? batch : 1);
        Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), atol, rtol, m.Nodes[^1].Op.ToString());
    }

    public static TheoryData<int, int, int> DenseSizes()
    {
        var d = new TheoryData<int, int, int>();
        foreach (var ic in new[] { 1, 3, 7, 16, 33, 67 })
            foreach (var oc in new[] { 1, 5, 8, 17, 31, 64, 67 })
                foreach (var batch in new[] { 1, 3, 4, 9 })
                    d.Add(ic, oc, batch);
        return d;
    }

    [Theory]
    [MemberData(nameof(DenseSizes))]
    public void Dense(int ic, int oc, int batch)
    {
        foreach (var act in new[] { "none", "relu", "clip", "sigmoid", "tanh", "leakyrelu" })
        {
            var g = new GraphBuilder();
            int x = g.Input("x", -1, ic);
            var attrs = new Attributes().Set("activation", act).Set("act_min", -0.2f).Set("act_max", 0.3f).Set("act_alpha", 0.1f);
            int y = g.Add(OpType.Dense, [x, g.Constant("w", Random(oc * ic, 1), oc, ic), g.Constant("b", Random(oc, 2), oc)], attrs);
            Twins(g.Build(y), batch);
        }
    }

    public static TheoryData<int, int, int, int, int, int, int, int> ConvCases()
    {
        var d = new TheoryData<int, int, int, int, int, int, int, int>();
        // c, oc, group, k, stride, pad, dilation, size
        foreach (var (c, oc, group) in new[] { (1, 1, 1), (3, 5, 1), (4, 6, 2), (6, 6, 6), (7, 7, 7), (8, 16, 1), (5, 10, 5) })
            foreach (var (k, stride, pad, dil) in new[] { (1, 1, 0, 1), (3, 1, 1, 1), (3, 2, 1, 1), (3, 1, 2, 2), (5, 2, 2, 1), (2, 2, 0, 1), (3, 3, 0, 1) })
                foreach (var size in new[] { 5, 9, 13 })
                    d.Add(c, oc, group, k, stride, pad, dil, size);
        return d;
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv(int c, int oc, int group, int k, int stride, int pad, int dil, int size)
    {
        foreach (var act in new[] { "none", "relu", "clip", "leakyrelu" })
        {
            var g = new GraphBuilder();
            int x = g.Input("x", -1, c, size, size + 2);
            var attrs = new Attributes().Set("group", (long)group).Set("strides", new long[] { stride, stride })
                .Set("pads", new long[] { pad, pad, pad, Math.Max(0, pad - 1) }).Set("dilations", new long[] { dil, dil })
                .Set("activation", act).Set("act_min", 0f).Set("act_max", 6f).Set("act_alpha", 0.2f);
            int y = g.Add(OpType.Conv, [x, g.Constant("w", Random(oc * (c / group) * k * k, 3), oc, c / group, k, k), g.Constant("b", Random(oc, 4), oc)], attrs);
            Twins(g.Build(y), 2);   // planned channels-last (ConvNhwcKernel)
            Twins(g.Model, 2, options: KernelOptions.Default with { ChannelsLast = false });   // the NCHW kernel
        }
    }

    [Theory]
    [InlineData(OpType.MaxPool, 2, 2, 0, false)]
    [InlineData(OpType.MaxPool, 3, 2, 1, true)]
    [InlineData(OpType.AveragePool, 3, 1, 1, false)]
    [InlineData(OpType.AveragePool, 3, 2, 1, true)]
    [InlineData(OpType.GlobalAveragePool, 0, 0, 0, false)]
    [InlineData(OpType.MaxPool, 2, 2, 0, false, 9, 19)]    // the vector 2×2 path: odd sizes, 4-wide blocks and tails
    [InlineData(OpType.MaxPool, 2, 2, 0, false, 16, 16)]
    [InlineData(OpType.MaxPool, 2, 2, 0, true, 5, 7)]      // ceil_mode: the last window is partial, so the reference loop
    public void Pools(OpType op, int k, int stride, int pad, bool ceil, int h = 11, int w = 8)
    {
        foreach (var countPad in new[] { 0L, 1L })
        {
            var g = new GraphBuilder();
            int x = g.Input("x", -1, 3, h, w);
            var attrs = op == OpType.GlobalAveragePool ? null : new Attributes().Set("kernel_shape", new long[] { k, k }).Set("strides", new long[] { stride, stride })
                .Set("pads", new long[] { pad, pad, pad, pad }).Set("ceil_mode", ceil ? 1L : 0L).Set("count_include_pad", countPad);
            Twins(g.Build(g.Add(op, [x], attrs)), 3);
        }
    }

    [Theory]
    [InlineData(OpType.Add)]
    [InlineData(OpType.Sub)]
    [InlineData(OpType.Mul)]
    [InlineData(OpType.Div)]
    [InlineData(OpType.Pow)]
    [InlineData(OpType.Max)]
    [InlineData(OpType.Min)]
    [InlineData(OpType.Mod)]
    [InlineData(OpType.PRelu)]
    public void Broadcasting_binary(OpType op)
    {
        foreach (var other in new[] { new[] { 4, 5, 7 }, new[] { 5, 1 }, new[] { 1 }, new[] { 4, 1, 7 }, new[] { 7 } })
            foreach (var constFirst in new[] { false, true })
            {
                var g = new GraphBuilder();
                int x = g.Input("x", -1, 4, 5, 7);
                var data = Random(other.Aggregate(1, (p, d) => p * d), 5);
                if (op is OpType.Div or OpType.Mod) for (int i = 0; i < data.Length; i++) data[i] = 1.5f + Math.Abs(data[i]);
                int c = g.Constant("c", data, other);
                Twins(g.Build(g.Add(op, constFirst ? [c, x] : [x, c])), 3);
            }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(67)]
    public void Activations_and_softmax(int n)
    {
        // Every elementwise op of the op table, over ±5 (their clamps and kinks), and Softmax on two axes.
        foreach (var op in Engine.OpTable.All.Where(e => e.Unary is not null).Select(e => e.Op).Append(OpType.Softmax))
            foreach (int axis in new[] { -1, 1 })
            {
                var g = new GraphBuilder();
                int x = g.Input("x", -1, 3, n);
                var a = new Attributes().Set("axis", (long)axis).Set("alpha", 0.3f).Set("min", -0.5f).Set("max", 0.25f);
                var m = g.Build(g.Add(op, [x], a));
                Twins(m, 2);
                Twins(m, 2, scale: 5f);
            }
    }

    /// <summary>LayerNormalization over rows of 1-19, 37, 45 and 387 floats (the one-pass statistics' four-vector and one-vector
    /// steps and scalar tail; the normalization's the same), with and without B, against the reference's two passes; and
    /// the statistics against double-precision ones for rows whose mean is far from 0 against their spread (10000 ± 0.01,
    /// 1000 ± 0.01, 30 ± 1; the first value an outlier too): the one-pass variance of the values less the row's first
    /// must not cancel.</summary>
    [Fact]
    public unsafe void LayerNorm_rows()
    {
        foreach (int n in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 19, 37, 45, 387 })
            foreach (bool withBias in new[] { true, false })
            {
                var g = new GraphBuilder();
                int x = g.Input("x", -1, 3, n);
                int[] ins = withBias ? [x, g.Constant("s", Random(n, 5), n), g.Constant("b", Random(n, 6), n)] : [x, g.Constant("s", Random(n, 5), n)];
                var m = g.Build(g.Add(OpType.LayerNormalization, ins, new Attributes().Set("axis", -1L).Set("epsilon", 1e-12f)));
                Twins(m, 2, atol: 1e-4f, rtol: 1e-4f);
            }
        foreach (var (mean, spread, n) in new[] { (1e4f, 0.01f, 384), (1e4f, 0.01f, 101), (1000f, 0.01f, 384), (30f, 1f, 37), (-5f, 0.5f, 19), (0f, 1e-3f, 9) })
        {
            var row = Random(n, 8, spread).Select(v => v + mean).ToArray();
            foreach (float first in new[] { row[0], mean + 4 * spread })
            {
                row[0] = first;
                double mu = row.Average(v => (double)v), inv = 1 / Math.Sqrt(row.Average(v => (v - mu) * (v - mu)) + 1e-12);
                (float Mean, float Inv) fast;
                fixed (float* p = row) fast = LayerNormKernel.VectorStats(p, n, 1e-12f);
                Assert.Equal(mu, fast.Mean, Math.Abs(mu) * 1e-6 + 1e-7);
                Assert.Equal(inv, fast.Inv, inv * 1e-3);
            }
        }
    }

    /// <summary>LayerNormalization's zeros bit for bit, vector path against the reference: rows whose x − μ is exactly 0
    /// (a constant row; 1, 3 or 1, 2, 3, 2 repeated: mean 2 and variance 1 or 0.5 exactly by either statistics, so the
    /// same μ and inv) against scales of both signs and ±0.
    /// Without B, (x − μ)·inv·g is −0 where g &lt; 0 and the reference stores it (ONNX Runtime does, <see
    /// cref="LayerNorm_signed_zeros_as_onnx_runtime"/>); it added a + 0 there, the vector loop did not (rows of a vector
    /// or more: -0 against +0). With B of ±0, both add it.</summary>
    [Fact]
    public void LayerNorm_zeros_bit_for_bit()
    {
        float[] gs = [-1.5f, 0.5f, -0f, 0f, 2f, -1f], bs = [0f, -0f, 0.25f];
        var differ = new List<string>();
        var firstBits = new List<int>();   // the reference's y[0] without B
        foreach (int n in new[] { 1, 2, 3, 4, 5, 8, 12, 16, 17, 20, 37, 64, 387 })
            foreach (bool withBias in new[] { false, true })
            {
                var g = new GraphBuilder();
                int x = g.Input("x", -1, 2, n);
                int s = g.Constant("s", Enumerable.Range(0, n).Select(k => gs[k % gs.Length]).ToArray(), n);
                int[] ins = withBias ? [x, s, g.Constant("b", Enumerable.Range(0, n).Select(k => bs[k % bs.Length]).ToArray(), n)] : [x, s];
                var m = g.Build(g.Add(OpType.LayerNormalization, ins));
                var rows = new float[2 * n];
                for (int k = 0; k < n; k++)
                {
                    rows[k] = 5f;
                    rows[n + k] = n % 4 == 0 ? new[] { 1f, 2f, 3f, 2f }[k % 4] : n % 2 == 0 ? new[] { 1f, 3f }[k % 2] : -3f;
                }
                using var fast = new Session(m, 1);
                using var slow = new Session(m, 1, KernelOptions.Default with { Reference = true });
                rows.CopyTo(fast.Input(0, 1)); rows.CopyTo(slow.Input(0, 1));
                fast.Run(1); slow.Run(1);
                var want = slow.Output().ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
                var got = fast.Output().ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
                if (!want.SequenceEqual(got))
                    differ.Add($"n {n}, B {withBias}: reference {string.Join(" ", want.Take(12).Select(v => v.ToString("x8")))} vector {string.Join(" ", got.Take(12).Select(v => v.ToString("x8")))}");
                if (!withBias) firstBits.Add(want[0]);
            }
        Assert.True(differ.Count == 0, string.Join("\n", differ));
        Assert.All(firstBits, v => Assert.Equal(unchecked((int)0x80000000), v));   // (5 − 5)·inv·(−1.5): −0
    }

    /// <summary>The convention <see cref="LayerNorm_zeros_bit_for_bit"/> holds the kernels to: ONNX Runtime's
    /// LayerNormalization without B stores (x − μ)·g's −0 (no + 0), with a B of +0 it stores +0.</summary>
    [Fact, Trait("Needs", "OnnxRuntime")]
    public void LayerNorm_signed_zeros_as_onnx_runtime()
    {
        foreach (bool withBias in new[] { false, true })
        {
            var b = new OnnxBuilder(17).Input("x", 2, 4);
            string[] ins = withBias ? ["x", b.Floats("s", [-1f, -1f, 0f, 2f], 4), b.Floats("b", [0f, 0f, 0f, 0f], 4)] : ["x", b.Floats("s", [-1f, -1f, 0f, 2f], 4)];
            b.Node("LayerNormalization", ins, ["y"], OnnxBuilder.Int("axis", -1));
            b.Output("y");
            string path = b.Save(Fixtures.TempDir());
            float[] x = [1f, 2f, 3f, 2f, 5f, 5f, 5f, 5f];
            var want = OnnxBuilder.RunOrt(path, x, [2, 4])[0];
            var m = EdgeNet.Converter.OnnxImporter.Convert(path);
            foreach (bool reference in new[] { true, false })
            {
                using var s = new Session(m, 1, KernelOptions.Default with { Reference = reference });
                x.CopyTo(s.Input(0, 1));
                s.Run(1);
                var got = s.Output().ToArray();
                for (int i = 0; i < x.Length; i++)
                    if (want[i] == 0) Assert.True(BitConverter.SingleToInt32Bits(want[i]) == BitConverter.SingleToInt32Bits(got[i]), $"B {withBias}, reference {reference}, y[{i}]: ONNX Runtime {(float.IsNegative(want[i]) ? "-0" : "+0")}, EdgeNet {got[i]:R} ({BitConverter.SingleToInt32Bits(got[i]):x8})");
            }
            Assert.Equal(withBias ? 0 : 3, want.Count(v => v == 0 && float.IsNegative(v)));   // y[1], y[4], y[5]: 0·(−1)
        }
    }

    /// <summary>Softmax over rows of 1-16 (the short-row paths: arm64 takes rows of 4-15 as vectors, the last one
    /// overlapping the one before it), one row and 37 rows, against the reference.</summary>
    [Fact]
    public void Softmax_short_rows()
    {
        for (int len = 1; len <= 16; len++)
            foreach (int rows in new[] { 1, 37 })
            {
                var g = new GraphBuilder();
                int x = g.Input("x", -1, rows, len);
                var m = g.Build(g.Add(OpType.Softmax, [x], new Attributes().Set("axis", -1L)));
                Twins(m, 2);
                Twins(m, 2, scale: 5f);
            }
    }

    /// <summary>Short rows whose maximum stands out (100 above values in ±1, at each position of the row in turn: in the
    /// overlapping last vector of arm64's rows of 4-15 too): exp(x − max) overflows unless the max counts every lane.</summary>
    [Fact]
    public void Softmax_short_rows_subtract_the_whole_rows_max()
    {
        for (int len = 1; len <= 16; len++)
        {
            var g = new GraphBuilder();
            int xi = g.Input("x", -1, len, len);
            var m = g.Build(g.Add(OpType.Softmax, [xi], new Attributes().Set("axis", -1L)));
            using var fast = new Session(m, 1);
            using var slow = new Session(m, 1, KernelOptions.Default with { Reference = true });
            var x = Random(len * len, len);
            for (int r = 0; r < len; r++) x[r * len + r] = 100f + r;   // row r: its max at r
            x.CopyTo(fast.Input(0, 1)); x.CopyTo(slow.Input(0, 1));
            fast.Run(1); slow.Run(1);
            Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), 1e-6f, 1e-5f, $"Softmax rows of {len}");
        }
    }

    /// <summary>MatMul of two inputs (attention's shapes, broadcast batches, 1-D operands): GEMM against the triple loop.</summary>
    [Theory]
    [InlineData(new[] { 2, 3, 5, 7 }, new[] { 2, 3, 7, 9 })]
    [InlineData(new[] { 4, 17, 33 }, new[] { 33, 5 })]
    [InlineData(new[] { 3, 1, 6, 8 }, new[] { 1, 4, 8, 67 })]
    [InlineData(new[] { 9 }, new[] { 2, 9, 3 })]
    [InlineData(new[] { 5, 9 }, new[] { 9 })]
    [InlineData(new[] { 2, 14, 33 }, new[] { 33, 24 })]   // M 14: the 8- and 6-row tiles, whole panels
    [InlineData(new[] { 3, 4, 9 }, new[] { 9, 17 })]      // M 4: the 4-row tile, a partial panel
    public void MatMul(int[] sa, int[] sb)
    {
        var g = new GraphBuilder();
        int a = g.Input("a", sa);
        int b = g.Constant("b", Random(sb.Aggregate(1, (p, d) => p * d), 3), sb);
        Twins(g.Build(g.Add(OpType.MatMul, [a, b])), 1, 1e-4f, 1e-4f);
    }

    [Fact]
    public void Channel_affine()
    {
        foreach (var shape in new[] { new[] { -1, 5, 3, 7 }, new[] { -1, 3 } })
        {
            var g = new GraphBuilder();
            int x = g.Input("x", shape);
            int c = shape[1];
            Twins(g.Build(g.Add(OpType.ChannelAffine, [x, g.Constant("scale", Random(c, 3), c), g.Constant("shift", Random(c, 4), c)])), 3);
        }
    }

    /// <summary>Channels-last ChannelAffine (vectors along each pixel's row, the scalar formula for the row's tail) gives
    /// the reference's bits: rows of 1 to 67 channels, every vector width's tail, batch 3.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(33)]
    [InlineData(67)]
    public void Channel_affine_channels_last(int c)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 3, 5, c);
        var a = new Attributes().Set(ChannelsLast.Attribute, 1L);
        Twins(g.Build(g.Add(OpType.ChannelAffine, [x, g.Constant("scale", Random(c, 3), c), g.Constant("shift", Random(c, 4), c)], a)), 3, 0f, 0f);
    }

    public static TheoryData<OpType, string, int, int> RecurrentCases()
    {
        var d = new TheoryData<OpType, string, int, int>();
        foreach (var op in new[] { OpType.Lstm, OpType.Gru, OpType.Rnn })
            foreach (var dir in new[] { "forward", "reverse", "bidirectional" })
                foreach (var (hidden, layout) in new[] { (1, 0), (7, 1), (16, 0), (33, 1) })
                    d.Add(op, dir, hidden, layout);
        return d;
    }

    [Theory]
    [MemberData(nameof(RecurrentCases))]
    public void Recurrent(OpType op, string direction, int hidden, int layout)
    {
        int G = op switch { OpType.Lstm => 4, OpType.Gru => 3, _ => 1 }, D = direction == "bidirectional" ? 2 : 1, I = 5, S = 6;
        foreach (var lbr in op == OpType.Gru ? new[] { 0L, 1L } : [0L])
        {
            var g = new GraphBuilder();
            int x = g.Input("x", layout == 0 ? [S, 3, I] : [3, S, I]);   // batch fixed at 3, like the initial states
            var a = new Attributes().Set("hidden_size", (long)hidden).Set("direction", direction).Set("layout", (long)layout).Set("linear_before_reset", lbr);
            var inputs = new List<int> { x, g.Constant("W", Random(D * G * hidden * I, 8, 0.5f), D, G * hidden, I), g.Constant("R", Random(D * G * hidden * hidden, 9, 0.5f), D, G * hidden, hidden),
                g.Constant("B", Random(D * 2 * G * hidden, 10), D, 2 * G * hidden), -1,
                g.Constant("h0", Random(D * 3 * hidden, 11), layout == 0 ? [D, 3, hidden] : [3, D, hidden]) };
            if (op == OpType.Lstm) { inputs.Add(g.Constant("c0", Random(D * 3 * hidden, 12), layout == 0 ? [D, 3, hidden] : [3, D, hidden])); inputs.Add(g.Constant("P", Random(D * 3 * hidden, 13), D, 3 * hidden)); }
            int y = g.Add(op, inputs.ToArray(), a, outputs: op == OpType.Lstm ? 3 : 2);
            int yh = g.Model.Nodes[0].Outputs[1];
            int both = g.Add(OpType.Concat, [g.Reshape(y, [S * D * 3 * hidden]), g.Reshape(yh, [D * 3 * hidden])], new Attributes().Set("axis", 0L));
            Twins(g.Build(both), 1);
        }
    }

    [Fact]
    public void Data_movement()
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 3, 4, 5);
        int t = g.Add(OpType.Transpose, [x], new Attributes().Set("perm", new long[] { 0, 3, 1, 2 }));
        int s = g.AddWithShape(OpType.Slice, [t], [-1, 2, 3, 3], new Attributes().Set("starts", new long[] { 0, 1, 0, 3 }).Set("steps", new long[] { 1, 2, 1, -1 }));
        int ga = g.Add(OpType.Gather, [s], new Attributes().Set("axis", 2L).Set("indices", new long[] { 2, 0, -1 }));
        int c = g.Add(OpType.Concat, [ga, ga], new Attributes().Set("axis", 1L));
        int r = g.Reshape(c, [-1, 36]);
        Twins(g.Build(r), 2, 0, 0);

        // Check the values, not just agreement: element [n, j, i, k] of the transpose is x[n, i, k, j].
        using var sess = new Session(g.Model, 1);
        var input = sess.Input(0, 1);
        for (int i = 0; i < input.Length; i++) input[i] = i;
        sess.Run(1);
        var y = sess.Output().ToArray();
        // slice: j ∈ {1, 3}, k ∈ {3, 2, 1}; gather over i: {2, 0, 2}; concat twice.
        Assert.Equal(36, y.Length);
        float X(int i, int k, int j) => i * 20 + k * 5 + j;
        Assert.Equal(X(2, 3, 1), y[0]);
        Assert.Equal(X(2, 2, 1), y[1]);
        Assert.Equal(X(0, 3, 1), y[3]);
        Assert.Equal(X(2, 3, 3), y[9]);
        Assert.Equal(X(2, 3, 1), y[18]);
    }

    /// <summary>
    /// A MobileNetV2 block (pointwise expand + ReLU6, depthwise, pointwise project, residual Add, GlobalAveragePool,
    /// Dense) planned channels-last, and with channels-last off (NCHW depthwise), against the NCHW reference kernels.
    /// Odd channel counts reach the scalar channel tail; 5×5 and dilation reach the generic depthwise path.
    /// </summary>
    [Theory]
    [InlineData(8, 24, 3, 1, 1, 1, 9)]
    [InlineData(5, 13, 3, 2, 1, 1, 11)]
    [InlineData(16, 40, 3, 1, 1, 1, 7)]
    [InlineData(6, 19, 3, 2, 0, 1, 12)]
    [InlineData(4, 17, 5, 1, 2, 1, 8)]
    [InlineData(4, 9, 3, 1, 2, 2, 10)]
    [InlineData(3, 32, 3, 1, 1, 1, 1)]
    [InlineData(16, 48, 3, 1, 1, 1, 13, 2)]   // with a stem conv: 3 colour planes, 3×3, stride 2 (DirectConvNhwc)
    [InlineData(32, 64, 3, 2, 1, 1, 17, 1)]
    [InlineData(16, 24, 3, 1, 1, 1, 6, 2)]
    public void MobileNet_block_channels_last(int c, int e, int k, int stride, int pad, int dil, int size, int stemStride = 0)
    {
        var g = new GraphBuilder();
        var relu6 = new Attributes().Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f);
        int x = g.Input("x", -1, stemStride > 0 ? 3 : c, size, size + 1), input = x;
        if (stemStride > 0)
        {
            var stem = new Attributes().Set("strides", new long[] { stemStride, stemStride }).Set("pads", new long[] { 1, 1, 1, 1 })
                .Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f);
            x = g.Add(OpType.Conv, [x, g.Constant("ws", Random(c * 27, 8), c, 3, 3, 3), g.Constant("bs", Random(c, 9), c)], stem);
        }
        int h = g.Add(OpType.Conv, [x, g.Constant("we", Random(e * c, 1), e, c, 1, 1), g.Constant("be", Random(e, 2), e)], relu6);
        var dw = new Attributes().Set("group", (long)e).Set("strides", new long[] { stride, stride }).Set("pads", new long[] { pad, pad, pad, pad })
            .Set("dilations", new long[] { dil, dil }).Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f);
        h = g.Add(OpType.Conv, [h, g.Constant("wd", Random(e * k * k, 3), e, 1, k, k), g.Constant("bd", Random(e, 4), e)], dw);
        h = g.Add(OpType.Conv, [h, g.Constant("wp", Random(c * e, 5), c, e, 1, 1), g.Constant("bp", Random(c, 6), c)]);
        if (g.Model.Tensors[h].Shape.AsSpan().SequenceEqual(g.Model.Tensors[x].Shape)) h = g.Add(OpType.Add, [h, x]);
        h = g.Add(OpType.LeakyRelu, [h], new Attributes().Set("alpha", 0.1f));
        h = g.Add(OpType.GlobalAveragePool, [h]);
        h = g.Reshape(h, [-1, c]);
        var m = g.Build(g.Add(OpType.Dense, [h, g.Constant("wf", Random(3 * c, 7), 3, c)]));

        using (var planned = new Session(m, 2))
        {
            Assert.Contains(planned.Kernels, kr => kr is EdgeNet.Kernels.ConvNhwcKernel);   // the plan really is channels-last
            if (stemStride > 0) Assert.DoesNotContain(planned.Kernels, kr => kr.Node.Op == OpType.Transpose && kr.Node.Inputs[0] == input);   // the stem reads NCHW itself
        }
        Twins(m, 2);
        Twins(m, 2, options: KernelOptions.Default with { ChannelsLast = false });
    }

    /// <summary>Convs with more than 16 output channels a group: on AVX-512 the indirect GEMM (IndirectConvNhwc: rows read
    /// in place, edge kernel rows copied, padding rows read as zeros), over two pixel blocks (> 128 pixels), a partial
    /// panel, K in chunks, groups and dilation (one segment per tap), on one and two threads (parts split by panel ranges).</summary>
    [Theory]
    [InlineData(11, 40, 1, 3, 1, 1, 1, 13)]
    [InlineData(9, 72, 1, 3, 2, 1, 1, 9)]
    [InlineData(12, 40, 2, 3, 1, 1, 1, 11)]
    [InlineData(10, 33, 1, 3, 1, 2, 2, 13)]
    [InlineData(16, 64, 1, 1, 1, 2, 1, 5)]
    [InlineData(9, 48, 1, 5, 2, 2, 1, 12)]
    [InlineData(13, 96, 1, 7, 1, 3, 1, 4)]
    [InlineData(100, 40, 1, 3, 1, 1, 1, 6)]   // a kernel row of 300 k: K chunks inside a segment
    public void Conv_wide(int c, int oc, int group, int k, int stride, int pad, int dil, int size)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, c, size, size + 2);
        var attrs = new Attributes().Set("group", (long)group).Set("strides", new long[] { stride, stride })
            .Set("pads", new long[] { pad, pad, pad, Math.Max(0, pad - 1) }).Set("dilations", new long[] { dil, dil })
            .Set("activation", "clip").Set("act_min", -0.5f).Set("act_max", 6f);
        int y = g.Add(OpType.Conv, [x, g.Constant("w", Random(oc * (c / group) * k * k, 3), oc, c / group, k, k), g.Constant("b", Random(oc, 4), oc)], attrs);
        var m = g.Build(y);
        using (var planned = new Session(m, 2)) Assert.Contains(planned.Kernels, kr => kr is EdgeNet.Kernels.ConvNhwcKernel);   // more than 8 input channels: not a stem
        Twins(m, 2);
        Twins(m, 3, options: KernelOptions.Default with { Threads = 2 });
    }
}

