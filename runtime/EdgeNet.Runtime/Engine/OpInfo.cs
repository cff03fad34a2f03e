using EdgeNet.Format;
using EdgeNet.Kernels;

namespace EdgeNet.Engine;

/// <summary>How the channels-last planner (<see cref="ChannelsLast"/>) treats an op.</summary>
internal enum LayoutRole
{
    /// <summary>Runs only on the file's layout: the planner puts a Transpose before it.</summary>
    Fixed,
    /// <summary>One data input, elementwise: runs on whichever layout its input has.</summary>
    Elementwise,
    /// <summary>Broadcasting elementwise (Add, Mul, ...): channels-last operands as they are, constants permuted once
    /// at load, other 4-D operands transposed.</summary>
    Binary,
    /// <summary>A convolution with an NHWC kernel for what <see cref="OpInfo.ChannelsLastAccepts"/> holds (and a stem
    /// that reads NCHW): starts a channels-last region, its input transposed if it is not channels-last yet.</summary>
    Conv,
    /// <summary>A sliding window with an NHWC kernel (MaxPool, AveragePool): runs channels-last when its input is.</summary>
    Window,
    /// <summary>Reads NHWC, writes [N, C, 1, 1]: the same bytes in both layouts.</summary>
    GlobalPool,
    /// <summary>Rank-generic data movement (Concat, Pad, Slice, Resize): the same kernel on channels-last data with
    /// the axis attributes of <see cref="OpInfo.AxisAttributes"/> permuted.</summary>
    Axes,
    /// <summary>Transpose: reading a channels-last input is a Transpose with the permutation composed.</summary>
    Permute,
}

/// <summary>How an attribute of a <see cref="LayoutRole.Axes"/> op names axes.</summary>
internal enum AxisUse
{
    /// <summary>One axis index (Concat's "axis").</summary>
    Axis,
    /// <summary>One value per axis (Slice's "starts", Resize's "scales").</summary>
    PerAxis,
    /// <summary>Begins for every axis, then ends (Pad's "pads", Resize's "roi").</summary>
    BeginsEnds,
    /// <summary>A list of axis indices (Resize's "axes", which the converter always writes beside "sizes").</summary>
    Axes,
}

/// <summary>What the post-training quantizer does with an op.</summary>
internal enum QuantRole
{
    /// <summary>Stays fp32, fed by Dequantize where its inputs are int8.</summary>
    Fp32,
    /// <summary>Weights become int8 per channel, the output int8 (Dense, Conv).</summary>
    Layer,
    /// <summary>int8 W and R, activations quantized per step at run time (LSTM, GRU, RNN).</summary>
    Recurrent,
    /// <summary>Runs its int8 kernel when every input is int8 already and <see cref="OpInfo.Int8Accepts"/> holds.</summary>
    Int8,
    /// <summary>Keeps int8 through it unchanged (Reshape).</summary>
    Passthrough,
}

/// <summary>A training pass of node <c>i</c> of a training session (forward for ops with parameters, backward for all).</summary>
internal delegate void TrainPass(Training.TrainingSession s, int i);

/// <summary>
/// Every fact about one op, in one place (<see cref="OpTable"/>): arity, the ONNX ops it comes from, its kernels
/// (fp32, int8), the elementwise formula if it is one, how the channels-last planner and the quantizer treat it, its
/// parameters and its backward pass. The validator, kernel registry, planner, trainer, quantizer and converter read it.
/// </summary>
internal sealed class OpInfo
{
    public required OpType Op { get; init; }
    public required (int Min, int Max) Inputs { get; init; }
    public (int Min, int Max) Outputs { get; init; } = (1, 1);
    /// <summary>The ONNX ops the converter imports as this op (each has a handler in OnnxImporter).</summary>
    public required string[] Onnx { get; init; }
    /// <summary>The fp32 kernel (which validates attributes and infers the output shape).</summary>
    public required Func<Model, Node, KernelOptions, Kernel> Fp32 { get; init; }
    /// <summary>The int8 twin, chosen when the first input is int8; null: none (dequantize before it).</summary>
    public Func<Model, Node, KernelOptions, Kernel>? Int8 { get; init; }
    /// <summary>The kernel for integer and bool data (any input not float32, an int8 one without quantization
    /// parameters); it checks its own types. Null: the op runs on float32 (and int8 by <see cref="Int8"/>) only.</summary>
    public Func<Model, Node, KernelOptions, Kernel>? Typed { get; init; }
    /// <summary>Its kernel reads one type and writes another (Quantize, Dequantize) and checks both itself.</summary>
    public bool ConvertsTypes { get; init; }
    /// <summary>An elementwise op's formula, attributes and derivative (and so its kernels and backward).</summary>
    public UnaryOp? Unary { get; init; }
    /// <summary>An elementwise op that Dense/Conv may fuse as their activation.</summary>
    public bool Fusable { get; init; }
    public LayoutRole Layout { get; init; } = LayoutRole.Fixed;
    /// <summary>For <see cref="LayoutRole.Conv"/> and <see cref="LayoutRole.Window"/>: the fp32 node is one its NHWC
    /// kernel takes (null: every node of the op).</summary>
    public Func<Model, Node, bool>? ChannelsLastAccepts { get; init; }
    /// <summary>For <see cref="LayoutRole.Axes"/>: the attributes that name axes, and how.</summary>
    public (string Name, AxisUse Use)[] AxisAttributes { get; init; } = [];
    /// <summary>The planner may also run its int8 kernel channels-last.</summary>
    public bool Int8ChannelsLast { get; init; }
    public QuantRole Quant { get; init; } = QuantRole.Fp32;
    /// <summary>For <see cref="QuantRole.Int8"/>: the int8 kernel's own condition beyond int8 inputs.</summary>
    public Func<Model, Node, bool>? Int8Accepts { get; init; }
    /// <summary>Input slots that hold trainable parameters (fp32 constants); the others are data.</summary>
    public int[] Parameters { get; init; } = [];
    /// <summary>The training forward of an op with parameters (it runs from their current values); null: the inference kernel.</summary>
    internal TrainPass? TrainForward { get; init; }
    /// <summary>The backward pass, or <see cref="OpTable.NotDifferentiable"/>: every entry says which (the table checks).</summary>
    internal TrainPass Backward { get; init; } = null!;
    public bool Differentiable => Backward != OpTable.NotDifferentiable;
}
