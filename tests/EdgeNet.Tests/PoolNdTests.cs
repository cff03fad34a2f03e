using EdgeNet.Converter;
using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// MaxPool and AveragePool over 3 and 4 spatial axes, which the converter runs as 2-D pools one axis at a time
/// (OnnxImporter.LiftPoolNd): against a direct N-d scalar reference written here and, for 3-D, ONNX Runtime, on odd
/// sizes with pads, strides, dilations, ceil_mode, count_include_pad and auto_pad; and trained through (the backward
/// of the lifted graph) against finite differences.
/// </summary>
public class PoolNdTests
{
    /// <summary>The reference: y[nc, o…] = max or mean over the box window of x [N·C, d…], ONNX's definition.</summary>
    static float[] Reference(float[] x, int nc, int[] dims, int[] k, int[] s, int[] dil, int[] pads, bool ceil, bool max, bool includePad, out int[] outDims)
    {
        int r = dims.Length;
        outDims = new int[r];
        for (int i = 0; i < r; i++)
        {
            int span = (k[i] - 1) * dil[i] + 1, total = dims[i] + pads[i] + pads[i + r] - span;
            int o = (ceil ? (total + s[i] - 1) / s[i] : total / s[i]) + 1;
            if (ceil && (o - 1) * s[i] >= dims[i] + pads[i]) o--;
            outDims[i] = o;
        }
        int inPlane = dims.Aggregate(1, (a, b) => a * b), outPlane = outDims.Aggregate(1, (a, b) => a * b), taps = k.Aggregate(1, (a, b) => a * b);
        var y = new float[nc * outPlane];
        var oi = new int[r]; var ki = new int[r];
        for (int c = 0; c < nc; c++)
            for (int o = 0; o < outPlane; o++)
            {
                for (int i = r - 1, rem = o; i >= 0; i--) { oi[i] = rem % outDims[i]; rem /= outDims[i]; }
                float acc = max ? float.NegativeInfinity : 0; int valid = 0, included = 0;
                for (int t = 0; t < taps; t++)
                {
                    for (int i = r - 1, rem = t; i >= 0; i--) { ki[i] = rem % k[i]; rem /= k[i]; }
                    int at = 0; bool inside = true, inPadded = true;
                    for (int i = 0; i < r; i++)
                    {
                        int p = oi[i] * s[i] - pads[i] + ki[i] * dil[i];
                        if (p < 0 || p >= dims[i]) inside = false;
                        if (p >= dims[i] + pads[i + r]) inPadded = false;   // past the end pad (ceil_mode): never counted
                        at = at * dims[i] + Math.Clamp(p, 0, dims[i] - 1);
                    }
                    if (inPadded) included++;
                    if (!inside) continue;
                    valid++;
                    float v = x[c * inPlane + at];
                    acc = max ? Math.Max(acc, v) : acc + v;
                }
                y[c * outPlane + o] = max ? acc : acc / (includePad ? included : valid);
            }
        return y;
    }

