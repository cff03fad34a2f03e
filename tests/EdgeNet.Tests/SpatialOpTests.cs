using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// The spatial ops (ConvTranspose, Resize, Pad, GlobalMaxPool, GroupNormalization, LRN): fast kernels against their
/// scalar references on odd sizes, and every backward against finite differences through a training session
/// (a trained 1×1 Conv before the op, a Dense head after it, cross-entropy).
/// </summary>
public class SpatialOpTests
{
    static float[] R(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    static void Twins(Model m, int batch)
    {
        using var fast = new Session(m, batch);
        using var slow = new Session(m, batch, KernelOptions.Default with { Reference = true });
        var x = R((int)m.Input().Elements(batch), 7);
        x.CopyTo(fast.Input(0, batch)); x.CopyTo(slow.Input(0, batch));
        fast.Run(batch); slow.Run(batch);
        Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), 1e-5f, 1e-4f, m.Nodes[^1].Op.ToString());
    }

    public static TheoryData<int, int, int, int, int, int, int, int, int> ConvTransposeCases()
    {
        var d = new TheoryData<int, int, int, int, int, int, int, int, int>();
        // c, oc, group, k, stride, pad, dilation, output_padding, size
        foreach (var (c, oc, group) in new[] { (1, 1, 1), (3, 5, 1), (4, 6, 2), (6, 6, 6), (8, 3, 1) })
            foreach (var (k, stride, pad, dil, op) in new[] { (1, 1, 0, 1, 0), (3, 1, 1, 1, 0), (3, 2, 1, 1, 1), (4, 2, 1, 1, 0), (3, 2, 2, 2, 0), (2, 3, 0, 1, 2), (3, 1, -1, 1, 0) })
                foreach (var size in new[] { 1, 5, 9 })
                    d.Add(c, oc, group, k, stride, pad, dil, op, size);
        return d;
    }

    static Attributes ConvTransposeAttrs(int group, int stride, int pad, int dil, int op) => new Attributes()
        .Set("group", (long)group).Set("strides", new long[] { stride, stride }).Set("dilations", new long[] { dil, dil })
        .Set("pads", new long[] { pad, pad, pad, pad }).Set("output_padding", new long[] { op, 0 });

    [Theory]
    [MemberData(nameof(ConvTransposeCases))]
    public void ConvTranspose_gemm_matches_reference(int c, int oc, int group, int k, int stride, int pad, int dil, int op, int size)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, c, size, size + 2);
        int y = g.Add(OpType.ConvTranspose, [x, g.Constant("w", R(c * (oc / group) * k * k, 1), c, oc / group, k, k), g.Constant("b", R(oc, 2), oc)],
            ConvTransposeAttrs(group, stride, pad, dil, op));
        Twins(g.Build(y), 2);
    }

    public static TheoryData<string, string, string, int> ResizeCases()
    {
        var d = new TheoryData<string, string, string, int>();
        foreach (var ctm in new[] { "half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "half_pixel_symmetric", "tf_crop_and_resize" })
        {
            foreach (var nearest in new[] { "round_prefer_floor", "round_prefer_ceil", "floor", "ceil" }) d.Add("nearest", ctm, nearest, 0);
            d.Add("linear", ctm, "", 0); d.Add("linear", ctm, "", 1);
            d.Add("cubic", ctm, "", 0); d.Add("cubic", ctm, "", 1);
        }
        return d;
    }

    static Attributes ResizeAttrs(string mode, string ctm, string nearest, int antialias, float[] scales)
    {
        var a = new Attributes().Set("mode", mode).Set("coordinate_transformation_mode", ctm).Set("antialias", (long)antialias).Set("scales", scales)
            .Set("exclude_outside", mode == "cubic" ? 1L : 0L).Set("extrapolation_value", 0.5f);
        if (nearest.Length > 0) a.Set("nearest_mode", nearest);
        if (ctm == "tf_crop_and_resize") a.Set("roi", new float[] { 0, 0, 0.1f, 0.3f, 1, 1, 0.8f, 1.2f });
        return a;
    }

    [Theory]
    [MemberData(nameof(ResizeCases))]
    public void Resize_separable_passes_match_the_product_of_weights(string mode, string ctm, string nearest, int antialias)
    {
        foreach (var scales in new[] { new[] { 1f, 1f, 2f, 1.5f }, new[] { 1f, 1f, 0.6f, 0.45f }, new[] { 1f, 1f, 1.7f, 0.5f } })
        {
            var g = new GraphBuilder();
            int x = g.Input("x", -1, 3, 7, 9);
            Twins(g.Build(g.Add(OpType.Resize, [x], ResizeAttrs(mode, ctm, nearest, antialias, scales))), 2);
        }
    }

    [Fact]
    public void Pad_GlobalMaxPool_GroupNorm_and_Lrn_run_as_their_reference()
    {
        foreach (var mode in new[] { "constant", "reflect", "edge", "wrap" })
        {
            var g = new GraphBuilder();
            int x = g.Input("x", -1, 3, 5, 4);
            Twins(g.Build(g.Add(OpType.Pad, [x], new Attributes().Set("mode", mode).Set("value", 0.25f).Set("pads", new long[] { 0, 1, 2, -1, 0, 0, 3, 2 }))), 2);
        }
        var g2 = new GraphBuilder();
        int x2 = g2.Input("x", -1, 6, 5, 3);
        int h = g2.Add(OpType.GroupNormalization, [x2, g2.Constant("s", R(6, 3), 6), g2.Constant("b", R(6, 4), 6)], new Attributes().Set("num_groups", 3L));
        h = g2.Add(OpType.Lrn, [h], new Attributes().Set("size", 3L).Set("alpha", 0.5f));
        Twins(g2.Build(g2.Add(OpType.GlobalMaxPool, [h])), 3);
    }

    /// <summary>x [N, 2, 5, 4] → trained 1×1 Conv (w1) → the op → Dense to 3 classes; the gradients of w1 and of the
    /// op's own parameters against central differences of the cross-entropy.</summary>
    static void CheckGradients(Func<GraphBuilder, int, int> op, params string[] also)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 2, 5, 4);
        int h = g.Add(OpType.Conv, [x, g.Constant("w1", R(6, 11, 0.8f), 3, 2, 1, 1), g.Constant("b1", R(3, 12, 0.3f), 3)],
            new Attributes().Set("kernel_shape", new long[] { 1, 1 }), "c1");
        h = op(g, h);
        var hs = g.Model.Tensors[h].Shape;
        int features = hs.Skip(1).Aggregate(1, (a, b) => a * b);
        h = g.Reshape(h, [-1, features]);
        var model = g.Build(g.Add(OpType.Dense, [h, g.Constant("w2", R(3 * features, 13, 0.5f), 3, features), g.Constant("b2", R(3, 14, 0.2f), 3)], name: "d2"));
        var data = R(3 * 40, 15, 1.5f);
        long[] labels = [0, 2, 1];
        var s = new Training.TrainingSession(model, 3);
        float Loss() { data.CopyTo(s.Input(3)); s.Forward(); s.ZeroGrad(false); return Training.Loss.CrossEntropy(s.Output(), labels, 3, s.OutputGrad()); }
        Loss(); s.Backward();
        var grads = s.Parameters.ToDictionary(q => q.Name, q => (float[])q.Grad.Clone());
        foreach (var name in also.Prepend("w1"))
        {
            var w = s.Parameters.First(q => q.Name == name);
            for (int i = 0; i < w.Value.Length; i++)
            {
                float keep = w.Value[i], step = 1e-3f;
                w.Value[i] = keep + step; double up = Loss();
                w.Value[i] = keep - step; double down = Loss();
                w.Value[i] = keep;
                double numeric = (up - down) / (2 * step);
                Assert.True(Math.Abs(numeric - grads[name][i]) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(grads[name][i])) < 0.05,
                    $"{model.Nodes[1].Op} {name}[{i}]: analytic {grads[name][i]}, numeric {numeric}");
            }
        }
    }

    [Fact]
    public void ConvTranspose_gradients_match_finite_differences() =>
        CheckGradients((g, h) => g.Add(OpType.ConvTranspose, [h, g.Constant("wt", R(3 * 2 * 9, 16, 0.5f), 3, 2, 3, 3), g.Constant("bt", R(2, 17, 0.3f), 2)],
            ConvTransposeAttrs(1, 2, 1, 1, 1), "ct"), "wt", "bt");

    [Theory]
    [InlineData("nearest", "asymmetric", 0)]
    [InlineData("linear", "half_pixel", 0)]
    [InlineData("cubic", "align_corners", 0)]
    [InlineData("linear", "half_pixel", 1)]
    public void Resize_gradients_match_finite_differences(string mode, string ctm, int antialias) =>
        CheckGradients((g, h) => g.Add(OpType.Resize, [h], ResizeAttrs(mode, ctm, "round_prefer_floor", antialias, [1, 1, 1.6f, 0.5f])));

    [Theory]
    [InlineData("constant")]
    [InlineData("reflect")]
    [InlineData("edge")]
    [InlineData("wrap")]
    public void Pad_gradients_match_finite_differences(string mode) =>
        CheckGradients((g, h) => g.Add(OpType.Pad, [h], new Attributes().Set("mode", mode).Set("pads", new long[] { 0, 0, 2, -1, 0, 1, 1, 3 })));

    [Fact]
    public void Norm_and_pool_gradients_match_finite_differences()
    {
        CheckGradients((g, h) => g.Add(OpType.GroupNormalization, [h, g.Constant("gs", R(3, 18), 3), g.Constant("gb", R(3, 19), 3)],
            new Attributes().Set("num_groups", 3L), "gn"), "gs", "gb");
        CheckGradients((g, h) => g.Add(OpType.Lrn, [h], new Attributes().Set("size", 2L).Set("alpha", 0.7f).Set("beta", 0.6f)));
        CheckGradients((g, h) => g.Add(OpType.GlobalMaxPool, [h]));
        foreach (var countPad in new[] { 0L, 1L })   // dilated AveragePool (ONNX's averagepool_2d_dilations)
            CheckGradients((g, h) => g.Add(OpType.AveragePool, [h], new Attributes().Set("kernel_shape", new long[] { 2, 2 }).Set("dilations", new long[] { 2, 1 })
                .Set("pads", new long[] { 1, 0, 1, 1 }).Set("count_include_pad", countPad)));
    }
}
