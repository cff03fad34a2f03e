using EdgeNet.Format;
using EdgeNet.Io;

namespace EdgeNet.Engine;

/// <summary>
/// The one rule for data files given to a model (run, eval, finetune, train, calibration): samples come in the model
/// input's exact shape with N in place of the batch, [N, ...sample], or flat, [N, features]; nothing else. A model with
/// a fixed first dimension d takes N = k·d rows (k runs). Labels are one class index per row: [N].
/// </summary>
public static class ModelData
{
    /// <summary>Reads float32 samples for <paramref name="input"/>; returns them flat and their row count N.</summary>
    public static (float[] x, int rows) ReadSamples(string path, TensorDesc input, string what)
    {
        var npy = Npy.Read(path);
        int rows = Rows(npy.Shape, input, $"{what} '{Path.GetFileName(path)}'");
        return (npy.Floats ?? throw new InvalidDataException($"{what} '{Path.GetFileName(path)}' must hold float32 values"), rows);
    }

    /// <summary>Reads one integer class index per row, [<paramref name="rows"/>].</summary>
    public static long[] ReadLabels(string path, int rows, string what)
    {
        var npy = Npy.Read(path);
        string name = $"{what} '{Path.GetFileName(path)}'";
        if (npy.Shape.Length != 1) throw new InvalidDataException($"{name} has shape {Format(npy.Shape)}; labels are one class index per row, [N]");
        if (npy.Shape[0] != rows) throw new InvalidDataException($"{name} holds {npy.Shape[0]} labels for {rows} rows");
        return npy.Longs ?? throw new InvalidDataException($"{name} must hold integers (int64)");
    }

    /// <summary>N for data of shape <paramref name="file"/>, or one line that says which shapes the model takes.</summary>
    public static int Rows(int[] file, TensorDesc input, string what)
    {
        var t = input.Shape;
        if (t.Length == 0 || t.Skip(1).Any(d => d < 0))
            throw new InvalidDataException($"{what}: the model's input {Shape.Format(t)} does not have its batch first; data files are [N, ...] rows");
        var sample = t[1..];
        long features = 1;
        foreach (var d in sample) features *= d;
        int unit = t[0] < 0 ? -t[0] : t[0];   // rows per run: the batch's multiple, or the fixed first dimension
        bool exact = file.Length == t.Length && file.AsSpan(1).SequenceEqual(sample);
        bool flat = file.Length == 2 && file[1] == features;
        string flatForm = sample.Length == 1 ? "" : $" or flat [N,{features}]";
        string rowsNote = unit > 1 ? $" (N a multiple of {unit})" : "";
        if ((exact || flat) && file[0] == 0) throw new InvalidDataException($"{what} holds no rows");
        if (!(exact || flat) || file[0] % unit != 0)
        {
            long total = 1;
            foreach (var d in file) total *= d;
            string whole = total % (features * unit) != 0 ? ", not a whole number of samples" : "";
            throw new InvalidDataException($"{what} has shape {Format(file)}{whole}; the model takes [N{string.Concat(sample.Select(d => "," + d))}]{flatForm}{rowsNote}");
        }
        return file[0];
    }

    static string Format(int[] shape) => "[" + string.Join(",", shape) + "]";
}
