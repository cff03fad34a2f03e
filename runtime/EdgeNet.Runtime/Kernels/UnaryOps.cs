using System.Numerics;
using System.Numerics.Tensors;

namespace EdgeNet.Kernels;

// The elementwise ops: forward (scalar and vector) and derivative side by side. Their table entries are in Engine/OpTable.

/// <summary>max(x, 0).</summary>
internal readonly struct ReluOp : IUnaryOp<ReluOp>, IVectorOp
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
internal readonly struct ClipOp(float min, float max) : IUnaryOp<ClipOp>, IVectorOp
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
internal readonly struct LeakyReluOp(float alpha) : IUnaryOp<LeakyReluOp>, IVectorOp
{
    public static LeakyReluOp Create(UnaryParams p) => new(p.A);
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in LeakyReluOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => x >= 0 ? x : alpha * x;
    public Vector<float> Invoke(Vector<float> x) => Vector.ConditionalSelect(Vector.GreaterThanOrEqual(x, Vector<float>.Zero), x, x * alpha);
    public float Derivative(float x, float y) => y > 0 ? 1f : alpha;
}

/// <summary>1 / (1 + e^-x); the vector form is <see cref="VectorSigmoid.Sigmoid(ReadOnlySpan{float}, Span{float})"/>
/// (EdgeNet's exp, inlined: TensorPrimitives.Sigmoid's exp was a call per vector under NativeAOT).</summary>
internal readonly struct SigmoidOp : IUnaryOp<SigmoidOp>
{
    public static SigmoidOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in SigmoidOp op, ReadOnlySpan<float> x, Span<float> y) => VectorSigmoid.Sigmoid(x, y);
    public float Invoke(float x) => 1f / (1f + MathF.Exp(-x));
    public float Derivative(float x, float y) => y * (1 - y);
}

/// <summary>tanh(x); the vector form is <see cref="VectorSigmoid.Tanh(ReadOnlySpan{float}, Span{float})"/> (the LSTM gates'
/// rational tanh; TensorPrimitives.Tanh took 4-6× as long, more under NativeAOT).</summary>
internal readonly struct TanhOp : IUnaryOp<TanhOp>
{
    public static TanhOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in TanhOp op, ReadOnlySpan<float> x, Span<float> y) => VectorSigmoid.Tanh(x, y);
    public float Invoke(float x) => MathF.Tanh(x);
    public float Derivative(float x, float y) => 1 - y * y;
}

/// <summary>max(0, min(1, αx + β)); A = alpha, B = beta (ONNX HardSigmoid; MobileNetV3's squeeze-excite gate).</summary>
internal readonly struct HardSigmoidOp(float alpha, float beta) : IUnaryOp<HardSigmoidOp>, IVectorOp
{
    public static HardSigmoidOp Create(UnaryParams p) => new(p.A, p.B);
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in HardSigmoidOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => MathF.Max(0, MathF.Min(1, alpha * x + beta));
    public Vector<float> Invoke(Vector<float> x) => Vector.Max(Vector<float>.Zero, Vector.Min(Vector<float>.One, x * alpha + new Vector<float>(beta)));
    public float Derivative(float x, float y) => alpha * x + beta is var v && v > 0 && v < 1 ? alpha : 0f;
}

/// <summary>x · max(0, min(1, x/6 + 1/2)) (ONNX HardSwish; MobileNetV3).</summary>
internal readonly struct HardSwishOp : IUnaryOp<HardSwishOp>, IVectorOp
{
    const float Sixth = 1f / 6;
    public static HardSwishOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in HardSwishOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => x * MathF.Max(0, MathF.Min(1, x * Sixth + 0.5f));
    public Vector<float> Invoke(Vector<float> x) => x * Vector.Max(Vector<float>.Zero, Vector.Min(Vector<float>.One, x * Sixth + new Vector<float>(0.5f)));
    public float Derivative(float x, float y) => x <= -3 ? 0f : x >= 3 ? 1f : x / 3 + 0.5f;
}

