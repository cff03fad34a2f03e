using System.Runtime.Intrinsics;
using EdgeNet.Quant;

namespace EdgeNet.Kernels.Int8;

/// <summary>
/// Vectorized epilogues of the int8 GEMM: q = clamp(roundEven((acc + bias)·m) + zp). Each step is the same IEEE
/// operation as <see cref="QuantMath.Requantize"/>, so results are bit-identical to the scalar reference.
/// </summary>
public static unsafe class Requantize
{
    /// <summary>One output channel's row (Conv): the same bias and multiplier for all n accumulators.</summary>
    public static void Row(int* acc, int bias, float m, int zp, int lo, int hi, sbyte* dst, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vb = Vector256.Create(bias); var vm = Vector256.Create(m); var vz = Vector256.Create((float)zp);
            var vlo = Vector256.Create((float)lo); var vhi = Vector256.Create((float)hi);
            for (; i + 8 <= n; i += 8)
            {
                var f = Vector256.ConvertToSingle(Vector256.Load(acc + i) + vb) * vm;
                f = Vector256.Min(Vector256.Max(Vector256.Round(f) + vz, vlo), vhi);
                var q = Vector256.ConvertToInt32(f);
                Store8(q, dst + i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var vb = Vector128.Create(bias); var vm = Vector128.Create(m); var vz = Vector128.Create((float)zp);
            var vlo = Vector128.Create((float)lo); var vhi = Vector128.Create((float)hi);
            for (; i + 4 <= n; i += 4)
            {
                var f = Vector128.ConvertToSingle(Vector128.Load(acc + i) + vb) * vm;
                f = Vector128.Min(Vector128.Max(Vector128.Round(f) + vz, vlo), vhi);
                var q = Vector128.ConvertToInt32(f);
                dst[i] = (sbyte)q.GetElement(0); dst[i + 1] = (sbyte)q.GetElement(1); dst[i + 2] = (sbyte)q.GetElement(2); dst[i + 3] = (sbyte)q.GetElement(3);
            }
        }
        for (; i < n; i++) dst[i] = QuantMath.Requantize(acc[i] + bias, m, zp, lo, hi);
    }

    /// <summary>Like <see cref="Row"/> for accumulators held exactly as floats (the depthwise path): the same products.</summary>
    public static void RowFromFloat(float* acc, float m, int zp, int lo, int hi, sbyte* dst, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vm = Vector256.Create(m); var vz = Vector256.Create((float)zp);
            var vlo = Vector256.Create((float)lo); var vhi = Vector256.Create((float)hi);
            for (; i + 8 <= n; i += 8)
            {
                var f = Vector256.Min(Vector256.Max(Vector256.Round(Vector256.Load(acc + i) * vm) + vz, vlo), vhi);
                Store8(Vector256.ConvertToInt32(f), dst + i);
            }
        }
        for (; i < n; i++) dst[i] = QuantMath.Requantize((int)acc[i], m, zp, lo, hi);
    }

    /// <summary>Like <see cref="Columns"/> for accumulators (bias included) held exactly as floats: a channels-last depthwise pixel.</summary>
    public static void ColumnsFromFloat(float* acc, float* m, int zp, int lo, int hi, sbyte* dst, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vz = Vector256.Create((float)zp); var vlo = Vector256.Create((float)lo); var vhi = Vector256.Create((float)hi);
            for (; i + 8 <= n; i += 8)
            {
                var f = Vector256.Min(Vector256.Max(Vector256.Round(Vector256.Load(acc + i) * Vector256.Load(m + i)) + vz, vlo), vhi);
                Store8(Vector256.ConvertToInt32(f), dst + i);
            }
        }
        for (; i < n; i++) dst[i] = QuantMath.Requantize((int)acc[i], m[i], zp, lo, hi);
    }

    /// <summary><see cref="ColumnsFromFloat"/> over <paramref name="pixels"/> rows of C channels in one call.</summary>
    public static void PixelsFromFloat(float* acc, float* m, int zp, int lo, int hi, sbyte* dst, int pixels, int C)
    {
        if (!Vector256.IsHardwareAccelerated || C % 8 != 0)
        {
            for (long p = 0; p < pixels; p++) ColumnsFromFloat(acc + p * C, m, zp, lo, hi, dst + p * C, C);
            return;
        }
        var vz = Vector256.Create((float)zp); var vlo = Vector256.Create((float)lo); var vhi = Vector256.Create((float)hi);
        for (long p = 0; p < pixels; p++, acc += C, dst += C)
            for (int c = 0; c < C; c += 8)
            {
                var f = Vector256.Min(Vector256.Max(Vector256.Round(Vector256.Load(acc + c) * Vector256.Load(m + c)) + vz, vlo), vhi);
                Store8(Vector256.ConvertToInt32(f), dst + c);
            }
    }

    /// <summary>One row of a Dense output: per-column bias and multiplier.</summary>
    public static void Columns(int* acc, int* bias, float* m, int zp, int lo, int hi, sbyte* dst, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vz = Vector256.Create((float)zp); var vlo = Vector256.Create((float)lo); var vhi = Vector256.Create((float)hi);
            for (; i + 8 <= n; i += 8)
            {
                var f = Vector256.ConvertToSingle(Vector256.Load(acc + i) + Vector256.Load(bias + i)) * Vector256.Load(m + i);
                f = Vector256.Min(Vector256.Max(Vector256.Round(f) + vz, vlo), vhi);
                Store8(Vector256.ConvertToInt32(f), dst + i);
            }
        }
        for (; i < n; i++) dst[i] = QuantMath.Requantize(acc[i] + bias[i], m[i], zp, lo, hi);
    }

    static void Store8(Vector256<int> q, sbyte* d)
    {
        var s = Vector256.Narrow(q, q);                    // int32 → int16 (values already in −128..127)
        var b = Vector256.Narrow(s, s);                    // int16 → int8
        *(long*)d = b.AsInt64().GetElement(0);             // lanes 0..7 (Narrow keeps the order within the low half)
        // Vector256.Narrow concatenates the two inputs' lanes in order: [q0..q7, q0..q7] → int16, then int8.
    }
}
