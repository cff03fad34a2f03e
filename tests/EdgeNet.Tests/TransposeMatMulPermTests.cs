using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>Transposes around a MatMul of two computed tensors with permutations other than attention's (0,2,1,3) /
/// (0,2,3,1): the last two axes swapped (Kᵀ as TensorFlow exports it), the batch axis moved, rank 3, batch dimensions
/// broadcast from 1 on either side, a symbolic batch run at 3, permutations that cannot fold (A's or the product's last
/// axis moved), a MatMul's transposed product feeding the next MatMul, and Transposes read twice or by a graph output.
/// The session's plan (folded where it can be) gives the bits of the plan without the channels-last passes (every node
/// its own kernel) and the reference's values.</summary>
public class TransposeMatMulPermTests
{
    static Attributes Perm(int[] p) => new Attributes().Set("perm", p.Select(v => (long)v).ToArray());

    /// <summary>The shape x must have so that Transpose(x, perm) has <paramref name="logical"/>.</summary>
    static int[] Source(int[] logical, int[]? perm)
    {
        if (perm is null) return logical;
        var s = new int[logical.Length];
        for (int d = 0; d < perm.Length; d++) s[perm[d]] = logical[d];
        return s;
    }

    static Model Build(int[] la, int[]? pa, int[] lb, int[]? pb, int[]? py, string extra)
    {
        var g = new GraphBuilder();
        int a = g.Input("a", Source(la, pa)), b = g.Input("b", Source(lb, pb));
        int ta = pa is null ? a : g.Add(OpType.Transpose, [a], Perm(pa));
        int tb = pb is null ? b : g.Add(OpType.Transpose, [b], Perm(pb));
        int o = g.Add(OpType.MatMul, [ta, tb]);
        int relu = extra == "y-twice" ? g.Add(OpType.Relu, [o]) : -1;   // before the Transpose: not its last reader either
        int y = py is null ? o : g.Add(OpType.Transpose, [o], Perm(py));
        return extra switch
        {
            // A's Transpose read a second time (by a Relu that is an output): it stays
            "a-twice" => g.Build(y, g.Add(OpType.Relu, [ta])),
            // the product also read by a Relu: the output Transpose stays
            "y-twice" => g.Build(y, relu),
            // B's Transpose a graph output
            "b-out" => g.Build(y, tb),
            // the transposed product is A of a second MatMul (B: a third input [.., N, 3]); then the product of that back by py
            "chain" => Chain(g, y, py!),
            _ => g.Build(y),
        };
    }

    static Model Chain(GraphBuilder g, int y, int[] py)
    {
        var ys = g.Model.Tensors[y].Shape;
        int r = ys.Length;
        var lc = ys.ToArray(); lc[r - 2] = ys[r - 1]; lc[r - 1] = 3;
        int c = g.Input("c", lc);
        int o2 = g.Add(OpType.MatMul, [y, c]);
        return g.Build(g.Add(OpType.Transpose, [o2], Perm(py)));
    }

    static float[] Run(Model m, KernelOptions o, int batch, out int transposes)
    {
        using var s = new Session(m, batch, o);
        for (int i = 0; i < m.Inputs.Count; i++)
        {
            var x = s.Input(i, batch);
            TestData.Uniform(x.Length, 90 + i).CopyTo(x);
        }
        s.Run(batch);
        transposes = s.Plan.Nodes.Count(n => n.Op == OpType.Transpose);
        return s.Output().ToArray();
    }

