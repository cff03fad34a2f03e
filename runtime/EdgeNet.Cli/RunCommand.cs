using System.CommandLine;
using System.Numerics;
using System.Runtime.InteropServices;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Io;

namespace EdgeNet.Cli;

/// <summary>edgenet run MODEL --input [NAME=]X.npy … (--output Y.npy | --output-dir DIR): batch inference over every
/// graph input and output.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = Options.Model();
        var input = new Option<string[]>("--input", "-i")
        {
            Description = "[NAME=]X.npy, once per graph input (without NAME=, the first): [N, ...input shape] or flat [N, features] rows, or an input's exact shape where it has no batch; in the input's dtype (float64 and other integer widths convert with a note)",
            Required = true,
        };
        var output = Options.OutputFile(new Option<FileInfo?>("--output", "-o") { Description = ".npy to write the first output to, over all N rows, in its own type and shape" });
        var outputDir = new Option<DirectoryInfo?>("--output-dir") { Description = "folder to write every output k to, as <k>_<name>.npy (characters outside [A-Za-z0-9._-] replaced by _)" };
        var batch = Options.Batch(); var reference = Options.Reference();
        var threads = Options.Threads();
        var cmd = new Command("run", "run a model on every row of its input files") { model, input, output, outputDir, batch, reference, threads };
        cmd.SetAction(r => CommandGuard.Guard(() =>
        {
            var outFile = r.GetValue(output);
            var dir = r.GetValue(outputDir);
            if ((outFile is null) == (dir is null)) throw new UsageException("give --output Y.npy (the first output) or --output-dir DIR (every output), one of them");
            if (dir is not null && File.Exists(dir.FullName)) throw new UsageException($"--output-dir '{dir.FullName}' is a file; give a folder");
            var m = Options.Load(r.GetValue(model)!);
            var feeds = ModelFeeds.Read(m, r.GetValue(input)!, "--input", Console.Error.WriteLine);
            int rows = feeds.Max(f => f.Rows);
            using var s = Options.Open(m, r.GetValue(batch), r.GetValue(reference), r.GetValue(threads), rows: rows);
            var results = ModelFeeds.RunAll(s, feeds, out rows);
            if (dir is not null) Directory.CreateDirectory(dir.FullName);
            for (int k = 0; k < results.Length; k++)
            {
                if (dir is null && k > 0) break;
                var y = results[k];
                string path = dir is null ? outFile!.FullName : Path.Combine(dir.FullName, ModelFeeds.OutputFileName(k, m.Output(k).Name));
                AtomicFile.Write(path, Npy.Serialize(y.Bytes, y.Type, y.Shape));
                Console.WriteLine($"wrote {Path.GetFileName(path)}: output '{m.Output(k).Name}', {y.Type} {Shape.Format(y.Shape)}");
                if (y.Type == DataType.Float32 && NonFinite(y.Bytes) is var bad and > 0)
                    Console.Error.WriteLine($"warning: {bad} values of output '{m.Output(k).Name}' are NaN or infinite (check the input for NaN/Inf)");
            }
            if (dir is null && results.Length > 1)
                Console.WriteLine($"note: the model has {results.Length} outputs ({string.Join(", ", m.Outputs.Select(t => $"'{m.Tensors[t].Name}'"))}); --output-dir DIR writes them all");
            Console.WriteLine($"{rows} row{(rows == 1 ? "" : "s")}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>How many values are NaN or ±∞. x − x is 0 for a finite x and NaN otherwise, so one vector pass of those
    /// sums finds whether there is any (the common case: none) before a count.</summary>
    static int NonFinite(byte[] bytes)
    {
        var f = MemoryMarshal.Cast<byte, float>(bytes);
        var any = Vector<float>.Zero;
        int i = 0, n = 0;
        for (; i <= f.Length - Vector<float>.Count; i += Vector<float>.Count) { var v = new Vector<float>(f[i..]); any += v - v; }
        for (; i < f.Length; i++) any += new Vector<float>(f[i] - f[i]);
        if (Vector.EqualsAll(any, Vector<float>.Zero)) return 0;
        foreach (var v in f) if (!float.IsFinite(v)) n++;
        return n;
    }
}
