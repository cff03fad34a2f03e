using System.CommandLine;
using EdgeNet.Engine;

namespace EdgeNet.Cli;

/// <summary>edgenet eval MODEL --data X.npy --labels Y.npy: top-1 accuracy and a confusion matrix.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = Options.Model();
        var data = Options.InputFile(new Option<FileInfo>("--data") { Description = "float32 .npy inputs: [N, ...input shape] or flat [N, features]", Required = true });
        var labels = Options.InputFile(new Option<FileInfo>("--labels") { Description = "int64 .npy class indices, [N]", Required = true });
        var batch = Options.Batch(); var reference = Options.Reference();
        var threads = Options.Threads();
        var cmd = new Command("eval", "top-1 accuracy and confusion matrix on labelled data") { model, data, labels, batch, reference, threads };
        cmd.SetAction(r => CommandGuard.Guard(() =>
        {
            var m = Options.Load(r.GetValue(model)!);
            var (x, rows) = Options.ReadSamples(r.GetValue(data)!, m.Input(), "data");
            var y = Options.ReadLabels(r.GetValue(labels)!, rows);
            using var s = Options.Open(m, r.GetValue(batch), r.GetValue(reference), r.GetValue(threads), x);
            var logits = BatchRunner.RunAll(s, x, out _);
            int classes = logits.Length / rows;
            foreach (var l in y) if (l < 0 || l >= classes) throw new InvalidDataException($"label {l} is outside 0..{classes - 1}");
            var confusion = new int[classes, classes];
            int correct = 0;
            for (int i = 0; i < rows; i++)
            {
                int p = BatchRunner.ArgMax(logits.AsSpan(i * classes, classes));
                confusion[y[i], p]++;
                if (p == y[i]) correct++;
            }
            Console.WriteLine($"accuracy: {(double)correct / rows:F4} ({correct}/{rows})");
            Console.WriteLine("confusion matrix (rows: true class, columns: predicted):");
            Console.WriteLine("      " + string.Concat(Enumerable.Range(0, classes).Select(c => $"{c,5}")));
            for (int t = 0; t < classes; t++)
                Console.WriteLine($"{t,5} " + string.Concat(Enumerable.Range(0, classes).Select(p => $"{confusion[t, p],5}")));
            var labelsText = s.Model.Metadata.ClassLabels;
            if (labelsText.Length > 0) Console.WriteLine("classes: " + string.Join(", ", labelsText.Select((l, i) => $"{i} = {l}")));
            return 0;
        }));
        return cmd;
    }

}