    public static TheoryData<string, int[], int[], int[], int[], int[], int, int> Cases()
    {
        var d = new TheoryData<string, int[], int[], int[], int[], int[], int, int>();
        // op, input spatial dims, kernel, strides, dilations, pads (begin…, end…), ceil_mode, count_include_pad
        foreach (var op in new[] { "MaxPool", "AveragePool" })
        {
            d.Add(op, [5, 6, 7], [2, 2, 2], [1, 1, 1], [1, 1, 1], [0, 0, 0, 0, 0, 0], 0, 0);
            d.Add(op, [7, 5, 9], [3, 2, 3], [2, 1, 2], [1, 1, 1], [1, 0, 1, 1, 1, 0], 0, 1);
            d.Add(op, [9, 8, 7], [2, 3, 2], [2, 2, 3], [2, 1, 2], [1, 1, 0, 0, 1, 1], 1, 0);
            d.Add(op, [9, 8, 7], [2, 3, 2], [2, 2, 3], [2, 1, 2], [1, 1, 0, 0, 1, 1], 1, 1);
            d.Add(op, [4, 5, 3, 6], [2, 3, 2, 2], [1, 2, 1, 2], [1, 1, 1, 2], [1, 0, 1, 0, 0, 1, 0, 1], 0, 0);
        }
        return d;
    }

    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [MemberData(nameof(Cases))]
    public void Pool_over_3_and_4_axes_matches_the_reference_and_onnx_runtime(string op, int[] dims, int[] k, int[] s, int[] dil, int[] pads, int ceil, int includePad)
    {
        long[] shape = [2, 3, .. dims.Select(v => (long)v)];
        var b = new OnnxBuilder(19).Input("x", shape).Output("y");
        var attrs = new List<Converter.Onnx.AttributeProto>
        {
            OnnxBuilder.Ints("kernel_shape", k.Select(v => (long)v).ToArray()), OnnxBuilder.Ints("strides", s.Select(v => (long)v).ToArray()),
            OnnxBuilder.Ints("dilations", dil.Select(v => (long)v).ToArray()), OnnxBuilder.Ints("pads", pads.Select(v => (long)v).ToArray()),
            OnnxBuilder.Int("ceil_mode", ceil),
        };
        if (op == "AveragePool") attrs.Add(OnnxBuilder.Int("count_include_pad", includePad));
        b.Node(op, ["x"], ["y"], attrs.ToArray());
        var path = b.Save(Fixtures.TempDir(), "poolnd.onnx");
        var m = OnnxImporter.Convert(path);
        var x = OnnxBuilder.Random(new Random(3), (int)shape.Aggregate(1L, (p, v) => p * v), -2, 2);
        using var sess = new Session(m, 1);
        x.CopyTo(sess.Input(0, 1));
        sess.Run(1);
        var want = Reference(x, 6, dims, k, s, dil, pads, ceil != 0, op == "MaxPool", includePad != 0, out var outDims);
        Assert.Equal([2, 3, .. outDims], sess.OutputShape(0).ToArray());
        string what = $"{op} {dims.Length}-D k [{string.Join(",", k)}]";
        if (op == "MaxPool") Assert.Equal(want, sess.Output().ToArray());   // the maximum is exact however it is split
        else Golden.Close(want, sess.Output().ToArray(), 1e-6f, 1e-5f, what);
        if (dims.Length == 3)   // ONNX Runtime pools 1-D to 3-D
            Golden.Close(OnnxBuilder.RunOrt(path, x, shape.Select(v => (int)v).ToArray())[0], sess.Output().ToArray(), 1e-6f, 1e-5f, what + " vs ORT");
    }

    [Trait("Needs", "OnnxRuntime")]
    [Fact]
    public void Auto_pad_same_resolves_per_axis()
    {
        foreach (var mode in new[] { "SAME_UPPER", "SAME_LOWER" })
        {
            var b = new OnnxBuilder(19).Input("x", 1, 2, 5, 4, 7).Output("y");
            b.Node("AveragePool", ["x"], ["y"], OnnxBuilder.Ints("kernel_shape", 2, 3, 2), OnnxBuilder.Ints("strides", 2, 1, 3), OnnxBuilder.String("auto_pad", mode));
            var path = b.Save(Fixtures.TempDir(), "poolnd-same.onnx");
            var m = OnnxImporter.Convert(path);
            var x = OnnxBuilder.Random(new Random(4), 2 * 5 * 4 * 7, -1, 1);
            using var sess = new Session(m, 1);
            x.CopyTo(sess.Input(0, 1));
            sess.Run(1);
            Golden.Close(OnnxBuilder.RunOrt(path, x, [1, 2, 5, 4, 7])[0], sess.Output().ToArray(), 1e-6f, 1e-5f, mode);
        }
    }

    /// <summary>x [N, 12] → Gemm → [N, 2, 3, 4, 5] → 3-D pool → Gemm → 3 classes: the first Gemm's weight gradient
    /// (through the lifted pools' backward) against central differences.</summary>
    [Theory]
    [InlineData("MaxPool", 0)]
    [InlineData("AveragePool", 0)]
    [InlineData("AveragePool", 1)]
    public void Pool_3d_gradients_match_finite_differences(string op, int includePad)
    {
        var rng = new Random(9);
        var b = new OnnxBuilder(13).Input("x", -1, 12).Output("y");
        b.Floats("w1", OnnxBuilder.Random(rng, 12 * 120, -0.5f, 0.5f), 12, 120);
        b.Ints("shape", Converter.Onnx.TensorProto.Types.DataType.Int64, [-1, 2, 3, 4, 5], 5);
        b.Node("MatMul", ["x", "w1"], ["h"]);
        b.Node("Reshape", ["h", "shape"], ["v"]);
        var attrs = new List<Converter.Onnx.AttributeProto> { OnnxBuilder.Ints("kernel_shape", 2, 2, 3), OnnxBuilder.Ints("strides", 1, 2, 1), OnnxBuilder.Ints("pads", 1, 0, 1, 0, 1, 0) };
        if (op == "AveragePool") attrs.Add(OnnxBuilder.Int("count_include_pad", includePad));
        b.Node(op, ["v"], ["p"], attrs.ToArray());
        b.Node("Flatten", ["p"], ["f"]);
        b.Graph.Output.Clear(); b.Output("f");   // converted once to learn the pooled size
        var probe = OnnxImporter.Convert(b.Save(Fixtures.TempDir(), "poolnd-probe.onnx"));
        int features = (int)probe.Tensors[probe.Outputs[0]].Elements(1);
        b.Graph.Output.Clear(); b.Output("y");
        b.Floats("w2", OnnxBuilder.Random(rng, features * 3, -0.5f, 0.5f), features, 3);
        b.Node("MatMul", ["f", "w2"], ["y"]);
        var model = OnnxImporter.Convert(b.Save(Fixtures.TempDir(), "poolnd-train.onnx"));
        var data = OnnxBuilder.Random(rng, 3 * 12, -1.5f, 1.5f);
        long[] labels = [0, 2, 1];
        var s = new Training.TrainingSession(model, 3);
        float Loss() { data.CopyTo(s.Input(3)); s.Forward(); s.ZeroGrad(false); return Training.Loss.CrossEntropy(s.Output(), labels, 3, s.OutputGrad()); }
        Loss(); s.Backward();
        var w = s.Parameters.First(q => q.Value.Length == 12 * 120);
        var grad = (float[])w.Grad.Clone();
        Assert.Contains(grad, g => g != 0);
        for (int i = 0; i < w.Value.Length; i += 7)
        {
            float keep = w.Value[i], step = 1e-3f;
            w.Value[i] = keep + step; double up = Loss();
            w.Value[i] = keep - step; double down = Loss();
            w.Value[i] = keep;
            double numeric = (up - down) / (2 * step);
            Assert.True(Math.Abs(numeric - grad[i]) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(grad[i])) < 0.05, $"{op} w1[{i}]: analytic {grad[i]}, numeric {numeric}");
        }
    }
}

