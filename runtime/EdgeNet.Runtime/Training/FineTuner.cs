using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Training;

/// <summary>Everything `edgenet finetune` and `edgenet train` take.</summary>
public sealed record FineTuneOptions
{
    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Samples per optimizer step.</summary>
    public int Batch { get; init; } = 8;
    /// <summary>The optimizer and its hyperparameters.</summary>
    public OptimizerOptions Optimizer { get; init; } = new();
    /// <summary>How the learning rate changes over the epochs.</summary>
    public LrSchedule Schedule { get; init; } = new();
    /// <summary>Which layers are trained (all, the head, or named layers); the rest stay frozen.</summary>
    public TrainSelection Train { get; init; } = new();
    /// <summary>Shuffle the samples every epoch (with <see cref="Seed"/>).</summary>
    public bool Shuffle { get; init; } = true;
    /// <summary>Seed of the shuffle: the same seed, data and options give the same model.</summary>
    public int Seed { get; init; }
    /// <summary>Clip the gradients' global L2 norm to this (0: no clipping).</summary>
    public float ClipNorm { get; init; }
    /// <summary>L1 penalty on the trained weights.</summary>
    public float L1 { get; init; }
    /// <summary>L2 penalty on the trained weights.</summary>
    public float L2 { get; init; }
    /// <summary>Label smoothing of the cross-entropy targets (0..1).</summary>
    public float LabelSmoothing { get; init; }
    /// <summary>The loss minimized.</summary>
    public LossKind Loss { get; init; } = LossKind.CrossEntropy;
    /// <summary>Run the frozen backbone once over the data and train only the layers after it.</summary>
    public bool CacheFrozenBackbone { get; init; } = true;
    /// <summary>Checked before every step: a cancelled run throws OperationCanceledException and returns no model.</summary>
    public CancellationToken Cancel { get; init; }
}

/// <summary>One finished epoch.</summary>
/// <param name="Epoch">The epoch's number, from 1.</param>
/// <param name="MeanLoss">The mean training loss over its steps.</param>
/// <param name="SkippedSteps">Steps skipped for a non-finite loss or gradient.</param>
/// <param name="LearningRate">The learning rate it ended with.</param>
/// <param name="ValidationAccuracy">Accuracy on the validation data, when some was given.</param>
public sealed record EpochReport(int Epoch, float MeanLoss, int SkippedSteps, float LearningRate, double? ValidationAccuracy);

/// <summary>How a fine-tuning run ended.</summary>
public sealed record FineTuneResult(Model Model, IReadOnlyList<EpochReport> Epochs, bool RolledBack, string? StopReason, long PeakMemoryBytes, bool BackboneCached);

/// <summary>
/// Mini-batch training loop: shuffling, learning-rate schedule, L1/L2, clipping by global norm, and a guard that
/// skips any step whose loss or gradients are not finite; after three in a row it stops and rolls the weights back
/// to the last good epoch.
/// </summary>
public static class FineTuner
{
    /// <summary>Receives progress lines (null: silent).</summary>
    public static Action<string>? Log { get; set; }

