using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels.Int8;

/// <summary>Checks and reads the quantization parameters int8 kernels rely on.</summary>
internal static class Int8Tensor
{
    /// <summary>(scale, zero point) of a per-tensor int8 activation.</summary>
    public static (float scale, int zp) PerTensor(Kernel k, Model m, int t, string role)
    {
        var d = m.Tensors[t];
        if (d.Type != DataType.Int8) throw new ModelFormatException($"node '{k.Node.Name}' ({k.Node.Op}): {role} '{d.Name}' is {d.Type}, expected int8");
        if (d.Quant is not { } q || q.Scale.Length != 1) throw new ModelFormatException($"node '{k.Node.Name}' ({k.Node.Op}): {role} '{d.Name}' needs one (per-tensor) scale and zero point");
        if (q.ZeroPoint[0] is < -128 or > 127) throw new ModelFormatException($"node '{k.Node.Name}': zero point {q.ZeroPoint[0]} of '{d.Name}' is outside int8");
        return (q.Scale[0], q.ZeroPoint[0]);
    }

    /// <summary>Symmetric per-channel (or per-tensor) int8 weights with zero points 0; scales per output channel.</summary>
    public static (sbyte[] w, float[] scales) Weights(Kernel k, Model m, int t, int channels)
    {
        var d = m.Tensors[t];
        if (d.Type != DataType.Int8 || !d.IsConstant) throw new ModelFormatException($"node '{k.Node.Name}' ({k.Node.Op}): weight '{d.Name}' must be an int8 constant");
        if (d.Quant is not { } q || q.ZeroPoint.Any(z => z != 0) || (q.Scale.Length != 1 && (q.Scale.Length != channels || q.Axis != 0)))
            throw new ModelFormatException($"node '{k.Node.Name}' ({k.Node.Op}): weight '{d.Name}' must be symmetric int8 (zero point 0), per tensor or per output channel");
        var w = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(d.Data!.Value.Span).ToArray();
        var scales = q.Scale.Length == 1 ? Enumerable.Repeat(q.Scale[0], channels).ToArray() : q.Scale;
        return (w, scales);
    }

    /// <summary>An int32 bias (at scale s_x·s_w), or zeros.</summary>
    public static int[] Bias(Kernel k, Model m, Node n, int slot, int channels)
    {
        if (n.Inputs.Length <= slot || n.Inputs[slot] < 0) return new int[channels];
        var d = m.Tensors[n.Inputs[slot]];
        if (d.Type != DataType.Int32 || !d.IsConstant) throw new ModelFormatException($"node '{n.Name}' ({n.Op}): bias '{d.Name}' must be an int32 constant");
        var b = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(d.Data!.Value.Span).ToArray();
        if (b.Length != channels) throw new ModelFormatException($"node '{n.Name}': bias has {b.Length} values for {channels} channels");
        return b;
    }

    /// <summary>
    /// Per output channel c of weights [channels, k]: b_c − zp·Σw_c (the activations' zero point, plus VNNI's +128
    /// shift, folded into the bias), and in <paramref name="maxSum"/> the largest |b_c| + 255·Σ|w_c| — the bound on a
    /// sum that decides whether fp32 can carry it exactly (&lt; 2^24).
    /// </summary>
    public static int[] FoldZeroPoint(ReadOnlySpan<sbyte> w, int[] bias, int k, long zp, out long maxSum)
    {
        var folded = new int[bias.Length];
        maxSum = 0;
        for (int c = 0; c < bias.Length; c++)
        {
            long sum = 0, abs = 0;
            for (int i = 0; i < k; i++) { sum += w[c * k + i]; abs += Math.Abs((int)w[c * k + i]); }
            folded[c] = checked((int)(bias[c] - zp * sum));
            maxSum = Math.Max(maxSum, Math.Abs((long)bias[c]) + 255 * abs);
        }
        return folded;
    }

    /// <summary>How an int8 layer's int32 sums become its output: int8, requantized by s_x·s_w/s_y and clamped to the
    /// fused activation's range, or fp32, dequantized by s_x·s_w.</summary>
    public readonly record struct OutputScale(bool IntOut, float[] Multiplier, int Zp, int Lo, int Hi);

    public static OutputScale Output(Kernel k, Model m, int y, Activation act, float sx, float[] sw)
    {
        var mult = new float[sw.Length];
        if (m.Tensors[y].Type != DataType.Int8)
        {
            for (int i = 0; i < mult.Length; i++) mult[i] = sx * sw[i];
            return new(false, mult, 0, 0, 0);
        }
        var (sy, zy) = PerTensor(k, m, y, "output");
        var (lo, hi) = Clamp(k, act, sy, zy);
        for (int i = 0; i < mult.Length; i++) mult[i] = sx * sw[i] / sy;
        return new(true, mult, zy, lo, hi);
    }

    /// <summary>The clamp range in the output's quantized domain for a fused Relu/Clip (others are not fusable in int8).</summary>
    public static (int lo, int hi) Clamp(Kernel k, Activation act, float scale, int zp)
    {
        if (!act.IsClamp)
            throw new ModelFormatException($"node '{k.Node.Name}': an int8 output can fuse only Relu or Clip, not {act.Op!.Op}");
        int lo = Quant.QuantMath.Min, hi = Quant.QuantMath.Max;
        if (float.IsFinite(act.ClampMin)) lo = Math.Max(lo, Quant.QuantMath.Quantize(act.ClampMin, scale, zp));
        if (float.IsFinite(act.ClampMax)) hi = Math.Min(hi, Quant.QuantMath.Quantize(act.ClampMax, scale, zp));
        return (lo, hi);
    }
}
