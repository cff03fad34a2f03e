using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// <see cref="ConcatInPlace"/>: a channels-last Concat whose inputs are convs (pointwise GEMM, Winograd F(2×2) and
/// F(4×4), odd channel counts) that only it reads takes their stores in place and copies nothing; the outputs equal the
/// NCHW reference and are bit-identical to the copying plan. Every failed condition falls back to the copy: a conv
/// read by another node too, a graph output, a conv with an epilogue pass (SiLU), an input given twice.
/// </summary>
public class ConcatInPlaceTests
{
    static Attributes ConvAttrs(int k, string act = "relu") =>
        new Attributes().Set("strides", new long[] { 1, 1 }).Set("pads", new long[] { k / 2, k / 2, k / 2, k / 2 }).Set("activation", act);

    static int Conv(GraphBuilder g, int x, int c, int oc, int k, int seed, string act = "relu") =>
        g.Add(OpType.Conv, [x, g.Constant($"w{seed}", TestData.Uniform(oc * c * k * k, seed), oc, c, k, k), g.Constant($"b{seed}", TestData.Uniform(oc, seed + 1), oc)], ConvAttrs(k, act));

    /// <summary>A fire module: squeeze 1×1, expand 1×1 (e1 channels) and 3×3 (e3), Concat, a 1×1 head.
    /// <paramref name="variant"/>: 0 as is; 1 the 1×1 expand also a graph output; 2 the 3×3 expand read by an Add too;
    /// 3 the 1×1 expand with SiLU; 4 the 1×1 expand concatenated twice.</summary>
    static Model Fire(int c, int e1, int e3, int size, int variant)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, c, size, size + 2);
        int s = Conv(g, x, c, 16, 1, 1);
        int a = Conv(g, s, 16, e1, 1, 3, variant == 3 ? "swish" : "relu");
        int b = Conv(g, s, 16, e3, 3, 5);
        int[] parts = variant == 4 ? [a, b, a] : [a, b];
        int y = g.Add(OpType.Concat, parts, new Attributes().Set("axis", 1L));
        int width = variant == 4 ? 2 * e1 + e3 : e1 + e3;
        int h = Conv(g, y, width, 6, 1, 7, "none");
        if (variant == 2) h = g.Add(OpType.Add, [h, Conv(g, b, e3, 6, 1, 9, "none")]);
        return variant == 1 ? g.Build(h, a) : g.Build(h);
    }

    static float[] Run(Model m, KernelOptions? o, float[] x, int batch)
    {
        using var s = new Session(m, 2, o);
        x.CopyTo(s.Input(0, batch));
        s.Run(batch);
        return s.Output().ToArray();
    }

    [Theory]
    [InlineData(8, 5, 24, 9)]     // odd GEMM width; Winograd F(2×2) (24 outputs)
    [InlineData(16, 64, 64, 12)]  // SqueezeNet's first fire module's widths; F(4×4)
    [InlineData(3, 7, 32, 13)]    // F(4×4) on 32, odd sizes
    [InlineData(16, 16, 40, 7)]   // F(2×2) on 40 (not a multiple of 16)
    public void Fire_module_concat_in_place_matches_the_copy_bit_for_bit(int c, int e1, int e3, int size)
    {
        var m = Fire(c, e1, e3, size, 0);
        using (var s = new Session(m, 2))
        {
            Assert.True(s.Kernels.OfType<ConcatKernel>().Single().InPlace);
            Assert.All(s.Kernels.OfType<ConvNhwcKernel>().Where(k => k.Node.Outputs[0] is var t && s.Plan.Nodes.Any(n => n.Op == OpType.Concat && n.Inputs.Contains(t))),
                k => Assert.Equal(e1 + e3, k.OutputStride));
        }
        var copy = Fire(c, e1, e3, size, 1);   // the same graph but the 1×1 expand is also an output: copied
        using (var s = new Session(copy, 2)) Assert.False(s.Kernels.OfType<ConcatKernel>().Single().InPlace);
        foreach (int batch in new[] { 2, 1 })
        {
            var x = TestData.Uniform((int)m.Input().Elements(batch), 11 + batch);
            var inPlace = Run(m, null, x, batch);
            Assert.Equal(Run(copy, null, x, batch), inPlace);   // same bits
            Golden.Close(Run(m, KernelOptions.Default with { Reference = true }, x, batch), inPlace, 1e-4f, 1e-4f, "fire");
        }
    }

    [Theory]
    [InlineData(1)]   // a graph output
    [InlineData(2)]   // read by another node
    [InlineData(3)]   // SiLU: an epilogue pass over contiguous ranges
    [InlineData(4)]   // one input twice
    public void Concat_copies_when_a_condition_fails(int variant)
    {
        var m = Fire(8, 9, 32, 10, variant);
        using (var s = new Session(m, 2)) Assert.False(s.Kernels.OfType<ConcatKernel>().Single().InPlace);
        var x = TestData.Uniform((int)m.Input().Elements(2), 3);
        Golden.Close(Run(m, KernelOptions.Default with { Reference = true }, x, 2), Run(m, null, x, 2), 1e-4f, 1e-4f, "fallback");
    }
}