/// <summary>x · σ(αx); A = alpha (ONNX Swish; SiLU at α = 1: EfficientNet, YOLOv5/v8 write it as Mul(x, Sigmoid(x)),
/// which the converter rewrites to this op). The vector form is x·(½ + ½·tanh(αx/2)) with
/// <see cref="VectorSigmoid.Tanh(Vector{float})"/>, 16 lanes on AVX-512 (<see cref="VectorSigmoid.Swish(float, ReadOnlySpan{float}, Span{float})"/>).</summary>
internal readonly struct SwishOp(float alpha) : IUnaryOp<SwishOp>, IVectorOp
{
    public static SwishOp Create(UnaryParams p) => new(p.A);
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in SwishOp op, ReadOnlySpan<float> x, Span<float> y) => op.Apply(x, y);
    void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        if (VectorSigmoid.Wide) VectorSigmoid.Swish(alpha, x, y);
        else Elementwise.Map(this, x, y);
    }
    /// <summary>Rows in one loop each way (YOLOv5's C3 convs: SiLU on pixels of 16 or 32 channels inside a Concat's).</summary>
    public static unsafe void ApplyRows(in SwishOp op, float* y, long rows, int width, long stride)
    {
        if (VectorSigmoid.Wide) VectorSigmoid.SwishRows(op.Alpha, y, rows, width, stride);
        else Elementwise.MapRows(op, y, rows, width, stride);
    }
    float Alpha => alpha;
    public float Invoke(float x) => x / (1 + MathF.Exp(-alpha * x));
    public Vector<float> Invoke(Vector<float> x)
    {
        var h = x * new Vector<float>(0.5f);
        return Vector.FusedMultiplyAdd(h, VectorSigmoid.Tanh(h * alpha), h);
    }
    public float Derivative(float x, float y)
    {
        float s = 1 / (1 + MathF.Exp(-alpha * x));
        return s + alpha * x * s * (1 - s);
    }
}

/// <summary>|x|.</summary>
internal readonly struct AbsOp : IUnaryOp<AbsOp>, IVectorOp
{
    public static AbsOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in AbsOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => MathF.Abs(x);
    public Vector<float> Invoke(Vector<float> x) => Vector.Abs(x);
    public float Derivative(float x, float y) => x > 0 ? 1f : x < 0 ? -1f : 0f;
}

/// <summary>−x.</summary>
internal readonly struct NegOp : IUnaryOp<NegOp>, IVectorOp
{
    public static NegOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in NegOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => -x;
    public Vector<float> Invoke(Vector<float> x) => -x;
    public float Derivative(float x, float y) => -1f;
}

/// <summary>eˣ; the vector form is <see cref="VectorExp"/>.</summary>
internal readonly struct ExpOp : IUnaryOp<ExpOp>
{
    public static ExpOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in ExpOp op, ReadOnlySpan<float> x, Span<float> y) => VectorExp.Exp(x, y);
    public float Invoke(float x) => MathF.Exp(x);
    public float Derivative(float x, float y) => y;
}

/// <summary>ln x; the vector form is TensorPrimitives'.</summary>
internal readonly struct LogOp : IUnaryOp<LogOp>
{
    public static LogOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in LogOp op, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Log(x, y);
    public float Invoke(float x) => MathF.Log(x);
    public float Derivative(float x, float y) => 1 / x;
}

/// <summary>√x.</summary>
internal readonly struct SqrtOp : IUnaryOp<SqrtOp>, IVectorOp
{
    public static SqrtOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in SqrtOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => MathF.Sqrt(x);
    public Vector<float> Invoke(Vector<float> x) => Vector.SquareRoot(x);
    public float Derivative(float x, float y) => 0.5f / y;
}

/// <summary>1 / x.</summary>
internal readonly struct ReciprocalOp : IUnaryOp<ReciprocalOp>, IVectorOp
{
    public static ReciprocalOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in ReciprocalOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => 1 / x;
    public Vector<float> Invoke(Vector<float> x) => Vector<float>.One / x;
    public float Derivative(float x, float y) => -y * y;
}

