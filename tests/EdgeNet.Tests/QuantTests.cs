using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Simd;
using EdgeNet.Quant;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>int8 against ONNX Runtime's own quantized models, EdgeNet's post-training quantization against fp32, and the
/// int8 results pinned bit for bit (they must come out the same on every CPU: x64 AVX-VNNI/AVX2/scalar, arm64 SDOT/NEON).</summary>
public class QuantTests(ITestOutputHelper output)
{
    static string Q(string f) => Path.Combine(AppContext.BaseDirectory, "fixtures", "quant", f);
    static float[] TestX => Fixtures.Floats(Fixtures.Digits("digits_test_x.npy"));
    static long[] TestY => Fixtures.Longs(Fixtures.Digits("digits_test_y.npy"));

    [Fact]
    public void Ort_qdq_mlp_matches_ort_within_one_quantization_step()
    {
        var m = Fixtures.Convert(Q("mlp_digits_qdq_int8.onnx"));
        Assert.Contains(m.Nodes, n => n.Op == OpType.Dense && m.Tensors[n.Inputs[0]].Type == DataType.Int8);
        var ort = Fixtures.Floats(Q("mlp_digits_qdq_int8_test_logits_ort.npy"));
        using var s = new Session(m, 64);
        var ours = BatchRunner.RunAll(s, TestX, out _);
        // The output's quantization step: the scale of the tensor the last Dense writes before Dequantize.
        float step = m.Tensors[m.Nodes.Single(n => n.Op == OpType.Dequantize).Inputs[0]].Quant!.Scale[0];
        int within = Enumerable.Range(0, ort.Length).Count(i => Math.Abs(ort[i] - ours[i]) <= step * 1.0001f);
        output.WriteLine($"{within} of {ort.Length} logits within one step ({step}) of ORT; max |diff| {Golden.MaxAbsDiff(ort, ours)}");
        Assert.True(within >= 0.99 * ort.Length);
        Assert.Equal(FixtureModelTests.Accuracy(ort, TestY), FixtureModelTests.Accuracy(ours, TestY));
    }

