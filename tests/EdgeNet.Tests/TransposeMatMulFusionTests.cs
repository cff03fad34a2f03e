using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>TransposeMatMulFusion: attention's Transposes (Q and V by (0,2,1,3), Kᵀ by (0,2,3,1), the context back by
/// (0,2,1,3)) folded into its MatMuls' strides give the bits of the separate nodes (the same GEMM per head: the plan
/// without the channels-last passes runs them unfused), and the reference's values; a Transpose that another node or a
/// graph output reads stays. Sentence lengths around the 8-column panels and 4-k steps (7, 14, 17), head sizes 8, 32, 5.</summary>
public class TransposeMatMulFusionTests
{
    static Attributes Perm(params long[] p) => new Attributes().Set("perm", p);

    /// <summary>One attention head block: y = Transpose(softmax-free (Q·Kᵀ)·V); <paramref name="kAlsoOut"/>: Kᵀ is
    /// also a graph output (its Transpose must stay).</summary>
    static Model Attention(int t, int h, int d, bool kAlsoOut)
    {
        var g = new GraphBuilder();
        int q = g.Input("q", 1, t, h, d), k = g.Input("k", 1, t, h, d), v = g.Input("v", 1, t, h, d);
        int qt = g.Add(OpType.Transpose, [q], Perm(0, 2, 1, 3));
        int kt = g.Add(OpType.Transpose, [k], Perm(0, 2, 3, 1));
        int vt = g.Add(OpType.Transpose, [v], Perm(0, 2, 1, 3));
        int s = g.Add(OpType.MatMul, [qt, kt]);
        int o = g.Add(OpType.MatMul, [s, vt]);
        int y = g.Add(OpType.Transpose, [o], Perm(0, 2, 1, 3));
        return kAlsoOut ? g.Build(y, kt) : g.Build(y);
    }

    static float[] Run(Model m, KernelOptions o, int t, int h, int d, out int transposes)
    {
        using var s = new Session(m, 1, o);
        for (int i = 0; i < 3; i++) TestData.Uniform(t * h * d, 40 + i).CopyTo(s.Input(i, 1));
        s.Run(1);
        transposes = s.Plan.Nodes.Count(n => n.Op == OpType.Transpose);
        return s.Output().ToArray();
    }

    [Theory]
    [InlineData(14, 12, 32)]   // MiniLM's layer over 14 tokens
    [InlineData(7, 3, 8)]
    [InlineData(17, 2, 5)]
    [InlineData(9, 4, 16)]
    public void Folded_transposes_give_the_separate_nodes_bits(int t, int h, int d)
    {
        var m = Attention(t, h, d, false);
        var fused = Run(m, KernelOptions.Default, t, h, d, out int left);
        Assert.Equal(0, left);
        var separate = Run(m, KernelOptions.Default with { ChannelsLast = false }, t, h, d, out int kept);
        Assert.Equal(4, kept);
        Assert.Equal(separate, fused);
        Golden.Close(Run(m, KernelOptions.Default with { Reference = true }, t, h, d, out _), fused, 1e-5f, 1e-4f, "attention");
    }

    [Fact]
    public void A_transpose_read_elsewhere_stays()
    {
        var m = Attention(14, 3, 8, true);
        var fused = Run(m, KernelOptions.Default, 14, 3, 8, out int left);
        Assert.Equal(1, left);   // Kᵀ, a graph output
        Assert.Equal(Run(m, KernelOptions.Default with { ChannelsLast = false }, 14, 3, 8, out _), fused);
    }
}
