using EdgeNet.Format;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Int8;
using EdgeNet.Training;

namespace EdgeNet.Engine;

/// <summary>
/// The one table of ops (<see cref="OpInfo"/>): one entry per <see cref="OpType"/>. Adding an elementwise op is its
/// struct in Kernels/UnaryOps.cs, its OpType value and one <see cref="Unary{T}"/> line here (and a row in
/// docs/operators.md): the kernels, int8 table, fusion, channels-last pass-through, ONNX import and backward follow.
/// </summary>
internal static class OpTable
{
    internal static readonly TrainPass NotDifferentiable = (s, i) =>
        throw new NotSupportedException($"{s.Model.Nodes[i]} is not differentiable");

    static readonly OpInfo[] Entries =
    [
        new()
        {
            Op = OpType.Dense, Inputs = (2, 3), Onnx = ["Gemm", "MatMul"],
            Fp32 = (m, n, o) => new DenseKernel(m, n, o), Int8 = (m, n, o) => new DenseInt8Kernel(m, n, o),
            Quant = QuantRole.Layer, Parameters = [1, 2], TrainForward = Gradients.DenseForward, Backward = Gradients.Dense,
        },
        new()
        {
            Op = OpType.MatMul, Inputs = (2, 2), Onnx = ["MatMul"],
            Fp32 = (m, n, o) => new MatMulKernel(m, n, o), Backward = Gradients.MatMul,
        },
        new()
        {
            Op = OpType.Conv, Inputs = (2, 3), Onnx = ["Conv"],
            Fp32 = (m, n, o) => n.Attributes.Int(ChannelsLast.Attribute, 0) switch
            {
                0 => new ConvKernel(m, n, o),
                ExpandDepthwiseFusion.ChannelsLastValue => new ExpandDepthwiseKernel(m, n),
                _ => new ConvNhwcKernel(m, n),
            },
            Int8 = (m, n, o) => n.Attributes.Int(ChannelsLast.Attribute, 0) != 0 ? new ConvNhwcInt8Kernel(m, n, o) : new ConvInt8Kernel(m, n, o),
            Layout = LayoutRole.Conv, ChannelsLastAccepts = ConvNhwcKernel.Accepts, Int8ChannelsLast = true,
            Quant = QuantRole.Layer, Parameters = [1, 2], TrainForward = Gradients.ConvForward, Backward = Gradients.Conv,
        },
        new()
        {
            Op = OpType.MaxPool, Inputs = (1, 1), Outputs = (1, 2), Onnx = ["MaxPool"],
            Fp32 = (m, n, o) => n.Outputs.Length > 1 ? new MaxPoolIndexKernel(m, n, o)
                : n.Attributes.Int(ChannelsLast.Attribute, 0) == 1 ? new PoolNhwcKernel(m, n) : new PoolKernel(m, n, o),
            Int8 = (m, n, o) => new PoolInt8Kernel(m, n, o), Typed = (m, n, o) => new MaxPoolIndexKernel(m, n, o),
            Layout = LayoutRole.Window, ChannelsLastAccepts = PoolNhwcKernel.Accepts,
            Quant = QuantRole.Int8, Backward = Gradients.MaxPool,
        },
        new()
        {
            Op = OpType.AveragePool, Inputs = (1, 1), Onnx = ["AveragePool"],
            Fp32 = (m, n, o) => n.Attributes.Int(ChannelsLast.Attribute, 0) == 1 ? new PoolNhwcKernel(m, n) : new PoolKernel(m, n, o),
            Int8 = (m, n, o) => new PoolInt8Kernel(m, n, o), Layout = LayoutRole.Window, ChannelsLastAccepts = PoolNhwcKernel.Accepts,
            Quant = QuantRole.Int8, Int8Accepts = AveragePoolInt8, Backward = Gradients.AveragePool,
        },
        new()
        {
            Op = OpType.GlobalAveragePool, Inputs = (1, 1), Onnx = ["GlobalAveragePool"],
            Fp32 = (m, n, o) => n.Attributes.Int(ChannelsLast.Attribute, 0) == 1 ? new GlobalAveragePoolNhwcKernel(m, n) : new PoolKernel(m, n, o),
            Int8 = (m, n, o) => new PoolInt8Kernel(m, n, o),
            Layout = LayoutRole.GlobalPool, Int8ChannelsLast = true, Quant = QuantRole.Int8, Backward = Gradients.GlobalAveragePool,
        },
        new()
        {
            Op = OpType.LayerNormalization, Inputs = (2, 3), Outputs = (1, 3), Onnx = ["LayerNormalization"],
            Fp32 = (m, n, o) => new LayerNormKernel(m, n, o), Parameters = [1, 2], Backward = Gradients.LayerNorm,
        },
        new()
        {
            Op = OpType.ChannelAffine, Inputs = (3, 3), Onnx = ["BatchNormalization"],
            Fp32 = (m, n, o) => new ChannelAffineKernel(m, n, o), Backward = Gradients.ChannelAffine, Layout = LayoutRole.Elementwise,
        },
        Unary<ReluOp>(OpType.Relu, []),
        Unary<ClipOp>(OpType.Clip, [("min", float.NegativeInfinity), ("max", float.PositiveInfinity)], typed: (m, n, o) => new TypedClipKernel(m, n, o)),
        Unary<LeakyReluOp>(OpType.LeakyRelu, [("alpha", 0.01f)]),
        Unary<SigmoidOp>(OpType.Sigmoid, []),
        Unary<TanhOp>(OpType.Tanh, []),
        Unary<HardSigmoidOp>(OpType.HardSigmoid, [("alpha", 0.2f), ("beta", 0.5f)]),
        Unary<HardSwishOp>(OpType.HardSwish, []),
        Unary<SwishOp>(OpType.Swish, [("alpha", 1f)]),
        Unary<AbsOp>(OpType.Abs, []),
        Unary<NegOp>(OpType.Neg, []),
        Unary<ExpOp>(OpType.Exp, []),
        Unary<LogOp>(OpType.Log, []),
        Unary<SqrtOp>(OpType.Sqrt, []),
        Unary<ReciprocalOp>(OpType.Reciprocal, []),
        Unary<ErfOp>(OpType.Erf, []),
        Unary<FloorOp>(OpType.Floor, []),
        Unary<CeilOp>(OpType.Ceil, []),
        Unary<RoundOp>(OpType.Round, []),
        Unary<SignOp>(OpType.Sign, []),
        Unary<SinOp>(OpType.Sin, []),
        Unary<CosOp>(OpType.Cos, []),
        Unary<TanOp>(OpType.Tan, []),
        Unary<AsinOp>(OpType.Asin, []),
        Unary<AcosOp>(OpType.Acos, []),
        Unary<AtanOp>(OpType.Atan, []),
        Unary<SinhOp>(OpType.Sinh, []),
        Unary<CoshOp>(OpType.Cosh, []),
        Unary<EluOp>(OpType.Elu, [("alpha", 1f)]),
        Unary<SeluOp>(OpType.Selu, [("alpha", 1.67326319217681884765625f), ("gamma", 1.05070102214813232421875f)]),
        Unary<CeluOp>(OpType.Celu, [("alpha", 1f)]),
        Unary<SoftplusOp>(OpType.Softplus, []),
        Unary<SoftsignOp>(OpType.Softsign, []),
        Unary<MishOp>(OpType.Mish, []),
        Unary<ThresholdedReluOp>(OpType.ThresholdedRelu, [("alpha", 1f)]),
        Unary<ShrinkOp>(OpType.Shrink, [("bias", 0f), ("lambd", 0.5f)]),
        Unary<GeluOp>(OpType.Gelu, []),
        Unary<GeluTanhOp>(OpType.GeluTanh, [], onnx: "Gelu"),
        Reduce<MeanReduction>(OpType.ReduceMean),
        Reduce<SumReduction>(OpType.ReduceSum),
        Reduce<MaxReduction>(OpType.ReduceMax),
        Reduce<MinReduction>(OpType.ReduceMin),
        Reduce<ProdReduction>(OpType.ReduceProd),
        Reduce<L1Reduction>(OpType.ReduceL1),
        Reduce<L2Reduction>(OpType.ReduceL2),
        Reduce<SumSquareReduction>(OpType.ReduceSumSquare),
        Reduce<LogSumExpReduction>(OpType.ReduceLogSumExp),
        new()
        {
            Op = OpType.Softmax, Inputs = (1, 1), Onnx = ["Softmax"],
            Fp32 = (m, n, o) => new SoftmaxKernel(m, n, o), Backward = Gradients.Softmax,
        },
        new()
        {
            Op = OpType.LogSoftmax, Inputs = (1, 1), Onnx = ["LogSoftmax"],
            Fp32 = (m, n, o) => new LogSoftmaxKernel(m, n, o), Backward = Gradients.LogSoftmax,
        },
        new()
        {
            Op = OpType.Hardmax, Inputs = (1, 1), Onnx = ["Hardmax"],
            Fp32 = (m, n, o) => new HardmaxKernel(m, n, o), Backward = NotDifferentiable,
        },
        Binary<AddOp>(OpType.Add, ["Add", "Sum", "Mean"], int8: true),
        Binary<SubOp>(OpType.Sub, ["Sub"]),
        Binary<MulOp>(OpType.Mul, ["Mul"]),
        Binary<DivOp>(OpType.Div, ["Div"]),
        Binary<PowOp>(OpType.Pow, ["Pow"], mixed: (m, n, o) => new MixedPowKernel(m, n, o)),
        Binary<MaxOp>(OpType.Max, ["Max"]),
        Binary<MinOp>(OpType.Min, ["Min"]),
        Binary<ModOp>(OpType.Mod, ["Mod"]),
        Binary<PReluOp>(OpType.PRelu, ["PRelu"]),
        new()
        {
            Op = OpType.Reshape, Inputs = (1, 1), Onnx = ["Reshape", "Flatten", "Squeeze", "Unsqueeze"],
            Fp32 = (m, n, o) => new ReshapeKernel(m, n), Int8 = (m, n, o) => new ReshapeKernel(m, n), Typed = (m, n, o) => new ReshapeKernel(m, n),
            Quant = QuantRole.Passthrough, Backward = Gradients.Reshape,
        },
        new()
        {
            Op = OpType.Transpose, Inputs = (1, 1), Onnx = ["Transpose"],
            Fp32 = (m, n, o) => new TransposeKernel(m, n), Int8 = (m, n, o) => new TransposeKernel(m, n), Layout = LayoutRole.Permute, Backward = Gradients.Transpose,
        },
        new()
        {
            Op = OpType.Concat, Inputs = (1, 64), Onnx = ["Concat"],
            Fp32 = (m, n, o) => new ConcatKernel(m, n), Int8 = (m, n, o) => new ConcatInt8Kernel(m, n),
            Layout = LayoutRole.Axes, AxisAttributes = [("axis", AxisUse.Axis)], Quant = QuantRole.Int8, Backward = Gradients.Concat,
        },
        new()
        {
            Op = OpType.Gather, Inputs = (1, 2), Onnx = ["Gather"],
            Fp32 = (m, n, o) => new GatherKernel(m, n), Typed = (m, n, o) => new GatherKernel(m, n), Backward = Gradients.Gather,
        },
        new()
        {
            Op = OpType.Slice, Inputs = (1, 1), Onnx = ["Slice"],
            Fp32 = (m, n, o) => new SliceKernel(m, n), Backward = Gradients.Slice,
            Layout = LayoutRole.Axes, AxisAttributes = [("starts", AxisUse.PerAxis), ("steps", AxisUse.PerAxis)],
        },
        new()
        {
            Op = OpType.Split, Inputs = (1, 1), Outputs = (1, 64), Onnx = ["Split"],
            Fp32 = (m, n, o) => new SplitKernel(m, n), Typed = (m, n, o) => new SplitKernel(m, n), Backward = DataGradients.Split,
            Layout = LayoutRole.Axes, AxisAttributes = [("axis", AxisUse.Axis)],
        },
        new()
        {
            Op = OpType.Tile, Inputs = (1, 1), Onnx = ["Tile", "Expand"],
            Fp32 = (m, n, o) => new TileKernel(m, n), Typed = (m, n, o) => new TileKernel(m, n), Backward = DataGradients.Tile,
        },
        new()
        {
            Op = OpType.Trilu, Inputs = (1, 1), Onnx = ["Trilu"],
            Fp32 = (m, n, o) => new TriluKernel(m, n), Typed = (m, n, o) => new TriluKernel(m, n), Backward = DataGradients.Trilu,
        },
        new()
        {
            Op = OpType.GatherElements, Inputs = (1, 1), Onnx = ["GatherElements"],
            Fp32 = (m, n, o) => new GatherElementsKernel(m, n), Typed = (m, n, o) => new GatherElementsKernel(m, n), Backward = DataGradients.GatherElements,
        },
        new()
        {
            Op = OpType.CumSum, Inputs = (1, 1), Onnx = ["CumSum"],
            Fp32 = (m, n, o) => new CumSumKernel(m, n), Typed = (m, n, o) => new CumSumKernel(m, n), Backward = DataGradients.CumSum,
        },
        Recurrent(OpType.Lstm, inputs: 8, outputs: 3, "LSTM"),
        Recurrent(OpType.Gru, inputs: 6, outputs: 2, "GRU"),
        Recurrent(OpType.Rnn, inputs: 6, outputs: 2, "RNN"),
        new()
        {
            Op = OpType.ConvTranspose, Inputs = (2, 3), Onnx = ["ConvTranspose"],
            Fp32 = (m, n, o) => m.Tensors[n.Inputs[0]].Shape.Length > 4 ? new ConvTransposeNdKernel(m, n, o) : new ConvTransposeKernel(m, n, o),
            Parameters = [1, 2], Backward = SpatialGradients.ConvTranspose, Layout = LayoutRole.Conv, ChannelsLastAccepts = ConvTransposeKernel.Accepts,
        },
        new()
        {
            Op = OpType.Resize, Inputs = (1, 1), Onnx = ["Resize", "Upsample"],
            Fp32 = (m, n, o) => new ResizeKernel(m, n, o), Backward = SpatialGradients.Resize, Layout = LayoutRole.Axes,
            AxisAttributes = [("scales", AxisUse.PerAxis), ("sizes", AxisUse.PerAxis), ("roi", AxisUse.BeginsEnds), ("axes", AxisUse.Axes)],
        },
        new()
        {
            Op = OpType.Pad, Inputs = (1, 1), Onnx = ["Pad"],
            Fp32 = (m, n, o) => new PadKernel(m, n, o), Typed = (m, n, o) => new PadKernel(m, n, o), Backward = SpatialGradients.Pad,
            Layout = LayoutRole.Axes, AxisAttributes = [("pads", AxisUse.BeginsEnds)],
        },
        new()
        {
            Op = OpType.GlobalMaxPool, Inputs = (1, 1), Onnx = ["GlobalMaxPool"],
            Fp32 = (m, n, o) => new PoolKernel(m, n, o), Backward = SpatialGradients.GlobalMaxPool,
        },
        new()
        {
            Op = OpType.GroupNormalization, Inputs = (3, 3), Onnx = ["GroupNormalization", "InstanceNormalization"],
            Fp32 = (m, n, o) => new GroupNormKernel(m, n, o), Parameters = [1, 2], Backward = SpatialGradients.GroupNorm,
        },
        new()
        {
            Op = OpType.Lrn, Inputs = (1, 1), Onnx = ["LRN"],
            Fp32 = (m, n, o) => new LrnKernel(m, n, o), Backward = SpatialGradients.Lrn,
        },
        new()
        {
            Op = OpType.Quantize, Inputs = (1, 1), Onnx = ["QuantizeLinear"],
            Fp32 = (m, n, o) => new QuantizeKernel(m, n, o), ConvertsTypes = true, Backward = NotDifferentiable,
        },
        new()
        {
            Op = OpType.Dequantize, Inputs = (1, 1), Onnx = ["DequantizeLinear"],
            Fp32 = (m, n, o) => throw new ModelFormatException($"node '{n.Name}': Dequantize needs an int8 input"),
            Int8 = (m, n, o) => new QuantizeKernel(m, n, o), ConvertsTypes = true, Backward = NotDifferentiable,
        },
        Predicate<EqualOp>(OpType.Equal),
        Predicate<GreaterOp>(OpType.Greater),
        Predicate<GreaterOrEqualOp>(OpType.GreaterOrEqual),
        Predicate<LessOp>(OpType.Less),
        Predicate<LessOrEqualOp>(OpType.LessOrEqual),
        Predicate<AndOp>(OpType.And),
        Predicate<OrOp>(OpType.Or),
        Predicate<XorOp>(OpType.Xor),
        new()
        {
            Op = OpType.Not, Inputs = (1, 1), Onnx = ["Not"],
            Fp32 = (m, n, o) => new NotKernel(m, n, o), Typed = (m, n, o) => new NotKernel(m, n, o), ConvertsTypes = true, Backward = NotDifferentiable,
        },
        new()
        {
            Op = OpType.Where, Inputs = (3, 3), Onnx = ["Where"],
            Fp32 = (m, n, o) => new WhereKernel(m, n, o), Typed = (m, n, o) => new WhereKernel(m, n, o), ConvertsTypes = true, Backward = NotDifferentiable,
        },
        new()
        {
            Op = OpType.Cast, Inputs = (1, 1), Onnx = ["Cast"],
            Fp32 = (m, n, o) => new CastKernel(m, n, o), Typed = (m, n, o) => new CastKernel(m, n, o), ConvertsTypes = true, Backward = NotDifferentiable,
        },
        new()
        {
            Op = OpType.ArgMax, Inputs = (1, 1), Onnx = ["ArgMax"],
            Fp32 = (m, n, o) => new ArgKernel(m, n, o), Typed = (m, n, o) => new ArgKernel(m, n, o), ConvertsTypes = true, Backward = NotDifferentiable,
        },
        new()
        {
            Op = OpType.ArgMin, Inputs = (1, 1), Onnx = ["ArgMin"],
            Fp32 = (m, n, o) => new ArgKernel(m, n, o), Typed = (m, n, o) => new ArgKernel(m, n, o), ConvertsTypes = true, Backward = NotDifferentiable,
        },
        new()
        {
            Op = OpType.TopK, Inputs = (1, 1), Outputs = (1, 2), Onnx = ["TopK"],
            Fp32 = (m, n, o) => new TopKKernel(m, n, o), Typed = (m, n, o) => new TopKKernel(m, n, o), ConvertsTypes = true, Backward = NotDifferentiable,
        },
    ];

