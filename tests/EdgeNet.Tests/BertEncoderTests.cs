using EdgeNet.Converter;
using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// A BERT-style encoder layer as PyTorch exports it at opset 13 (LayerNorm and GELU written out, attention as
/// MatMul/Reshape/Transpose/Softmax with an additive mask), built in code at sizes other than MiniLM's, against ONNX
/// Runtime; and the transformer rewrites (LayerNormalization, Gelu fused into Dense, biases folded) checked to fire.
/// </summary>
public class BertEncoderTests
{
    /// <summary>One encoder layer over hidden states [1, S, H]: self-attention with `heads` heads, residual and
    /// LayerNorm, a GELU feed-forward of width F, residual and LayerNorm.</summary>
    static OnnxBuilder Layer(int S, int H, int heads, int F, int seed)
    {
        var r = new Random(seed);
        int D = H / heads;
        var b = new OnnxBuilder().Input("x", 1, S, H).Output("y");
        float[] W(int n, float s) => OnnxBuilder.Random(r, n, -s, s);
        string Const(string name, float v) => b.Floats(name, [v]);
        var shape = b.Ints("heads_shape", Converter.Onnx.TensorProto.Types.DataType.Int64, [1, S, heads, D], 4);
        var back = b.Ints("back_shape", Converter.Onnx.TensorProto.Types.DataType.Int64, [1, S, H], 3);
        var mask = new float[S];
        for (int j = S - 2; j < S; j++) mask[j] = -10000f;   // the last two tokens are padding
        b.Floats("mask", mask, 1, 1, 1, S);

        string Dense(string x, string name, int k, int n)
        {
            b.Floats(name + "_w", W(k * n, 1f / MathF.Sqrt(k)), k, n);
            b.Floats(name + "_b", W(n, 0.1f), n);
            b.Node("MatMul", [x, name + "_w"], [name + "_mm"]);
            b.Node("Add", [name + "_b", name + "_mm"], [name]);   // bias first, as transformers' exports write it
            return name;
        }
        string LayerNorm(string x, string name)
        {
            b.Node("ReduceMean", [x], [name + "_mu"], OnnxBuilder.Ints("axes", -1));
            b.Node("Sub", [x, name + "_mu"], [name + "_d"]);
            b.Node("Pow", [name + "_d", Const(name + "_two", 2f)], [name + "_sq"]);
            b.Node("ReduceMean", [name + "_sq"], [name + "_var"], OnnxBuilder.Ints("axes", -1));
            b.Node("Add", [name + "_var", Const(name + "_eps", 1e-12f)], [name + "_ve"]);
            b.Node("Sqrt", [name + "_ve"], [name + "_sd"]);
            b.Node("Div", [name + "_d", name + "_sd"], [name + "_n"]);
            b.Floats(name + "_g", OnnxBuilder.Random(r, H, 0.5f, 1.5f), H);
            b.Floats(name + "_b", W(H, 0.2f), H);
            b.Node("Mul", [name + "_n", name + "_g"], [name + "_s"]);
            b.Node("Add", [name + "_s", name + "_b"], [name]);
            return name;
        }
        string Heads(string x, string name, long[] perm)
        {
            b.Node("Reshape", [x, shape], [name + "_r"]);
            b.Node("Transpose", [name + "_r"], [name], OnnxBuilder.Ints("perm", perm));
            return name;
        }

        var q = Heads(Dense("x", "q", H, H), "qh", [0, 2, 1, 3]);
        var k = Heads(Dense("x", "k", H, H), "kt", [0, 2, 3, 1]);
        var v = Heads(Dense("x", "v", H, H), "vh", [0, 2, 1, 3]);
        b.Node("MatMul", [q, k], ["scores"]);
        b.Node("Div", ["scores", Const("sqrt_d", MathF.Sqrt(D))], ["scaled"]);
        b.Node("Add", ["scaled", "mask"], ["masked"]);
        b.Node("Softmax", ["masked"], ["probs"], OnnxBuilder.Int("axis", -1));
        b.Node("MatMul", ["probs", v], ["ctx"]);
        b.Node("Transpose", ["ctx"], ["ctx_t"], OnnxBuilder.Ints("perm", 0, 2, 1, 3));
        b.Node("Reshape", ["ctx_t", back], ["ctx_r"]);
        b.Node("Add", [Dense("ctx_r", "o", H, H), "x"], ["res1"]);
        var h = LayerNorm("res1", "ln1");
        var up = Dense(h, "up", H, F);
        b.Node("Div", [up, Const("sqrt2", MathF.Sqrt(2))], ["g_div"]);
        b.Node("Erf", ["g_div"], ["g_erf"]);
        b.Node("Add", ["g_erf", Const("one", 1f)], ["g_add"]);
        b.Node("Mul", [up, "g_add"], ["g_mul"]);
        b.Node("Mul", ["g_mul", Const("half", 0.5f)], ["gelu"]);
        b.Node("Add", [Dense("gelu", "down", F, H), h], ["res2"]);
        LayerNorm("res2", "y");
        return b;
    }

    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [InlineData(7, 48, 3, 96)]
    [InlineData(13, 20, 4, 37)]
    [InlineData(32, 64, 8, 256)]
    public void Encoder_layer_matches_onnx_runtime(int S, int H, int heads, int F)
    {
        string path = Layer(S, H, heads, F, S + H).Save(Fixtures.TempDir());
        var model = OnnxImporter.Convert(path);
        Assert.Equal(2, model.Nodes.Count(n => n.Op == OpType.LayerNormalization));
        Assert.DoesNotContain(model.Nodes, n => n.Op is OpType.Erf or OpType.Gelu or OpType.ReduceMean or OpType.Sqrt);
        Assert.Contains(model.Nodes, n => n.Op == OpType.Dense && n.Attributes.String("activation", "none") == "gelu");
        Assert.Equal(3, model.Nodes.Count(n => n.Op == OpType.Add));   // two residuals and the mask: every bias folded
        var x = OnnxBuilder.Random(new Random(S), S * H, -2f, 2f);
        var expected = OnnxBuilder.RunOrt(path, x, [1, S, H])[0];
        foreach (bool reference in new[] { false, true })
        {
            using var s = new Session(model, 1, KernelOptions.Default with { Reference = reference });
            x.CopyTo(s.Input(0, 1));
            s.Run(1);
            Golden.Close(expected, s.Output(), 2e-5f, 1e-4f, reference ? "reference" : "fast");
        }
        // Without the rewrites (the written-out ops, one kernel each) the layer gives the same values.
        var plain = OnnxImporter.Convert(path, new ConvertOptions { Optimize = false });
        Assert.Equal(4, plain.Nodes.Count(n => n.Op == OpType.ReduceMean));
        using var p = new Session(plain, 1);
        x.CopyTo(p.Input(0, 1));
        p.Run(1);
        Golden.Close(expected, p.Output(), 2e-5f, 1e-4f, "unfused");
    }

    /// <summary>A near miss is left alone: Erf of x·0.7 is not GELU's x/√2.</summary>
    [Fact]
    public void Near_misses_are_not_fused()
    {
        var b = new OnnxBuilder().Input("x", 1, 5, 8).Output("y");
        b.Floats("c", [0.7f]);
        b.Node("Mul", ["x", "c"], ["s"]);
        b.Node("Erf", ["s"], ["e"]);
        b.Floats("one", [1f]);
        b.Node("Add", ["e", "one"], ["a"]);
        b.Node("Mul", ["x", "a"], ["m"]);
        b.Floats("half", [0.5f]);
        b.Node("Mul", ["m", "half"], ["y"]);
        var model = OnnxImporter.Convert(b.Save(Fixtures.TempDir()));
        Assert.Contains(model.Nodes, n => n.Op == OpType.Erf);
        Assert.DoesNotContain(model.Nodes, n => n.Op == OpType.Gelu);
    }
}
