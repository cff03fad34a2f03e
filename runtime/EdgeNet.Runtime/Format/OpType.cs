namespace EdgeNet.Format;

/// <summary>
/// EdgeNet's own operator set. The converter rewrites ONNX into these (BatchNorm folded, Gemm/MatMul → Dense with
/// weights [OC, IC], Flatten/Squeeze/Unsqueeze → Reshape, shape chains folded). Values are on-disk codes: append only.
/// </summary>
public enum OpType : ushort
{
    Dense = 1,          // X [.., IC], W [OC, IC], B? [OC] -> [.., OC]; fused activation
    Conv = 2,           // X [N,C,H,W], W [OC, C/group, KH, KW], B? [OC]; strides, pads, dilations, group; fused activation
    MaxPool = 3,
    AveragePool = 4,
    GlobalAveragePool = 5,
    ChannelAffine = 6,  // X [N,C,...] * scale[C] + shift[C]: a BatchNormalization that could not be folded
    Relu = 7,
    Clip = 8,
    LeakyRelu = 9,
    Sigmoid = 10,
    Tanh = 11,
    Softmax = 12,
    Add = 13,
    Sub = 14,
    Mul = 15,
    Div = 16,
    Reshape = 17,       // Flatten, Squeeze, Unsqueeze, Reshape: same bytes, new shape (the output tensor's)
    Transpose = 18,
    Concat = 19,
    Gather = 20,        // constant indices along one axis
    Slice = 21,         // static starts/ends/steps per axis
    Lstm = 22,
    Gru = 23,
    Rnn = 24,
    Quantize = 25,      // fp32 -> int8 with the output tensor's scale and zero point
    Dequantize = 26,    // int8 -> fp32 with the input tensor's scale and zero point
    HardSigmoid = 27,   // max(0, min(1, alpha·x + beta))
    HardSwish = 28,     // x · HardSigmoid(x) with alpha 1/6, beta 1/2
    // 29..56: elementwise ops (Kernels/UnaryOps.cs)
    Abs = 29,
    Neg = 30,
    Exp = 31,
    Log = 32,
    Sqrt = 33,
    Reciprocal = 34,
    Erf = 35,
    Floor = 36,
    Ceil = 37,
    Round = 38,
    Sign = 39,
    Sin = 40,
    Cos = 41,
    Tan = 42,
    Asin = 43,
    Acos = 44,
    Atan = 45,
    Sinh = 46,
    Cosh = 47,
    Elu = 48,
    Selu = 49,
    Celu = 50,
    Softplus = 51,
    Softsign = 52,
    Mish = 53,
    ThresholdedRelu = 54,
    Shrink = 55,
    Gelu = 56,
    // 57..65: reductions over attribute "axes" (sorted, non-negative) with "keepdims" (Kernels/ReduceKernel.cs)
    ReduceMean = 57,
    ReduceSum = 58,
    ReduceMax = 59,
    ReduceMin = 60,
    ReduceProd = 61,
    ReduceL1 = 62,
    ReduceL2 = 63,
    ReduceSumSquare = 64,
    ReduceLogSumExp = 65,
    // 66..70: broadcasting binary ops (Kernels/BinaryOps.cs)
    Pow = 66,
    Max = 67,
    Min = 68,
    Mod = 69,           // fmod: the remainder has the dividend's sign
    PRelu = 70,         // x < 0 ? slope·x : x, slope broadcast to x
    LogSoftmax = 71,    // along "axis"
    Hardmax = 72,       // along "axis": 1 at the first maximum
    MatMul = 73,        // A [..., M, K] · B [..., K, N] of computed tensors, batch dimensions broadcast (constant 2-D B: Dense)
    LayerNormalization = 74,   // X, Scale, B? over the axes from "axis" on; outputs Y, Mean?, InvStdDev?
    Split = 75,         // along "axis" into parts of lengths "split" (one output each)
    Tile = 76,          // each axis repeated "repeats" times (also ONNX Expand)
    Trilu = 77,         // the upper ("upper" = 1) or lower triangle of the last two axes from diagonal "k", the rest 0
    GatherElements = 78,   // constant "indices" of shape "indices_shape" along "axis"
    GeluTanh = 79,      // ONNX Gelu with approximate = "tanh"
    ConvTranspose = 80,        // X [N,C,H,W], W [C, OC/group, KH, KW], B? [OC]; strides, dilations, pads, output_padding, group
    Resize = 81,               // X -> "sizes" by per-axis mode/coordinate transformation (Kernels/ResizeKernel.cs)
    Pad = 82,                  // "pads" [begin..., end...] (negative crops), "mode" constant/reflect/edge/wrap, "value"
    GlobalMaxPool = 83,        // [N, C, ...] -> [N, C, 1, ...]
    GroupNormalization = 84,   // X [N,C,...], Scale [C], B [C]; "num_groups", "epsilon" (InstanceNormalization: num_groups = C)
    Lrn = 85,                  // across channels: "size", "alpha", "beta", "bias"
    CumSum = 86,        // running sum along "axis" ("exclusive", "reverse")
    // 87..97: comparisons, logic, selection and conversion on any element type (Kernels/TypedElementwise.cs); outputs bool but Where/Cast
    Equal = 87,
    Greater = 88,
    GreaterOrEqual = 89,
    Less = 90,
    LessOrEqual = 91,
    And = 92,
    Or = 93,
    Xor = 94,
    Not = 95,
    Where = 96,         // condition (bool), X, Y broadcast
    Cast = 97,          // to "to" (a DataType code)
    ArgMax = 98,        // int64 index along "axis"; "keepdims", "select_last_index"
    ArgMin = 99,
    TopK = 100,         // "k" largest/smallest along "axis": Values and int64 Indices
}