    /// <summary>Trains a copy of <paramref name="model"/> on <paramref name="x"/> (rows of the input's sample size) and
    /// class labels <paramref name="y"/>; the input model is not changed. Training that diverges (three non-finite steps in
    /// a row) rolls back to the last good epoch (<see cref="FineTuneResult.RolledBack"/>).</summary>
    /// <param name="model">The model to start from.</param>
    /// <param name="x">Training inputs, one sample after another.</param>
    /// <param name="y">The class of each sample.</param>
    /// <param name="o">Epochs, batch, optimizer, what to train.</param>
    /// <param name="valX">Validation inputs, reported per epoch (optional).</param>
    /// <param name="valY">Validation classes.</param>
    /// <param name="onStep">Called after each step with (step, steps).</param>
    /// <param name="onStepLoss">Called after each step with (epoch, step, loss).</param>
    /// <param name="onEpoch">Called after each epoch.</param>
    /// <exception cref="OperationCanceledException"><see cref="FineTuneOptions.Cancel"/> was cancelled.</exception>
    public static FineTuneResult Fit(Model model, float[] x, long[] y, FineTuneOptions o, float[]? valX = null, long[]? valY = null,
                                     Action<int, int>? onStep = null, Action<int, int, float>? onStepLoss = null, Action<EpochReport>? onEpoch = null)
    {
        if (o.Batch < 1 || o.Epochs < 0) throw new ArgumentException("batch must be ≥ 1 and epochs ≥ 0");
        long sample = model.Input().Elements(1);
        if (x.Length == 0 || x.Length % sample != 0) throw new ArgumentException($"training data has {x.Length} values, not a whole number of samples of {Shape.Format(model.Input().Shape)}");
        int rows = (int)(x.Length / sample);
        int classes = (int)model.Output().Elements(1);
        {
            if (y.Length != rows) throw new ArgumentException($"{y.Length} labels for {rows} rows");
            for (int i = 0; i < y.Length; i++) if (y[i] < 0 || y[i] >= classes) throw new ArgumentException($"label {y[i]} at row {i} is outside 0..{classes - 1}");
        }
        for (int i = 0; i < x.Length; i++)
            if (!float.IsFinite(x[i])) throw new ArgumentException($"training data holds a non-finite value at row {i / sample} (NaN or infinity)");

        // An int8 model trains fp32 master copies and is quantized back at the end (Int8Masters).
        Model quantized = model;
        bool int8 = Int8Masters.IsQuantized(model);
        Model masters = int8 ? Int8Masters.ToFloat(model) : model;
        // With only late layers trainable, run the frozen part once (in int8, for an int8 model) and train the rest.
        // trainX holds one row per sample; `layout` lays a batch of rows out as the trained part's input wants them.
        var (trainModel, trainX, layout, cached) = o.CacheFrozenBackbone ? SplitFrozen(masters, x, rows, o, int8 ? model : null) : (masters, x, new BatchAxis(0, 1, (int)sample), false);
        var s = new TrainingSession(trainModel, o.Batch, o.Train);
        int trainSample = layout.Sample;
        var opt = new Optimizer(o.Optimizer);
        var rng = new Random(o.Seed);
        var order = Enumerable.Range(0, rows).ToArray();
        var reports = new List<EpochReport>();
        var good = Snapshot(s);
        int badInARow = 0;
        string? stop = null;
        bool rolledBack = false;
        long peak = s.MemoryBytes();
        var xb = new float[checked(o.Batch * trainSample)];
        var yb = new long[o.Batch];

        for (int epoch = 0; epoch < o.Epochs && stop is null; epoch++)
        {
            if (o.Shuffle) rng.Shuffle(order);
            float lr = o.Schedule.At(o.Optimizer.LearningRate, epoch, o.Epochs);
            double lossSum = 0; int steps = 0, skipped = 0;
            int batches = (rows + o.Batch - 1) / o.Batch;
            for (int bi = 0; bi < batches; bi++)
            {
                o.Cancel.ThrowIfCancellationRequested();
                int n = Math.Min(o.Batch, rows - bi * o.Batch);
                var pick = order.AsSpan(bi * o.Batch, n);
                layout.FromRows(trainX, pick, xb);
                for (int k = 0; k < n; k++) yb[k] = y[pick[k]];
                float loss = Step(s, xb.AsSpan(0, n * trainSample), yb.AsSpan(0, n), n, opt, lr, o);
                onStep?.Invoke(bi + 1, batches);
                if (float.IsNaN(loss))
                {
                    skipped++;
                    if (++badInARow >= 3)
                    {
                        Restore(s, good);
                        rolledBack = true;
                        stop = $"3 steps in a row had a non-finite loss or gradient (epoch {epoch + 1}, step {bi + 1}); weights rolled back to the end of epoch {reports.Count}";
                        break;
                    }
                    continue;
                }
                badInARow = 0;
                lossSum += loss; steps++;
                onStepLoss?.Invoke(epoch, bi, loss);
            }
            if (stop is not null) break;
            double? valAcc = valX is not null && valY is not null ? Accuracy(Merge(masters, s.Export()), valX, valY) : null;
            var rep = new EpochReport(epoch + 1, steps > 0 ? (float)(lossSum / steps) : float.NaN, skipped, lr, valAcc);
            reports.Add(rep);
            onEpoch?.Invoke(rep);
            good = Snapshot(s);
            peak = Math.Max(peak, s.MemoryBytes());
        }
        var trained = Merge(masters, s.Export());
        if (int8) trained = Int8Masters.Requantize(quantized, trained);
        return new FineTuneResult(trained, reports, rolledBack, stop, peak, cached);
    }