    [Theory]
    [InlineData("mobilenetv2_035_96_qdq_int8")]
    [InlineData("mobilenetv2_035_96_qop_int8")]
    public void Ort_quantized_mobilenet_converts_and_agrees(string name)
    {
        var m = Fixtures.Convert(Q(name + ".onnx"));
        Assert.True(m.Nodes.Count(n => n.Op == OpType.Conv && m.Tensors[n.Inputs[0]].Type == DataType.Int8) >= 50);
        var x = Fixtures.Floats(Q("mobilenetv2_035_96_input.npy"));
        var ort = Fixtures.Floats(Q(name + "_output_ort.npy"));
        using var s = new Session(m, 1);
        var ours = BatchRunner.RunAll(s, x, out _);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < ort.Length; i++) { dot += (double)ort[i] * ours[i]; na += (double)ort[i] * ort[i]; nb += (double)ours[i] * ours[i]; }
        double cosine = dot / Math.Sqrt(na * nb);
        output.WriteLine($"{name}: cosine {cosine:F6}, max |diff| {Golden.MaxAbsDiff(ort, ours):G3}");
        Assert.True(cosine >= 0.99, $"cosine {cosine}");
    }

    [Theory]
    [InlineData("mlp_digits", 0.5)]
    [InlineData("cnn_digits", 0.5)]
    [InlineData("lstm_digits", 0.5)]
    public void Own_ptq_loses_at_most_half_a_point(string name, double budget)
    {
        var fp32 = Fixtures.Convert(Fixtures.Digits(name + ".onnx"));
        var calib = Fixtures.Floats(Path.Combine(AppContext.BaseDirectory, "fixtures", "finetune", "digits_train_x.npy"));
        var ranges = Calibration.Collect(fp32, calib, CalibrationMethod.MinMax);
        var int8 = Quantizer.Quantize(fp32, ranges);
        var report = QuantReport.Evaluate(fp32, int8, TestX, TestY, Quantizer.Candidates(fp32).ToList());
        output.WriteLine($"{name}:\n{report}");
        Assert.True(100 * report.Drop <= budget, $"drop {100 * report.Drop} points");
        Assert.All(report.Layers, l => Assert.True(l.SqnrDb > 20, $"{l.Layer}: {l.SqnrDb} dB"));
        Assert.Equal(int8.Nodes.Count(n => n.Op is OpType.Dense or OpType.Conv or OpType.Lstm), int8.Nodes.Count(n => n.Op is OpType.Dense or OpType.Conv or OpType.Lstm && int8.Tensors[n.Inputs[1]].Type == DataType.Int8));
        var back = ModelFile.Read(ModelFile.Write(int8));   // int8 tensors, scales and zero points survive the file
        using var a = new Session(int8, 64); using var b = new Session(back, 64);
        Assert.Equal(BatchRunner.RunAll(a, TestX, out _), BatchRunner.RunAll(b, TestX, out _));
    }

    /// <summary>PTQ of an Inception-style block (two conv branches concatenated): the Concat runs int8 and the
    /// logits stay within a few quantization steps of fp32.</summary>
    [Fact]
    public void Ptq_quantizes_concat_between_int8_branches()
    {
        var r = new Random(4);
        float[] R(int n, float scale) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1) * scale).ToArray();
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 1, 8, 8);
        var pad1 = new Attributes().Set("pads", new long[] { 1, 1, 1, 1 }).Set("activation", "relu");
        int a = g.Add(OpType.Conv, [x, g.Constant("wa", R(4 * 9, 0.5f), 4, 1, 3, 3), g.Constant("ba", R(4, 0.1f), 4)], pad1);
        int b = g.Add(OpType.Conv, [x, g.Constant("wb", R(6, 1f), 6, 1, 1, 1), g.Constant("bb", R(6, 0.1f), 6)], new Attributes().Set("activation", "relu"));
        int cat = g.Add(OpType.Concat, [a, b], new Attributes().Set("axis", 1L));
        int h = g.Add(OpType.Conv, [cat, g.Constant("wc", R(8 * 10, 0.4f), 8, 10, 1, 1), g.Constant("bc", R(8, 0.1f), 8)]);
        h = g.Reshape(h, [-1, 8 * 64]);
        var fp32 = g.Build(g.Add(OpType.Dense, [h, g.Constant("wd", R(10 * 512, 0.05f), 10, 512), g.Constant("bd", R(10, 0.1f), 10)]));
        var int8 = Quantizer.Quantize(fp32, Calibration.Collect(fp32, TestX, CalibrationMethod.MinMax));
        Assert.Contains(int8.Nodes, n => n.Op == OpType.Concat && int8.Tensors[n.Inputs[0]].Type == DataType.Int8);
        using var sf = new Session(fp32, 64); using var sq = new Session(int8, 64);
        var yf = BatchRunner.RunAll(sf, TestX, out _); var yq = BatchRunner.RunAll(sq, TestX, out _);
        double err = yf.Zip(yq).Average(p => Math.Abs(p.First - p.Second)), mag = yf.Average(v => Math.Abs(v));
        output.WriteLine($"mean |int8 - fp32| {err:G3} vs mean |fp32| {mag:G3}");
        Assert.True(err < 0.05 * mag, $"int8 error {err} against logits of {mag}");
    }

    /// <summary>Each calibration method on each fixture: within half a point of fp32 on the test set. Entropy is the
    /// KL-divergence search of TensorRT (2048 bins of |x|); a search that clipped the pixels or the ReLU outputs too
    /// hard lost 12.3 points on the CNN.</summary>
    [Theory]
    [InlineData("mlp_digits", CalibrationMethod.MinMax)]
    [InlineData("mlp_digits", CalibrationMethod.Percentile)]
    [InlineData("mlp_digits", CalibrationMethod.Entropy)]
    [InlineData("cnn_digits", CalibrationMethod.MinMax)]
    [InlineData("cnn_digits", CalibrationMethod.Percentile)]
    [InlineData("cnn_digits", CalibrationMethod.Entropy)]
    [InlineData("lstm_digits", CalibrationMethod.MinMax)]
    [InlineData("lstm_digits", CalibrationMethod.Percentile)]
    [InlineData("lstm_digits", CalibrationMethod.Entropy)]
    public void Every_calibration_method_loses_at_most_half_a_point(string name, CalibrationMethod method)
    {
        var fp32 = Fixtures.Convert(Fixtures.Digits(name + ".onnx"));
        var calib = Fixtures.Floats(Path.Combine(AppContext.BaseDirectory, "fixtures", "finetune", "digits_train_x.npy"));
        var int8 = Quantizer.Quantize(fp32, Calibration.Collect(fp32, calib, method));
        var report = QuantReport.Evaluate(fp32, int8, TestX, TestY, Quantizer.Candidates(fp32).ToList());
        output.WriteLine($"{name} {method}:\n{report}");
        Assert.True(100 * report.Drop <= 0.5, $"{method}: drop {100 * report.Drop:F2} points");
    }

    /// <summary>The entropy threshold on known distributions: no clipping where every value matters (a few discrete
    /// levels, like pixels), clipping of a long tail (a Gaussian with rare outliers far out).</summary>
    [Fact]
    public void Entropy_keeps_discrete_levels_and_clips_rare_outliers()
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 4);
        var m = g.Build(g.Add(OpType.Relu, [x]));
        var r = new Random(2);
        var levels = Enumerable.Range(0, 4000 * 4).Select(_ => r.Next(17) / 16f).ToArray();
        var pixels = Calibration.Collect(m, levels, CalibrationMethod.Entropy)[m.Inputs[0]];
        Assert.Equal(1f, pixels.Max);
        var gauss = Enumerable.Range(0, 4000 * 4).Select(i => i % 2000 == 0 ? 40f : (float)(Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble()))).ToArray();
        var tail = Calibration.Collect(m, gauss, CalibrationMethod.Entropy)[m.Inputs[0]];
        output.WriteLine($"gaussian with outliers at 40: range [{tail.Min}, {tail.Max}]");
        Assert.InRange(tail.Max, 3f, 20f);
        Assert.InRange(tail.Min, -20f, -3f);
    }

    [Fact]
    public void Accuracy_budget_keeps_the_weakest_layers_in_fp32()
    {
        // The logits' range cut to a twentieth: the classifier layer loses the budget (its error reaches no other
        // layer), and the search puts it back to fp32.
        var fp32 = Fixtures.Convert(Fixtures.Digits("cnn_digits.onnx"));
        var calib = Fixtures.Floats(Path.Combine(AppContext.BaseDirectory, "fixtures", "finetune", "digits_train_x.npy"));
        var ranges = Calibration.Collect(fp32, calib, CalibrationMethod.MinMax);
        var head = fp32.Nodes.Last(n => n.Op == OpType.Dense);
        ranges[head.Outputs[0]].Min /= 20; ranges[head.Outputs[0]].Max /= 20;
        var (model, report, kept, allInt8) = AccuracyBudget.Fit(fp32, ranges, TestX, TestY, 0.5, []);
        output.WriteLine($"kept in fp32: {string.Join(", ", kept)}\nevery layer int8:\n{allInt8}\n{report}");
        Assert.True(100 * allInt8.Drop > 0.5);
        Assert.True(100 * report.Drop <= 0.5);
        Assert.Contains(head.Name, kept);
        Assert.NotEmpty(report.Layers);   // the rest stays int8
        Assert.All(kept, k => Assert.Equal(DataType.Float32, model.Tensors[model.Nodes.First(n => n.Name == k).Inputs[1]].Type));
    }

    [Theory]
    [InlineData("cnn_digits_int8")]
    [InlineData("mlp_digits_qdq_int8")]
    public void Int8_results_are_bit_identical_to_the_x64_golden(string name)
    {
        // Pure int8 pipelines (quantize, int32 GEMMs, requantize, dequantize) are exact on every ISA.
        var m = ModelFile.Load(Q(name + ".enet"));
        var golden = Fixtures.Floats(Q(name + "_golden_x64.npy"));
        foreach (var options in Kernels.Simd.GemmInt8.Runnable().Select(isa => KernelOptions.Default with { Int8Isa = isa }).Append(KernelOptions.Default with { Reference = true }))
        {
            using var s = new Session(m, 64, options);
            var ours = BatchRunner.RunAll(s, TestX, out _);
            output.WriteLine($"{name} ({(options.Reference ? "reference" : options.Int8Isa.ToString())}): max |diff| {Golden.MaxAbsDiff(golden, ours)}");
            Assert.Equal(golden, ours);
        }
    }
}

/// <summary>Every int8 kernel's vectorized paths against its scalar reference: bit-exact, odd sizes and tails, on every
/// int8 ISA this machine runs (<see cref="KernelOptions.Int8Isa"/>: AVX-VNNI, AVX-512BW, AVX2 and scalar on a Zen 5).</summary>
public class Int8KernelTwinTests
{
    /// <summary>Sessions of <paramref name="m"/> on each int8 ISA this machine runs, best first.</summary>
    static IEnumerable<(GemmInt8.Isa Isa, Session Session)> EveryIsa(Model m, int batch) =>
        GemmInt8.Runnable().Select(isa => (isa, new Session(m, batch, KernelOptions.Default with { Int8Isa = isa })));

    /// <summary>Runs <paramref name="input"/> through the reference kernels and through each int8 ISA's session;
    /// <paramref name="compare"/> gets (reference output, that ISA's output, the ISA).</summary>
    static void AgainstEveryIsa(Model m, int batch, float[] input, Action<float[], float[], GemmInt8.Isa> compare)
    {
        using var slow = new Session(m, batch, KernelOptions.Default with { Reference = true });
        input.CopyTo(slow.Input(0, batch));
        slow.Run(batch);
        var expected = slow.Output().ToArray();
        foreach (var (isa, fast) in EveryIsa(m, batch))
            using (fast)
            {
                input.CopyTo(fast.Input(0, batch));
                fast.Run(batch);
                compare(expected, fast.Output().ToArray(), isa);
            }
    }

    /// <summary>Bit for bit, naming the ISA and the first element that differs.</summary>
    static void SameBits(float[] expected, float[] actual, GemmInt8.Isa isa)
    {
        Assert.Equal(expected.Length, actual.Length);
        int i = Enumerable.Range(0, expected.Length).FirstOrDefault(j => BitConverter.SingleToInt32Bits(expected[j]) != BitConverter.SingleToInt32Bits(actual[j]), -1);
        Assert.True(i < 0, i < 0 ? "" : $"{isa}: element {i} is {actual[i]}, the reference {expected[i]}");
    }

