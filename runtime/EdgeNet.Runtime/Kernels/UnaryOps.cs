using System.Numerics;
using System.Numerics.Tensors;

namespace EdgeNet.Kernels;

// The elementwise ops: forward (scalar and vector) and derivative side by side. Their table entries are in Engine/OpTable.

/// <summary>max(x, 0).</summary>
public readonly struct ReluOp : IUnaryOp<ReluOp>, IVectorOp
{
    public static ReluOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in ReluOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public static (float Min, float Max)? Clamp(UnaryParams p) => (0f, float.PositiveInfinity);
    public float Invoke(float x) => x > 0 ? x : 0;
    public Vector<float> Invoke(Vector<float> x) => Vector.Max(x, Vector<float>.Zero);
    public float Derivative(float x, float y) => y > 0 ? 1f : 0f;
}

/// <summary>min(max(x, min), max); A = min, B = max.</summary>
public readonly struct ClipOp(float min, float max) : IUnaryOp<ClipOp>, IVectorOp
{
    public static ClipOp Create(UnaryParams p) => new(p.A, p.B);
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in ClipOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public static string? Check(UnaryParams p) => p.A <= p.B ? null : $"min {p.A} > max {p.B}";
    public static (float Min, float Max)? Clamp(UnaryParams p) => (p.A, p.B);
    public float Invoke(float x) => MathF.Min(MathF.Max(x, min), max);
    public Vector<float> Invoke(Vector<float> x) => Vector.Min(Vector.Max(x, new Vector<float>(min)), new Vector<float>(max));
    public float Derivative(float x, float y) => y > min && y < max ? 1f : 0f;
}

/// <summary>x ≥ 0 ? x : αx; A = alpha.</summary>
public readonly struct LeakyReluOp(float alpha) : IUnaryOp<LeakyReluOp>, IVectorOp
{
    public static LeakyReluOp Create(UnaryParams p) => new(p.A);
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in LeakyReluOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => x >= 0 ? x : alpha * x;
    public Vector<float> Invoke(Vector<float> x) => Vector.ConditionalSelect(Vector.GreaterThanOrEqual(x, Vector<float>.Zero), x, x * alpha);
    public float Derivative(float x, float y) => y > 0 ? 1f : alpha;
}

/// <summary>1 / (1 + e^-x); the vector form is TensorPrimitives'.</summary>
public readonly struct SigmoidOp : IUnaryOp<SigmoidOp>
{
    public static SigmoidOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in SigmoidOp op, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sigmoid(x, y);
    public float Invoke(float x) => 1f / (1f + MathF.Exp(-x));
    public float Derivative(float x, float y) => y * (1 - y);
}

/// <summary>tanh(x); the vector form is TensorPrimitives'.</summary>
public readonly struct TanhOp : IUnaryOp<TanhOp>
{
    public static TanhOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in TanhOp op, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);
    public float Invoke(float x) => MathF.Tanh(x);
    public float Derivative(float x, float y) => 1 - y * y;
}

/// <summary>max(0, min(1, αx + β)); A = alpha, B = beta (ONNX HardSigmoid; MobileNetV3's squeeze-excite gate).</summary>
public readonly struct HardSigmoidOp(float alpha, float beta) : IUnaryOp<HardSigmoidOp>, IVectorOp
{
    public static HardSigmoidOp Create(UnaryParams p) => new(p.A, p.B);
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in HardSigmoidOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => MathF.Max(0, MathF.Min(1, alpha * x + beta));
    public Vector<float> Invoke(Vector<float> x) => Vector.Max(Vector<float>.Zero, Vector.Min(Vector<float>.One, x * alpha + new Vector<float>(beta)));
    public float Derivative(float x, float y) => alpha * x + beta is var v && v > 0 && v < 1 ? alpha : 0f;
}

/// <summary>x · max(0, min(1, x/6 + 1/2)) (ONNX HardSwish; MobileNetV3).</summary>
public readonly struct HardSwishOp : IUnaryOp<HardSwishOp>, IVectorOp
{
    const float Sixth = 1f / 6;
    public static HardSwishOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in HardSwishOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => x * MathF.Max(0, MathF.Min(1, x * Sixth + 0.5f));
    public Vector<float> Invoke(Vector<float> x) => x * Vector.Max(Vector<float>.Zero, Vector.Min(Vector<float>.One, x * Sixth + new Vector<float>(0.5f)));
    public float Derivative(float x, float y) => x <= -3 ? 0f : x >= 3 ? 1f : x / 3 + 0.5f;
}
