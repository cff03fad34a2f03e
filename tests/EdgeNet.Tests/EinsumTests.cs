using EdgeNet.Converter;
using EdgeNet.Engine;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>Einsum (converted to Transpose/Reshape/MatMul/ReduceSum) against ONNX Runtime: attention's forms with both
/// operands computed from the input, a constant operand, a summed-away letter, a transpose and an inner product.</summary>
public class EinsumTests
{
    /// <summary>x [2, 3, 4, 5] (a batch of 2); the second operand is x scaled (computed) or a constant of <paramref name="constant"/> shape.</summary>
    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [InlineData("bhid,bhjd->bhij", null)]          // Q·Kᵀ
    [InlineData("bhij,bhjd->bhid", new long[] { 2, 3, 5, 2 })]   // attention · V
    [InlineData("bhid,bhjd->bhji", null)]
    [InlineData("bhid,dk->bhik", new long[] { 5, 3 })]
    [InlineData("bhid,hk->bik", new long[] { 3, 2 })]  // h summed, d summed away alone
    [InlineData("bhid,bhid->bh", null)]
    [InlineData("bhid->bdih", new long[0])]
    [InlineData("bhid->bh", new long[0])]
    public void Matches_onnx_runtime(string equation, long[]? constant)
    {
        var b = new OnnxBuilder(13).Input("x", 2, 3, 4, 5).Output("y");
        var rng = new Random(3);
        string second;
        if (constant is null) { b.Floats("s", [0.5f], 1); b.Node("Mul", ["x", "s"], ["x2"]); second = "x2"; }
        else if (constant.Length == 0) second = "";
        else { second = b.Floats("w", Enumerable.Range(0, (int)constant.Aggregate(1L, (p, d) => p * d)).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), constant); }
        b.Node("Einsum", second.Length == 0 ? ["x"] : ["x", second], ["y"], OnnxBuilder.String("equation", equation));
        var path = b.Save(Fixtures.TempDir(), "einsum.onnx");
        var m = OnnxImporter.Convert(path);
        Assert.DoesNotContain(m.Nodes, n => n.Op.ToString() == "Einsum");
        var x = Enumerable.Range(0, 120).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        using var s = new Session(m, 1);
        x.CopyTo(s.Input(0, 1));
        s.Run(1);
        var want = OnnxBuilder.RunOrt(path, x, [2, 3, 4, 5])[0];
        Assert.Equal(want.Length, s.Output().Length);
        Golden.Close(want, s.Output().ToArray(), 1e-5f, 1e-4f, equation);
    }
}