    /// <summary>One optimizer step on one batch; returns the loss, or NaN when the step was skipped (non-finite).</summary>
    public static float Step(TrainingSession s, ReadOnlySpan<float> xb, ReadOnlySpan<long> yb, int n, Optimizer opt, float lr, FineTuneOptions o)
    {
        xb.CopyTo(s.Input(n));
        s.Forward();
        s.ZeroGrad(keepOutput: false);
        var logits = s.Output();
        int classes = logits.Length / n;
        float loss;
        if (o.Loss == LossKind.Mse)
        {
            // MSE against one-hot targets (regression-style training of a classifier's outputs).
            var target = s.TargetScratch.AsSpan(0, logits.Length);
            target.Clear();
            for (int i = 0; i < n; i++) target[i * classes + (int)yb[i]] = 1f;
            loss = Loss.Mse(logits, target, s.OutputGrad());
        }
        else loss = Loss.CrossEntropy(logits, yb, classes, s.OutputGrad(), o.LabelSmoothing);
        if (!float.IsFinite(loss)) return float.NaN;
        s.Backward();
        double norm2 = 0;
        foreach (var p in s.Parameters)
        {
            if (!p.Trainable) continue;
            for (int i = 0; i < p.Grad.Length; i++)
            {
                if (o.L1 != 0) p.Grad[i] += o.L1 * MathF.Sign(p.Value[i]);
                if (o.L2 != 0) p.Grad[i] += 2 * o.L2 * p.Value[i];
                norm2 += (double)p.Grad[i] * p.Grad[i];
            }
        }
        if (!double.IsFinite(norm2)) return float.NaN;
        if (o.ClipNorm > 0)
        {
            // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1.
            float coef = (float)(o.ClipNorm / (Math.Sqrt(norm2) + 1e-6));
            if (coef < 1) foreach (var p in s.Parameters) if (p.Trainable) for (int i = 0; i < p.Grad.Length; i++) p.Grad[i] *= coef;
        }
        opt.Step(s.Parameters, lr);
        return loss;
    }

    static float[][] Snapshot(TrainingSession s) => s.Parameters.Select(p => (float[])p.Value.Clone()).ToArray();
    static void Restore(TrainingSession s, float[][] snap) { for (int i = 0; i < snap.Length; i++) snap[i].CopyTo(s.Parameters[i].Value, 0); }

