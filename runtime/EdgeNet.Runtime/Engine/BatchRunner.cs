using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>Runs every row of a [N, ...] input through a session in batches and gathers the outputs.</summary>
public static class BatchRunner
{
    /// <summary>An output of all rows: its type, its exact shape and its raw little-endian bytes.</summary>
    public sealed record Result(DataType Type, int[] Shape, byte[] Bytes);

    /// <summary>
    /// Output <paramref name="output"/> over all rows of <paramref name="input"/> (flat [N, prod(sample)] or shaped; see
    /// <see cref="ModelData"/>). A batched output is gathered along its batch axis, wherever that is; a model with a fixed
    /// batch runs once per sample and its outputs are joined along their first axis (one sample: its exact shape).
    /// </summary>
    public static Result RunAllTyped(Session s, ReadOnlySpan<float> input, int output, out int rows)
    {
        if (s.InputType(0) != DataType.Float32) throw new ArgumentException($"input '{s.Model.Input().Name}' is {s.InputType(0)}; these rows are float32");
        long sample = s.InputSampleSize();
        if (sample <= 0 || input.Length == 0 || input.Length % sample != 0)
            throw new ArgumentException($"input has {input.Length} values, not a whole number of samples of {Shape.Format(s.Model.Input().Shape)} ({sample} values each)");
        int n0 = (int)(input.Length / sample);
        rows = n0;
        var t = s.Model.Output(output);
        int size = DataTypes.SizeOf(t.Type);
        int axis = Array.FindIndex(t.Shape, d => d < 0);
        int[] shape;
        long outer = 1, inner = size;   // in bytes: what precedes the batch axis, and one row of it with all that follows
        if (axis >= 0)
        {
            shape = t.Shape.Select(d => Shape.Resolve(d, n0)).ToArray();
            for (int d = 0; d < t.Shape.Length; d++) if (d < axis) outer *= t.Shape[d]; else inner *= Math.Abs(t.Shape[d]);
        }
        else
        {
            shape = rows == 1 ? t.Shape : t.Shape.Length == 0 ? [rows] : [checked(rows * t.Shape[0]), .. t.Shape[1..]];
            inner *= t.Elements(1);
        }
        var bytes = new byte[checked(rows * outer * inner)];
        for (int start = 0; start < rows; start += s.MaxBatch)
        {
            int n = Math.Min(s.MaxBatch, rows - start);
            input.Slice((int)(start * sample), (int)(n * sample)).CopyTo(s.Input(0, n));
            s.Run(n);
            var y = s.OutputBytes(output);
            long chunk = n * inner;
            for (long o = 0; o < outer; o++)
                y.Slice((int)(o * chunk), (int)chunk).CopyTo(bytes.AsSpan((int)(o * rows * inner + start * inner)));
        }
        return new Result(t.Type, shape, bytes);
    }

    /// <summary>Returns the output rows [N, per-sample output] as float32 (an int8 output dequantized); the input may be flat ([N, prod(sample)]) or shaped.</summary>
    public static float[] RunAll(Session s, ReadOnlySpan<float> input, out int rows)
    {
        var r = RunAllTyped(s, input, 0, out rows);
        var quant = s.Model.Output().Quant;
        return r.Type switch
        {
            DataType.Float32 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(r.Bytes).ToArray(),
            DataType.Int8 when quant is { Scale.Length: 1 } => r.Bytes.Select(b => Quant.QuantMath.Dequantize((sbyte)b, quant.Scale[0], quant.ZeroPoint[0])).ToArray(),
            _ => throw new ArgumentException($"output '{s.Model.Output().Name}' is {r.Type}; float32 or per-tensor int8 outputs give logits"),
        };
    }

    /// <summary>The index of the largest value (the first of equal ones): the decided class of a row of scores.</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }
}