/// <summary>ConvTranspose over 3 spatial axes (ConvTransposeNdKernel): against ONNX Runtime with groups, strides,
/// dilations, pads, output_padding and auto_pad; and its backward (input, weight and bias) against finite differences.</summary>
public class ConvTransposeNdTests
{
    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [InlineData(1, 1, new long[] { 1, 1, 1 }, new long[] { 1, 1, 1 }, new long[] { 0, 0, 0, 0, 0, 0 }, new long[] { 0, 0, 0 }, "NOTSET")]
    [InlineData(4, 2, new long[] { 2, 1, 3 }, new long[] { 1, 2, 1 }, new long[] { 1, 0, 2, 0, 1, 1 }, new long[] { 1, 0, 2 }, "NOTSET")]
    [InlineData(2, 1, new long[] { 2, 2, 1 }, new long[] { 1, 1, 2 }, new long[] { 0, 0, 0, 0, 0, 0 }, new long[] { 0, 0, 0 }, "SAME_UPPER")]
    [InlineData(3, 3, new long[] { 1, 3, 2 }, new long[] { 2, 1, 1 }, new long[] { 0, 0, 0, 0, 0, 0 }, new long[] { 0, 0, 0 }, "SAME_LOWER")]
    public void ConvTranspose_3d_matches_onnx_runtime(int c, int group, long[] strides, long[] dil, long[] pads, long[] outPad, string autoPad)
    {
        var rng = new Random(c * 7 + group);
        int og = 2, kd = 2, kh = 3, kw = 2;
        long[] shape = [2, c, 3, 4, 5];
        var b = new OnnxBuilder(13).Input("x", shape).Output("y");
        b.Floats("w", OnnxBuilder.Random(rng, c * og * kd * kh * kw, -1, 1), c, og, kd, kh, kw);
        b.Floats("b", OnnxBuilder.Random(rng, og * group, -1, 1), og * group);
        var attrs = new List<Converter.Onnx.AttributeProto> { OnnxBuilder.Int("group", group), OnnxBuilder.Ints("strides", strides), OnnxBuilder.Ints("dilations", dil) };
        if (autoPad == "NOTSET") { attrs.Add(OnnxBuilder.Ints("pads", pads)); attrs.Add(OnnxBuilder.Ints("output_padding", outPad)); }
        else attrs.Add(OnnxBuilder.String("auto_pad", autoPad));
        b.Node("ConvTranspose", ["x", "w", "b"], ["y"], attrs.ToArray());
        var path = b.Save(Fixtures.TempDir(), "ct3d.onnx");
        var m = OnnxImporter.Convert(path);
        var x = OnnxBuilder.Random(rng, (int)shape.Aggregate(1L, (p, v) => p * v), -1, 1);
        using var s = new Session(m, 1);
        x.CopyTo(s.Input(0, 1));
        s.Run(1);
        Golden.Close(OnnxBuilder.RunOrt(path, x, shape.Select(v => (int)v).ToArray())[0], s.Output().ToArray(), 1e-5f, 1e-5f, $"ConvTranspose 3-D {autoPad}");
    }