    static sbyte[] RandomBytes(int n, int seed) { var r = new Random(seed); return Enumerable.Range(0, n).Select(_ => (sbyte)r.Next(-128, 128)).ToArray(); }
    static float[] RandomFloats(int n, int seed, float scale = 1) { var r = new Random(seed); return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1) * scale).ToArray(); }

    static int I8(GraphBuilder g, string name, int[] shape, float scale, int zp) =>
        g.Model.AddTensor(new TensorDesc(name, DataType.Int8, shape) { Quant = new QuantParams([scale], [zp], 0) });

    static int Weights(GraphBuilder g, string name, int[] shape, int seed)
    {
        int oc = shape[0];
        var w = RandomBytes(shape.Aggregate(1, (a, d) => a * d), seed).Select(v => (sbyte)Math.Max((int)v, -127)).ToArray();
        var scales = RandomFloats(oc, seed + 1).Select(v => 0.001f + Math.Abs(v) * 0.01f).ToArray();
        return g.Model.AddTensor(new TensorDesc(name, DataType.Int8, shape) { Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.AsSpan()).ToArray(), Quant = new QuantParams(scales, new int[oc], 0) });
    }

    static int Bias(GraphBuilder g, int oc, int seed)
    {
        var r = new Random(seed);
        var b = Enumerable.Range(0, oc).Select(_ => r.Next(-5000, 5000)).ToArray();
        return g.Model.AddTensor(new TensorDesc("b", DataType.Int32, [oc]) { Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()).ToArray(), Quant = new QuantParams([1f], [0], 0) });
    }

    /// <summary>fp32 input → Quantize → the int8 node under test → Dequantize; fast and reference runs must agree exactly.</summary>
    static void Twins(GraphBuilder g, int x, Func<int, int> body, int batch)
    {
        int q = g.Model.AddTensor(new TensorDesc("xq", DataType.Int8, g.Model.Tensors[x].Shape) { Quant = new QuantParams([0.02f], [3], 0) });
        g.Model.Nodes.Add(new Node(OpType.Quantize, "q", [x], [q]));
        int y = body(q);
        int outF = y;
        if (g.Model.Tensors[y].Type == DataType.Int8) outF = g.Add(OpType.Dequantize, [y]);
        var m = g.Build(outF);
        AgainstEveryIsa(m, batch, RandomFloats((int)(m.Input().Elements(1) * batch), 5, 3f), SameBits);
    }

    [Fact]
    public void An_int8_isa_the_machine_lacks_is_refused()
    {
        var missing = Enum.GetValues<GemmInt8.Isa>().Except(GemmInt8.Runnable()).First();   // x64 lacks the arm64 ones and vice versa
        Assert.Throws<ArgumentException>(() => KernelOptions.Default with { Int8Isa = missing });
        Assert.Equal(GemmInt8.Selected, KernelOptions.Default.Int8Isa);
    }

    /// <summary>A whole int8 network (ONNX Runtime's QDQ MobileNetV2-0.35: stem, depthwise, pointwise, residual Adds,
    /// pooling, Dense) gives the same bytes on every int8 ISA as the reference kernels on the file's NCHW graph.</summary>
    [Fact]
    public void MobileNetV2_int8_is_bit_identical_on_every_isa()
    {
        string Q(string f) => Path.Combine(AppContext.BaseDirectory, "fixtures", "quant", f);
        var m = Fixtures.Convert(Q("mobilenetv2_035_96_qdq_int8.onnx"));
        var x = Fixtures.Floats(Q("mobilenetv2_035_96_input.npy"));
        using var slow = new Session(m, 1, KernelOptions.Default with { Reference = true });
        var expected = BatchRunner.RunAll(slow, x, out _);
        foreach (var (isa, fast) in EveryIsa(m, 1))
            using (fast)
            {
                Assert.Contains(fast.Plan.Nodes, n => n.Op == OpType.Conv && n.Attributes.Int(EdgeNet.Engine.ChannelsLast.Attribute, 0) == 2);   // the stem path too
                SameBits(expected, BatchRunner.RunAll(fast, x, out _), isa);
            }
    }

    public static TheoryData<int, int, int, bool> DenseCases()
    {
        var d = new TheoryData<int, int, int, bool>();
        foreach (var ic in new[] { 1, 3, 4, 17, 64, 67 })
            foreach (var oc in new[] { 1, 5, 16, 33 })
                foreach (var batch in new[] { 1, 3, 5 })
                    foreach (var intOut in new[] { true, false })
                        d.Add(ic, oc, batch, intOut);
        return d;
    }

    [Theory]
    [MemberData(nameof(DenseCases))]
    public void Dense(int ic, int oc, int batch, bool intOut)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, ic);
        Twins(g, x, q =>
        {
            int y = intOut ? I8(g, "y", [-1, oc], 0.05f, -7) : g.Model.AddTensor(new TensorDesc("y", DataType.Float32, [-1, oc]));
            g.Model.Nodes.Add(new Node(OpType.Dense, "dense", [q, Weights(g, "w", [oc, ic], 1), Bias(g, oc, 2)], [y], new Attributes().Set("activation", "relu")));
            return y;
        }, batch);
    }

    public static TheoryData<int, int, int, int, int, int> ConvCases()
    {
        var d = new TheoryData<int, int, int, int, int, int>();
        foreach (var (c, oc, group) in new[] { (1, 3, 1), (3, 5, 1), (4, 6, 2), (8, 8, 8), (5, 5, 5), (16, 17, 1) })
            foreach (var (k, stride, pad) in new[] { (1, 1, 0), (3, 1, 1), (3, 2, 1), (2, 2, 0), (5, 1, 2) })   // 5×5: the byte-gather path (a row wider than a word)
                foreach (var size in new[] { 5, 10 })
                    d.Add(c, oc, group, k, stride * 10 + pad, size);
        return d;
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv(int c, int oc, int group, int k, int stridePad, int size)
    {
        int stride = stridePad / 10, pad = stridePad % 10;
        var g = new GraphBuilder();
        int x = g.Input("x", -1, c, size, size + 1);
        Twins(g, x, q =>
        {
            int oh = (size + 2 * pad - k) / stride + 1, ow = (size + 1 + 2 * pad - k) / stride + 1;
            int y = I8(g, "y", [-1, oc, oh, ow], 0.03f, 11);
            var a = new Attributes().Set("group", (long)group).Set("strides", new long[] { stride, stride }).Set("pads", new long[] { pad, pad, pad, pad }).Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f);
            g.Model.Nodes.Add(new Node(OpType.Conv, "conv", [q, Weights(g, "w", [oc, c / group, k, k], 3), Bias(g, oc, 4)], [y], a));
            return y;
        }, 2);
    }

    /// <summary>−128 is a legal int8 weight (ONNX Runtime's quantizer can emit it): the stem and depthwise paths, whose
    /// exactness checks sum |w|, must load it and agree with the reference (the fuzzer found |−128| overflowing).</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Weights_of_minus_128_load_and_match_the_reference(bool stem)
    {
        var g = new GraphBuilder();
        int c = stem ? 3 : 16, oc = 16;
        int x = g.Input("x", -1, c, 9, 10);
        Twins(g, x, q =>
        {
            var w = RandomBytes(oc * (stem ? c : 1) * 9, 5).Select(v => (sbyte)(v % 60)).ToArray();
            w[0] = -128; w[^1] = -128;
            int wt = g.Model.AddTensor(new TensorDesc("w", DataType.Int8, [oc, stem ? c : 1, 3, 3]) { Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.AsSpan()).ToArray(), Quant = new QuantParams(Enumerable.Repeat(0.01f, oc).ToArray(), new int[oc], 0) });
            int y = I8(g, "y", [-1, oc, stem ? 5 : 9, stem ? 5 : 10], 0.05f, 2);
            var a = new Attributes().Set("pads", new long[] { 1, 1, 1, 1 }).Set("strides", new long[] { stem ? 2 : 1, stem ? 2 : 1 });
            if (!stem) a.Set("group", (long)oc);
            g.Model.Nodes.Add(new Node(OpType.Conv, "conv", [q, wt, Bias(g, oc, 6)], [y], a));
            if (!stem) return y;
            // A depthwise conv after the stem, so the channels-last plan (and its stem path) applies.
            int z = I8(g, "z", [-1, oc, 5, 5], 0.05f, 0);
            g.Model.Nodes.Add(new Node(OpType.Conv, "dw", [y, Weights(g, "wd", [oc, 1, 3, 3], 7), Bias(g, oc, 8)], [z], new Attributes().Set("group", (long)oc).Set("pads", new long[] { 1, 1, 1, 1 })));
            return z;
        }, 2);
    }

    /// <summary>An int8 MobileNetV2 block (expand, depthwise, project, residual Add, GlobalAveragePool) planned
    /// channels-last must give the NCHW reference kernels' bytes exactly; odd channel counts reach every tail.</summary>
    [Theory]
    [InlineData(8, 24, 1, 9, false)]
    [InlineData(5, 13, 2, 11, false)]
    [InlineData(16, 40, 1, 7, true)]    // a dequantizing GlobalAveragePool
    [InlineData(3, 35, 1, 6, false)]
    [InlineData(8, 32, 1, 9, false)]          // channel counts that fill 512-bit vectors: the native int8 depthwise
    [InlineData(16, 48, 2, 11, false)]
    [InlineData(16, 24, 1, 7, false, true)]   // with a stem conv (3 planes, 3×3, stride 2): exact integers through the fp32 direct kernel
    [InlineData(32, 40, 2, 9, true, true)]
    [InlineData(16, 24, 1, 8, false, true, 1)]   // grayscale and 2-, 4-plane stems: the VNNI stem's scalar packing, odd widths
    [InlineData(16, 32, 1, 5, false, true, 2)]
    [InlineData(32, 16, 1, 6, false, true, 4)]
    [InlineData(8, 32, 1, 9, false, false, 3, false)]   // depthwise without an activation: the int8 range is its clamp (saturating stores)
    [InlineData(16, 48, 2, 11, false, false, 3, false)]
    [InlineData(8, 96, 2, 105, false)]        // a depthwise map past 1 MiB (96×105×106): x64 runs it in bands of output rows
    [InlineData(8, 96, 1, 105, false)]
    [InlineData(8, 96, 2, 104, false)]        // just under 1 MiB (96×104×105): one pass a channel block over all rows
    [InlineData(8, 96, 1, 104, false)]
    public void MobileNet_block_channels_last(int c, int e, int stride, int size, bool floatOut, bool stem = false, int planes = 3, bool dwRelu6 = true)
    {
        var g = new GraphBuilder();
        int x = stem ? g.Input("x", -1, planes, 2 * size, 2 * size + 2) : g.Input("x", -1, c, size, size + 1);
        int oh = (size + 2 - 3) / stride + 1, ow = (size + 1 + 2 - 3) / stride + 1;
        var relu6 = new Attributes().Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f);
        Twins(g, x, input =>
        {
            int q = input;
            if (stem)
            {
                q = I8(g, "stem", [-1, c, size, size + 1], 0.02f, -128);
                var a = new Attributes().Set("strides", new long[] { 2, 2 }).Set("pads", new long[] { 1, 1, 1, 1 }).Set("activation", "relu");
                g.Model.Nodes.Add(new Node(OpType.Conv, "stem", [input, Weights(g, "ws", [c, planes, 3, 3], 9), Bias(g, c, 10)], [q], a));
            }
            int h1 = I8(g, "h1", [-1, e, size, size + 1], 0.03f, -128);
            g.Model.Nodes.Add(new Node(OpType.Conv, "expand", [q, Weights(g, "we", [e, c, 1, 1], 3), Bias(g, e, 4)], [h1], relu6));
            int h2 = I8(g, "h2", [-1, e, oh, ow], 0.025f, -128);
            var dw = new Attributes().Set("group", (long)e).Set("strides", new long[] { stride, stride }).Set("pads", new long[] { 1, 1, 1, 1 });
            if (dwRelu6) dw.Set("activation", "clip").Set("act_min", 0f).Set("act_max", 6f);
            g.Model.Nodes.Add(new Node(OpType.Conv, "dw", [h1, Weights(g, "wd", [e, 1, 3, 3], 5), Bias(g, e, 6)], [h2], dw));
            int h3 = I8(g, "h3", [-1, c, oh, ow], 0.05f, 4);
            g.Model.Nodes.Add(new Node(OpType.Conv, "project", [h2, Weights(g, "wp", [c, e, 1, 1], 7), Bias(g, c, 8)], [h3]));
            if (stride == 1)
            {
                int sum = I8(g, "sum", [-1, c, oh, ow], 0.06f, -3);
                g.Model.Nodes.Add(new Node(OpType.Add, "add", [h3, q], [sum]));
                h3 = sum;
            }
            int pooled = floatOut ? g.Model.AddTensor(new TensorDesc("pool", DataType.Float32, [-1, c, 1, 1])) : I8(g, "pool", [-1, c, 1, 1], 0.02f, 1);
            g.Model.Nodes.Add(new Node(OpType.GlobalAveragePool, "gap", [h3], [pooled]));
            return pooled;
        }, 2);
        var planned = EdgeNet.Engine.ChannelsLast.Rewrite(g.Model);
        Assert.Contains(planned.Nodes, n => n.Op == OpType.Conv && n.Attributes.Int(EdgeNet.Engine.ChannelsLast.Attribute, 0) == 1);
        if (stem) Assert.Contains(planned.Nodes, n => n.Name == "stem" && n.Attributes.Int(EdgeNet.Engine.ChannelsLast.Attribute, 0) == 2);
    }

    /// <summary>Stem convolutions (NCHW int8 in, channels-last out: the VNNI, AVX-512BW, GEMM and fp32 paths) against
    /// the reference: 1-4 planes, window rows of odd length, 8-48 output channels (whole and partial 16-channel panels),
    /// rows of 5-17 pixels (under one 8-pixel tile, a tile plus a tail), 3×3 to 7×7, stride 1 and 2, dilation.</summary>
    [Theory]
    [InlineData(3, 32, 3, 2, 1, 20, 17, 1)]
    [InlineData(3, 24, 3, 2, 1, 33, 9, 1)]
    [InlineData(3, 48, 3, 1, 1, 16, 6, 1)]
    [InlineData(1, 16, 5, 2, 2, 19, 7, 1)]
    [InlineData(4, 8, 3, 2, 0, 18, 7, 1)]
    [InlineData(2, 40, 3, 2, 1, 15, 5, 1)]
    [InlineData(3, 16, 3, 2, 1, 9, 9, 1)]
    [InlineData(3, 32, 7, 2, 3, 70, 12, 1)]
    [InlineData(3, 16, 3, 1, 2, 14, 8, 2)]
    public void Stem_conv_channels_last(int planes, int oc, int k, int stride, int pad, int width, int height, int dilation)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, planes, height, width);
        int oh = (height + 2 * pad - dilation * (k - 1) - 1) / stride + 1, ow = (width + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
        Twins(g, x, q =>
        {
            int h = I8(g, "stem", [-1, oc, oh, ow], 0.04f, -128);
            var a = new Attributes().Set("strides", new long[] { stride, stride }).Set("pads", new long[] { pad, pad, pad, pad })
                .Set("dilations", new long[] { dilation, dilation }).Set("activation", "relu");
            g.Model.Nodes.Add(new Node(OpType.Conv, "stem", [q, Weights(g, "ws", [oc, planes, k, k], 11), Bias(g, oc, 12)], [h], a));
            int z = I8(g, "z", [-1, oc, oh, ow], 0.05f, 3);   // a depthwise after it, so the plan runs channels-last
            g.Model.Nodes.Add(new Node(OpType.Conv, "dw", [h, Weights(g, "wd", [oc, 1, 3, 3], 13), Bias(g, oc, 14)], [z], new Attributes().Set("group", (long)oc).Set("pads", new long[] { 1, 1, 1, 1 })));
            return z;
        }, 2);
        Assert.Contains(EdgeNet.Engine.ChannelsLast.Rewrite(g.Model).Nodes, n => n.Name == "stem" && n.Attributes.Int(EdgeNet.Engine.ChannelsLast.Attribute, 0) == 2);
    }

    /// <summary>int8 Concat along channels of two inputs quantized differently: the first is copied, the second
    /// requantized to the output's scale; checked element by element against QuantMath.</summary>
    [Fact]
    public void Concat_requantizes_inputs_to_the_output_scale()
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 3, 4, 5);
        int a = I8(g, "a", [-1, 3, 4, 5], 0.04f, 1), b = I8(g, "b", [-1, 3, 4, 5], 0.05f, -7), y = I8(g, "y", [-1, 6, 4, 5], 0.04f, 1);
        g.Model.Nodes.Add(new Node(OpType.Quantize, "qa", [x], [a]));
        g.Model.Nodes.Add(new Node(OpType.Quantize, "qb", [x], [b]));
        g.Model.Nodes.Add(new Node(OpType.Concat, "cat", [a, b], [y], new Attributes().Set("axis", 1L)));
        var m = g.Build(g.Add(OpType.Dequantize, [y]));
        var input = RandomFloats(2 * 60, 3, 4f);
        using var s = new Session(m, 2);
        input.CopyTo(s.Input(0, 2)); s.Run(2);
        var got = s.Output().ToArray();
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 6; c++)
                for (int p = 0; p < 20; p++)
                {
                    float v = input[n * 60 + (c % 3) * 20 + p];
                    int q = c < 3 ? EdgeNet.Quant.QuantMath.Quantize(v, 0.04f, 1) : EdgeNet.Quant.QuantMath.Requantize(EdgeNet.Quant.QuantMath.Quantize(v, 0.05f, -7) + 7, 0.05f / 0.04f, 1);
                    Assert.Equal((q - 1) * 0.04f, got[n * 120 + c * 20 + p]);
                }
    }

    [Fact]
    public void Add_pools_and_tables()
    {
        foreach (var op in new[] { OpType.Add, OpType.GlobalAveragePool, OpType.MaxPool, OpType.AveragePool, OpType.Sigmoid, OpType.Tanh, OpType.LeakyRelu, OpType.Relu })
        {
            var g = new GraphBuilder();
            int x = g.Input("x", -1, 3, 7, 6);
            Twins(g, x, q =>
            {
                int[] shape = op switch { OpType.GlobalAveragePool => [-1, 3, 1, 1], OpType.MaxPool or OpType.AveragePool => [-1, 3, 3, 3], _ => [-1, 3, 7, 6] };
                int y = I8(g, "y", shape, 0.04f, -20);
                var a = new Attributes().Set("kernel_shape", new long[] { 2, 2 }).Set("strides", new long[] { 2, 2 }).Set("alpha", 0.1f);
                g.Model.Nodes.Add(new Node(op, "op", op == OpType.Add ? [q, q] : [q], [y], a));
                return y;
            }, 3);
        }
    }

    /// <summary>Quantize, Add (equal shapes and a single-value B) and the table activations on sizes with vector bodies
    /// and tails, against their scalar references; the input holds ties, NaN, infinities and values past the int8 range.</summary>
    [Theory]
    [InlineData(83)]
    [InlineData(16)]
    [InlineData(7)]
    public void Quantize_add_and_tables_against_their_references(int n)
    {
        var r = new Random(n);
        var x = Enumerable.Range(0, 2 * n).Select(i => (i % 9) switch
        {
            0 => 0.01f * (2 * r.Next(-300, 300) + 1), 1 => float.NaN, 2 => float.PositiveInfinity, 3 => float.NegativeInfinity,
            4 => 1e30f * (r.Next(2) * 2 - 1), _ => (float)(r.NextDouble() * 8 - 4),
        }).ToArray();
        foreach (var (op, b) in new[] { (OpType.Quantize, ""), (OpType.Add, "same"), (OpType.Add, "scalar"), (OpType.Add, "other"), (OpType.Sigmoid, ""), (OpType.Tanh, ""), (OpType.LeakyRelu, ""), (OpType.Clip, "") })
        {
            var g = new GraphBuilder();
            int xi = g.Input("x", -1, n);
            int q = g.Model.AddTensor(new TensorDesc("xq", DataType.Int8, [-1, n]) { Quant = new QuantParams([0.02f], [3], 0) });
            g.Model.Nodes.Add(new Node(OpType.Quantize, "q", [xi], [q]));
            int y = q;
            if (op != OpType.Quantize)
            {
                y = I8(g, "y", [-1, n], 0.03f, -5);
                if (b == "scalar")
                {
                    int one = g.Model.AddTensor(new TensorDesc("one", DataType.Int8, [1]) { Data = new byte[] { 0x11 }, Quant = new QuantParams([0.05f], [-2], 0) });
                    g.Model.Nodes.Add(new Node(OpType.Add, "op", [q, one], [y]));
                }
                else if (b == "other")   // two operands of their own scale and zero point: a mix-up of the two shows
                {
                    int q2 = g.Model.AddTensor(new TensorDesc("xq2", DataType.Int8, [-1, n]) { Quant = new QuantParams([0.05f], [-7], 0) });
                    g.Model.Nodes.Add(new Node(OpType.Quantize, "q2", [xi], [q2]));
                    g.Model.Nodes.Add(new Node(OpType.Add, "op", [q, q2], [y]));
                }
                else if (op == OpType.Add) g.Model.Nodes.Add(new Node(OpType.Add, "op", [q, q], [y]));
                else g.Model.Nodes.Add(new Node(op, "op", [q], [y], new Attributes().Set("alpha", 0.1f).Set("min", -0.5f).Set("max", 1.5f)));
            }
            var m = g.Build(g.Add(OpType.Dequantize, [y]));
            using var fast = new Session(m, 2); using var slow = new Session(m, 2, KernelOptions.Default with { Reference = true });
            x.CopyTo(fast.Input(0, 2)); x.CopyTo(slow.Input(0, 2));
            fast.Run(2); slow.Run(2);
            Assert.Equal(slow.Output().ToArray(), fast.Output().ToArray());
            if (op == OpType.Quantize)   // and the reference is QuantMath: NaN to 127 on every machine
                for (int i = 0; i < 2 * n; i++) Assert.Equal((QuantMath.Quantize(x[i], 0.02f, 3) - 3) * 0.02f, slow.Output()[i]);
        }
    }

    /// <summary>The recurrent kernels quantize their input per call (dynamic quantization): a NaN becomes 127, as
    /// QuantMath.Quantize and the reference do, on every ISA (it was the zero point on arm64 and 127 on x64).</summary>
    [Fact]
    public void Dynamic_quantization_of_a_nan_input_matches_the_reference()
    {
        const int I = 37, H = 8;   // 32-, 16- and 8-wide bodies and a tail
        var g = new GraphBuilder();
        int x = g.Input("x", 2, -1, I);
        int W = g.Model.AddTensor(new TensorDesc("W", DataType.Int8, [1, 4 * H, I]) { Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(RandomBytes(4 * H * I, 1).Select(v => (sbyte)Math.Max((int)v, -127)).ToArray().AsSpan()).ToArray(), Quant = new QuantParams(Enumerable.Repeat(0.004f, 4 * H).ToArray(), new int[4 * H], 1) });
        int R = g.Model.AddTensor(new TensorDesc("R", DataType.Int8, [1, 4 * H, H]) { Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(RandomBytes(4 * H * H, 2).Select(v => (sbyte)Math.Max((int)v, -127)).ToArray().AsSpan()).ToArray(), Quant = new QuantParams(Enumerable.Repeat(0.003f, 4 * H).ToArray(), new int[4 * H], 1) });
        int y = g.Add(OpType.Lstm, [x, W, R], new Attributes().Set("hidden_size", (long)H), outputs: 2);
        var m = g.Build(y);
        var input = RandomFloats(2 * I, 9);
        for (int i = 0; i < input.Length; i += 3) input[i] = float.NaN;
        AgainstEveryIsa(m, 1, input, (expected, actual, isa) => Golden.Close(expected, actual, 1e-5f, 1e-4f, $"LSTM with NaN inputs ({isa})"));
    }

    [Theory]
    [InlineData(OpType.Lstm, "forward", 3, 9, 5)]
    [InlineData(OpType.Lstm, "bidirectional", 3, 9, 5)]
    [InlineData(OpType.Gru, "reverse", 3, 9, 5)]
    [InlineData(OpType.Rnn, "forward", 3, 9, 5)]
    [InlineData(OpType.Lstm, "forward", 1, 20, 19)]   // batch 1: one-row GEMMs; 16-wide quantization with tails
    [InlineData(OpType.Gru, "bidirectional", 1, 33, 35)]
    [InlineData(OpType.Rnn, "reverse", 2, 17, 16)]
    public void Recurrent_with_int8_weights(OpType op, string direction, int batch, int H, int I)
    {
        int G = op switch { OpType.Lstm => 4, OpType.Gru => 3, _ => 1 }, D = direction == "bidirectional" ? 2 : 1, S = 4;
        var g = new GraphBuilder();
        int x = g.Input("x", S, -1, I);
        int W = g.Model.AddTensor(new TensorDesc("W", DataType.Int8, [D, G * H, I]) { Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(RandomBytes(D * G * H * I, 1).Select(v => (sbyte)Math.Max((int)v, -127)).ToArray().AsSpan()).ToArray(), Quant = new QuantParams(Enumerable.Repeat(0.004f, D * G * H).ToArray(), new int[D * G * H], 1) });
        int R = g.Model.AddTensor(new TensorDesc("R", DataType.Int8, [D, G * H, H]) { Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(RandomBytes(D * G * H * H, 2).Select(v => (sbyte)Math.Max((int)v, -127)).ToArray().AsSpan()).ToArray(), Quant = new QuantParams(Enumerable.Repeat(0.003f, D * G * H).ToArray(), new int[D * G * H], 1) });
        int B = g.Constant("B", RandomFloats(D * 2 * G * H, 3), D, 2 * G * H);   // biases: the int8 path adds them after its GEMM
        var attrs = new Attributes().Set("hidden_size", (long)H).Set("direction", direction).Set("linear_before_reset", 1L);
        int y = g.Add(op, [x, W, R, B], attrs, outputs: 2);
        var m = g.Build(y);
        AgainstEveryIsa(m, batch, RandomFloats(S * batch * I, 9),   // gates run fp32 (TensorPrimitives vs scalar): close, not bit-exact
            (expected, actual, isa) => Golden.Close(expected, actual, 1e-5f, 1e-4f, $"{op} ({isa})"));
    }
}

