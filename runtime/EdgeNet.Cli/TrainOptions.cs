using System.CommandLine;
using EdgeNet.Training;

namespace EdgeNet.Cli;

/// <summary>The options `finetune` and `train` share, and the loop that reports progress and saves.</summary>
internal sealed class TrainOptions
{
    public readonly Option<FileInfo> Data = Options.InputFile(new Option<FileInfo>("--data") { Description = "float32 .npy training inputs: [N, ...input shape] or flat [N, features]", Required = true });
    public readonly Option<FileInfo> Labels = Options.InputFile(new Option<FileInfo>("--labels") { Description = "int64 .npy class indices, [N]", Required = true });
    public readonly Option<FileInfo> Output = Options.OutputFile(new Option<FileInfo>("--output", "-o") { Description = "where to write the trained .enet (atomically; never the input model)", Required = true });
    public readonly Option<int> Epochs = new("--epochs") { DefaultValueFactory = _ => 10, Description = "passes over the training data" };
    public readonly Option<int> Batch = new("--batch") { DefaultValueFactory = _ => 8, Description = "rows per optimizer step (the loss is their mean)" };
    public readonly Option<float> Lr = new("--lr") { DefaultValueFactory = _ => 0.01f, Description = "learning rate (at epoch 0, before any --schedule)" };
    public readonly Option<float> Momentum = new("--momentum") { DefaultValueFactory = _ => 0f, Description = "SGD momentum (PyTorch's formula)" };
    public readonly Option<float> Dampening = new("--dampening") { DefaultValueFactory = _ => 0f, Description = "SGD dampening of the momentum" };
    public readonly Option<bool> Nesterov = new("--nesterov") { Description = "SGD with Nesterov momentum (needs --momentum)" };
    public readonly Option<float> WeightDecay = new("--weight-decay") { DefaultValueFactory = _ => 0f, Description = "L2 penalty added to the gradients by the optimizer (PyTorch's weight_decay)" };
    public readonly Option<string> Optimizer = new("--optimizer") { DefaultValueFactory = _ => "sgd", Description = "sgd, adam or rmsprop" };
    public readonly Option<string> Train = new("--train") { DefaultValueFactory = _ => "all", Description = "all, head (the last layer with parameters), or comma-separated layer names" };
    public readonly Option<bool> NoShuffle = new("--no-shuffle") { Description = "use rows in file order: batch k is rows kB..kB+B-1" };
    public readonly Option<int> Seed = new("--seed") { DefaultValueFactory = _ => 0, Description = "seed of the row shuffling (and of train's initial weights)" };
    public readonly Option<FileInfo?> ValData = Options.InputFile(new Option<FileInfo?>("--val-data") { Description = "float32 .npy validation inputs: accuracy before, after and per epoch" });
    public readonly Option<FileInfo?> ValLabels = Options.InputFile(new Option<FileInfo?>("--val-labels") { Description = "int64 .npy class indices of --val-data, [N]" });
    public readonly Option<float> ClipNorm = new("--clip-norm") { DefaultValueFactory = _ => 0f, Description = "clip gradients to this global L2 norm" };
    public readonly Option<float> L1 = new("--l1") { DefaultValueFactory = _ => 0f, Description = "adds l1·Σ|w| to the loss" };
    public readonly Option<float> L2 = new("--l2") { DefaultValueFactory = _ => 0f, Description = "adds l2·Σw² to the loss" };
    public readonly Option<float> LabelSmoothing = new("--label-smoothing") { DefaultValueFactory = _ => 0f, Description = "cross-entropy against (1-ε)·one-hot + ε/classes (PyTorch's label_smoothing)" };
    public readonly Option<string> LossOption = new("--loss") { DefaultValueFactory = _ => "ce", Description = "ce (softmax cross-entropy) or mse (against one-hot targets)" };
    public readonly Option<string> Schedule = new("--schedule") { DefaultValueFactory = _ => "constant", Description = "constant, step or cosine" };
    public readonly Option<int> StepSize = new("--step-size") { DefaultValueFactory = _ => 10, Description = "with --schedule step: the learning rate is multiplied by 0.1 every this many epochs" };
    public readonly Option<bool> LogSteps = new("--log-steps") { Description = "print 'step K loss L' for every step" };
    public readonly Option<bool> Verbose = new("--verbose") { Description = "print peak training memory" };

    public void AddTo(Command c)
    {
        foreach (var o in new Option[] { Data, Labels, Output, Epochs, Batch, Lr, Momentum, Dampening, Nesterov, WeightDecay, Optimizer, Train, NoShuffle, Seed,
                                          ValData, ValLabels, ClipNorm, L1, L2, LabelSmoothing, LossOption, Schedule, StepSize, LogSteps, Verbose })
            c.Options.Add(o);
    }

