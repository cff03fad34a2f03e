using System.CommandLine;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Io;

namespace EdgeNet.Cli;

/// <summary>Arguments and helpers the subcommands share.</summary>
internal static class Options
{
    public static Argument<FileInfo> Model() => new("model") { Description = "EdgeNet model (.enet)" };
    public static Option<int> Batch() => new("--batch") { Description = "rows per inference call", DefaultValueFactory = _ => 64 };
    public static Option<bool> Reference() => new("--reference") { Description = "use the scalar reference kernels" };
    public static Option<int> Threads() => new("--threads") { Description = $"intra-op threads (this machine allows {IntraOpPool.Available})", DefaultValueFactory = _ => 1 };

    /// <summary>Loads a model for inference; with <paramref name="data"/>, the batch is clamped to its rows (a larger
    /// batch only sizes buffers for rows that do not exist).</summary>
    public static Session Open(FileInfo file, int batch, bool reference, int threads = 1, float[]? data = null)
    {
        if (batch < 1 || batch > ModelValidator.MaxBatchFactor) throw new UsageException($"--batch {batch} is outside 1..{ModelValidator.MaxBatchFactor}");
        if (threads < 1 || threads > IntraOpPool.Available) throw new UsageException($"--threads must be within 1..{IntraOpPool.Available} (the CPUs this process may use)");
        var model = ModelFile.Load(file.FullName);
        if (data is not null) batch = (int)Math.Clamp(data.Length / Math.Max(1, model.Input().Elements(1)), 1, batch);
        return new Session(model, batch, KernelOptions.Default with { Reference = reference, Threads = threads });
    }

    /// <summary>Values in one sample that `train --input-shape` accepts (4 MiB of float32; a 3x512x512 image fits).</summary>
    public const int MaxSampleValues = 1 << 20;

    /// <summary>`--input-shape` such as 64, 1x8x8 or 8x8: positive dims whose product is at most <see cref="MaxSampleValues"/>.</summary>
    public static int[] SampleShape(string? text)
    {
        var parts = (text ?? "").Split('x', ',');
        if (parts.Length > Shape.MaxRank - 1) throw new UsageException($"--input-shape '{text}' has more than {Shape.MaxRank - 1} dimensions");
        long values = 1;
        var dims = new int[parts.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out dims[i]) || dims[i] < 1)
                throw new UsageException($"--input-shape '{text}' is not like 64 or 1x8x8");
            values *= dims[i];
            if (values > MaxSampleValues) throw new UsageException($"--input-shape '{text}' has more than {MaxSampleValues} values per sample");
        }
        return dims;
    }

    public static float[] ReadFloats(FileInfo file, string what)
    {
        var npy = Npy.Read(file.FullName);
        return npy.Floats ?? throw new InvalidDataException($"{what} '{file.Name}' must hold float32 values");
    }

    public static long[] ReadLabels(FileInfo file)
    {
        var npy = Npy.Read(file.FullName);
        return npy.Longs ?? throw new InvalidDataException($"labels '{file.Name}' must hold integers (int64)");
    }
}
