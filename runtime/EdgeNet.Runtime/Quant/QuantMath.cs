using System.Runtime.CompilerServices;

namespace EdgeNet.Quant;

/// <summary>
/// The one place where EdgeNet's int8 arithmetic is defined (docs/quantization.md), used by the quantizer, the
/// reference kernels and the vectorized kernels alike, so that they agree bit for bit:
/// quantize q = sat(roundEven(x / s) + zp); dequantize x = (q - zp)·s; requantize an int32 accumulator with the
/// float multiplier m = s_in·s_w / s_out as q = sat(roundEven(acc·m) + zp) — ONNX Runtime's formulas.
/// </summary>
internal static class QuantMath
{
    public const int Min = -128, Max = 127;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static sbyte Quantize(float x, float scale, int zeroPoint, int lo = Min, int hi = Max)
    {
        float v = MathF.Round(x / scale) + zeroPoint;   // MathF.Round rounds half to even
        return Saturate(v, lo, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dequantize(int q, float scale, int zeroPoint) => (q - zeroPoint) * scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static sbyte Requantize(int acc, float multiplier, int zeroPoint, int lo = Min, int hi = Max)
    {
        float v = MathF.Round(acc * multiplier) + zeroPoint;
        return Saturate(v, lo, hi);
    }

    /// <summary>Clamps to [lo, hi]; NaN goes to hi on every machine (a bare float→int cast of NaN differs by CPU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static sbyte Saturate(float v, int lo, int hi) => (sbyte)(float.IsNaN(v) || v >= hi ? hi : v <= lo ? lo : (int)v);

    /// <summary>Symmetric per-channel int8 weights: scale = max|w| / 127 per output channel (rows of <paramref name="w"/>).</summary>
    public static (sbyte[] q, float[] scales) QuantizeWeights(ReadOnlySpan<float> w, int channels)
    {
        int per = w.Length / channels;
        var q = new sbyte[w.Length]; var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            float max = 0;
            for (int i = 0; i < per; i++) max = Math.Max(max, Math.Abs(w[c * per + i]));
            float s = max > 0 ? max / 127f : 1f;
            scales[c] = s;
            for (int i = 0; i < per; i++) q[c * per + i] = Quantize(w[c * per + i], s, 0, -127, 127);
        }
        return (q, scales);
    }

    /// <summary>Asymmetric int8 activation parameters covering [min, max] (widened to include 0, as ONNX Runtime does).</summary>
    public static (float scale, int zeroPoint) ActivationParams(float min, float max)
    {
        min = Math.Min(min, 0); max = Math.Max(max, 0);
        float scale = (max - min) / 255f;
        if (!(scale > 0) || !float.IsFinite(scale)) return (1f, 0);
        int zp = (int)MathF.Round(Min - min / scale);
        return (scale, Math.Clamp(zp, Min, Max));
    }
}
