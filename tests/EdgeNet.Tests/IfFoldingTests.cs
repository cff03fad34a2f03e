using EdgeNet.Converter;
using EdgeNet.Converter.Onnx;
using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// If whose condition is known at conversion: the taken branch (its own initializers, a value from the outer graph,
/// a constant Split) is imported in place and agrees with ONNX Runtime; a run-time condition is refused in one line.
/// </summary>
public class IfFoldingTests
{
    static ValueInfoProto FloatValue(string name) =>
        new() { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } };

    /// <summary>x [N, 4] → If(cond) { then: (x + t) split in two halves, swapped; else: x · e } → Relu.</summary>
    static string Model(bool cond, string dir)
    {
        var b = new OnnxBuilder(13).Input("x", -1, 4).Output("y");
        b.Ints("cond", TensorProto.Types.DataType.Bool, [cond ? 1 : 0]);

        var then = new OnnxBuilder(13);
        then.Floats("t", [1f, -2f, 3f, -4f], 4);
        then.Ints("halves", TensorProto.Types.DataType.Int64, [2, 2], 2);
        then.Node("Add", ["x", "t"], ["xt"]);
        then.Node("Split", ["xt", "halves"], ["lo", "hi"], OnnxBuilder.Int("axis", 1));
        then.Node("Concat", ["hi", "lo"], ["then_out"], OnnxBuilder.Int("axis", 1));
        then.Graph.Output.Add(FloatValue("then_out"));

        var other = new OnnxBuilder(13);
        other.Floats("e", [0.5f, -1f, 2f, 1f], 4);
        other.Node("Mul", ["x", "e"], ["else_out"]);
        other.Graph.Output.Add(FloatValue("else_out"));

        b.Node("If", ["cond"], ["z"],
            new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = then.Graph },
            new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = other.Graph });
        b.Node("Relu", ["z"], ["y"]);
        return b.Save(dir, $"if_{cond}.onnx");
    }

    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Taken_branch_is_folded_and_matches_onnx_runtime(bool cond)
    {
        var path = Model(cond, Fixtures.TempDir());
        var m = OnnxImporter.Convert(path);
        Assert.DoesNotContain(m.Nodes, n => n.Op == (cond ? OpType.Mul : OpType.Split));
        var x = Enumerable.Range(0, 3 * 4).Select(i => (i % 7 - 3) * 0.75f).ToArray();
        using var s = new Session(m, 3);
        x.CopyTo(s.Input(0, 3));
        s.Run(3);
        var want = OnnxBuilder.RunOrt(path, x, [3, 4])[0];
        Golden.Close(want, s.Output().ToArray(), 1e-6f, 0, $"If({cond})");
    }

    [Fact]
    public void A_condition_computed_at_run_time_is_refused()
    {
        var b = new OnnxBuilder(13).Input("x", -1, 4).Input("c", 1).Output("y");
        var then = new OnnxBuilder(13);
        then.Node("Relu", ["x"], ["r"]);
        then.Graph.Output.Add(FloatValue("r"));
        b.Node("If", ["c"], ["y"],
            new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = then.Graph },
            new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = then.Graph });
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(b.Save(Fixtures.TempDir())));
        Assert.Contains("computed at run time", e.Message);
    }
}