    static readonly OpInfo?[] ByCode = Index();

    static OpInfo Predicate<T>(OpType op) where T : struct, IPredicate => new()
    {
        Op = op, Inputs = (2, 2), Onnx = [op.ToString()],
        Fp32 = (m, n, o) => new PredicateKernel<T>(m, n, o), Typed = (m, n, o) => new PredicateKernel<T>(m, n, o),
        ConvertsTypes = true, Backward = NotDifferentiable,
    };

    static OpInfo Unary<T>(OpType op, (string, float)[] attrs, string? onnx = null, Func<Model, Node, KernelOptions, Kernel>? typed = null)
        where T : struct, IUnaryOp<T> => new()
    {
        Op = op, Inputs = (1, 1), Onnx = [onnx ?? op.ToString()], Typed = typed,
        Fp32 = (m, n, o) => new UnaryKernel(m, n, o), Int8 = (m, n, o) => new ElementwiseInt8Kernel(m, n, o),
        Unary = new UnaryOp<T>(op, attrs), Fusable = true, Layout = LayoutRole.Elementwise, Backward = Gradients.Unary,
    };

    static OpInfo Reduce<T>(OpType op) where T : struct, IReduction => new()
    {
        Op = op, Inputs = (1, 1), Onnx = [op.ToString()],
        Fp32 = (m, n, o) => new ReduceKernel<T>(m, n, o), Typed = (m, n, o) => new TypedReduceKernel(m, n, o), Backward = Gradients.Reduce,
    };

