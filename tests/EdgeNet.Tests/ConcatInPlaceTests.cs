using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// <see cref="ConcatInPlace"/>: a channels-last Concat whose inputs are convs (pointwise GEMM, Winograd F(2×2) and
/// F(4×4), odd channel counts) that only it reads takes their stores in place and copies nothing; the outputs equal the
/// NCHW reference and are bit-identical to the copying plan. Every failed condition falls back to the copy of that
/// input: a conv read by another node too, a graph output, a conv with an epilogue pass on fewer than 64 channels
/// (but SiLU, whose rows are one loop) or not whole chunks of 16, an input given twice.
/// A Concat of contiguous blocks (nothing but 1s before its axis) takes any producer's output, through Reshapes
/// (multi-output and type-changing producers among them). Along any axis, rows: a Split's output and a same-shape
/// binary op write their rows at their places (YOLOv5's C3 and head, YOLOv8's C2f), at batch 2 and 1 in one plan.
/// </summary>
public class ConcatInPlaceTests
{
    static Attributes ConvAttrs(int k, string act = "relu")
    {
        var a = new Attributes().Set("strides", new long[] { 1, 1 }).Set("pads", new long[] { k / 2, k / 2, k / 2, k / 2 });
        return act == "none" ? a : a.Set("activation", act);   // none: no attribute (what ConvSumFusion fuses into)
    }

    static int Conv(GraphBuilder g, int x, int c, int oc, int k, int seed, string act = "relu") =>
        g.Add(OpType.Conv, [x, g.Constant($"w{seed}", TestData.Uniform(oc * c * k * k, seed), oc, c, k, k), g.Constant($"b{seed}", TestData.Uniform(oc, seed + 1), oc)], ConvAttrs(k, act));

