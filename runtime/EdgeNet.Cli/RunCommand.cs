using System.CommandLine;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Io;

namespace EdgeNet.Cli;

/// <summary>edgenet run MODEL --input X.npy --output Y.npy: batch inference.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = Options.Model();
        var input = Options.InputFile(new Option<FileInfo>("--input", "-i") { Description = "float32 .npy: [N, ...input shape] or flat [N, features]", Required = true });
        var output = Options.OutputFile(new Option<FileInfo>("--output", "-o") { Description = ".npy to write: the model's output over all N rows, in its own type and shape", Required = true });
        var batch = Options.Batch(); var reference = Options.Reference();
        var threads = Options.Threads();
        var cmd = new Command("run", "run a model on every row of an .npy file") { model, input, output, batch, reference, threads };
        cmd.SetAction(r => CommandGuard.Guard(() =>
        {
            var m = Options.Load(r.GetValue(model)!);
            var (x, rows) = Options.ReadSamples(r.GetValue(input)!, m.Input(), "input");
            using var s = Options.Open(m, r.GetValue(batch), r.GetValue(reference), r.GetValue(threads), x);
            var y = BatchRunner.RunAllTyped(s, x, 0, out _);
            int nonFinite = 0;
            if (y.Type == DataType.Float32)
                foreach (var v in System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(y.Bytes)) if (!float.IsFinite(v)) nonFinite++;
            AtomicFile.Write(r.GetValue(output)!.FullName, Npy.Serialize(y.Bytes, NpyType(y.Type), y.Shape));
            Console.WriteLine($"wrote {rows} rows to {r.GetValue(output)!.Name}: {y.Type} {Shape.Format(y.Shape)}");
            if (nonFinite > 0) Console.Error.WriteLine($"warning: {nonFinite} output values are NaN or infinite (check the input for NaN/Inf)");
            return 0;
        }));
        return cmd;
    }

    /// <summary>NumPy's name of an EdgeNet element type.</summary>
    static string NpyType(DataType t) => t switch
    {
        DataType.Float32 => "<f4", DataType.Int8 => "|i1", DataType.UInt8 => "|u1", DataType.Int16 => "<i2", DataType.Int32 => "<i4", DataType.Int64 => "<i8",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };
}
