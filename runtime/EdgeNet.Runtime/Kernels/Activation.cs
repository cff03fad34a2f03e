using System.Numerics.Tensors;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

public enum ActivationKind : byte { None, Relu, Clip, LeakyRelu, Sigmoid, Tanh }

/// <summary>An activation fused into a Dense/Conv epilogue (attribute "activation" with "act_alpha", "act_min", "act_max").</summary>
public readonly record struct Activation(ActivationKind Kind, float Alpha = 0f, float Min = float.NegativeInfinity, float Max = float.PositiveInfinity)
{
    public static readonly Activation None = new(ActivationKind.None);

    public static Activation FromAttributes(Attributes a, string node)
    {
        var kind = a.String("activation", "none") switch
        {
            "none" => ActivationKind.None,
            "relu" => ActivationKind.Relu,
            "clip" => ActivationKind.Clip,
            "leakyrelu" => ActivationKind.LeakyRelu,
            "sigmoid" => ActivationKind.Sigmoid,
            "tanh" => ActivationKind.Tanh,
            var s => throw new ModelFormatException($"node '{node}': unknown fused activation '{s}'"),
        };
        var act = new Activation(kind, a.Float("act_alpha", 0.01f), a.Float("act_min", float.NegativeInfinity), a.Float("act_max", float.PositiveInfinity));
        if (kind == ActivationKind.Clip && !(act.Min <= act.Max)) throw new ModelFormatException($"node '{node}': clip min {act.Min} > max {act.Max}");
        return act;
    }

    public void WriteTo(Attributes a)
    {
        if (Kind == ActivationKind.None) return;
        a.Set("activation", Kind.ToString().ToLowerInvariant());
        if (Kind == ActivationKind.LeakyRelu) a.Set("act_alpha", Alpha);
        if (Kind == ActivationKind.Clip) { a.Set("act_min", Min); a.Set("act_max", Max); }
    }

    /// <summary>True for activations the GEMM epilogue applies in registers (a clamp); the others run over the output rows.</summary>
    public bool IsClamp => Kind is ActivationKind.None or ActivationKind.Relu or ActivationKind.Clip;
    public float ClampMin => Kind switch { ActivationKind.Relu => 0f, ActivationKind.Clip => Min, _ => float.NegativeInfinity };
    public float ClampMax => Kind == ActivationKind.Clip ? Max : float.PositiveInfinity;

    /// <summary>Reference: one element.</summary>
    public float Scalar(float x) => Kind switch
    {
        ActivationKind.None => x,
        ActivationKind.Relu => x > 0 ? x : 0,
        ActivationKind.Clip => MathF.Min(MathF.Max(x, Min), Max),
        ActivationKind.LeakyRelu => x >= 0 ? x : Alpha * x,
        ActivationKind.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        ActivationKind.Tanh => MathF.Tanh(x),
        _ => x,
    };

    public void ApplyScalar(Span<float> x) { for (int i = 0; i < x.Length; i++) x[i] = Scalar(x[i]); }

    /// <summary>Vectorized (TensorPrimitives) over a span, in place.</summary>
    public void Apply(Span<float> x)
    {
        switch (Kind)
        {
            case ActivationKind.Relu: TensorPrimitives.Max(x, 0f, x); break;
            case ActivationKind.Clip: TensorPrimitives.Clamp(x, Min, Max, x); break;
            case ActivationKind.LeakyRelu: LeakyRelu(x, Alpha); break;
            case ActivationKind.Sigmoid: TensorPrimitives.Sigmoid(x, x); break;
            case ActivationKind.Tanh: TensorPrimitives.Tanh(x, x); break;
        }
    }

    static void LeakyRelu(Span<float> x, float alpha)
    {
        int i = 0;
        if (alpha >= 0 && alpha <= 1 && System.Numerics.Vector.IsHardwareAccelerated)
        {
            // max(x, αx) equals leaky ReLU for 0 ≤ α ≤ 1: no branch per element.
            var va = new System.Numerics.Vector<float>(alpha);
            var vs = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(x);
            for (int v = 0; v < vs.Length; v++) vs[v] = System.Numerics.Vector.Max(vs[v], vs[v] * va);
            i = vs.Length * System.Numerics.Vector<float>.Count;
        }
        for (; i < x.Length; i++) x[i] = x[i] >= 0 ? x[i] : alpha * x[i];
    }
}
