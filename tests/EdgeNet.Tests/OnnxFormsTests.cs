using EdgeNet.Converter;
using EdgeNet.Converter.Onnx;
using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>ONNX forms whose node tests are float64 (so the conformance run skips them) or that the suite leaves out,
/// converted and run against ONNX Runtime in float32: CumSum's attributes, ReduceLogSum.</summary>
public class OnnxFormsTests
{
    static void Check(OnnxBuilder b, long[] shape, string what)
    {
        var path = b.Save(Fixtures.TempDir(), "forms.onnx");
        var m = OnnxImporter.Convert(path);
        var rng = new Random(5);
        int count = (int)shape.Aggregate(1L, (p, d) => p * d);
        var x = Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 0.5)).ToArray();
        using var s = new Session(m, 1);
        x.CopyTo(s.Input(0, 1));
        s.Run(1);
        var want = OnnxBuilder.RunOrt(path, x, shape.Select(d => (int)d).ToArray())[0];
        Assert.Equal(want.Length, s.Output().Length);
        Golden.Close(want, s.Output().ToArray(), 1e-5f, 1e-5f, what);
    }

    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(1, 1, 0)]
    [InlineData(1, 0, 1)]
    [InlineData(-3, 1, 1)]
    [InlineData(2, 0, 0)]
    public void CumSum_matches_onnx_runtime(long axis, long exclusive, long reverse)
    {
        var b = new OnnxBuilder(14).Input("x", 2, 3, 4).Output("y");
        b.Ints("axis", TensorProto.Types.DataType.Int64, [axis]);
        b.Node("CumSum", ["x", "axis"], ["y"], OnnxBuilder.Int("exclusive", exclusive), OnnxBuilder.Int("reverse", reverse));
        Check(b, [2, 3, 4], $"CumSum axis {axis} exclusive {exclusive} reverse {reverse}");
    }

    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [InlineData(new long[] { 1 }, 1)]
    [InlineData(new long[] { 0, 2 }, 0)]
    [InlineData(new long[0], 1)]
    public void ReduceLogSum_matches_onnx_runtime(long[] axes, long keepdims)
    {
        var b = new OnnxBuilder(18).Input("x", 2, 3, 4).Output("y");
        var inputs = new List<string> { "x" };
        if (axes.Length > 0) inputs.Add(b.Ints("axes", TensorProto.Types.DataType.Int64, axes, axes.Length));
        b.Node("ReduceLogSum", inputs.ToArray(), ["y"], OnnxBuilder.Int("keepdims", keepdims));
        Check(b, [2, 3, 4], $"ReduceLogSum [{string.Join(",", axes)}] keepdims {keepdims}");
    }

    /// <summary>Constants cut and rejoined by the exporter (Silero's reflect pads, LSTM weights): Transpose, a reversing
    /// Slice and a Concat along the last axis of constants fold at conversion, leaving the one Add.</summary>
    [Trait("Needs", "OnnxRuntime")]
    [Fact]
    public void Transpose_Slice_Concat_of_constants_fold()
    {
        var b = new OnnxBuilder(13).Input("x", 2, 4).Output("y");
        b.Floats("c", [1f, 2, 3, 4, 5, 6], 3, 2);
        b.Floats("ones", [10f, 20], 2, 1);
        b.Ints("starts", TensorProto.Types.DataType.Int64, [-1], 1);
        b.Ints("ends", TensorProto.Types.DataType.Int64, [long.MinValue], 1);
        b.Ints("axes", TensorProto.Types.DataType.Int64, [1], 1);
        b.Ints("steps", TensorProto.Types.DataType.Int64, [-1], 1);
        b.Node("Transpose", ["c"], ["ct"], OnnxBuilder.Ints("perm", 1, 0));
        b.Node("Slice", ["ct", "starts", "ends", "axes", "steps"], ["rev"]);
        b.Node("Concat", ["rev", "ones"], ["w"], OnnxBuilder.Int("axis", 1));
        b.Node("Add", ["x", "w"], ["y"]);
        var m = OnnxImporter.Convert(b.Save(Fixtures.TempDir(), "fold.onnx"));
        Assert.Equal([OpType.Add], m.Nodes.Select(n => n.Op));
        Check(b, [2, 4], "folded constants");
    }
}
