using EdgeNet.Converter;
using EdgeNet.Converter.Onnx;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using EdgeNet.Training;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// The op table is complete: every op has every piece (importer handler, twin test case, backward or an explicit
/// "not differentiable", a row in docs/operators.md), and every elementwise op's derivative matches finite
/// differences, standalone and fused into Dense/Conv, through a training session.
/// </summary>
public class OpTableTests(ITestOutputHelper output)
{
    static string OperatorsDoc() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "operators.md"));   // copied by the .csproj

    [Fact]
    public void Every_op_has_every_piece()
    {
        var rows = OperatorsDoc().Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).Select(l => l.Split('|')[1].Trim()).ToHashSet();
        var importer = OnnxImporter.SupportedOps.ToHashSet();
        var missing = new List<string>();
        foreach (var op in Enum.GetValues<OpType>())
        {
            var info = OpTable.Find(op);
            if (info is null) { missing.Add($"{op}: no op table entry"); continue; }
            if (info.Onnx.Length == 0) missing.Add($"{op}: no ONNX op imports it");
            foreach (var onnx in info.Onnx) if (!importer.Contains(onnx)) missing.Add($"{op}: no importer handler for ONNX {onnx}");
            if (info.Backward is null) missing.Add($"{op}: neither a backward pass nor NotDifferentiable");
            if (info.Unary is null && !KernelTwinTests.TwinCovered.Contains(op)) missing.Add($"{op}: no reference/twin test case (KernelTwinTests.TwinCovered)");
            if (!rows.Contains(op.ToString())) missing.Add($"{op}: no row '| {op} |' in docs/operators.md");
            if (info.Fusable && info.Unary is null) missing.Add($"{op}: fusable but not elementwise");
        }
        Assert.True(missing.Count == 0, string.Join("\n", missing));
    }

    public static TheoryData<OpType> ElementwiseOps() => new(OpTable.All.Where(e => e.Unary is not null).Select(e => e.Op));

    static UnaryParams Params(UnaryOp op) => op.Op switch
    {
        OpType.Clip => new(-0.5f, 0.25f),
        OpType.LeakyRelu => new(0.3f),
        _ => op.Read(new Attributes(), "", "test"),
    };

    [Theory]
    [MemberData(nameof(ElementwiseOps))]
    public void Elementwise_derivative_matches_finite_differences(OpType op)
    {
        var u = OpTable.Get(op).Unary!;
        var p = Params(u);
        int checkedCount = 0;
        var dz = new float[1];
        for (double xd = -6.05; xd <= 6.05; xd += 0.0137)
        {
            float x = (float)xd, h = 1e-2f;
            double left = (u.Scalar(x, p) - (double)u.Scalar(x - h, p)) / h, right = (u.Scalar(x + h, p) - (double)u.Scalar(x, p)) / h;
            if (!double.IsFinite(left) || !double.IsFinite(right) || Math.Abs(left) > 100) continue;   // outside the domain, or near a pole
            if (Math.Abs(left - right) > 0.05) continue;   // a kink within h: the difference means nothing there
            double numeric = (u.Scalar(x + h / 10, p) - (double)u.Scalar(x - h / 10, p)) / (h / 5);
            u.Derivative([x], [u.Scalar(x, p)], [1f], dz, p);
            Assert.True(Math.Abs(dz[0] - numeric) <= 2e-3 + 2e-3 * Math.Abs(numeric), $"{op} at {x}: analytic {dz[0]}, numeric {numeric}");
            checkedCount++;
        }
        Assert.True(checkedCount > 100, $"{op}: only {checkedCount} points away from kinks and poles");
    }

    /// <summary>x [N, 6] → Dense(5) → op (standalone or fused) → Dense(3): parameter gradients against finite differences.</summary>
    [Theory]
    [MemberData(nameof(ElementwiseOps))]
    public void Elementwise_op_trains_standalone_and_fused(OpType op)
    {
        var u = OpTable.Get(op).Unary!;
        var p = Params(u);
        // Ops defined or tame only on part of the line (Log, Sqrt, Asin, Tan...) get their input through a Sigmoid, in (0, 1).
        var probe = Enumerable.Range(-30, 61).Select(k => k / 10f).ToArray();
        bool bounded = probe.Any(v => !float.IsFinite(u.Scalar(v, p)) || Math.Abs(u.Scalar(v + 1e-3f, p) - u.Scalar(v, p)) > 0.05f);
        bool flat = probe.All(v => { var dz = new float[1]; u.Derivative([v], [u.Scalar(v, p)], [1f], dz, p); return dz[0] == 0; });
        foreach (bool fused in bounded ? [false] : new[] { false, true })
        {
            var rng = new Random(5);
            float[] R(int n, float s) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * s).ToArray();
            var g = new GraphBuilder();
            int x = g.Input("x", -1, 6);
            var attrs = new Attributes();
            if (fused) new Activation(u, p).WriteTo(attrs);
            int h = g.Add(OpType.Dense, [x, g.Constant("w1", R(30, 0.6f), 5, 6), g.Constant("b1", R(5, 0.3f), 5)], attrs, "d1");
            if (bounded) h = g.Add(OpType.Sigmoid, [h], name: "into_domain");
            if (!fused) { var a = new Attributes(); u.Write(a, "", p); h = g.Add(op, [h], a, "act"); }
            int y = g.Add(OpType.Dense, [h, g.Constant("w2", R(15, 1f), 3, 5), g.Constant("b2", R(3, 0.5f), 3)], name: "d2");
            var model = g.Build(y);
            var data = R(4 * 6, 1.5f);
            long[] labels = [0, 2, 1, 2];
            var s = new Training.TrainingSession(model, 4);
            float Loss()
            {
                data.CopyTo(s.Input(4));
                s.Forward();
                s.ZeroGrad(false);
                return Loss_(s, labels);
            }
            Loss(); s.Backward();
            var w1 = s.Parameters.First(q => q.Name == "w1");
            var analytic = (float[])w1.Grad.Clone();
            if (flat) { Assert.All(analytic, v => Assert.Equal(0f, v)); continue; }   // piecewise constant (Floor, Sign...): no gradient flows
            int compared = 0;
            for (int i = 0; i < w1.Value.Length; i++)
            {
                float keep = w1.Value[i], step = 1e-3f;
                w1.Value[i] = keep + step; double up = Loss();
                w1.Value[i] = keep - step; double down = Loss();
                w1.Value[i] = keep;
                double numeric = (up - down) / (2 * step);
                double err = Math.Abs(numeric - analytic[i]) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(analytic[i]));
                if (err >= 0.05)
                {
                    // a kink inside ±step: confirm with a smaller step before failing
                    w1.Value[i] = keep + step / 8; up = Loss();
                    w1.Value[i] = keep - step / 8; down = Loss();
                    w1.Value[i] = keep;
                    numeric = (up - down) / (step / 4);
                    err = Math.Abs(numeric - analytic[i]) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(analytic[i]));
                }
                Assert.True(err < 0.05, $"{op} {(fused ? "fused" : "standalone")}: w1[{i}] analytic {analytic[i]}, numeric {numeric}");
                compared++;
            }
            output.WriteLine($"{op} {(fused ? "fused" : "standalone")}: {compared} weights checked");
        }
    }

    static float Loss_(Training.TrainingSession s, long[] labels) => Training.Loss.CrossEntropy(s.Output(), labels, 3, s.OutputGrad());

    /// <summary>HardSwish and HardSigmoid (MobileNetV3's activations) from ONNX, converted (HardSwish fused into the
    /// MatMul) and run, against ONNX Runtime on the same input.</summary>
    [Trait("Needs", "OnnxRuntime")]
    [Fact]
    public void HardSwish_and_HardSigmoid_from_onnx_match_onnx_runtime()
    {
        var g = new GraphProto { Name = "g" };
        var input = new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() } } };
        input.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        input.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 8 });
        g.Input.Add(input);
        var rng = new Random(11);
        var w = new TensorProto { Name = "w", DataType = 1 };
        w.Dims.Add(8); w.Dims.Add(6);
        w.FloatData.AddRange(Enumerable.Range(0, 48).Select(_ => (float)(rng.NextDouble() * 4 - 2)));
        g.Initializer.Add(w);
        NodeProto Node(string op, string i, string o) { var n = new NodeProto { OpType = op, Name = op + "_" + o }; n.Input.Add(i); n.Output.Add(o); return n; }
        g.Node.Add(new NodeProto { OpType = "MatMul", Name = "mm", Input = { "x", "w" }, Output = { "z" } });
        g.Node.Add(Node("HardSwish", "z", "h"));
        var hs = Node("HardSigmoid", "h", "y");
        hs.Attribute.Add(new AttributeProto { Name = "alpha", F = 0.3f, Type = AttributeProto.Types.AttributeType.Float });
        g.Node.Add(hs);
        g.Output.Add(new ValueInfoProto { Name = "y" });
        var m = new ModelProto { IrVersion = 8, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        var path = Path.Combine(Fixtures.TempDir(), "hard.onnx");
        File.WriteAllBytes(path, m.ToByteArray());

        var model = OnnxImporter.Convert(path);
        Assert.Equal("hardswish", model.Nodes.Single(n => n.Op == OpType.Dense).Attributes.String("activation", "none"));
        Assert.Contains(model.Nodes, n => n.Op == OpType.HardSigmoid);
        var x = Enumerable.Range(0, 5 * 8).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        using var s = new Session(model, 5);
        x.CopyTo(s.Input(0, 5));
        s.Run(5);
        using var ort = new InferenceSession(path);
        using var res = ort.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [5, 8]))]);
        Golden.Close(res.First().AsEnumerable<float>().ToArray(), s.Output().ToArray(), 1e-5f, 1e-5f, "HardSwish → HardSigmoid");
    }

    /// <summary>int8 elementwise ops run by a lookup table of their formula: Quantize → op (int8) → Dequantize gives
    /// exactly the quantized formula on every one of the 256 input codes.</summary>
    [Theory]
    [MemberData(nameof(ElementwiseOps))]
    public void Int8_lookup_table_follows_the_formula(OpType op)
    {
        var u = OpTable.Get(op).Unary!;
        var p = Params(u);
        var m = new Model();
        int x = m.AddTensor(new TensorDesc("x", DataType.Float32, [1, 256]));
        int xq = m.AddTensor(new TensorDesc("xq", DataType.Int8, [1, 256]) { Quant = new QuantParams([0.05f], [3], 0) });
        int yq = m.AddTensor(new TensorDesc("yq", DataType.Int8, [1, 256]) { Quant = new QuantParams([0.01f], [-20], 0) });
        int y = m.AddTensor(new TensorDesc("y", DataType.Float32, [1, 256]));
        var a = new Attributes(); u.Write(a, "", p);
        m.Inputs.Add(x); m.Outputs.Add(y);
        m.Nodes.Add(new Node(OpType.Quantize, "q", [x], [xq]));
        m.Nodes.Add(new Node(op, "op", [xq], [yq], a));
        m.Nodes.Add(new Node(OpType.Dequantize, "dq", [yq], [y]));
        ModelValidator.Validate(m);
        using var s = new Session(m, 1);
        var input = s.Input(0, 1);
        for (int q = -128; q < 128; q++) input[q + 128] = (q - 3) * 0.05f;
        var inputCopy = input.ToArray();
        s.Run(1);
        for (int i = 0; i < 256; i++)
        {
            float real = Quant.QuantMath.Dequantize(Quant.QuantMath.Quantize(inputCopy[i], 0.05f, 3), 0.05f, 3);
            float want = Quant.QuantMath.Dequantize(Quant.QuantMath.Quantize(u.Scalar(real, p), 0.01f, -20), 0.01f, -20);
            Assert.Equal(want, s.Output()[i]);
        }
    }

    public static TheoryData<OpType> Reductions() => new(Enum.GetValues<OpType>().Where(o => o.ToString().StartsWith("Reduce", StringComparison.Ordinal)));

    static double Naive(OpType op, double[] v) => op switch
    {
        OpType.ReduceSum => v.Sum(), OpType.ReduceMean => v.Average(), OpType.ReduceMax => v.Max(), OpType.ReduceMin => v.Min(),
        OpType.ReduceProd => v.Aggregate(1.0, (a, b) => a * b), OpType.ReduceL1 => v.Sum(Math.Abs), OpType.ReduceL2 => Math.Sqrt(v.Sum(a => a * a)),
        OpType.ReduceSumSquare => v.Sum(a => a * a), OpType.ReduceLogSumExp => Math.Log(v.Sum(Math.Exp)),
        _ => throw new ArgumentException(op.ToString()),
    };

    /// <summary>Each reduction over several axis sets, with and without keepdims, against a naive fold in double;
    /// then its backward against finite differences (x → Dense → reduction over the last axis → Dense).</summary>
    [Theory]
    [MemberData(nameof(Reductions))]
    public void Reduction_values_and_gradient(OpType op)
    {
        var rng = new Random(2);
        foreach (var axes in new[] { new long[] { 1 }, [0, 2], [2], [0, 1, 2] })
            foreach (var keep in new[] { 0L, 1L })
            {
                var g = new GraphBuilder();
                int x = g.Input("x", 2, 3, 4);
                var m = g.Build(g.Add(op, [x], new Attributes().Set("axes", axes).Set("keepdims", keep)));
                using var s = new Session(m, 1);
                var input = s.Input(0, 1);
                for (int i = 0; i < input.Length; i++) input[i] = (float)(rng.NextDouble() * 2 - 0.5);
                var xv = input.ToArray();
                s.Run(1);
                var got = s.Output().ToArray();
                int[] dims = [2, 3, 4];
                var groups = new Dictionary<int, List<double>>();
                for (int i = 0; i < 24; i++)
                {
                    int[] idx = [i / 12, i / 4 % 3, i % 4];
                    int o = 0;
                    for (int d = 0; d < 3; d++) if (!axes.Contains(d)) o = o * dims[d] + idx[d];
                    (groups.TryGetValue(o, out var l) ? l : groups[o] = []).Add(xv[i]);
                }
                Assert.Equal(groups.Count, got.Length);
                foreach (var (o, vals) in groups) Assert.True(Math.Abs(got[o] - Naive(op, vals.ToArray())) <= 1e-5 + 1e-5 * Math.Abs(got[o]), $"{op} axes [{string.Join(",", axes)}] keepdims {keep}: [{o}] {got[o]} vs {Naive(op, vals.ToArray())}");
            }

        var gb = new GraphBuilder();
        float[] R(int n, float sc) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * sc).ToArray();
        int xin = gb.Input("x", -1, 6);
        int h = gb.Add(OpType.Dense, [xin, gb.Constant("w1", R(30, 0.6f), 5, 6), gb.Constant("b1", R(5, 0.3f), 5)], name: "d1");
        h = gb.Add(op, [h], new Attributes().Set("axes", new long[] { 1 }).Set("keepdims", 1L));
        int y = gb.Add(OpType.Dense, [h, gb.Constant("w2", R(3, 1f), 3, 1), gb.Constant("b2", R(3, 0.5f), 3)], name: "d2");
        var model = gb.Build(y);
        var data = R(4 * 6, 1.5f);
        long[] labels = [0, 2, 1, 2];
        var ts = new Training.TrainingSession(model, 4);
        float Loss() { data.CopyTo(ts.Input(4)); ts.Forward(); ts.ZeroGrad(false); return Loss_(ts, labels); }
        Loss(); ts.Backward();
        var w1 = ts.Parameters.First(q => q.Name == "w1");
        var analytic = (float[])w1.Grad.Clone();
        for (int i = 0; i < w1.Value.Length; i++)
        {
            float keepV = w1.Value[i], step = 1e-3f;
            w1.Value[i] = keepV + step; double up = Loss();
            w1.Value[i] = keepV - step; double down = Loss();
            w1.Value[i] = keepV;
            double numeric = (up - down) / (2 * step);
            double err = Math.Abs(numeric - analytic[i]) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(analytic[i]));
            Assert.True(err < 0.05, $"{op}: w1[{i}] analytic {analytic[i]}, numeric {numeric}");
        }
    }

    public static TheoryData<OpType> BinaryOps() => new(OpTable.All.Where(e => e.Layout == LayoutRole.Binary).Select(e => e.Op));

    /// <summary>op(a, b) of two computed tensors (b also broadcast from [N, 1]): the gradients of the weights behind
    /// both operands against finite differences. Pow's base goes through a Sigmoid; Div's and Mod's divisor is 1.5 + sigmoid.</summary>
    [Theory]
    [MemberData(nameof(BinaryOps))]
    public void Binary_op_gradients_match_finite_differences(OpType op)
    {
        foreach (int bWidth in new[] { 5, 1 })
        {
            var rng = new Random(8);
            float[] R(int n, float sc) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * sc).ToArray();
            var g = new GraphBuilder();
            int x = g.Input("x", -1, 6);
            int a = g.Add(OpType.Dense, [x, g.Constant("wa", R(30, 0.6f), 5, 6), g.Constant("ba", R(5, 0.3f), 5)], name: "da");
            int b = g.Add(OpType.Dense, [x, g.Constant("wb", R(6 * bWidth, 0.6f), bWidth, 6), g.Constant("bb", R(bWidth, 0.3f), bWidth)], name: "db");
            if (op == OpType.Pow) a = g.Add(OpType.Sigmoid, [a]);
            if (op is OpType.Div or OpType.Mod) b = g.Add(OpType.Add, [g.Add(OpType.Sigmoid, [b]), g.Constant("c", [1.5f], 1)]);
            int h = g.Add(op, [a, b]);
            int y = g.Add(OpType.Dense, [h, g.Constant("w2", R(15, 1f), 3, 5), g.Constant("b2", R(3, 0.5f), 3)], name: "d2");
            var model = g.Build(y);
            var data = R(4 * 6, 1.5f);
            long[] labels = [0, 2, 1, 2];
            var s = new Training.TrainingSession(model, 4);
            float Loss() { data.CopyTo(s.Input(4)); s.Forward(); s.ZeroGrad(false); return Loss_(s, labels); }
            Loss(); s.Backward();
            var grads = s.Parameters.ToDictionary(q => q.Name, q => (float[])q.Grad.Clone());   // before the differences zero them
            foreach (var name in new[] { "wa", "wb" })
            {
                var w = s.Parameters.First(q => q.Name == name);
                var analytic = grads[name];
                for (int i = 0; i < w.Value.Length; i++)
                {
                    double Numeric(float step)
                    {
                        float keep = w.Value[i];
                        w.Value[i] = keep + step; double up = Loss();
                        w.Value[i] = keep - step; double down = Loss();
                        w.Value[i] = keep;
                        return (up - down) / (2 * step);
                    }
                    double Err(double num) => Math.Abs(num - analytic[i]) / Math.Max(1e-2, Math.Abs(num) + Math.Abs(analytic[i]));
                    double numeric = Numeric(1e-3f);
                    if (Err(numeric) >= 0.05) numeric = Numeric(1e-4f);   // a kink (Max, Min, Mod) inside ±step
                    Assert.True(Err(numeric) < 0.05, $"{op} (b [N, {bWidth}]): {name}[{i}] analytic {analytic[i]}, numeric {numeric}");
                }
            }
        }
    }

    /// <summary>LogSoftmax over the features: the first layer's weight gradients against finite differences.</summary>
    [Fact]
    public void LogSoftmax_gradient_matches_finite_differences()
    {
        var rng = new Random(4);
        float[] R(int n, float sc) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * sc).ToArray();
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 6);
        int h = g.Add(OpType.Dense, [x, g.Constant("w1", R(30, 0.6f), 5, 6), g.Constant("b1", R(5, 0.3f), 5)], name: "d1");
        h = g.Add(OpType.LogSoftmax, [h], new Attributes().Set("axis", 1L));
        var model = g.Build(g.Add(OpType.Dense, [h, g.Constant("w2", R(15, 1f), 3, 5), g.Constant("b2", R(3, 0.5f), 3)], name: "d2"));
        var data = R(4 * 6, 1.5f);
        long[] labels = [0, 2, 1, 2];
        var s = new Training.TrainingSession(model, 4);
        float Loss() { data.CopyTo(s.Input(4)); s.Forward(); s.ZeroGrad(false); return Loss_(s, labels); }
        Loss(); s.Backward();
        var w = s.Parameters.First(q => q.Name == "w1");
        var analytic = (float[])w.Grad.Clone();
        for (int i = 0; i < w.Value.Length; i++)
        {
            float keep = w.Value[i], step = 1e-3f;
            w.Value[i] = keep + step; double up = Loss();
            w.Value[i] = keep - step; double down = Loss();
            w.Value[i] = keep;
            double numeric = (up - down) / (2 * step);
            Assert.True(Math.Abs(numeric - analytic[i]) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(analytic[i])) < 0.05, $"w1[{i}]: analytic {analytic[i]}, numeric {numeric}");
        }
    }

    /// <summary>MatMul of two computed tensors ([N, 2, 3] · [N, 3, 2], as attention multiplies): the gradients of the
    /// weights behind both against finite differences.</summary>
    [Fact]
    public void MatMul_of_activations_gradients_match_finite_differences()
    {
        var rng = new Random(6);
        float[] R(int n, float sc) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * sc).ToArray();
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 6);
        int a = g.Reshape(g.Add(OpType.Dense, [x, g.Constant("wa", R(36, 0.6f), 6, 6)], name: "da"), [-1, 2, 3]);
        int b = g.Reshape(g.Add(OpType.Dense, [x, g.Constant("wb", R(36, 0.6f), 6, 6)], name: "db"), [-1, 3, 2]);
        int c = g.Reshape(g.Add(OpType.MatMul, [a, b]), [-1, 4]);
        var model = g.Build(g.Add(OpType.Dense, [c, g.Constant("w2", R(12, 1f), 3, 4), g.Constant("b2", R(3, 0.5f), 3)], name: "d2"));
        var data = R(4 * 6, 1.5f);
        long[] labels = [0, 2, 1, 2];
        var s = new Training.TrainingSession(model, 4);
        float Loss() { data.CopyTo(s.Input(4)); s.Forward(); s.ZeroGrad(false); return Loss_(s, labels); }
        Loss(); s.Backward();
        var grads = s.Parameters.ToDictionary(q => q.Name, q => (float[])q.Grad.Clone());   // before the differences zero them
        foreach (var name in new[] { "wa", "wb" })
        {
            var w = s.Parameters.First(q => q.Name == name);
            var analytic = grads[name];
            for (int i = 0; i < w.Value.Length; i++)
            {
                float keep = w.Value[i], step = 1e-3f;
                w.Value[i] = keep + step; double up = Loss();
                w.Value[i] = keep - step; double down = Loss();
                w.Value[i] = keep;
                double numeric = (up - down) / (2 * step);
                Assert.True(Math.Abs(numeric - analytic[i]) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(analytic[i])) < 0.05, $"{name}[{i}]: analytic {analytic[i]}, numeric {numeric}");
            }
        }
    }

    /// <summary>LayerNormalization over the features with a trained scale and bias: gradients of the weights before
    /// it and of its scale against finite differences.</summary>
    [Fact]
    public void LayerNorm_gradients_match_finite_differences()
    {
        var rng = new Random(9);
        float[] R(int n, float sc) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * sc).ToArray();
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 6);
        int h = g.Add(OpType.Dense, [x, g.Constant("w1", R(30, 0.6f), 5, 6), g.Constant("b1", R(5, 0.3f), 5)], name: "d1");
        h = g.Add(OpType.LayerNormalization, [h, g.Constant("ln.scale", R(5, 1f), 5), g.Constant("ln.bias", R(5, 0.5f), 5)], new Attributes().Set("axis", -1L), "ln");
        var model = g.Build(g.Add(OpType.Dense, [h, g.Constant("w2", R(15, 1f), 3, 5), g.Constant("b2", R(3, 0.5f), 3)], name: "d2"));
        var data = R(4 * 6, 1.5f);
        long[] labels = [0, 2, 1, 2];
        var s = new Training.TrainingSession(model, 4);
        float Loss() { data.CopyTo(s.Input(4)); s.Forward(); s.ZeroGrad(false); return Loss_(s, labels); }
        Loss(); s.Backward();
        var grads = s.Parameters.ToDictionary(q => q.Name, q => (float[])q.Grad.Clone());   // before the differences zero them
        foreach (var name in new[] { "w1", "ln.scale", "ln.bias" })
        {
            var w = s.Parameters.First(q => q.Name == name);
            var analytic = grads[name];
            for (int i = 0; i < w.Value.Length; i++)
            {
                float keep = w.Value[i], step = 1e-3f;
                w.Value[i] = keep + step; double up = Loss();
                w.Value[i] = keep - step; double down = Loss();
                w.Value[i] = keep;
                double numeric = (up - down) / (2 * step);
                Assert.True(Math.Abs(numeric - analytic[i]) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(analytic[i])) < 0.05, $"{name}[{i}]: analytic {analytic[i]}, numeric {numeric}");
            }
        }
    }
}
