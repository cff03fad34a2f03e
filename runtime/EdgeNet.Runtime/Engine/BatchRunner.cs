using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>Runs every row of a [N, ...] input through a session in batches and gathers the outputs.</summary>
public static class BatchRunner
{
    /// <summary>Returns the output rows [N, per-sample output]; the input may be flat ([N, prod(sample)]) or shaped.</summary>
    public static float[] RunAll(Session s, ReadOnlySpan<float> input, out int rows)
    {
        long sample = s.InputSampleSize();
        if (sample <= 0 || input.Length == 0 || input.Length % sample != 0)
            throw new ArgumentException($"input has {input.Length} values, not a whole number of samples of {Shape.Format(s.Model.Input().Shape)} ({sample} values each)");
        rows = (int)(input.Length / sample);
        long outSample = s.OutputSampleSize();
        var output = new float[rows * outSample];
        for (int start = 0; start < rows; start += s.MaxBatch)
        {
            int n = Math.Min(s.MaxBatch, rows - start);
            input.Slice((int)(start * sample), (int)(n * sample)).CopyTo(s.Input(0, n));
            s.Run(n);
            s.Output(0).CopyTo(output.AsSpan((int)(start * outSample)));
        }
        return output;
    }

    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }
}