    /// <summary>A fire module: squeeze 1×1, expand 1×1 (e1 channels) and 3×3 (e3), Concat, a 1×1 head.
    /// <paramref name="variant"/>: 0 as is; 1 the 1×1 expand also a graph output; 2 the 3×3 expand read by an Add too;
    /// 3 the 1×1 expand with SiLU; 4 the 1×1 expand concatenated twice. <paramref name="act1"/>: the 1×1 expand's
    /// activation, or "sum": none, then a residual Add of the squeeze and a Relu (fused into the conv's epilogue).</summary>
    static Model Fire(int c, int e1, int e3, int size, int variant, string act1 = "relu")
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, c, size, size + 2);
        int sq = act1 == "sum" ? e1 : 16;   // the squeeze's channels (the residual's: the 1×1 expand's)
        int s = Conv(g, x, c, sq, 1, 1);
        int a = Conv(g, s, sq, e1, 1, 3, variant == 3 ? "swish" : act1 == "sum" ? "none" : act1);
        if (act1 == "sum") a = g.Add(OpType.Relu, [g.Add(OpType.Add, [a, s])]);
        int b = Conv(g, s, sq, e3, 3, 5, act1 == "hardswish" ? act1 : "relu");   // hardswish: Winograd's epilogue too
        int[] parts = variant == 4 ? [a, b, a] : [a, b];
        int y = g.Add(OpType.Concat, parts, new Attributes().Set("axis", 1L));
        int width = variant == 4 ? 2 * e1 + e3 : e1 + e3;
        int h = Conv(g, y, width, 6, 1, 7, "none");
        if (variant == 2) h = g.Add(OpType.Add, [h, Conv(g, b, e3, 6, 1, 9, "none")]);
        return variant == 1 ? g.Build(h, a) : g.Build(h);
    }

    /// <summary>The session's one Concat's in-place inputs (none: empty).</summary>
    static bool[] Flags(Session s) => s.Kernels.OfType<ConcatKernel>().Single().InPlace ?? [];

    static float[] Run(Model m, KernelOptions? o, float[] x, int batch)
    {
        using var s = new Session(m, 2, o);
        x.CopyTo(s.Input(0, batch));
        s.Run(batch);
        return s.Output().ToArray();
    }

    [Theory]
    [InlineData(8, 5, 24, 9)]     // odd GEMM width; Winograd F(2×2) (24 outputs)
    [InlineData(16, 64, 64, 12)]  // SqueezeNet's first fire module's widths; F(2×2): 12 tiles, under F(4×4)'s 36
    [InlineData(16, 64, 64, 24)]  // the same on a 24×26 map: 42 tiles, F(4×4) where 16 channels are whole vectors
    [InlineData(3, 7, 32, 13)]    // F(2×2) on 32, odd sizes
    [InlineData(16, 16, 40, 7)]   // F(2×2) on 40 (not a multiple of 16)
    [InlineData(16, 9, 36, 9)]    // F(2×2) with a scalar channel tail, pixels wider apart than OC
    public void Fire_module_concat_in_place_matches_the_copy_bit_for_bit(int c, int e1, int e3, int size)
    {
        var m = Fire(c, e1, e3, size, 0);
        using (var s = new Session(m, 2))
        {
            Assert.Equal([true, true], Flags(s));
            Assert.All(s.Kernels.OfType<ConvNhwcKernel>().Where(k => k.Node.Outputs[0] is var t && s.Plan.Nodes.Any(n => n.Op == OpType.Concat && n.Inputs.Contains(t))),
                k => Assert.Equal(e1 + e3, k.OutputStride));
        }
        var copy = Fire(c, e1, e3, size, 1);   // the same graph but the 1×1 expand is also an output: copied
        using (var s = new Session(copy, 2)) Assert.Equal([false, true], Flags(s));
        foreach (int batch in new[] { 2, 1 })
        {
            var x = TestData.Uniform((int)m.Input().Elements(batch), 11 + batch);
            var inPlace = Run(m, null, x, batch);
            Assert.Equal(Run(copy, null, x, batch), inPlace);   // same bits
            Golden.Close(Run(m, KernelOptions.Default with { Reference = true }, x, batch), inPlace, 4e-4f, 1e-4f, "fire");   // Winograd F(4×4)'s rounding at C = 16
        }
    }

    [Theory]
    [InlineData(1, new[] { false, true })]          // a graph output
    [InlineData(2, new[] { true, false })]          // read by another node
    [InlineData(3, new[] { false, true })]          // SiLU on 9 channels: an epilogue pass over contiguous ranges
    [InlineData(4, new[] { false, true, false })]   // one input twice
    public void Concat_copies_the_inputs_whose_condition_fails(int variant, bool[] inPlace)
    {
        var m = Fire(8, 9, 32, 10, variant);
        using (var s = new Session(m, 2)) Assert.Equal(inPlace, Flags(s));
        var x = TestData.Uniform((int)m.Input().Elements(2), 3);
        Golden.Close(Run(m, KernelOptions.Default with { Reference = true }, x, 2), Run(m, null, x, 2), 1e-4f, 1e-4f, "fallback");
    }

    /// <summary>A detector head's shape: two convs' maps (channels-last, so a Transpose back, then a Reshape) concatenated
    /// along axis 1 of [1, rows, k]: contiguous blocks at batch 1, so each Transpose writes straight into the Concat;
    /// with a batch dimension planned for 2, blocks would move with the batch: rows, which only some producers write
    /// (a Transpose does not): copied.</summary>
    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    public void Contiguous_blocks_take_any_producer_through_reshapes(int maxBatch, bool inPlace)
    {
        Model Head(bool rowsAlsoOutput)
        {
            var g = new GraphBuilder();
            int x = g.Input("x", -1, 8, 6, 5);
            int a = Conv(g, x, 8, 6, 3, 1, "none"), b = Conv(g, x, 8, 4, 1, 3, "swish");
            int ra = g.Reshape(a, [-1, 3, 2 * 6 * 5]), rb = g.Reshape(b, [-1, 2, 2 * 6 * 5]);
            int y = g.Add(OpType.Concat, [ra, rb], new Attributes().Set("axis", 1L));
            int h = g.Add(OpType.Sigmoid, [y]);
            return rowsAlsoOutput ? g.Build(h, ra) : g.Build(h);
        }
        var m = Head(false);
        var copy = Head(true);   // the first block also a graph output: copied
        using (var s = new Session(m, maxBatch)) Assert.Equal(inPlace ? [true, true] : [false, false], Flags(s));   // 2: rows, which a Transpose does not write
        using (var s = new Session(copy, maxBatch)) Assert.Equal(inPlace ? [false, true] : [false, false], Flags(s));
        foreach (int batch in maxBatch == 1 ? new[] { 1 } : new[] { 2, 1 })
        {
            var xs = TestData.Uniform((int)m.Input().Elements(batch), 9 + batch);
            float[] Out(Model model, KernelOptions? o)
            {
                using var s = new Session(model, maxBatch, o);
                xs.CopyTo(s.Input(0, batch));
                s.Run(batch);
                return s.Output().ToArray();
            }
            var got = Out(m, null);
            Assert.Equal(Out(copy, null), got);   // same bits as the copy
            Golden.Close(Out(m, KernelOptions.Default with { Reference = true }), got, 1e-5f, 1e-4f, "blocks");
        }
    }

    /// <summary>Convs with an epilogue pass (SiLU, HardSwish, a fused residual sum) on whole chunks of at least 64
    /// channels write in place too: the pass finds each pixel's run at its place; same bits as the copy, at 1 and 2
    /// threads (the parts: blocks of rows, or 64-byte ranges across rows).</summary>
    [Theory]
    [InlineData("swish", 64, 32, 11)]
    [InlineData("hardswish", 80, 80, 9)]
    [InlineData("sum", 64, 64, 14)]
    [InlineData("swish", 96, 48, 37)]   // more pixels than one block of the GEMM's epilogue
    public void Convs_with_an_epilogue_write_in_place(string act1, int e1, int e3, int size)
    {
        var m = Fire(8, e1, e3, size, 0, act1);
        var copy = Fire(8, e1, e3, size, 1, act1);
        using (var s = new Session(m, 2)) Assert.Equal([true, true], Flags(s));
        using (var s = new Session(copy, 2)) Assert.Equal([false, true], Flags(s));
        var x = TestData.Uniform((int)m.Input().Elements(2), 17);
        var inPlace = Run(m, null, x, 2);
        Assert.Equal(Run(copy, null, x, 2), inPlace);
        Assert.Equal(Run(copy, KernelOptions.Default with { Threads = 2 }, x, 2), Run(m, KernelOptions.Default with { Threads = 2 }, x, 2));
        Golden.Close(Run(m, KernelOptions.Default with { Reference = true }, x, 2), inPlace, 1e-4f, 1e-4f, act1);
    }

    /// <summary>Producers of every kind writing one block of a contiguous Concat, between two blocks written before it:
    /// a kernel that stores past its last element (a whole vector at an odd tail) or before its first would overwrite
    /// its neighbours, which the arena's 64-byte rounding hides everywhere else. Odd element counts; same bits as the
    /// copying plan (the producer's output also a graph output), at 1 and 2 threads.</summary>
    public static TheoryData<string> Producers() =>
    [
        "relu", "sigmoid", "gelu", "hardswish", "add-broadcast", "mul-scalar", "add-two", "conv3x3", "conv1x1",
        "conv-stride2", "depthwise", "convtranspose", "maxpool", "averagepool", "globalaveragepool", "transpose",
        "softmax", "layernorm", "matmul", "resize", "pad", "slice", "tile", "reducemean", "channelaffine-bn",
        "split", "dequantize", "gather",
    ];

    static int SplitFirst(GraphBuilder g, int x)
    {
        int first = g.Add(OpType.Split, [x], new Attributes().Set("axis", 3L).Set("split", new long[] { 4, 5 }), outputs: 2);
        g.Add(OpType.Relu, [first + 1]);   // the second output's reader (the builder numbers a node's outputs in a row)
        return first;
    }

    static int Quantized(GraphBuilder g, int x)
    {
        int q = g.Model.AddTensor(new TensorDesc($"q{g.Model.Tensors.Count}", DataType.Int8, g.Model.Tensors[x].Shape) { Quant = new QuantParams([0.02f], [3], 0) });
        g.Model.Nodes.Add(new Node(OpType.Quantize, $"quantize{g.Model.Nodes.Count}", [x], [q]));
        return q;
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void Contiguous_block_producers_store_only_their_own_elements(string producer)
    {
        const int C = 5, H = 7, W = 9;   // 315 elements: no vector width divides any block
        float[] R(int n, int seed) => TestData.Uniform(n, seed);
        int Produce(GraphBuilder g, int x) => producer switch
        {
            "relu" => g.Add(OpType.Relu, [x]),
            "sigmoid" => g.Add(OpType.Sigmoid, [x]),
            "gelu" => g.Add(OpType.Gelu, [x]),
            "hardswish" => g.Add(OpType.HardSwish, [x]),
            "add-broadcast" => g.Add(OpType.Add, [x, g.Constant("c", R(C, 3), C, 1, 1)]),
            "mul-scalar" => g.Add(OpType.Mul, [x, g.Constant("c", [1.5f], 1)]),
            "add-two" => g.Add(OpType.Add, [x, g.Add(OpType.Abs, [x])]),
            "conv3x3" => Conv(g, x, C, 3, 3, 11, "none"),
            "conv1x1" => Conv(g, x, C, 7, 1, 11, "relu"),
            "conv-stride2" => g.Add(OpType.Conv, [x, g.Constant("w", R(3 * C * 9, 4), 3, C, 3, 3), g.Constant("b", R(3, 5), 3)],
                new Attributes().Set("strides", new long[] { 2, 2 }).Set("pads", new long[] { 1, 1, 1, 1 })),
            "depthwise" => g.Add(OpType.Conv, [x, g.Constant("w", R(C * 9, 4), C, 1, 3, 3), g.Constant("b", R(C, 5), C)],
                ConvAttrs(3).Set("group", (long)C)),
            "convtranspose" => g.Add(OpType.ConvTranspose, [x, g.Constant("w", R(C * 3 * 4, 4), C, 3, 2, 2), g.Constant("b", R(3, 5), 3)],
                new Attributes().Set("strides", new long[] { 2, 2 })),
            "maxpool" => g.Add(OpType.MaxPool, [x], new Attributes().Set("kernel_shape", new long[] { 3, 3 }).Set("strides", new long[] { 2, 2 }).Set("pads", new long[] { 1, 1, 1, 1 })),
            "averagepool" => g.Add(OpType.AveragePool, [x], new Attributes().Set("kernel_shape", new long[] { 2, 2 }).Set("strides", new long[] { 1, 1 }).Set("pads", new long[] { 0, 0, 1, 1 })),
            "globalaveragepool" => g.Add(OpType.GlobalAveragePool, [x]),
            "transpose" => g.Add(OpType.Transpose, [x], new Attributes().Set("perm", new long[] { 0, 2, 3, 1 })),
            "softmax" => g.Add(OpType.Softmax, [x], new Attributes().Set("axis", -1L)),
            "layernorm" => g.Add(OpType.LayerNormalization, [x, g.Constant("s", R(W, 6), W), g.Constant("b", R(W, 7), W)], new Attributes().Set("axis", -1L)),
            "matmul" => g.Add(OpType.MatMul, [x, g.Constant("w", R(W * 11, 8), W, 11)]),
            "resize" => g.Add(OpType.Resize, [x], new Attributes().Set("mode", "nearest").Set("coordinate_transformation_mode", "asymmetric")
                .Set("nearest_mode", "floor").Set("scales", new float[] { 1, 1, 2, 2 })),
            "pad" => g.Add(OpType.Pad, [x], new Attributes().Set("pads", new long[] { 0, 0, 1, 0, 0, 0, 0, 1 })),
            "slice" => g.AddWithShape(OpType.Slice, [x], [-1, C, 3, W], new Attributes().Set("starts", new long[] { 0, 0, 1, 0 }).Set("steps", new long[] { 1, 1, 2, 1 })),
            "tile" => g.Add(OpType.Tile, [x], new Attributes().Set("repeats", new long[] { 1, 1, 1, 3 })),
            "reducemean" => g.Add(OpType.ReduceMean, [x], new Attributes().Set("axes", new long[] { 2 }).Set("keepdims", 1L)),
            "channelaffine-bn" => g.Add(OpType.ChannelAffine, [x, g.Constant("s", R(C, 6), C), g.Constant("b", R(C, 7), C)]),
            // A multi-output producer: the block is its first output; the second goes on to another node.
            "split" => SplitFirst(g, x),
            // Type-changing: int8 in, fp32 out (the block is the Dequantize's output).
            "dequantize" => g.Add(OpType.Dequantize, [Quantized(g, x)]),
            "gather" => g.Add(OpType.Gather, [x], new Attributes().Set("axis", 3L).Set("indices", new long[] { 8, 0, 3, 3, 1 })),
            _ => throw new ArgumentException(producer),
        };
        Model Build(bool copy)
        {
            var g = new GraphBuilder();
            int x = g.Input("x", -1, C, H, W);
            // The neighbours first, so the producer's stray stores would land on values already written.
            int before = g.Add(OpType.Sigmoid, [x]), after = g.Add(OpType.Tanh, [x]);
            int t = Produce(g, x);
            int Flat(int v) => g.Reshape(v, [-1, (int)g.Model.Tensors[v].Elements(1)]);
            int y = g.Add(OpType.Concat, [Flat(before), Flat(t), Flat(after)], new Attributes().Set("axis", 1L));
            return copy ? g.Build(y, t) : g.Build(y);
        }
        var m = Build(false);
        using (var s = new Session(m, 1)) Assert.Equal([true, true, true], Flags(s));
        var x = TestData.Uniform(C * H * W, 21);
        float[] Out(Model model, KernelOptions? o)
        {
            using var s = new Session(model, 1, o);   // planned for batch 1: contiguous blocks
            x.CopyTo(s.Input(0, 1));
            s.Run(1);
            return s.Output().ToArray();
        }
        foreach (var o in new KernelOptions?[] { null, KernelOptions.Default with { Threads = 2 } })
            Assert.Equal(Out(Build(true), o), Out(m, o));
    }

    /// <summary>Runs <paramref name="m"/> and <paramref name="copy"/> (the same graph with the in-place inputs copied)
    /// planned for batches up to 2, at batch 2 and 1, on 1 and 2 threads: the same bits; and close to the NCHW reference.</summary>
    static void SameBitsAsTheCopy(Model m, Model copy, float atol, string what)
    {
        foreach (int batch in new[] { 2, 1 })
        {
            var x = TestData.Uniform((int)m.Input().Elements(batch), 31 + batch);
            var got = Run(m, null, x, batch);
            Assert.Equal(Run(copy, null, x, batch), got);
            Assert.Equal(Run(copy, KernelOptions.Default with { Threads = 2 }, x, batch), Run(m, KernelOptions.Default with { Threads = 2 }, x, batch));
            Golden.Close(Run(m, KernelOptions.Default with { Reference = true }, x, batch), got, atol, 1e-4f, what);
        }
    }

    /// <summary>YOLOv5's C3 block: cv1, a bottleneck (1×1, 3×3) whose output a residual Add joins to cv1's, cv2 beside
    /// it, Concat, cv3. The Add (same shapes) writes its pixels' channels into the Concat's wider pixels, and so does
    /// cv2, whose SiLU runs over rows of whole chunks of 16 in one loop. <paramref name="copy"/>: the Add also a graph
    /// output.</summary>
    static Model C3(int c, int h, int size, bool copy)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, c, size, size + 1);
        int cv1 = Conv(g, x, c, h, 1, 1, "swish");
        int b = Conv(g, Conv(g, cv1, h, h, 1, 3, "swish"), h, h, 3, 5, "swish");
        int add = g.Add(OpType.Add, [cv1, b]);
        int cv2 = Conv(g, x, c, h, 1, 7, "swish");
        int y = g.Add(OpType.Concat, [add, cv2], new Attributes().Set("axis", 1L));
        int cv3 = Conv(g, y, 2 * h, 6, 1, 9, "none");
        return copy ? g.Build(cv3, add) : g.Build(cv3);
    }

    [Theory]
    [InlineData(8, 16, 11)]   // YOLOv5n's first C3: 16 + 16 channels
    [InlineData(5, 9, 7)]     // odd channel counts: rows of 9 floats 18 apart (a vector's tail per row)
    [InlineData(8, 64, 6)]    // 64 + 64: cv2's SiLU on 64 channels writes in place too
    [InlineData(4, 6, 5)]     // rows of 6 floats: the Add stays packed (narrower than 8)
    [InlineData(6, 32, 10)]   // YOLOv5n's second C3: 32 + 32
    public void C3_residual_add_writes_rows_in_place(int c, int h, int size)
    {
        var m = C3(c, h, size, false);
        var copy = C3(c, h, size, true);
        bool cv2 = h % 16 == 0;   // SiLU on whole chunks: its rows are one loop
        using (var s = new Session(m, 2)) Assert.Equal([h >= 8, cv2], Flags(s));
        using (var s = new Session(copy, 2)) Assert.Equal([false, cv2], Flags(s));
        SameBitsAsTheCopy(m, copy, 1e-4f, "c3");
    }

    /// <summary>YOLOv8's C2f block: cv1 split in two halves, the second through a bottleneck with a residual Add,
    /// Concat of both halves and the Add. The first half (read by the Concat alone) is the Split's output written at
    /// its place in the Concat's pixels; the second, read by the bottleneck and the Add too, is copied; the Add writes
    /// its rows in place.</summary>
    static Model C2f(int c, int h, int size, bool copy)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, c, size + 2, size);
        int cv1 = Conv(g, x, c, 2 * h, 1, 1, "swish");
        int s0 = g.Add(OpType.Split, [cv1], new Attributes().Set("axis", 1L).Set("split", new long[] { h, h }), outputs: 2), s1 = s0 + 1;
        int add = g.Add(OpType.Add, [s1, Conv(g, Conv(g, s1, h, h, 3, 3, "swish"), h, h, 3, 5, "swish")]);
        int y = g.Add(OpType.Concat, [s0, s1, add], new Attributes().Set("axis", 1L));
        int cv2 = Conv(g, y, 3 * h, 5, 1, 7, "none");
        return copy ? g.Build(cv2, s0, add) : g.Build(cv2);
    }

    [Theory]
    [InlineData(8, 16, 9)]
    [InlineData(3, 9, 6)]   // odd: blocks of 9 floats, rows 27 apart
    public void C2f_split_and_add_write_rows_in_place(int c, int h, int size)
    {
        var m = C2f(c, h, size, false);
        var copy = C2f(c, h, size, true);
        using (var s = new Session(m, 2)) Assert.Equal([true, false, true], Flags(s));
        using (var s = new Session(copy, 2)) Assert.Equal([false, false, false], Flags(s));
        SameBitsAsTheCopy(m, copy, 1e-4f, "c2f");
    }

    /// <summary>A detector head's rows, not channels-last: sigmoid of [N, 3, H, W, k], Split along the last axis into
    /// 2, 8 and k−10, the first scaled by a constant (broadcast: copied), the second squared (same shapes: rows in
    /// place), the third straight from the Split (its blocks are the Concat's rows). And a Split along a middle axis
    /// (the head's [N, 60, k] into 3 and 57 rows), its second part between a Relu's (a producer without rows: copied)
    /// and a Sub's (not commutative: the operands' order), Concat along that axis: blocks of 57·k floats 63·k apart. Batch 2 and 1 in one plan: the rows do not move with the batch.</summary>
    static Model Head(int k, bool copy)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 3, 5, 4, k);
        int sg = g.Add(OpType.Sigmoid, [x]);
        int p0 = g.Add(OpType.Split, [sg], new Attributes().Set("axis", 4L).Set("split", new long[] { 2, 8, k - 10 }), outputs: 3);
        int xy = g.Add(OpType.Mul, [p0, g.Constant("two", [2f], 1)]);
        int wh = g.Add(OpType.Mul, [p0 + 1, p0 + 1]);
        int y = g.Add(OpType.Concat, [xy, wh, p0 + 2], new Attributes().Set("axis", 4L));
        int r = g.Reshape(y, [-1, 3 * 5 * 4, k]);
        int q = g.Add(OpType.Split, [r], new Attributes().Set("axis", 1L).Set("split", new long[] { 3, 57 }), outputs: 2);
        int sub = g.Add(OpType.Sub, [g.Add(OpType.Abs, [q]), g.Add(OpType.Neg, [q])]);
        int z = g.Add(OpType.Concat, [g.Add(OpType.Relu, [q]), q + 1, sub], new Attributes().Set("axis", 1L));
        return copy ? g.Build(z, wh, p0 + 2, q + 1, sub) : g.Build(z);
    }

    [Theory]
    [InlineData(85)]
    [InlineData(13)]
    public void Split_and_binary_rows_in_place_along_any_axis_at_any_batch(int k)
    {
        var m = Head(k, false);
        var copy = Head(k, true);
        using (var s = new Session(m, 2))
        {
            var flags = s.Kernels.OfType<ConcatKernel>().Select(c => c.InPlace ?? []).ToArray();
            Assert.Equal([false, true, true], flags[0]);
            Assert.Equal([false, true, true], flags[1]);
        }
        using (var s = new Session(copy, 2)) Assert.All(s.Kernels.OfType<ConcatKernel>(), c => Assert.Equal([false, false, false], c.InPlace ?? []));
        SameBitsAsTheCopy(m, copy, 1e-5f, "head");
    }

    /// <summary>An activation over runs apart (<see cref="UnaryOp.ApplyRows"/>: SiLU's own loop, α = 1 and not, the
    /// others' call per run) gives each run the span form's bits, full vectors and tails (widths 9..37), and leaves the
    /// floats between runs alone.</summary>
    [Theory]
    [InlineData("swish", 1f)]
    [InlineData("swish", 1.7f)]
    [InlineData("hardswish", 0f)]
    [InlineData("gelu", 0f)]
    public unsafe void Activation_rows_apart_equal_the_span_form(string name, float alpha)
    {
        var op = OpTable.FusableActivation(name)!;
        var p = new UnaryParams(name == "swish" ? alpha : op.Attrs.Length > 0 ? op.Attrs[0].Default : 0);
        foreach (int width in new[] { 16, 32, 9, 23, 37 })
        {
            const int Rows = 7;
            int stride = width + 5;
            var data = TestData.Uniform(Rows * stride, width, 6f);
            var want = (float[])data.Clone();
            for (int r = 0; r < Rows; r++) op.Apply(want.AsSpan(r * stride, width), want.AsSpan(r * stride, width), p);
            fixed (float* d = data) op.ApplyRows(d, Rows, width, stride, p);
            Assert.Equal(want, data);
        }
    }

    /// <summary>YOLOv8's head: per level a channels-last map (a conv's; two levels pooled to 3×2 and 1×1), back to NCHW
    /// (the plan's to_nchw Transpose), a Reshape to [N, C, H·W], Concat along H·W. Each level's Transpose writes its
    /// channels' rows (H·W floats) straight into the Concat's rows (37 apart), through the Reshape, at batch 2 and 1;
    /// a 1×1 level needs no Transpose (a Reshape of the conv's output): copied. <paramref name="copy"/>: every level's
    /// Reshape also a graph output.</summary>
    static Model Levels(int c, bool copy)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 8, 6, 5);
        var pool = new Attributes().Set("kernel_shape", new long[] { 2, 2 }).Set("strides", new long[] { 2, 2 });
        int p1 = g.Add(OpType.MaxPool, [x], pool), p2 = g.Add(OpType.MaxPool, [p1], pool);
        int[] maps = [Conv(g, x, 8, c, 3, 1, "none"), Conv(g, p1, 8, c, 1, 3, "none"), Conv(g, p2, 8, c, 1, 5, "none")];
        int[] flat = maps.Select(v => g.Reshape(v, [-1, c, (int)(g.Model.Tensors[v].Elements(1) / c)])).ToArray();
        int y = g.Add(OpType.Concat, flat, new Attributes().Set("axis", 2L));
        int h = g.Add(OpType.Sigmoid, [y]);
        return copy ? g.Build([h, .. flat]) : g.Build(h);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(7)]   // odd: Transpose2D's blocks and their edges
    public void Layout_transposes_write_rows_through_reshapes(int c)
    {
        var m = Levels(c, false);
        var copy = Levels(c, true);
        using (var s = new Session(m, 2)) Assert.Equal([true, true, false], Flags(s));
        using (var s = new Session(copy, 2)) Assert.Equal([false, false, false], Flags(s));
        SameBitsAsTheCopy(m, copy, 1e-5f, "levels");
    }
}