    /// <summary>Copies trained constants (matched by tensor name) from the trained part back into the full model.</summary>
    static Model Merge(Model full, Model trainedPart)
    {
        var byName = trainedPart.Tensors.Where(t => t.IsConstant).GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.First());
        var m = new Model { Metadata = full.Metadata };
        foreach (var t in full.Tensors) m.Tensors.Add(t.IsConstant && byName.TryGetValue(t.Name, out var nt) ? nt : t);
        m.Nodes.AddRange(full.Nodes); m.Inputs.AddRange(full.Inputs); m.Outputs.AddRange(full.Outputs);
        return m;
    }

    static double Accuracy(Model m, float[] x, long[] y)
    {
        using var sess = new Session(m, 64);
        var logits = BatchRunner.RunAll(sess, x, out int rows);
        if (y.Length != rows) throw new ArgumentException($"{y.Length} validation labels for {rows} rows");
        int classes = logits.Length / rows, correct = 0;
        for (int i = 0; i < rows; i++) if (BatchRunner.ArgMax(logits.AsSpan(i * classes, classes)) == y[i]) correct++;
        return (double)correct / rows;
    }

    /// <summary>
    /// When every trainable parameter sits after some tensor C that is the only thing the later nodes read from the
    /// earlier ones, and C's batch axis is known, returns (the model from C on, C for every row as rows, C's batch
    /// axis, true).
    /// </summary>
    static (Model, float[], BatchAxis, bool) SplitFrozen(Model model, float[] x, int rows, FineTuneOptions o, Model? int8Original)
    {
        var whole = (model, x, new BatchAxis(0, 1, (int)model.Input().Elements(1)), false);
        var probe = new TrainingSession(model, 1, o.Train);
        var trainable = probe.Parameters.Where(p => p.Trainable).Select(p => p.Tensor).ToHashSet();
        int first = model.Nodes.FindIndex(n => n.Inputs.Any(trainable.Contains));
        if (first <= 0) return whole;
        var early = new HashSet<int>(model.Nodes.Take(first).SelectMany(n => n.Outputs));
        early.UnionWith(model.Inputs);
        var crossing = model.Nodes.Skip(first).SelectMany(n => n.Inputs).Where(early.Contains).Distinct().ToArray();
        if (crossing.Length != 1 || model.Inputs.Contains(crossing[0])) return whole;
        int cut = crossing[0];
        // The cached rows are cut along the cut tensor's batch axis (time comes first after a batch_first model's Transpose).
        if (!BatchAxis.Track(model, model.Nodes.Take(first)).TryGetValue(cut, out var axis)) return whole;

        var backbone = int8Original is null ? Sub(model, model.Nodes.Take(first), model.Inputs[0], cut) : Int8Backbone(int8Original, first, cut);
        var head = Sub(model, model.Nodes.Skip(first), cut, model.Outputs[0]);
        using var sess = new Session(backbone, 64);
        long sample = model.Input().Elements(1);
        var features = new float[checked((long)rows * axis.Sample)];
        for (int start = 0; start < rows; start += sess.MaxBatch)
        {
            int n = Math.Min(sess.MaxBatch, rows - start);
            x.AsSpan((int)(start * sample), (int)(n * sample)).CopyTo(sess.Input(0, n));
            sess.Run(n);
            axis.ToRows(sess.Output(0), n, features.AsSpan(start * axis.Sample));
        }
        Log?.Invoke($"backbone ({first} nodes) run once over {rows} rows; training the last {model.Nodes.Count - first} nodes on its cached outputs");
        return (head, features, axis, true);
    }

    /// <summary>The int8 model's first nodes, ending in a Dequantize when the cut tensor is int8.</summary>
    static Model Int8Backbone(Model q, int first, int cut)
    {
        var b = Sub(q, q.Nodes.Take(first), q.Inputs[0], cut, validate: false);
        int outT = b.Outputs[0];
        if (b.Tensors[outT].Type == DataType.Int8)
        {
            int f = b.AddTensor(new TensorDesc(b.Tensors[outT].Name + "_fp32", DataType.Float32, b.Tensors[outT].Shape));
            b.Nodes.Add(new Node(OpType.Dequantize, "backbone_dequantize", [outT], [f]));
            b.Outputs[0] = f;
        }
        ModelValidator.Validate(b);
        return b;
    }

    static Model Sub(Model m, IEnumerable<Node> nodes, int input, int output, bool validate = true)
    {
        var r = new Model { Metadata = m.Metadata };
        var map = new Dictionary<int, int>();
        int Map(int t) { if (t < 0) return -1; if (!map.TryGetValue(t, out var k)) { k = r.AddTensor(m.Tensors[t]); map[t] = k; } return k; }
        r.Inputs.Add(Map(input));
        foreach (var n in nodes) r.Nodes.Add(new Node(n.Op, n.Name, n.Inputs.Select(Map).ToArray(), n.Outputs.Select(Map).ToArray(), n.Attributes, n.Version));
        r.Outputs.Add(Map(output));
        if (validate) ModelValidator.Validate(r);
        return r;
    }
}
