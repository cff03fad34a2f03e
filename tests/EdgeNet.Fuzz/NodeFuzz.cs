using EdgeNet.Converter;
using EdgeNet.Converter.Onnx;
using Google.Protobuf;

namespace EdgeNet.Fuzz;

/// <summary>
/// Random one-node ONNX models: any op the converter handles, at an opset from 7 to 21, with 0 to 5 inputs drawn from
/// a computed x of rank 1 to 4 (plus the batch), its shape, x quantized and dequantized, constants of rank 0, 1 and 4 (one empty) and unnamed ones, one or two
/// outputs, and up to four attributes of the names the handlers read, each holding hostile values in every field
/// (int, ints of any length, float, floats, string) so whichever form a handler reads is odd. Byte mutation reaches
/// these only by chance: session 11's Slice-13 without ends took CI's fuzzer a lucky run.
/// </summary>
public static class NodeFuzz
{
    static readonly string[] AttributeNames = ("activation_alpha activation_beta activations allowzero alpha antialias approximate auto_pad axes axis " +
        "beta bias blocksize ceil_mode channels_last clip coordinate_transformation_mode count_include_pad cubic_coeff_a dilations direction " +
        "end ends epsilon equation exclude_outside exclusive extrapolation_value fmod gamma group hidden_size input_forget k " +
        "keep_aspect_ratio_policy keepdims kernel_shape lambd largest layout linear_before_reset max min mode nearest_mode " +
        "noop_with_empty_axes num_groups num_outputs output_padding output_shape paddings pads perm reverse scales select_last_index " +
        "size split start starts stash_type storage_order strides to training_mode upper value").Split(' ');
    static readonly string[] Strings = ["", "SAME_UPPER", "SAME_LOWER", "VALID", "linear", "cubic", "nearest", "tf_crop_and_resize", "bidirectional",
        "reverse", "CRD", "reflect", "edge", "ij,jk->ik", "ii->i", "a,b->ab", "tanh", "Relu,Tanh", "not_larger", "align_corners"];
    static readonly long[] Integers = [-7, -2, -1, 0, 1, 2, 3, 4, 7, 1 << 20, int.MaxValue, long.MaxValue, long.MinValue];
    static readonly float[] Floats = [float.NaN, -1f, 0f, 0.5f, 2f, 1e30f, float.PositiveInfinity];
    static readonly long[][] InputDims = [[4], [2, 3], [2, 3, 3], [1, 2, 3, 3]];
    static readonly string[] InputPool = ["x", "x", "x", "i", "f", "i3", "w", "s", "e", "", "b", "sx", "dq", "q"];
    static readonly long[] Opsets = [7, 9, 10, 11, 12, 13, 17, 18, 21];
    static readonly string[] Ops = OnnxImporter.SupportedOps.ToArray();

    public static byte[] Model(Random rng)
    {
        string op = Ops[rng.Next(Ops.Length)];
        var node = new NodeProto { OpType = op, Name = "n" };
        if (OnnxImporter.MicrosoftQuantOps.Contains(op)) node.Domain = "com.microsoft";
        int k = rng.Next(0, 6);
        for (int j = 0; j < k; j++) node.Input.Add(j == 0 && rng.Next(4) != 0 ? "x" : InputPool[rng.Next(InputPool.Length)]);
        node.Output.Add("y");
        if (rng.Next(3) == 0) node.Output.Add("z");
        foreach (var name in AttributeNames.OrderBy(_ => rng.Next()).Take(rng.Next(0, 5)))
        {
            var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints, I = Integers[rng.Next(Integers.Length)], F = Floats[rng.Next(Floats.Length)] };
            for (int q = rng.Next(0, 7); q > 0; q--) a.Ints.Add(rng.Next(3) == 0 ? Integers[rng.Next(Integers.Length)] : rng.Next(-3, 4));
            for (int q = rng.Next(0, 5); q > 0; q--) a.Floats.Add(Floats[rng.Next(Floats.Length)]);
            a.S = ByteString.CopyFromUtf8(Strings[rng.Next(Strings.Length)]);
            if (rng.Next(3) == 0) a.Strings.Add(ByteString.CopyFromUtf8(Strings[rng.Next(Strings.Length)]));
            node.Attribute.Add(a);
        }

        var g = new GraphProto { Name = "g" };
        var x = new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() } } };
        x.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (var d in InputDims[rng.Next(InputDims.Length)]) x.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        g.Input.Add(x);
        g.Initializer.Add(Tensor("i", 7, [1], t => t.Int64Data.Add(1)));
        g.Initializer.Add(Tensor("i3", 7, [3], t => t.Int64Data.Add([0, -1, 2])));
        g.Initializer.Add(Tensor("f", 1, [1], t => t.FloatData.Add(1f)));
        g.Initializer.Add(Tensor("w", 1, [2, 2, 1, 1], t => t.FloatData.Add([1f, 2f, 3f, 4f])));
        g.Initializer.Add(Tensor("s", 1, [], t => t.FloatData.Add(0.5f)));
        g.Initializer.Add(Tensor("e", 1, [0], _ => { }));
        g.Initializer.Add(Tensor("b", 9, [1], t => t.Int32Data.Add(1)));
        // Values the node may read besides x: its shape (symbolic shape arithmetic), x quantized and dequantized (the QDQ forms).
        g.Node.Add(Prelude("Shape", ["x"], "sx"));
        g.Node.Add(Prelude("QuantizeLinear", ["x", "f"], "q"));
        g.Node.Add(Prelude("DequantizeLinear", ["q", "f"], "dq"));
        g.Node.Add(node);
        g.Output.Add(new ValueInfoProto { Name = "y" });
        var m = new ModelProto { IrVersion = 8, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opsets[rng.Next(Opsets.Length)] });
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        return m.ToByteArray();
    }

    static NodeProto Prelude(string op, string[] inputs, string output)
    {
        var n = new NodeProto { OpType = op, Name = output };
        n.Input.AddRange(inputs); n.Output.Add(output);
        return n;
    }

    static TensorProto Tensor(string name, int type, long[] dims, Action<TensorProto> fill)
    {
        var t = new TensorProto { Name = name, DataType = type };
        t.Dims.AddRange(dims);
        fill(t);
        return t;
    }
}