/// <summary>erf(x), in double: its Maclaurin series for |x| &lt; 2.5, 1 − erfc by a continued fraction beyond (the
/// reference); the span form is <see cref="VectorErf"/> in float.</summary>
internal readonly struct ErfOp : IUnaryOp<ErfOp>
{
    public static ErfOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in ErfOp op, ReadOnlySpan<float> x, Span<float> y) => VectorErf.Erf(x, y);
    public float Invoke(float x) => (float)Erf(x);
    public float Derivative(float x, float y) => (float)(2 / Math.Sqrt(Math.PI) * Math.Exp(-(double)x * x));

    public static double Erf(double x)
    {
        double a = Math.Abs(x);
        if (double.IsNaN(x)) return x;
        if (a < 2.5)
        {
            // erf x = 2/√π · Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
            double term = x, sum = x, x2 = x * x;
            for (int n = 1; n < 60 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++) { term *= -x2 / n; sum += term / (2 * n + 1); }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        if (a > 6) return Math.Sign(x);
        // erfc a = e^(−a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + 2/(a + ...))))) (Lentz-free, evaluated from the tail)
        double f = a;
        for (int k = 60; k >= 1; k--) f = a + k / 2.0 / f;
        double erfc = Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
        return Math.Sign(x) * (1 - erfc);
    }
}

/// <summary>⌊x⌋ (gradient zero).</summary>
internal readonly struct FloorOp : IUnaryOp<FloorOp>, IVectorOp
{
    public static FloorOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in FloorOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => MathF.Floor(x);
    public Vector<float> Invoke(Vector<float> x) => Vector.Floor(x);
    public float Derivative(float x, float y) => 0f;
}

/// <summary>⌈x⌉ (gradient zero).</summary>
internal readonly struct CeilOp : IUnaryOp<CeilOp>, IVectorOp
{
    public static CeilOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in CeilOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => MathF.Ceiling(x);
    public Vector<float> Invoke(Vector<float> x) => Vector.Ceiling(x);
    public float Derivative(float x, float y) => 0f;
}

/// <summary>x rounded half to even (gradient zero).</summary>
internal readonly struct RoundOp : IUnaryOp<RoundOp>
{
    public static RoundOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in RoundOp op, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Round(x, y);
    public float Invoke(float x) => MathF.Round(x, MidpointRounding.ToEven);
    public float Derivative(float x, float y) => 0f;
}

/// <summary>sign(x): −1, 0 or 1 (gradient zero).</summary>
internal readonly struct SignOp : IUnaryOp<SignOp>
{
    public static SignOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in SignOp op, ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = op.Invoke(x[i]); }
    public float Invoke(float x) => x > 0 ? 1f : x < 0 ? -1f : x;
    public float Derivative(float x, float y) => 0f;
}

