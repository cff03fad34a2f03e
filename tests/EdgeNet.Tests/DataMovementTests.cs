using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// Split, Tile, Trilu, GatherElements, CumSum and Gather with indices of any rank: values against a plain index formula,
/// and each backward against finite differences (x → Dense → op → Dense → cross-entropy).
/// </summary>
public class DataMovementTests(ITestOutputHelper output)
{
    /// <summary>Runs a one-input model on x = 0, 1, 2, ... and returns its first output.</summary>
    static float[] RunOnIndex(Model m, int batch)
    {
        using var s = new Session(m, batch);
        var input = s.Input(0, batch);
        for (int i = 0; i < input.Length; i++) input[i] = i;
        s.Run(batch);
        return s.Output().ToArray();
    }

    [Fact]
    public void Split_parts_follow_the_axis()
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 2, 5);
        g.Add(OpType.Split, [x], new Attributes().Set("axis", 2L).Set("split", new long[] { 2, 0, 3 }), "split", outputs: 3);
        var outs = g.Model.Nodes[^1].Outputs;
        int both = g.Add(OpType.Concat, [outs[2], outs[0]], new Attributes().Set("axis", 2L));   // the parts swapped
        var y = RunOnIndex(g.Build(both), 2);
        // y[n, r, j] = x[n, r, (j < 3 ? 2 + j : j - 3)]
        for (int n = 0; n < 2; n++)
            for (int r = 0; r < 2; r++)
                for (int j = 0; j < 5; j++) Assert.Equal(n * 10 + r * 5 + (j < 3 ? 2 + j : j - 3), y[n * 10 + r * 5 + j]);
    }

    /// <summary>Transpose by permutations that keep the innermost axis (runs of it copied: a transformer's heads
    /// [N, S, H, D] ↔ [N, H, S, D]; runs of 1-15 floats, 8/4-float vectors and over 64 floats), ranks 1-5, and ones
    /// that move it: element by element against the index formula, at batch 2.</summary>
    [Theory]
    [InlineData(new[] { 3, 5, 32 }, new[] { 0, 2, 1, 3 })]
    [InlineData(new[] { 4, 3, 7 }, new[] { 0, 2, 1, 3 })]
    [InlineData(new[] { 2, 5, 13 }, new[] { 0, 2, 1, 3 })]
    [InlineData(new[] { 3, 2, 70 }, new[] { 0, 2, 1, 3 })]
    [InlineData(new[] { 5, 3, 4 }, new[] { 0, 2, 1, 3 })]
    [InlineData(new[] { 5, 3, 1 }, new[] { 0, 2, 1, 3 })]
    [InlineData(new[] { 6, 9 }, new[] { 0, 1, 2 })]
    [InlineData(new int[0], new[] { 0 })]
    [InlineData(new[] { 7 }, new[] { 0, 1 })]
    [InlineData(new[] { 3, 4, 2, 9 }, new[] { 0, 2, 1, 3, 4 })]
    [InlineData(new[] { 3, 4, 2, 9 }, new[] { 0, 3, 2, 1, 4 })]
    [InlineData(new[] { 3, 4, 5 }, new[] { 0, 3, 2, 1 })]
    public void Transpose_moves_every_element(int[] dims, int[] perm)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", [-1, .. dims]);
        var y = RunOnIndex(g.Build(g.Add(OpType.Transpose, [x], new Attributes().Set("perm", perm.Select(p => (long)p).ToArray()))), 2);
        int[] shape = [2, .. dims], outShape = perm.Select(p => shape[p]).ToArray();
        int r = shape.Length;
        var stride = new long[r];
        long st = 1;
        for (int d = r - 1; d >= 0; d--) { stride[d] = st; st *= shape[d]; }
        var index = new int[r];
        for (int o = 0; o < y.Length; o++)
        {
            long src = 0;
            for (int d = 0; d < r; d++) src += index[d] * stride[perm[d]];
            Assert.Equal(src, y[o]);
            for (int d = r - 1; d >= 0 && ++index[d] == outShape[d]; d--) index[d] = 0;
        }
        Assert.Equal(shape.Aggregate(1, (p, d) => p * d), y.Length);
    }

    /// <summary>Concat along the last axis: blocks of every width around the vector copies of short blocks (tails of
    /// 1-15 floats, 16/8/4-float vectors, over the 128-float limit (DataMovement.SmallBlock) to Span.CopyTo).</summary>
    [Theory]
    [InlineData(1, 3)]
    [InlineData(5, 17)]
    [InlineData(24, 4)]
    [InlineData(31, 33)]
    [InlineData(16, 48)]
    [InlineData(64, 1)]
    [InlineData(65, 7)]
    [InlineData(128, 1)]
    [InlineData(129, 7)]
    public void Concat_copies_blocks_of_any_width(int a, int b)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 3, a + b);
        g.Add(OpType.Split, [x], new Attributes().Set("axis", 2L).Set("split", new long[] { a, b }), "split", outputs: 2);
        var outs = g.Model.Nodes[^1].Outputs;
        int both = g.Add(OpType.Concat, [outs[1], outs[0], outs[1]], new Attributes().Set("axis", 2L));
        var y = RunOnIndex(g.Build(both), 2);
        int w = a + 2 * b;
        for (int r = 0; r < 2 * 3; r++)
            for (int j = 0; j < w; j++)
                Assert.Equal(r * (a + b) + (j < b ? a + j : j < a + b ? j - b : a + (j - a - b)), y[r * w + j]);
    }

    /// <summary>DataMovement.CopySmall (Split's and Concat's blocks up to DataMovement.SmallBlock = 512 bytes) at every
    /// length 0..SmallBlock + 70 and source/destination offsets 0..3 (unaligned): every byte copied, none written
    /// before or after the block (the tail's vector or moves end at the block's end, over bytes already
    /// copied).</summary>
    [Fact]
    public unsafe void CopySmall_copies_every_length_and_nothing_else()
    {
        const int pad = 80;
        var src = new byte[DataMovement.SmallBlock + 70 + 2 * pad];
        var dst = new byte[src.Length];
        for (int i = 0; i < src.Length; i++) src[i] = (byte)(i * 7 + 1);
        fixed (byte* ps = src, pd = dst)
            for (int n = 0; n <= DataMovement.SmallBlock + 70; n++)
                for (int so = 0; so < 4; so++)
                    for (int dOff = 0; dOff < 4; dOff++)
                    {
                        Array.Fill(dst, (byte)0xEE);
                        DataMovement.CopySmall(ps + pad + so, pd + pad + dOff, n);
                        for (int i = 0; i < dst.Length; i++)
                        {
                            int j = i - pad - dOff;
                            byte want = j >= 0 && j < n ? src[pad + so + j] : (byte)0xEE;
                            if (dst[i] != want) Assert.Fail($"n {n}, offsets {so}/{dOff}: byte {j} of the block is {dst[i]}, not {want}");
                        }
                    }
    }

    [Fact]
    public void Tile_repeats_every_axis()
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 2, 3);
        int t = g.Add(OpType.Tile, [x], new Attributes().Set("repeats", new long[] { 1, 3, 2 }));
        var m = g.Build(t);
        Assert.Equal([-1, 6, 6], m.Tensors[t].Shape);
        var y = RunOnIndex(m, 2);
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++) Assert.Equal(n * 6 + i % 2 * 3 + j % 3, y[n * 36 + i * 6 + j]);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, -1)]
    [InlineData(0, 2)]
    [InlineData(0, -7)]
    [InlineData(1, 9)]
    public void Trilu_keeps_one_triangle(long upper, long k)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 3, 4);
        var y = RunOnIndex(g.Build(g.Add(OpType.Trilu, [x], new Attributes().Set("upper", upper).Set("k", k))), 2);
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 4; j++)
                {
                    bool keep = upper != 0 ? j - i >= k : j - i <= k;
                    int at = n * 12 + i * 4 + j;
                    Assert.Equal(keep ? at : 0, y[at]);
                }
    }

    [Fact]
    public void GatherElements_and_Gather_of_2d_indices()
    {
        var g = new GraphBuilder();
        int x = g.Input("x", 3, 4);
        long[] idx = [3, -1, 0, 1, 2, 2];   // [3, 2] along axis 1
        int ge = g.Add(OpType.GatherElements, [x], new Attributes().Set("axis", 1L).Set("indices", idx).Set("indices_shape", new long[] { 3, 2 }));
        var y = RunOnIndex(g.Build(ge), 1);
        Assert.Equal([3f, 3, 4, 5, 10, 10], y);

        var g2 = new GraphBuilder();
        int x2 = g2.Input("x", -1, 4);
        int ga = g2.Add(OpType.Gather, [x2], new Attributes().Set("axis", 1L).Set("indices", new long[] { 0, 3, -1, 1 }).Set("indices_shape", new long[] { 2, 2 }));
        var m2 = g2.Build(ga);
        Assert.Equal([-1, 2, 2], m2.Tensors[ga].Shape);
        Assert.Equal([0f, 3, 3, 1, 4, 7, 7, 5], RunOnIndex(m2, 2));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    public void CumSum_runs_along_the_axis(long exclusive, long reverse)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 3, 4);
        var y = RunOnIndex(g.Build(g.Add(OpType.CumSum, [x], new Attributes().Set("axis", 1L).Set("exclusive", exclusive).Set("reverse", reverse))), 2);
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 4; j++)
                {
                    float want = 0;
                    for (int k = 0; k < 3; k++)
                        if (reverse != 0 ? (exclusive != 0 ? k > i : k >= i) : (exclusive != 0 ? k < i : k <= i)) want += n * 12 + k * 4 + j;
                    Assert.Equal(want, y[n * 12 + i * 4 + j]);
                }
    }

    /// <summary>Token ids (an int64 graph input, batch-sized) into a constant embedding table; an id outside the table
    /// stops the run with one error; int64 data moves through Split, Tile and Trilu unchanged.</summary>
    [Fact]
    public void Gather_of_computed_indices_and_typed_data()
    {
        var g = new GraphBuilder();
        int ids = g.Input("ids", DataType.Int64, -1, 3);
        var table = Enumerable.Range(0, 5 * 2).Select(i => (float)i).ToArray();
        int e = g.Add(OpType.Gather, [g.Constant("table", table, 5, 2), ids], new Attributes().Set("axis", 0L));
        var m = g.Build(e);
        Assert.Equal([-1, 3, 2], m.Tensors[e].Shape);
        using (var s = new Session(m, 2))
        {
            new long[] { 4, 0, -1, 2, 2, 1 }.CopyTo(s.Input<long>(0, 2));
            s.Run(2);
            Assert.Equal([8f, 9, 0, 1, 8, 9, 4, 5, 4, 5, 2, 3], s.Output().ToArray());
            s.Input<long>(0, 2)[1] = 5;
            var err = Assert.Throws<InvalidDataException>(() => s.Run(2));
            Assert.Contains("index 5 is outside axis 0 of size 5", err.Message);
        }

        var g2 = new GraphBuilder();
        int x = g2.Input("x", DataType.Int64, 2, 3);
        g2.Add(OpType.Split, [x], new Attributes().Set("axis", 1L).Set("split", new long[] { 1, 2 }), "split", outputs: 2);
        int right = g2.Model.Nodes[^1].Outputs[1];
        int tiled = g2.Add(OpType.Tile, [right], new Attributes().Set("repeats", new long[] { 1, 2 }));
        int tri = g2.Add(OpType.Trilu, [tiled], new Attributes().Set("upper", 1L).Set("k", 1L));
        var m2 = g2.Build(tri);
        Assert.Equal(DataType.Int64, m2.Tensors[tri].Type);
        using var s2 = new Session(m2, 1);
        new long[] { 1, 2, 3, 4, 5, 6 }.CopyTo(s2.Input<long>(0, 1));
        s2.Run(1);
        // right = [[2, 3], [5, 6]], tiled = [[2, 3, 2, 3], [5, 6, 5, 6]], upper from k = 1
        Assert.Equal([0L, 3, 2, 3, 0, 0, 5, 6], s2.Output<long>(0).ToArray());
    }

    public static TheoryData<string> Ops() => ["Split", "Tile", "Trilu", "Gather2d", "CumSum", "CumSumReverseExclusive"];

    /// <summary>The op between two Dense layers: the first layer's weight gradients against finite differences.</summary>
    [Theory]
    [MemberData(nameof(Ops))]
    public void Backward_matches_finite_differences(string op)
    {
        var rng = new Random(3);
        float[] R(int n, float sc) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * sc).ToArray();
        var g = new GraphBuilder();
        int batch = 4;
        int x = g.Input("x", -1, 6);
        int h = g.Add(OpType.Dense, [x, g.Constant("w1", R(36, 0.6f), 6, 6), g.Constant("b1", R(6, 0.3f), 6)], name: "d1");
        int mid;
        switch (op)
        {
            case "Split":
                g.Add(OpType.Split, [h], new Attributes().Set("axis", 1L).Set("split", new long[] { 2, 4 }), "split", outputs: 2);
                var parts = g.Model.Nodes[^1].Outputs;
                mid = g.Add(OpType.Concat, [parts[1], parts[0], parts[0]], new Attributes().Set("axis", 1L));
                break;
            case "Tile":
                mid = g.Reshape(g.Add(OpType.Tile, [g.Reshape(h, [-1, 2, 3])], new Attributes().Set("repeats", new long[] { 1, 2, 2 })), [-1, 24]);
                break;
            case "Trilu":
                mid = g.Reshape(g.Add(OpType.Trilu, [g.Reshape(h, [-1, 2, 3])], new Attributes().Set("upper", 0L).Set("k", 1L)), [-1, 6]);
                break;
            case "CumSum":
                mid = g.Add(OpType.CumSum, [h], new Attributes().Set("axis", 1L));
                break;
            case "CumSumReverseExclusive":
                mid = g.Add(OpType.CumSum, [h], new Attributes().Set("axis", -1L).Set("exclusive", 1L).Set("reverse", 1L));
                break;
            default:
                mid = g.Reshape(g.Add(OpType.Gather, [h], new Attributes().Set("axis", 1L).Set("indices", new long[] { 5, 0, 0, -2 }).Set("indices_shape", new long[] { 2, 2 })), [-1, 4]);
                break;
        }
        int width = g.Model.Tensors[mid].Shape[1];
        var model = g.Build(g.Add(OpType.Dense, [mid, g.Constant("w2", R(3 * width, 1f), 3, width), g.Constant("b2", R(3, 0.5f), 3)], name: "d2"));
        var data = R(batch * 6, 1.5f);
        long[] labels = [0, 2, 1, 2];
        var s = new Training.TrainingSession(model, batch);
        float Loss() { data.CopyTo(s.Input(batch)); s.Forward(); s.ZeroGrad(false); return Training.Loss.CrossEntropy(s.Output(), labels, 3, s.OutputGrad()); }
        Loss(); s.Backward();
        var w = s.Parameters.First(q => q.Name == "w1");
        var analytic = (float[])w.Grad.Clone();
        Assert.Contains(analytic, v => v != 0);
        for (int i = 0; i < w.Value.Length; i++)
        {
            float keep = w.Value[i], step = 1e-3f;
            w.Value[i] = keep + step; double up = Loss();
            w.Value[i] = keep - step; double down = Loss();
            w.Value[i] = keep;
            double numeric = (up - down) / (2 * step);
            Assert.True(Math.Abs(numeric - analytic[i]) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(analytic[i])) < 0.05, $"{op}: w1[{i}] analytic {analytic[i]}, numeric {numeric}");
        }
        output.WriteLine($"{op}: {w.Value.Length} weights checked");
    }

    /// <summary>GatherElements needs fixed-shape data, and training a batch axis, so its backward is checked on its
    /// own: L = Σ y·dy with a fixed dy; finite differences of L in each x[i] against backward(dy)[i].</summary>
    [Fact]
    public void GatherElements_backward_matches_finite_differences()
    {
        var g = new GraphBuilder();
        int x = g.Input("x", 3, 4);
        var m = g.Build(g.Add(OpType.GatherElements, [x], new Attributes().Set("axis", 0L).Set("indices", new long[] { 2, 0, 1, 1, -1, 0, 0, 1 }).Set("indices_shape", new long[] { 2, 4 })));
        var rng = new Random(1);
        var xv = Enumerable.Range(0, 12).Select(_ => (float)rng.NextDouble()).ToArray();
        var dy = Enumerable.Range(0, 8).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        using var s = new Session(m, 1);
        double L(float[] v) { v.CopyTo(s.Input(0, 1)); s.Run(1); var y = s.Output(); double sum = 0; for (int i = 0; i < y.Length; i++) sum += y[i] * dy[i]; return sum; }
        var kernel = new Kernels.GatherElementsKernel(m, m.Nodes[0]);
        var dx = new float[12];
        kernel.Backward(dy, dx);
        for (int i = 0; i < 12; i++)
        {
            var up = (float[])xv.Clone(); up[i] += 0.01f;
            var down = (float[])xv.Clone(); down[i] -= 0.01f;
            Assert.Equal(dx[i], (L(up) - L(down)) / 0.02, 3);
        }
        Assert.Contains(dx, v => v != 0);
    }
}