    /// <summary>A broadcasting binary op; <paramref name="mixed"/>: the kernel for operands of two different types (Pow's
    /// float base and integer exponent).</summary>
    static OpInfo Binary<T>(OpType op, string[] onnx, bool int8 = false, Func<Model, Node, KernelOptions, Kernel>? mixed = null) where T : struct, IBinaryOp => new()
    {
        Op = op, Inputs = (2, 2), Onnx = onnx,
        Typed = !T.HasInteger ? null
            : mixed is null ? (m, n, o) => new IntegerBinaryKernel<T>(m, n, o)
            : (m, n, o) => m.Tensors[n.Inputs[0]].Type != m.Tensors[n.Inputs[1]].Type ? mixed(m, n, o) : new IntegerBinaryKernel<T>(m, n, o),
        Fp32 = (m, n, o) => new BinaryKernel<T>(m, n, o), Int8 = int8 ? (m, n, o) => new ElementwiseInt8Kernel(m, n, o) : null,
        Layout = LayoutRole.Binary, Int8ChannelsLast = int8,
        Quant = int8 ? QuantRole.Int8 : QuantRole.Fp32, Int8Accepts = int8 ? SameShapeOrScalarB : null, Backward = Gradients.Binary<T>,
    };

    static OpInfo Recurrent(OpType op, int inputs, int outputs, string onnx) => new()
    {
        Op = op, Inputs = (3, inputs), Outputs = (1, outputs), Onnx = [onnx],
        Fp32 = (m, n, o) => new RecurrentKernel(m, n, o),
        Quant = QuantRole.Recurrent, Parameters = [1, 2, 3], TrainForward = Gradients.RecurrentForward, Backward = Gradients.Recurrent,
    };

