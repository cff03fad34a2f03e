using EdgeNet;
using System.CommandLine;
using EdgeNet.Engine;
using EdgeNet.Io;

namespace EdgeNet.Cli;

/// <summary>edgenet run MODEL --input X.npy --output Y.npy: batch inference.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = Options.Model();
        var input = new Option<FileInfo>("--input", "-i") { Description = "float32 .npy, [N, ...] or flat [N, prod(input shape)]", Required = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "float32 .npy to write, [N, ...output shape]", Required = true };
        var batch = Options.Batch(); var reference = Options.Reference();
        var threads = Options.Threads();
        var cmd = new Command("run", "run a model on every row of an .npy file") { model, input, output, batch, reference, threads };
        cmd.SetAction(r => CommandGuard.Guard(() =>
        {
            var x = Options.ReadFloats(r.GetValue(input)!, "input");
            using var s = Options.Open(r.GetValue(model)!, r.GetValue(batch), r.GetValue(reference), r.GetValue(threads), x);
            var y = BatchRunner.RunAll(s, x, out int rows);
            int nonFinite = 0;
            foreach (var v in y) if (!float.IsFinite(v)) nonFinite++;
            var outShape = s.Model.Output().Shape.Select(d => EdgeNet.Format.Shape.Resolve(d, 1)).ToArray();
            int[] shape = [rows, .. s.HasBatchDimension ? outShape[1..] : outShape[1..]];
            Npy.Write(r.GetValue(output)!.FullName, y, shape);
            Console.WriteLine($"wrote {rows} rows to {r.GetValue(output)!.Name}");
            if (nonFinite > 0) Console.Error.WriteLine($"warning: {nonFinite} output values are NaN or infinite (check the input for NaN/Inf)");
            return 0;
        }));
        return cmd;
    }
}