/// <summary>The vector requantization epilogues (clamp before the rounding convert, zp added as an integer) against
/// <see cref="QuantMath.Requantize"/> element by element: ties (x.5), saturation on both sides, products past the
/// int32 range, every zero point and clamp; and the int8 GEMM's fused epilogue against its int32 output.</summary>
public unsafe class RequantizeTwinTests
{
    static (int[] acc, float[] mult) Cases(int n, int seed)
    {
        var r = new Random(seed);
        var acc = new int[n]; var mult = new float[n];
        for (int i = 0; i < n; i++)
        {
            (acc[i], mult[i]) = (i % 5) switch
            {
                0 => (2 * r.Next(-300, 300) + 1, 0.5f),                              // exact ties: round half to even
                1 => (r.Next(int.MinValue, int.MaxValue), 4f),                       // far past int32 after scaling
                2 => (r.Next(-20000, 20000), 1f / r.Next(50, 400)),                  // the usual range
                3 => (r.Next(-1000, 1000), (float)r.NextDouble() * 2),
                _ => (r.Next(-200, 200), 1f),
            };
        }
        return (acc, mult);
    }

    [Theory]
    [InlineData(0, -128, 127)]
    [InlineData(-128, -128, 127)]   // a ReLU folded into the zero point
    [InlineData(5, -100, 90)]       // a clamp inside the int8 range
    [InlineData(127, 0, 127)]
    public void Vector_epilogues_equal_QuantMath(int zp, int lo, int hi)
    {
        const int n = 203;   // vector bodies and scalar tails
        var (acc, mult) = Cases(n, zp + 1000);
        var bias = acc.Select((_, i) => i * 7 - 700).ToArray();
        var got = new sbyte[n];
        fixed (int* pa = acc, pb = bias) fixed (float* pm = mult) fixed (sbyte* pg = got)
        {
            EdgeNet.Kernels.Int8.Requantize.Columns(pa, pb, pm, zp, lo, hi, pg, n);
            for (int i = 0; i < n; i++) Assert.Equal(QuantMath.Requantize(acc[i] + bias[i], mult[i], zp, lo, hi), got[i]);
            EdgeNet.Kernels.Int8.Requantize.Row(pa, 3, 0.5f, zp, lo, hi, pg, n);
            for (int i = 0; i < n; i++) Assert.Equal(QuantMath.Requantize(acc[i] + 3, 0.5f, zp, lo, hi), got[i]);
            // Exact floats (|acc| < 2^24), as the depthwise paths hold them.
            var exact = acc.Select(v => (float)(v % (1 << 23))).ToArray();
            fixed (float* pe = exact)
            {
                EdgeNet.Kernels.Int8.Requantize.RowFromFloat(pe, 0.75f, zp, lo, hi, pg, n);
                for (int i = 0; i < n; i++) Assert.Equal(QuantMath.Requantize((int)exact[i], 0.75f, zp, lo, hi), got[i]);
                const int C = 29;   // 7 pixels of 29 channels: 16- and 8-wide bodies and tails
                EdgeNet.Kernels.Int8.Requantize.PixelsFromFloat(pe, pm, zp, lo, hi, pg, 7, C);
                for (int i = 0; i < 7 * C; i++) Assert.Equal(QuantMath.Requantize((int)exact[i], mult[i % C], zp, lo, hi), got[i]);
            }
        }
    }