    /// <summary>int8 Add: equal shapes, or B a single value.</summary>
    static bool SameShapeOrScalarB(Model m, Node n) =>
        m.Tensors[n.Inputs[0]].Shape.AsSpan().SequenceEqual(m.Tensors[n.Inputs[1]].Shape) || m.Tensors[n.Inputs[1]].Elements(1) == 1;

    /// <summary>int8 AveragePool: padding counts only with count_include_pad (the padded value is the real zero).</summary>
    static bool AveragePoolInt8(Model m, Node n) =>
        n.Attributes.Int("count_include_pad", 0) != 0 || n.Attributes.Ints("pads", [0, 0, 0, 0]).All(p => p == 0);

    static OpInfo?[] Index()
    {
        var codes = Enum.GetValues<OpType>();
        var index = new OpInfo?[(int)codes.Max() + 1];
        foreach (var e in Entries)
        {
            if (index[(int)e.Op] is not null) throw new InvalidOperationException($"op table: {e.Op} is listed twice");
            if (e.Backward is null) throw new InvalidOperationException($"op table: {e.Op} has neither a backward pass nor NotDifferentiable");
            index[(int)e.Op] = e;
        }
        foreach (var c in codes)
            if (index[(int)c] is null) throw new InvalidOperationException($"op table: {c} has no entry");
        return index;
    }

    public static IReadOnlyList<OpInfo> All => Entries;

    /// <summary>The entry of an op code, or null for a code this runtime does not know (a newer or damaged file).</summary>
    public static OpInfo? Find(OpType op) => (uint)op < (uint)ByCode.Length ? ByCode[(int)op] : null;

    public static OpInfo Get(OpType op) => Find(op) ?? throw new ModelFormatException($"unknown op code {(int)op}");

    /// <summary>The entry that imports ONNX op <paramref name="onnxOp"/>, or null.</summary>
    public static OpInfo? FindOnnx(string onnxOp)
    {
        foreach (var e in Entries) if (Array.IndexOf(e.Onnx, onnxOp) >= 0) return e;
        return null;
    }

    /// <summary>The elementwise op a Dense/Conv "activation" attribute names.</summary>
    public static UnaryOp? FusableActivation(string name)
    {
        foreach (var e in Entries) if (e.Fusable && e.Unary!.Name == name) return e.Unary;
        return null;
    }
}
