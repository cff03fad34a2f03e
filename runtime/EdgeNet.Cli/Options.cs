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

    public static Session Open(FileInfo file, int batch, bool reference, int threads = 1)
    {
        if (batch < 1) throw new UsageException("--batch must be at least 1");
        if (threads < 1 || threads > IntraOpPool.Available) throw new UsageException($"--threads must be within 1..{IntraOpPool.Available} (the CPUs this process may use)");
        var model = ModelFile.Load(file.FullName);
        return new Session(model, batch, KernelOptions.Default with { Reference = reference, Threads = threads });
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
