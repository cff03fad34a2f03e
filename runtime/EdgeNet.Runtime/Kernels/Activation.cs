using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// An elementwise op fused into a Dense/Conv epilogue (attribute "activation" = the op's name in lower case, its
/// attributes prefixed "act_": act_alpha, act_min, act_max, ...), or a standalone elementwise node's op and values.
/// </summary>
internal readonly record struct Activation(UnaryOp? Op, UnaryParams Params = default)
{
    public static readonly Activation None = new(null);

    public static Activation FromAttributes(Attributes a, string node)
    {
        string name = a.String("activation", "none");
        if (name == "none") return None;
        var op = Engine.OpTable.FusableActivation(name) ?? throw new ModelFormatException($"node '{node}': unknown fused activation '{name}'");
        return new Activation(op, op.Read(a, "act_", node));
    }

    /// <summary>The op of a standalone elementwise node, with its attributes.</summary>
    public static Activation Of(Node n, UnaryOp op) => new(op, op.Read(n.Attributes, "", n.Name));

    public void WriteTo(Attributes a)
    {
        if (Op is null) return;
        a.Set("activation", Op.Name);
        Op.Write(a, "act_", Params);
    }

    /// <summary>The op's clamp, asked of it once: the int8 kernels' float outputs read it per element, and asking the
    /// op is a virtual call.</summary>
    readonly (float Min, float Max)? clamp = Op?.Clamp(Params);

    /// <summary>True for activations the GEMM epilogue applies in registers (a clamp); the others run over the output rows.</summary>
    public bool IsClamp => Op is null || clamp is not null;
    public float ClampMin => clamp?.Min ?? float.NegativeInfinity;
    public float ClampMax => clamp?.Max ?? float.PositiveInfinity;
    /// <summary>Training must keep the pre-activation values (the derivative reads the input, not only the output).</summary>
    public bool NeedsInput => Op is { DerivativeNeedsInput: true };

    /// <summary>Reference: one element.</summary>
    public float Scalar(float x) => Op is null ? x : Op.Scalar(x, Params);

    public void ApplyScalar(Span<float> x) => Op?.ApplyScalar(x, x, Params);

    /// <summary>Vectorized, in place.</summary>
    public void Apply(Span<float> x) => Op?.Apply(x, x, Params);

    /// <summary>Vectorized, in place on rows of <paramref name="width"/> floats <paramref name="stride"/> apart.</summary>
    public unsafe void ApplyRows(float* y, long rows, int width, long stride) => Op?.ApplyRows(y, rows, width, stride, Params);

    /// <summary>Vectorized, y = act(x) (x and y may be the same span).</summary>
    public void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        if (Op is not null) Op.Apply(x, y, Params);
        else if (x != y) x.CopyTo(y);
    }

    /// <summary>dz = dy ⊙ act'(x) (x: the input; the output y where the derivative needs only y).</summary>
    public void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
    {
        if (Op is null) dy.CopyTo(dz);
        else Op.Derivative(x, y, dy, dz, Params);
    }
}
