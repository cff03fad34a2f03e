namespace EdgeNet.Format;

/// <summary>
/// EdgeNet's own operator set. The converter rewrites ONNX into these (BatchNorm folded, Gemm/MatMul → Dense with
/// weights [OC, IC], Flatten/Squeeze/Unsqueeze → Reshape, shape chains folded). Values are on-disk codes: append only.
/// </summary>
public enum OpType : ushort
{
    /// <summary>X [.., IC], W [OC, IC], B? [OC] -&gt; [.., OC]; fused activation.</summary>
    Dense = 1,
    /// <summary>X [N,C,H,W], W [OC, C/group, KH, KW], B? [OC]; strides, pads, dilations, group; fused activation.</summary>
    Conv = 2,
    /// <summary>Max over kernel_shape windows (ONNX MaxPool): X [N,C,H,W]; strides, pads, dilations, ceil_mode.</summary>
    MaxPool = 3,
    /// <summary>Mean over kernel_shape windows (ONNX AveragePool); count_include_pad.</summary>
    AveragePool = 4,
    /// <summary>Mean over each channel's spatial axes: [N,C,H,W] → [N,C,1,1].</summary>
    GlobalAveragePool = 5,
    /// <summary>X [N,C,...] * scale[C] + shift[C]: a BatchNormalization that could not be folded.</summary>
    ChannelAffine = 6,
    /// <summary>max(0, x).</summary>
    Relu = 7,
    /// <summary>min(max(x, "min"), "max").</summary>
    Clip = 8,
    /// <summary>x &lt; 0 ? alpha·x : x.</summary>
    LeakyRelu = 9,
    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid = 10,
    /// <summary>tanh(x).</summary>
    Tanh = 11,
    /// <summary>e^x / Σ e^x along "axis".</summary>
    Softmax = 12,
    /// <summary>A + B, broadcast.</summary>
    Add = 13,
    /// <summary>A − B, broadcast.</summary>
    Sub = 14,
    /// <summary>A · B, broadcast.</summary>
    Mul = 15,
    /// <summary>A / B, broadcast.</summary>
    Div = 16,
    /// <summary>Flatten, Squeeze, Unsqueeze, Reshape: same bytes, new shape (the output tensor's).</summary>
    Reshape = 17,
    /// <summary>Axes permuted by "perm".</summary>
    Transpose = 18,
    /// <summary>Inputs joined along "axis".</summary>
    Concat = 19,
    /// <summary>constant indices along one axis.</summary>
    Gather = 20,
    /// <summary>static starts/ends/steps per axis.</summary>
    Slice = 21,
    /// <summary>ONNX LSTM (forward, reverse or bidirectional; outputs Y, Y_h, Y_c).</summary>
    Lstm = 22,
    /// <summary>ONNX GRU (linear_before_reset either way).</summary>
    Gru = 23,
    /// <summary>ONNX RNN (a plain recurrent layer).</summary>
    Rnn = 24,
    /// <summary>fp32 -&gt; int8 with the output tensor's scale and zero point.</summary>
    Quantize = 25,
    /// <summary>int8 -&gt; fp32 with the input tensor's scale and zero point.</summary>
    Dequantize = 26,
    /// <summary>max(0, min(1, alpha·x + beta)).</summary>
    HardSigmoid = 27,
    /// <summary>x · HardSigmoid(x) with alpha 1/6, beta 1/2.</summary>
    HardSwish = 28,
    // 29..56: elementwise ops (Kernels/UnaryOps.cs)
    /// <summary>|x|.</summary>
    Abs = 29,
    /// <summary>−x.</summary>
    Neg = 30,
    /// <summary>e^x.</summary>
    Exp = 31,
    /// <summary>ln x.</summary>
    Log = 32,
    /// <summary>√x.</summary>
    Sqrt = 33,
    /// <summary>1 / x.</summary>
    Reciprocal = 34,
    /// <summary>the error function.</summary>
    Erf = 35,
    /// <summary>⌊x⌋.</summary>
    Floor = 36,
    /// <summary>⌈x⌉.</summary>
    Ceil = 37,
    /// <summary>x rounded half to even.</summary>
    Round = 38,
    /// <summary>−1, 0 or 1.</summary>
    Sign = 39,
    /// <summary>sin x.</summary>
    Sin = 40,
    /// <summary>cos x.</summary>
    Cos = 41,
    /// <summary>tan x.</summary>
    Tan = 42,
    /// <summary>arcsin x.</summary>
    Asin = 43,
    /// <summary>arccos x.</summary>
    Acos = 44,
    /// <summary>arctan x.</summary>
    Atan = 45,
    /// <summary>sinh x.</summary>
    Sinh = 46,
    /// <summary>cosh x.</summary>
    Cosh = 47,
    /// <summary>x &lt; 0 ? alpha·(e^x − 1) : x.</summary>
    Elu = 48,
    /// <summary>gamma·(x &lt; 0 ? alpha·(e^x − 1) : x).</summary>
    Selu = 49,
    /// <summary>max(0, x) + min(0, alpha·(e^(x/alpha) − 1)).</summary>
    Celu = 50,
    /// <summary>ln(1 + e^x).</summary>
    Softplus = 51,
    /// <summary>x / (1 + |x|).</summary>
    Softsign = 52,
    /// <summary>x · tanh(softplus(x)).</summary>
    Mish = 53,
    /// <summary>x &gt; alpha ? x : 0.</summary>
    ThresholdedRelu = 54,
    /// <summary>x &lt; −lambd ? x + bias : x &gt; lambd ? x − bias : 0.</summary>
    Shrink = 55,
    /// <summary>x · Φ(x) (exact, with erf).</summary>
    Gelu = 56,
    // 57..65: reductions over attribute "axes" (sorted, non-negative) with "keepdims" (Kernels/ReduceKernel.cs)
    /// <summary>Mean over "axes".</summary>
    ReduceMean = 57,
    /// <summary>Sum over "axes".</summary>
    ReduceSum = 58,
    /// <summary>Maximum over "axes".</summary>
    ReduceMax = 59,
    /// <summary>Minimum over "axes".</summary>
    ReduceMin = 60,
    /// <summary>Product over "axes".</summary>
    ReduceProd = 61,
    /// <summary>Σ|x| over "axes".</summary>
    ReduceL1 = 62,
    /// <summary>√Σx² over "axes".</summary>
    ReduceL2 = 63,
    /// <summary>Σx² over "axes".</summary>
    ReduceSumSquare = 64,
    /// <summary>ln Σ e^x over "axes".</summary>
    ReduceLogSumExp = 65,
    // 66..70: broadcasting binary ops (Kernels/BinaryOps.cs)
    /// <summary>A^B, broadcast.</summary>
    Pow = 66,
    /// <summary>Elementwise maximum of the inputs, broadcast.</summary>
    Max = 67,
    /// <summary>Elementwise minimum of the inputs, broadcast.</summary>
    Min = 68,
    /// <summary>fmod: the remainder has the dividend's sign.</summary>
    Mod = 69,
    /// <summary>x &lt; 0 ? slope·x : x, slope broadcast to x.</summary>
    PRelu = 70,
    /// <summary>along "axis".</summary>
    LogSoftmax = 71,
    /// <summary>along "axis": 1 at the first maximum.</summary>
    Hardmax = 72,
    /// <summary>A [..., M, K] · B [..., K, N] of computed tensors, batch dimensions broadcast (constant 2-D B: Dense).</summary>
    MatMul = 73,
    /// <summary>X, Scale, B? over the axes from "axis" on; outputs Y, Mean?, InvStdDev?.</summary>
    LayerNormalization = 74,
    /// <summary>along "axis" into parts of lengths "split" (one output each).</summary>
    Split = 75,
    /// <summary>each axis repeated "repeats" times (also ONNX Expand).</summary>
    Tile = 76,
    /// <summary>the upper ("upper" = 1) or lower triangle of the last two axes from diagonal "k", the rest 0.</summary>
    Trilu = 77,
    /// <summary>constant "indices" of shape "indices_shape" along "axis".</summary>
    GatherElements = 78,
    /// <summary>ONNX Gelu with approximate = "tanh".</summary>
    GeluTanh = 79,
    /// <summary>X [N,C,H,W], W [C, OC/group, KH, KW], B? [OC]; strides, dilations, pads, output_padding, group.</summary>
    ConvTranspose = 80,
    /// <summary>X -&gt; "sizes" by per-axis mode/coordinate transformation (Kernels/ResizeKernel.cs).</summary>
    Resize = 81,
    /// <summary>"pads" [begin..., end...] (negative crops), "mode" constant/reflect/edge/wrap, "value".</summary>
    Pad = 82,
    /// <summary>[N, C, ...] -&gt; [N, C, 1, ...].</summary>
    GlobalMaxPool = 83,
    /// <summary>X [N,C,...], Scale [C], B [C]; "num_groups", "epsilon" (InstanceNormalization: num_groups = C).</summary>
    GroupNormalization = 84,
    /// <summary>across channels: "size", "alpha", "beta", "bias".</summary>
    Lrn = 85,
    /// <summary>running sum along "axis" ("exclusive", "reverse").</summary>
    CumSum = 86,
    // 87..97: comparisons, logic, selection and conversion on any element type (Kernels/TypedElementwise.cs); outputs bool but Where/Cast
    /// <summary>A == B (bool), broadcast.</summary>
    Equal = 87,
    /// <summary>A &gt; B (bool), broadcast.</summary>
    Greater = 88,
    /// <summary>A ≥ B (bool), broadcast.</summary>
    GreaterOrEqual = 89,
    /// <summary>A &lt; B (bool), broadcast.</summary>
    Less = 90,
    /// <summary>A ≤ B (bool), broadcast.</summary>
    LessOrEqual = 91,
    /// <summary>A ∧ B of bools.</summary>
    And = 92,
    /// <summary>A ∨ B of bools.</summary>
    Or = 93,
    /// <summary>A ⊕ B of bools.</summary>
    Xor = 94,
    /// <summary>¬A of a bool tensor.</summary>
    Not = 95,
    /// <summary>condition (bool), X, Y broadcast.</summary>
    Where = 96,
    /// <summary>to "to" (a DataType code).</summary>
    Cast = 97,
    /// <summary>int64 index along "axis"; "keepdims", "select_last_index".</summary>
    ArgMax = 98,
    /// <summary>int64 index of the minimum along "axis"; "keepdims", "select_last_index".</summary>
    ArgMin = 99,
    /// <summary>"k" largest/smallest along "axis": Values and int64 Indices.</summary>
    TopK = 100,
    /// <summary>x · σ(αx), "alpha" (ONNX Swish, opset 24; SiLU at α = 1): EfficientNet, YOLOv5/v8.</summary>
    Swish = 101,
}