    public FineTuneOptions Read(ParseResult r) => new()
    {
        Epochs = r.GetValue(Epochs), Batch = r.GetValue(Batch),
        Optimizer = new OptimizerOptions
        {
            Kind = r.GetValue(Optimizer) switch
            {
                "sgd" => OptimizerKind.Sgd, "adam" => OptimizerKind.Adam, "rmsprop" => OptimizerKind.RmsProp,
                var o => throw new UsageException($"--optimizer '{o}' is not sgd, adam or rmsprop"),
            },
            LearningRate = r.GetValue(Lr), Momentum = r.GetValue(Momentum), Dampening = r.GetValue(Dampening),
            Nesterov = r.GetValue(Nesterov), WeightDecay = r.GetValue(WeightDecay),
        },
        Schedule = new LrSchedule(r.GetValue(Schedule) switch
        {
            "constant" => ScheduleKind.Constant, "step" => ScheduleKind.Step, "cosine" => ScheduleKind.Cosine,
            var s => throw new UsageException($"--schedule '{s}' is not constant, step or cosine"),
        }, r.GetValue(StepSize)),
        Train = TrainSelection.Parse(r.GetValue(Train) ?? "all"),
        Shuffle = !r.GetValue(NoShuffle), Seed = r.GetValue(Seed), ClipNorm = r.GetValue(ClipNorm),
        L1 = r.GetValue(L1), L2 = r.GetValue(L2), LabelSmoothing = r.GetValue(LabelSmoothing),
        Loss = r.GetValue(LossOption) switch { "ce" => LossKind.CrossEntropy, "mse" => LossKind.Mse, var l => throw new UsageException($"--loss '{l}' is not ce or mse") },
    };

    /// <summary>Trains, reporting per epoch, and saves atomically; the input model file is never touched.</summary>
    public int Run(ParseResult r, Format.Model model)
    {
        // SIGTERM/SIGINT stop training between steps (nothing is written) but never interrupt the save itself.
        using var stop = new CancellationTokenSource();
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var intr = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        var o = Read(r) with { Cancel = stop.Token };
        Validate(r);
        if ((r.GetValue(ValData) is null) != (r.GetValue(ValLabels) is null)) throw new UsageException("--val-data and --val-labels go together");
        var (x, rows) = Options.ReadSamples(r.GetValue(Data)!, model.Input(), "data");
        // A batch larger than the data only sizes buffers for rows that do not exist.
        if (o.Batch > rows) o = o with { Batch = rows };
        var y = Options.ReadLabels(r.GetValue(Labels)!, rows);
        float[]? vx = null; long[]? vy = null;
        if (r.GetValue(ValData) is { } vf)
        {
            (vx, int vrows) = Options.ReadSamples(vf, model.Input(), "validation data");
            vy = Options.ReadLabels(r.GetValue(ValLabels)!, vrows, "validation labels");
        }
        if (vx is not null)
        {
            using var before = new Engine.Session(model, 64);
            Console.WriteLine($"validation accuracy before: {Accuracy(before, vx, vy!):F4}");
        }
        bool logSteps = r.GetValue(LogSteps);
        int globalStep = 0;
        var bar = new ProgressBar("epoch");
        FineTuner.Log = Console.WriteLine;
        var result = FineTuner.Fit(model, x, y, o, vx, vy,
            onStep: (done, total) => bar.Report(done, total),
            onStepLoss: (_, _, loss) => { if (logSteps) Console.WriteLine($"step {globalStep} loss {loss:G7}"); globalStep++; },
            onEpoch: e => Console.WriteLine($"epoch {e.Epoch}/{o.Epochs}: loss {e.MeanLoss:F4}  lr {e.LearningRate:G3}" +
                (e.ValidationAccuracy is { } a ? $"  val accuracy {a:F4}" : "") + (e.SkippedSteps > 0 ? $"  skipped {e.SkippedSteps} non-finite steps" : "")));
        if (result.StopReason is not null) Console.Error.WriteLine($"warning: {result.StopReason}");
        if (r.GetValue(Verbose)) Console.WriteLine($"peak training memory: {result.PeakMemoryBytes:N0} bytes{(result.BackboneCached ? " (frozen backbone cached)" : "")}");
        Format.ModelFile.Save(result.Model, r.GetValue(Output)!.FullName);
        Console.WriteLine($"wrote {r.GetValue(Output)!.Name}");
        if (vx is not null)
        {
            using var after = new Engine.Session(result.Model, 64);
            Console.WriteLine($"validation accuracy after: {Accuracy(after, vx, vy!):F4}");
        }
        return result.RolledBack ? CommandGuard.Failure : 0;
    }

    /// <summary>Numbers out of range are usage errors before any file is read.</summary>
    void Validate(ParseResult r)
    {
        if (r.GetValue(Batch) < 1) throw new UsageException($"--batch {r.GetValue(Batch)} must be at least 1");
        if (r.GetValue(Epochs) < 1) throw new UsageException($"--epochs {r.GetValue(Epochs)} must be at least 1");
        if (r.GetValue(StepSize) < 1) throw new UsageException($"--step-size {r.GetValue(StepSize)} must be at least 1");
        foreach (var opt in new[] { Lr, Momentum, Dampening, WeightDecay, ClipNorm, L1, L2, LabelSmoothing })
            if (r.GetValue(opt) is var v && !(v >= 0 && float.IsFinite(v))) throw new UsageException($"{opt.Name} {v} must be a finite number ≥ 0");
        if (r.GetValue(LabelSmoothing) >= 1) throw new UsageException($"--label-smoothing {r.GetValue(LabelSmoothing)} must be below 1");
    }

    static double Accuracy(Engine.Session s, float[] x, long[] y)
    {
        var logits = Engine.BatchRunner.RunAll(s, x, out int rows);
        if (y.Length != rows) throw new InvalidDataException($"{y.Length} validation labels for {rows} rows");
        int classes = logits.Length / rows, ok = 0;
        for (int i = 0; i < rows; i++) if (Engine.BatchRunner.ArgMax(logits.AsSpan(i * classes, classes)) == y[i]) ok++;
        return (double)ok / rows;
    }
}