/// <summary>sin x; the vector form is TensorPrimitives'.</summary>
internal readonly struct SinOp : IUnaryOp<SinOp>
{
    public static SinOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in SinOp op, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sin(x, y);
    public float Invoke(float x) => MathF.Sin(x);
    public float Derivative(float x, float y) => MathF.Cos(x);
}
/// <summary>cos x; the vector form is TensorPrimitives'.</summary>
internal readonly struct CosOp : IUnaryOp<CosOp>
{
    public static CosOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in CosOp op, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Cos(x, y);
    public float Invoke(float x) => MathF.Cos(x);
    public float Derivative(float x, float y) => -MathF.Sin(x);
}
/// <summary>tan x; the vector form is TensorPrimitives'.</summary>
internal readonly struct TanOp : IUnaryOp<TanOp>
{
    public static TanOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => false;
    public static void Apply(in TanOp op, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tan(x, y);
    public float Invoke(float x) => MathF.Tan(x);
    public float Derivative(float x, float y) => 1 + y * y;
}
/// <summary>asin x; the vector form is TensorPrimitives'.</summary>
internal readonly struct AsinOp : IUnaryOp<AsinOp>
{
    public static AsinOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in AsinOp op, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Asin(x, y);
    public float Invoke(float x) => MathF.Asin(x);
    public float Derivative(float x, float y) => 1 / MathF.Sqrt(1 - x * x);
}
/// <summary>acos x; the vector form is TensorPrimitives'.</summary>
internal readonly struct AcosOp : IUnaryOp<AcosOp>
{
    public static AcosOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in AcosOp op, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Acos(x, y);
    public float Invoke(float x) => MathF.Acos(x);
    public float Derivative(float x, float y) => -1 / MathF.Sqrt(1 - x * x);
}
/// <summary>atan x; the vector form is TensorPrimitives'.</summary>
internal readonly struct AtanOp : IUnaryOp<AtanOp>
{
    public static AtanOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in AtanOp op, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Atan(x, y);
    public float Invoke(float x) => MathF.Atan(x);
    public float Derivative(float x, float y) => 1 / (1 + x * x);
}
/// <summary>sinh x; the vector form is TensorPrimitives'.</summary>
internal readonly struct SinhOp : IUnaryOp<SinhOp>
{
    public static SinhOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in SinhOp op, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sinh(x, y);
    public float Invoke(float x) => MathF.Sinh(x);
    public float Derivative(float x, float y) => MathF.Cosh(x);
}
/// <summary>cosh x; the vector form is TensorPrimitives'.</summary>
internal readonly struct CoshOp : IUnaryOp<CoshOp>
{
    public static CoshOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in CoshOp op, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Cosh(x, y);
    public float Invoke(float x) => MathF.Cosh(x);
    public float Derivative(float x, float y) => MathF.Sinh(x);
}
/// <summary>x &gt; 0 ? x : α(eˣ − 1); A = alpha.</summary>
internal readonly struct EluOp(float alpha) : IUnaryOp<EluOp>
{
    public static EluOp Create(UnaryParams p) => new(p.A);
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in EluOp op, ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = op.Invoke(x[i]); }
    public float Invoke(float x) => x > 0 ? x : alpha * (MathF.Exp(x) - 1);
    public float Derivative(float x, float y) => x > 0 ? 1f : alpha * MathF.Exp(x);
}

/// <summary>γ·(x &gt; 0 ? x : α(eˣ − 1)); A = alpha, B = gamma.</summary>
internal readonly struct SeluOp(float alpha, float gamma) : IUnaryOp<SeluOp>
{
    public static SeluOp Create(UnaryParams p) => new(p.A, p.B);
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in SeluOp op, ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = op.Invoke(x[i]); }
    public float Invoke(float x) => x > 0 ? gamma * x : gamma * alpha * (MathF.Exp(x) - 1);
    public float Derivative(float x, float y) => x > 0 ? gamma : gamma * alpha * MathF.Exp(x);
}

/// <summary>max(0, x) + min(0, α(e^(x/α) − 1)); A = alpha.</summary>
internal readonly struct CeluOp(float alpha) : IUnaryOp<CeluOp>
{
    public static CeluOp Create(UnaryParams p) => new(p.A);
    public static bool DerivativeNeedsInput => true;
    public static string? Check(UnaryParams p) => p.A != 0 ? null : "alpha must not be 0";
    public static void Apply(in CeluOp op, ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = op.Invoke(x[i]); }
    public float Invoke(float x) => MathF.Max(0, x) + MathF.Min(0, alpha * (MathF.Exp(x / alpha) - 1));
    public float Derivative(float x, float y) => x > 0 ? 1f : MathF.Exp(x / alpha);
}

/// <summary>ln(1 + eˣ), without overflow.</summary>
internal readonly struct SoftplusOp : IUnaryOp<SoftplusOp>
{
    public static SoftplusOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in SoftplusOp op, ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = op.Invoke(x[i]); }
    public float Invoke(float x) => x > 0 ? x + MathF.Log(1 + MathF.Exp(-x)) : MathF.Log(1 + MathF.Exp(x));
    public float Derivative(float x, float y) => 1f / (1f + MathF.Exp(-x));
}