    public static TheoryData<string, int[], int[]?, int[], int[]?, int[]?, string, int, int> Cases => new()
    {
        // name, A's shape, A's perm, B's shape, B's perm, the product's perm, extra, batch, Transposes left in the plan
        { "Kt by the last two axes", [2, 3, 5, 7], [0, 2, 1, 3], [2, 3, 7, 9], [0, 1, 3, 2], [0, 2, 1, 3], "", 1, 0 },
        { "batch axis moved", [3, 2, 6, 5], [1, 0, 2, 3], [3, 2, 5, 11], [1, 0, 3, 2], [1, 0, 2, 3], "", 1, 0 },
        { "batch to the end", [3, 4, 6, 5], [1, 2, 0, 3], [3, 4, 5, 7], [1, 2, 3, 0], [2, 0, 1, 3], "", 1, 0 },
        { "rank 3", [4, 6, 7], [1, 0, 2], [4, 7, 10], [1, 2, 0], [1, 0, 2], "", 1, 0 },
        { "rank 5", [2, 2, 3, 5, 6], [0, 3, 1, 2, 4], [2, 2, 3, 6, 4], [2, 0, 1, 4, 3], [0, 3, 2, 1, 4], "", 1, 0 },
        { "A broadcasts", [1, 3, 5, 8], [0, 2, 1, 3], [2, 3, 8, 6], [0, 2, 3, 1], [0, 2, 1, 3], "", 1, 0 },
        { "B broadcasts", [2, 3, 5, 8], [0, 2, 1, 3], [2, 1, 8, 6], [0, 2, 3, 1], [0, 2, 1, 3], "", 1, 0 },
        { "one row, one column", [2, 3, 1, 5], [0, 2, 1, 3], [2, 3, 5, 1], [0, 2, 3, 1], [0, 2, 1, 3], "", 1, 0 },
        { "symbolic batch at 3", [-1, 4, 9, 8], [0, 2, 1, 3], [-1, 4, 8, 9], [0, 2, 3, 1], [0, 2, 1, 3], "", 3, 0 },
        { "symbolic batch, B plain", [-1, 4, 9, 8], [0, 2, 1, 3], [-1, 4, 8, 13], null, [0, 2, 1, 3], "", 2, 0 },
        { "A's k moved: stays", [2, 3, 5, 7], [0, 1, 3, 2], [2, 3, 7, 9], [0, 2, 3, 1], [0, 2, 1, 3], "", 1, 1 },
        { "the product's last axis moved: stays", [2, 3, 5, 7], [0, 2, 1, 3], [2, 3, 7, 9], [0, 2, 3, 1], [0, 1, 3, 2], "", 1, 1 },
        { "B without perm (reversed)", [4, 6, 7], [1, 0, 2], [4, 7, 10], [], null, "", 1, 1 },
        { "A read twice", [2, 3, 5, 7], [0, 2, 1, 3], [2, 3, 7, 9], [0, 2, 3, 1], [0, 2, 1, 3], "a-twice", 1, 1 },
        { "product read twice", [2, 3, 5, 7], [0, 2, 1, 3], [2, 3, 7, 9], [0, 2, 3, 1], [0, 2, 1, 3], "y-twice", 1, 1 },
        { "B a graph output", [2, 3, 5, 7], [0, 2, 1, 3], [2, 3, 7, 9], [0, 2, 3, 1], [0, 2, 1, 3], "b-out", 1, 1 },
        { "transposed product into the next MatMul", [2, 3, 5, 7], [0, 2, 1, 3], [2, 3, 7, 9], [0, 2, 3, 1], [0, 2, 1, 3], "chain", 1, 0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Folded_or_not_the_separate_nodes_bits(string name, int[] la, int[]? pa, int[] lb, int[]? pb, int[]? py, string extra, int batch, int transposesLeft)
    {
        // [] for B: a Transpose without perm (the axes reversed); B's logical shape then comes from reversing
        int[]? pbn = pb is { Length: 0 } ? Enumerable.Range(0, lb.Length).Reverse().ToArray() : pb;
        var m = Build(la, pa, lb, pbn, py, extra);
        if (pb is { Length: 0 }) m = WithoutPerm(m);
        var fused = Run(m, KernelOptions.Default, batch, out int left);
        var separate = Run(m, KernelOptions.Default with { ChannelsLast = false }, batch, out _);
        Assert.Equal(transposesLeft, left);   // folded where it can be, kept where it must
        Assert.Equal(separate, fused);
        Golden.Close(Run(m, KernelOptions.Default with { Reference = true }, batch, out _), fused, 1e-5f, 1e-4f, name);
    }

    /// <summary>The model with its Transposes of B written without "perm" (ONNX's default: the axes reversed).</summary>
    static Model WithoutPerm(Model m)
    {
        for (int i = 0; i < m.Nodes.Count; i++)
            if (m.Nodes[i] is { Op: OpType.Transpose } t && t.Inputs[0] == m.Inputs[1])
                m.Nodes[i] = new Node(OpType.Transpose, t.Name, t.Inputs, t.Outputs, new Attributes(), t.Version);
        return m;
    }
}
