using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace EdgeNet.Kernels;

/// <summary>
/// A broadcasting binary op: its scalar formula (the reference), its span forms (span∘span, span∘scalar,
/// scalar∘span, which <see cref="BinaryKernel{T}"/> hands each innermost run to), and its gradient beside them.
/// </summary>
internal interface IBinaryOp
{
    static abstract float Invoke(float a, float b);
    static abstract void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);
    static abstract void Apply(ReadOnlySpan<float> a, float b, Span<float> y);
    static abstract void Apply(float a, ReadOnlySpan<float> b, Span<float> y);
    /// <summary>The gradients of a and b for output gradient g.</summary>
    static abstract (float A, float B) Gradient(float g, float a, float b);
    /// <summary>The formula on integers (<see cref="IntegerBinaryKernel{TOp}"/>: ids, indices, shapes), where the op has one.</summary>
    static virtual T Integer<T>(T a, T b) where T : System.Numerics.IBinaryInteger<T> => throw new NotSupportedException();
    static virtual bool HasInteger => false;
    /// <summary>True for the ops that are one vector instruction (Add, Sub, Mul, Div): <see cref="BinaryKernel{T}"/> runs
    /// their broadcast rows (an SE gate's [H·W, C] × [C]) in its own loop over these forms rather than one TensorPrimitives
    /// call per row, whose wrappers NativeAOT does not inline. Lane by lane the same IEEE operation as the scalar formula.</summary>
    static virtual bool HasVector => false;
    static virtual Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => throw new NotSupportedException();
    static virtual Vector<float> Invoke(Vector<float> a, Vector<float> b) => throw new NotSupportedException();
}

/// <summary>Span forms of ops without a TensorPrimitives routine: the scalar formula in a loop.</summary>
internal static class BinaryLoops
{
    public static void Map<T>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where T : IBinaryOp { for (int i = 0; i < y.Length; i++) y[i] = T.Invoke(a[i], b[i]); }
    public static void Map<T>(ReadOnlySpan<float> a, float b, Span<float> y) where T : IBinaryOp { for (int i = 0; i < y.Length; i++) y[i] = T.Invoke(a[i], b); }
    public static void Map<T>(float a, ReadOnlySpan<float> b, Span<float> y) where T : IBinaryOp { for (int i = 0; i < y.Length; i++) y[i] = T.Invoke(a, b[i]); }
}

internal struct AddOp : IBinaryOp
{
    public static float Invoke(float a, float b) => a + b;
    public static bool HasVector => true;
    public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a + b;
    public static Vector<float> Invoke(Vector<float> a, Vector<float> b) => a + b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Add(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(b, a, y);
    public static (float A, float B) Gradient(float g, float a, float b) => (g, g);
    public static T Integer<T>(T a, T b) where T : System.Numerics.IBinaryInteger<T> => a + b;
    public static bool HasInteger => true;
}

internal struct SubOp : IBinaryOp
{
    public static float Invoke(float a, float b) => a - b;
    public static bool HasVector => true;
    public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a - b;
    public static Vector<float> Invoke(Vector<float> a, Vector<float> b) => a - b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
    public static (float A, float B) Gradient(float g, float a, float b) => (g, -g);
    public static T Integer<T>(T a, T b) where T : System.Numerics.IBinaryInteger<T> => a - b;
    public static bool HasInteger => true;
}

internal struct MulOp : IBinaryOp
{
    public static float Invoke(float a, float b) => a * b;
    public static bool HasVector => true;
    public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a * b;
    public static Vector<float> Invoke(Vector<float> a, Vector<float> b) => a * b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(b, a, y);
    public static (float A, float B) Gradient(float g, float a, float b) => (g * b, g * a);
    public static T Integer<T>(T a, T b) where T : System.Numerics.IBinaryInteger<T> => a * b;
    public static bool HasInteger => true;
}

internal struct DivOp : IBinaryOp
{
    public static float Invoke(float a, float b) => a / b;
    public static bool HasVector => true;
    public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a / b;
    public static Vector<float> Invoke(Vector<float> a, Vector<float> b) => a / b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
    public static (float A, float B) Gradient(float g, float a, float b) => (g / b, -(g * a / (b * b)));
    public static T Integer<T>(T a, T b) where T : System.Numerics.IBinaryInteger<T> => IntegerMath.Div(a, b);
    public static bool HasInteger => true;
}

/// <summary>aᵇ.</summary>
internal struct PowOp : IBinaryOp
{
    public static float Invoke(float a, float b) => MathF.Pow(a, b);
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Pow(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) { if (b == 2) TensorPrimitives.Multiply(a, a, y); else TensorPrimitives.Pow(a, b, y); }
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Pow(a, b, y);
    public static (float A, float B) Gradient(float g, float a, float b) => (g * b * MathF.Pow(a, b - 1), a > 0 ? g * MathF.Pow(a, b) * MathF.Log(a) : 0);
    public static T Integer<T>(T a, T b) where T : System.Numerics.IBinaryInteger<T> => IntegerMath.Pow(a, b);
    public static bool HasInteger => true;
}

/// <summary>max(a, b), NaN if either is (numpy's maximum); the gradient goes to the larger (a on ties).</summary>
internal struct MaxOp : IBinaryOp
{
    public static float Invoke(float a, float b) => MathF.Max(a, b);
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Max(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Max(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Max(b, a, y);
    public static (float A, float B) Gradient(float g, float a, float b) => a >= b ? (g, 0) : (0, g);
    public static T Integer<T>(T a, T b) where T : System.Numerics.IBinaryInteger<T> => T.Max(a, b);
    public static bool HasInteger => true;
}

/// <summary>min(a, b), NaN if either is; the gradient goes to the smaller (a on ties).</summary>
internal struct MinOp : IBinaryOp
{
    public static float Invoke(float a, float b) => MathF.Min(a, b);
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Min(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Min(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Min(b, a, y);
    public static (float A, float B) Gradient(float g, float a, float b) => a <= b ? (g, 0) : (0, g);
    public static T Integer<T>(T a, T b) where T : System.Numerics.IBinaryInteger<T> => T.Min(a, b);
    public static bool HasInteger => true;
}

/// <summary>fmod(a, b): the remainder with a's sign (ONNX Mod with fmod = 1, the only form for floats).</summary>
internal struct ModOp : IBinaryOp
{
    public static float Invoke(float a, float b) => a % b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => BinaryLoops.Map<ModOp>(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => BinaryLoops.Map<ModOp>(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => BinaryLoops.Map<ModOp>(a, b, y);
    public static (float A, float B) Gradient(float g, float a, float b) => (g, -g * MathF.Truncate(a / b));
    public static T Integer<T>(T a, T b) where T : System.Numerics.IBinaryInteger<T> => IntegerMath.Rem(a, b);
    public static bool HasInteger => true;
}

/// <summary>a &lt; 0 ? b·a : a, slope b broadcast to a (ONNX PRelu).</summary>
internal struct PReluOp : IBinaryOp
{
    public static float Invoke(float a, float b) => a < 0 ? b * a : a;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => BinaryLoops.Map<PReluOp>(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => BinaryLoops.Map<PReluOp>(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => BinaryLoops.Map<PReluOp>(a, b, y);
    public static (float A, float B) Gradient(float g, float a, float b) => a < 0 ? (g * b, g * a) : (g, 0);
    public static T Integer<T>(T a, T b) where T : System.Numerics.IBinaryInteger<T> => T.IsNegative(a) ? b * a : a;
    public static bool HasInteger => true;
}