    /// <summary>The 128-bit form (arm64 NEON, x64 SSE) sends NaN to hi and rounds ties to even, as QuantMath does.</summary>
    [Theory]
    [InlineData(0, -128, 127)]
    [InlineData(0, -127, 127)]
    [InlineData(-128, -128, 127)]
    [InlineData(5, -100, 90)]
    public void Bounds128_rounds_and_clamps_as_QuantMath(int zp, int lo, int hi)
    {
        var q = new EdgeNet.Kernels.Int8.Requantize.Bounds128(zp, lo, hi);
        float[] t = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 2.5f, -2.5f, 3.5f, -0.5f, 1e9f, -1e9f, 126.5f, -127.5f, 0f];
        for (int i = 0; i < t.Length; i += 4)
        {
            var got = q.Round(System.Runtime.Intrinsics.Vector128.Create(t[i], t[i + 1], t[i + 2], t[i + 3]));
            for (int j = 0; j < 4; j++) Assert.Equal(QuantMath.Quantize(t[i + j], 1f, zp, lo, hi), got[j]);
        }
    }

    /// <summary>Quantize (16-, 8-wide bodies and the scalar tail) and int8 Add against QuantMath element by element,
    /// with ties, NaN (→ 127), infinities and values far outside the int8 range.</summary>
    [Fact]
    public void Quantize_and_add_vectors_equal_QuantMath()
    {
        const int n = 83;
        var r = new Random(4);
        var xa = new float[n];
        for (int i = 0; i < n; i++)
            xa[i] = (i % 7) switch { 0 => 0.25f + 0.5f * r.Next(-300, 300), 1 => float.NaN, 2 => float.PositiveInfinity, 3 => float.NegativeInfinity, 4 => 1e30f * (r.Next(2) * 2 - 1), _ => (float)(r.NextDouble() * 200 - 100) };
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 1, n);
        int qa = g.Model.AddTensor(new TensorDesc("qa", DataType.Int8, [-1, 1, n]) { Quant = new QuantParams([0.5f], [-3], 0) });
        int qb = g.Model.AddTensor(new TensorDesc("qb", DataType.Int8, [-1, 1, n]) { Quant = new QuantParams([0.3f], [7], 0) });
        int sum = g.Model.AddTensor(new TensorDesc("sum", DataType.Int8, [-1, 1, n]) { Quant = new QuantParams([0.7f], [2], 0) });
        g.Model.Nodes.Add(new Node(OpType.Quantize, "qa", [x], [qa]));
        g.Model.Nodes.Add(new Node(OpType.Quantize, "qb", [x], [qb]));
        g.Model.Nodes.Add(new Node(OpType.Add, "add", [qa, qb], [sum]));
        var m = g.Build(g.Add(OpType.Dequantize, [sum]));
        using var s = new Session(m, 1);
        xa.CopyTo(s.Input(0, 1));
        s.Run(1);
        var got = s.Output().ToArray();
        for (int i = 0; i < n; i++)
        {
            int a = QuantMath.Quantize(xa[i], 0.5f, -3), b = QuantMath.Quantize(xa[i], 0.3f, 7);
            float v = (a + 3) * (0.5f / 0.7f) + (b - 7) * (0.3f / 0.7f);
            float rq = MathF.Round(v) + 2;
            int q = rq <= -128 ? -128 : rq >= 127 ? 127 : (int)rq;
            Assert.Equal((q - 2) * 0.7f, got[i]);
        }
    }

    [Theory]
    [InlineData(1, 4, 16, 100)]
    [InlineData(7, 16, 24, 100)]    // a partial last panel
    [InlineData(13, 27, 40, 100)]
    [InlineData(9, 3, 8, 100)]      // one partial panel only
    [InlineData(13, 27, 40, 127)]   // the int8 range: the saturating narrow clamps (SaturationOnly)
    [InlineData(9, 32, 24, 127)]
    [InlineData(7, 20, 32, 100)]    // two whole panels: the 3×32 tiles (AVX-512 machines with VNNI; a partial 12×32 without)
    [InlineData(29, 40, 29, 127)]   // AVX-512BW: 12×16 tiles and a 6×16 tail, the last panel 13 columns
    [InlineData(23, 8, 45, 100)]    // AVX-512BW: a 12×32 tile and one of 11 rows, then a 13-column panel
    [InlineData(27, 64, 48, 127)]   // AVX-512BW: 12-row tiles, then 3 rows in one-row tiles
    [InlineData(49, 160, 96, 127)]  // AVX-512BW: 12-row tiles, then a 13×32 tile (a 7×7 map: 49 rows), three panel pairs
    [InlineData(25, 36, 64, 100)]   // AVX-512BW: one 12×32 tile and one 13×32
    [InlineData(13, 100, 88, 100)]  // 3×32 tiles, then a whole panel and an 8-column one
    [InlineData(6, 33, 72, 127)]    // 3×32 tiles, then 8 columns; padded K
    [InlineData(11, 36, 53, 100)]   // AVX-512BW: partial 12×32 and 12×16 tiles, then a 5-column panel
    [InlineData(2, 64, 13, 127)]
    [InlineData(1, 20, 37, 100)]    // one row: the fused panels' tails, the int32 Row kernels
    [InlineData(1, 64, 40, 127)]
    [InlineData(100, 200, 40, 100)] // AVX-512BW: A widened to int16 in two blocks of rows (96 + 4)
    [InlineData(28, 36, 48, 127)]   // AVX-512BW: 12-row tiles, then a 4-row tile of both panel forms (14×14 maps: 196 = 16·12 + 4)
    [InlineData(30, 800, 40, 127)]  // AVX-512BW: blocks of 12 rows (K 800), the last 6 rows 6-row tiles
    [InlineData(49, 960, 56, 127)]  // AVX-512BW: blocks of 12 rows (K 960), the 49th row with the last (12 + 12 + 12 + 13), 8 columns after the pair
    [InlineData(5, 4100, 24, 127)]  // AVX-512BW: K past the int16 copy (int32 tiles, then requantized)
    [InlineData(5, 800, 64, 127)]   // AVX-512BW: weights of 96 KiB or more (the first tiles prefetch ahead), a 6-row tile first
    [InlineData(2, 1600, 40, 100)]  // the same, one-row tiles first, then an 8-column panel
    [InlineData(16, 800, 72, 100)]  // the same, a 12-row tile then a 4-row one, a whole panel and an 8-column one
    [InlineData(9, 800, 64, 127)]   // the same, the prefetching 12-row tile partial (9 rows): it must store 9 rows, not 12
    [InlineData(11, 1100, 48, 100)] // the same in a pair and a 16-column panel (11 rows)
    [InlineData(7, 1600, 40, 127)]  // the same, 7 rows: a pair and an 8-column panel
    [InlineData(28, 36, 56, 127, 127)]  // the zero point's ends: AVX-512BW's pair rows add it in int16 with saturation (StoreRow32),
    [InlineData(28, 36, 56, 100, -128)] // its 16- and 8-column panels in int32 (StoreColumns512, StoreRows8)
    public void Fused_gemm_epilogue_equals_int32_then_QuantMath(int M, int K, int N, int hi, int zp = -7)
    {
        foreach (var isa in EdgeNet.Kernels.Simd.GemmInt8.Runnable()) Fused_gemm_epilogue(M, K, N, hi, zp, isa);
    }

    const sbyte Canary = 0x5A;

    static void Fused_gemm_epilogue(int M, int K, int N, int hi, int zp, EdgeNet.Kernels.Simd.GemmInt8.Isa isa)
    {
        var r = new Random(M * 100 + N);
        int kp = EdgeNet.Kernels.Simd.GemmInt8.KPad(K), lda = kp + N % 2 * 4;   // odd N: rows padded past kp
        var a = new sbyte[M * lda]; var w = new sbyte[K * N];
        for (int i = 0; i < M; i++) for (int k = 0; k < K; k++) a[i * lda + k] = (sbyte)r.Next(-128, 128);
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)r.Next(hi == 127 ? -128 : -127, 128);   // without −128: A72's paired SMLAL path
        var bias = Enumerable.Range(0, N).Select(_ => r.Next(-30000, 30000)).ToArray();
        var mult = Enumerable.Range(0, N).Select(j => j % 3 == 0 ? 0.5f : 1f / r.Next(20, 3000)).ToArray();
        var packed = new sbyte[EdgeNet.Kernels.Simd.GemmInt8.PackedBytes(K, N)];
        // Outputs with 6 rows of canaries past M (a partial tile sums up to 5 rows past its last; it must not store them).
        var acc = new int[M * N]; var got = new sbyte[(M + 6) * N];
        Array.Fill(got, Canary, M * N, 6 * N);
        fixed (sbyte* pa = a, pw = w, pp = packed, pg = got) fixed (int* pc = acc, pb = bias) fixed (float* pm = mult)
        {
            EdgeNet.Kernels.Simd.GemmInt8.Pack(pw, N, 1, K, N, pp, shift: false);
            EdgeNet.Kernels.Simd.GemmInt8.Run(pa, lda, pp, pc, N, M, N, K, isa, activationsInA: true);
            bool arm = isa is EdgeNet.Kernels.Simd.GemmInt8.Isa.ArmDp or EdgeNet.Kernels.Simd.GemmInt8.Isa.ArmNeon;
            if (arm)   // arm64's fused epilogue (SDOT or SMULL/SMLAL tiles, NEON requantization)
            {
                bool saturation = EdgeNet.Kernels.Simd.GemmInt8.SaturationClamps(-128, hi, 30000 + 255L * 128 * K, mult);
                var e = new EdgeNet.Kernels.Simd.GemmInt8.Epilogue { Out = pg, Ldo = N, ColBias = pb, ColMult = pm, Zp = zp, Lo = -128, Hi = hi, SaturationOnly = saturation, NoMinWeight = !w.Contains((sbyte)-128) };
                EdgeNet.Kernels.Simd.GemmInt8.Run(pa, lda, pp, null, 0, M, N, K, isa, activationsInA: true, ref e);
            }
            else if (isa is not EdgeNet.Kernels.Simd.GemmInt8.Isa.Scalar)   // the fused epilogue exists there; scalar requantizes the int32 rows
            {
                bool saturation = EdgeNet.Kernels.Simd.GemmInt8.SaturationClamps(-128, hi, 30000 + 255L * 128 * K, mult);
                Assert.Equal(hi == 127, saturation);
                var e = new EdgeNet.Kernels.Simd.GemmInt8.Epilogue { Out = pg, Ldo = N, ColBias = pb, ColMult = pm, Zp = zp, Lo = -128, Hi = hi, SaturationOnly = saturation };
                var scratch = new int[4 * 16];
                fixed (int* ps = scratch) EdgeNet.Kernels.Simd.GemmInt8.Run(pa, lda, pp, ps, 16, M, N, K, isa, activationsInA: true, ref e);
                if (isa == EdgeNet.Kernels.Simd.GemmInt8.Isa.AvxVnni)   // the others read signed activations as they are
                {
                    // A as signed activations, shifted by the panels as they broadcast it: the same bytes.
                    var raw = a.Select(v => (sbyte)(v ^ unchecked((sbyte)0x80))).ToArray(); var again = new sbyte[(M + 6) * N];
                    Array.Fill(again, Canary, M * N, 6 * N);
                    fixed (sbyte* pr = raw, pg2 = again) fixed (int* ps = scratch)
                    {
                        var e2 = e with { Out = pg2, ShiftA = true };
                        EdgeNet.Kernels.Simd.GemmInt8.Run(pr, lda, pp, ps, 16, M, N, K, isa, activationsInA: true, ref e2);
                    }
                    Assert.Equal(got, again);
                }
                if (isa == EdgeNet.Kernels.Simd.GemmInt8.Isa.Avx512)   // the weights split to int16 pairs once (SplitPanels): the same bytes
                {
                    var split = new short[EdgeNet.Kernels.Simd.GemmInt8.SplitShorts(K, N)]; var again = new sbyte[(M + 6) * N];
                    Array.Fill(again, Canary, M * N, 6 * N);
                    fixed (short* psp = split) fixed (sbyte* pg2 = again) fixed (int* ps = scratch)
                    {
                        EdgeNet.Kernels.Simd.GemmInt8.SplitPanels(pp, K, N, psp);
                        var e2 = e with { Out = pg2, SplitB = psp };
                        EdgeNet.Kernels.Simd.GemmInt8.Run(pa, lda, pp, ps, 16, M, N, K, isa, activationsInA: true, ref e2);
                    }
                    Assert.Equal(got, again);
                }
            }
            else
                for (int i = 0; i < M; i++) EdgeNet.Kernels.Int8.Requantize.Columns(pc + i * N, pb, pm, zp, -128, hi, pg + i * N, N);
        }
        Assert.All(got[(M * N)..], v => Assert.Equal(Canary, v));
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                int exact = 0;
                for (int k = 0; k < K; k++) exact += (EdgeNet.Kernels.Simd.GemmInt8.ShiftsActivations(isa) ? (byte)a[i * lda + k] : a[i * lda + k]) * w[k * N + j];   // VNNI reads A as u8
                Assert.Equal(exact, acc[i * N + j]);
                Assert.Equal(QuantMath.Requantize(exact + bias[j], mult[j], zp, -128, hi), got[i * N + j]);
            }
    }
}