/// <summary>x / (1 + |x|).</summary>
internal readonly struct SoftsignOp : IUnaryOp<SoftsignOp>, IVectorOp
{
    public static SoftsignOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in SoftsignOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => x / (1 + MathF.Abs(x));
    public Vector<float> Invoke(Vector<float> x) => x / (Vector<float>.One + Vector.Abs(x));
    public float Derivative(float x, float y) => 1 / ((1 + MathF.Abs(x)) * (1 + MathF.Abs(x)));
}

/// <summary>x · tanh(softplus(x)).</summary>
internal readonly struct MishOp : IUnaryOp<MishOp>
{
    public static MishOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in MishOp op, ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = op.Invoke(x[i]); }
    public float Invoke(float x) => x * MathF.Tanh(default(SoftplusOp).Invoke(x));
    public float Derivative(float x, float y)
    {
        float t = MathF.Tanh(default(SoftplusOp).Invoke(x));
        return t + x * (1 - t * t) / (1 + MathF.Exp(-x));
    }
}

/// <summary>x &gt; α ? x : 0; A = alpha.</summary>
internal readonly struct ThresholdedReluOp(float alpha) : IUnaryOp<ThresholdedReluOp>, IVectorOp
{
    public static ThresholdedReluOp Create(UnaryParams p) => new(p.A);
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in ThresholdedReluOp op, ReadOnlySpan<float> x, Span<float> y) => Elementwise.Map(op, x, y);
    public float Invoke(float x) => x > alpha ? x : 0;
    public Vector<float> Invoke(Vector<float> x) => Vector.ConditionalSelect(Vector.GreaterThan(x, new Vector<float>(alpha)), x, Vector<float>.Zero);
    public float Derivative(float x, float y) => x > alpha ? 1f : 0f;
}

/// <summary>x &lt; −λ ? x + bias : x &gt; λ ? x − bias : 0; A = bias, B = lambd.</summary>
internal readonly struct ShrinkOp(float bias, float lambd) : IUnaryOp<ShrinkOp>
{
    public static ShrinkOp Create(UnaryParams p) => new(p.A, p.B);
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in ShrinkOp op, ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = op.Invoke(x[i]); }
    public float Invoke(float x) => x < -lambd ? x + bias : x > lambd ? x - bias : 0;
    public float Derivative(float x, float y) => x < -lambd || x > lambd ? 1f : 0f;
}

/// <summary>x · Φ(x) = x/2 · (1 + erf(x/√2)) (ONNX Gelu, approximate = "none"; opset 20); the vector form in float
/// through <see cref="VectorErf"/>.</summary>
internal readonly struct GeluOp : IUnaryOp<GeluOp>
{
    public static GeluOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in GeluOp op, ReadOnlySpan<float> x, Span<float> y) => VectorErf.Gelu(x, y);
    public float Invoke(float x) => (float)(0.5 * x * (1 + ErfOp.Erf(x / Math.Sqrt(2))));
    public float Derivative(float x, float y) => (float)(0.5 * (1 + ErfOp.Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * (double)x * x) / Math.Sqrt(2 * Math.PI));
}

/// <summary>Gelu with approximate = "tanh": ½x(1 + tanh(√(2/π)(x + 0.044715x³))), in double.</summary>
internal readonly struct GeluTanhOp : IUnaryOp<GeluTanhOp>
{
    const double C = 0.7978845608028654;   // √(2/π)
    public static GeluTanhOp Create(UnaryParams p) => default;
    public static bool DerivativeNeedsInput => true;
    public static void Apply(in GeluTanhOp op, ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = op.Invoke(x[i]); }
    public float Invoke(float x) => (float)(0.5 * x * (1 + Math.Tanh(C * (x + 0.044715 * x * (double)x * x))));
    public float Derivative(float x, float y)
    {
        double t = Math.Tanh(C * (x + 0.044715 * x * (double)x * x));
        return (float)(0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * 0.044715 * x * (double)x));
    }
}