    /// <summary>With one depth slice and a depth-1 kernel the 3-D kernel is the 2-D one: the two references agree.</summary>
    [Fact]
    public void ConvTranspose_3d_with_unit_depth_is_the_2d_reference()
    {
        var rng = new Random(12);
        var x = OnnxBuilder.Random(rng, 2 * 4 * 5 * 6, -1, 1);
        var w = OnnxBuilder.Random(rng, 4 * 3 * 3 * 2, -1, 1);
        var bias = OnnxBuilder.Random(rng, 6, -1, 1);
        var g2 = new Kernels.Reference.ConvGeometry(4, 5, 6, 6, 10, 8, 3, 2, 2, 1, 1, 0, 1, 2, 2);   // OH = 2·4 + 2 + 1 − 1, OW = 5 + 2 + 1
        var y2 = new float[2 * 6 * g2.OH * g2.OW];
        Kernels.Reference.ConvTranspose.Run(x, w, bias, y2, 2, g2);
        var g3 = new Kernels.ConvTransposeNdKernel.Geometry(4, 6, 2, [1, 5, 6], [1, g2.OH, g2.OW], [1, 3, 2], [1, 2, 1], [1, 1, 2], [0, 1, 0]);
        var y3 = new float[y2.Length];
        Kernels.ConvTransposeNdKernel.Forward(x, w, bias, y3, 2, g3);
        Golden.Close(y2, y3, 1e-6f, 1e-6f, "3-D vs 2-D reference");
    }

    [Fact]
    public void ConvTranspose_3d_gradients_match_finite_differences()
    {
        var rng = new Random(21);
        var b = new OnnxBuilder(13).Input("x", -1, 8).Output("f");
        b.Floats("w1", OnnxBuilder.Random(rng, 8 * 24, -0.5f, 0.5f), 8, 24);
        b.Ints("shape", Converter.Onnx.TensorProto.Types.DataType.Int64, [-1, 2, 2, 3, 2], 5);
        b.Floats("wt", OnnxBuilder.Random(rng, 2 * 2 * 2 * 2 * 2, -0.5f, 0.5f), 2, 2, 2, 2, 2);
        b.Floats("bt", OnnxBuilder.Random(rng, 2, -0.3f, 0.3f), 2);
        b.Node("MatMul", ["x", "w1"], ["h"]);
        b.Node("Reshape", ["h", "shape"], ["v"]);
        b.Node("ConvTranspose", ["v", "wt", "bt"], ["c"], OnnxBuilder.Ints("strides", 2, 1, 2), OnnxBuilder.Ints("pads", 1, 0, 0, 0, 1, 1));
        b.Node("Flatten", ["c"], ["f"]);
        var probe = OnnxImporter.Convert(b.Save(Fixtures.TempDir(), "ct3d-probe.onnx"));
        int features = (int)probe.Tensors[probe.Outputs[0]].Elements(1);
        b.Graph.Output.Clear(); b.Output("y");
        b.Floats("w2", OnnxBuilder.Random(rng, features * 3, -0.5f, 0.5f), features, 3);
        b.Node("MatMul", ["f", "w2"], ["y"]);
        var model = OnnxImporter.Convert(b.Save(Fixtures.TempDir(), "ct3d-train.onnx"));
        var data = OnnxBuilder.Random(rng, 3 * 8, -1.5f, 1.5f);
        long[] labels = [0, 2, 1];
        var s = new Training.TrainingSession(model, 3);
        float Loss() { data.CopyTo(s.Input(3)); s.Forward(); s.ZeroGrad(false); return Training.Loss.CrossEntropy(s.Output(), labels, 3, s.OutputGrad()); }
        Loss(); s.Backward();
        // w1 checks dx of the ConvTranspose (its gradient flows through it); wt and bt its own parameters.
        var grads = s.Parameters.ToDictionary(q => q.Name, q => (float[])q.Grad.Clone());   // before Loss() zeroes them
        foreach (var p in s.Parameters.Where(q => q.Value.Length is 8 * 24 or 32 or 2))
        {
            var grad = grads[p.Name];
            Assert.True(grad.Any(v => v != 0), $"{p.Name}: no gradient");
            for (int i = 0; i < p.Value.Length; i += p.Value.Length > 32 ? 5 : 1)
            {
                float keep = p.Value[i], step = 1e-3f;
                p.Value[i] = keep + step; double up = Loss();
                p.Value[i] = keep - step; double down = Loss();
                p.Value[i] = keep;
                double numeric = (up - down) / (2 * step);
                Assert.True(Math.Abs(numeric - grad[i]) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(grad[i])) < 0.05, $"{p.Name}[{i}]: analytic {grad[i]}, numeric {numeric}");
            }
        }
        Assert.Equal(3, s.Parameters.Count(q => q.Value.Length is 8 * 24 or 32 or 2));
    }
}
