using System.Diagnostics;
using System.Text.Json;
using EdgeNet.Devices.Gpio;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Io;
using EdgeNet.Training;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace EdgeNet.Service;

/// <summary>
/// source → window → model → post-process → sinks, on one thread. Start (model loaded, first window classified)
/// completes before the host reports READY=1 to systemd; WATCHDOG=1 is sent from the loop only while windows flow
/// or faults are handled; on SIGTERM the current step finishes and the loop ends.
/// </summary>
public sealed class Pipeline(ServiceConfig cfg, ILogger<Pipeline> log, ISystemdNotifier notifier) : BackgroundService
{
    readonly ModelSlots slots = new(cfg.StateDirectory, cfg.Source.Streaming, cfg.Threads);
    readonly FinetuneBuffer buffer = new(cfg.StateDirectory);
    readonly object gate = new();
    IWindowSource source = null!;
    Postprocessor post = null!;
    float[] window = [];
    readonly List<double> latencies = [];
    readonly Dictionary<string, long> counts = [];
    long windows, faults;
    string? lastFault;
    ResultReply? last;
    string finetuneState = "idle"; string? finetuneReason;
    StreamWriter? jsonl;
    ClassOutputs? gpio;
    long lastWatchdog;

    public string[] Labels { get; private set; } = [];

    /// <summary>Each result as its JSON line, for control-socket subscribers (called on the inference thread).</summary>
    public event Action<string>? ResultPublished;

    readonly CancellationTokenSource finetuneStop = new();
    Thread? finetuneThread;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(cfg.StateDirectory);
        // Temp files of saves cut off by a power loss or SIGKILL: the targets are intact, the orphans go.
        int orphans = AtomicFile.RemoveOrphans(slots.Directory) + AtomicFile.RemoveOrphans(buffer.Directory);
        if (orphans > 0) log.LogWarning("removed {Count} temp files left by an interrupted save", orphans);
        string start = LatestModel() ?? cfg.Model;
        ModelSlots.Slot slot;
        try { slot = slots.Load(start, VersionOf(start)); }
        catch (ModelFormatException e) when (cfg.Source.Streaming && e.Message.Contains("cannot stream")) { throw new ConfigException($"config: source.streaming: {e.Message}"); }
        var input = slot.Model.Input();
        Labels = slot.Model.Metadata.ClassLabels.Length > 0 ? slot.Model.Metadata.ClassLabels : Enumerable.Range(0, (int)slot.Model.Output().Elements(1)).Select(i => i.ToString()).ToArray();
        window = new float[input.Elements(1)];
        source = cfg.Source.Type == "imu" ? new ImuWindowSource(cfg.Source) : Camera(input);
        if (cfg.Source.Type == "imu" && window.Length != cfg.Source.Window * 6)
            throw new ConfigException($"config: an IMU window of {cfg.Source.Window} samples × 6 values does not fit the model's input {Shape.Format(input.Shape)}");
        post = new Postprocessor(cfg.Postprocess, Labels.Length);
        if (cfg.Sinks.JsonLines.Length > 0) jsonl = new StreamWriter(new FileStream(cfg.Sinks.JsonLines, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        if (cfg.Sinks.GpioChip >= 0 && cfg.Sinks.GpioPins.Count > 0)
            gpio = new ClassOutputs(new System.Device.Gpio.GpioController(), cfg.Sinks.GpioPins.ToDictionary(p => Array.IndexOf(Labels, p.Key) is var i && i >= 0 ? i : int.Parse(p.Key), p => p.Value));
        log.LogInformation("model {Model} (version {Version}), source {Source}", slot.Path, slot.Version, source.Describe);
        // READY=1 only after the model is loaded and the first window classified.
        while (!cancellationToken.IsCancellationRequested && !Step(cancellationToken)) { }
        // Said here rather than left to SystemdLifetime (which only runs under systemd and says it when the host starts).
        notifier.Notify(ServiceState.Ready);
        return base.StartAsync(cancellationToken);
    }

    CameraWindowSource Camera(TensorDesc input)
    {
        var s = input.Shape;
        if (s.Length != 4) throw new ConfigException($"config: a camera source needs an NCHW model input, this model takes {Shape.Format(s)}");
        var md = slots.Current.Model.Metadata;
        return new CameraWindowSource(cfg.Source, s[1], s[2], s[3], md.InputMean, md.InputStd);
    }

    string? LatestModel() => Directory.Exists(slots.Directory)
        ? Directory.GetFiles(slots.Directory, "model-*.enet").OrderByDescending(VersionOf).FirstOrDefault() : null;
    static int VersionOf(string p) => int.TryParse(Path.GetFileNameWithoutExtension(p).Replace("model-", ""), out var v) ? v : 0;

    protected override Task ExecuteAsync(CancellationToken stop) => Task.Factory.StartNew(() =>
    {
        while (!stop.IsCancellationRequested) Step(stop);
        log.LogInformation("stopping after {Windows} windows", windows);
    }, stop, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>One window through the pipeline; false when the source faulted (counted and reported, then retried).</summary>
    bool Step(CancellationToken stop)
    {
        if (!source.TryNext(window, stop, out var fault))
        {
            if (stop.IsCancellationRequested) return false;
            lock (gate) { faults++; lastFault = fault; }
            slots.Current.Session.ResetState();   // a gap in the stream: the next window starts from the initial state
            if (faults < 5 || faults % 100 == 0) log.LogWarning("source fault: {Fault}", fault);
            Watchdog();   // handling a fault is progress too: the service is alive and retrying
            Thread.Sleep(20);
            return false;
        }
        var slot = slots.Current;
        long t0 = Stopwatch.GetTimestamp();
        slot.Session.Run(window, logits);
        double us = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        var (cls, conf, top, scores) = post.Decide(logits.AsSpan(0, Labels.Length));
        var r = new ResultReply(windows, cls, cls >= 0 ? Labels[cls] : "unknown", conf, top, scores, us, DateTime.UtcNow.ToString("O"),
            (source as ImuWindowSource)?.SimulatedGestureNow);
        lock (gate)
        {
            windows++; last = r; lastFault = null;
            latencies.Add(us); if (latencies.Count > 4096) latencies.RemoveRange(0, 2048);
            counts[r.Label] = counts.GetValueOrDefault(r.Label) + 1;
        }
        string line = JsonSerializer.Serialize(r, ConfigJson.Default.ResultReply);
        if (cfg.Sinks.Stdout) Console.WriteLine(line);
        jsonl?.WriteLine(line);
        ResultPublished?.Invoke(line);
        if (cls >= 0) gpio?.Show(cls);
        Watchdog();
        return true;
    }

    readonly float[] logits = new float[4096];

    void Watchdog()
    {
        long now = Environment.TickCount64;
        if (now - lastWatchdog < 1000) return;
        lastWatchdog = now;
        notifier.Notify(new ServiceState("WATCHDOG=1"));
    }

    // ---- control commands --------------------------------------------------------------------------------

    public StatusReply Status()
    {
        lock (gate)
            return new StatusReply(lastFault is null ? "running" : "sensor fault", slots.Current.Path, slots.Current.Version, windows, faults, lastFault,
                buffer.Count, finetuneState, finetuneReason, slots.CanRollback, slots.Current.Session.CarriesState);
    }

    public ResultReply? Last() { lock (gate) return last; }

    public MetricsReply Metrics()
    {
        lock (gate)
        {
            var l = latencies.Order().ToArray();
            double P(double p) => l.Length == 0 ? 0 : l[Math.Min(l.Length - 1, (int)(p * l.Length))];
            return new MetricsReply(windows, P(0.5), P(0.9), P(0.99), new(counts), faults);
        }
    }

    public MessageReply Label(string cls)
    {
        int c = Array.IndexOf(Labels, cls);
        if (c < 0 && !int.TryParse(cls, out c)) return new(false, $"unknown class '{cls}'; classes: {string.Join(", ", Labels)}");
        if (c < 0 || c >= Labels.Length) return new(false, $"class {c} is outside 0..{Labels.Length - 1}");
        float[] copy;
        lock (gate) { if (last is null) return new(false, "no window classified yet"); copy = (float[])window.Clone(); }
        try { buffer.Add(copy, c); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new(false, $"could not store the window: {e.Message}"); }
        return new(true, $"stored window as '{Labels[c]}' ({buffer.Count} labelled)");
    }

    public MessageReply StartFinetune()
    {
        lock (gate)
        {
            if (finetuneState == "running") return new(false, "a fine-tune is already running");
            if (buffer.Count < 4) return new(false, $"{buffer.Count} labelled windows; label at least 4");
            finetuneState = "running"; finetuneReason = null;
        }
        finetuneThread = new Thread(Finetune) { IsBackground = true, Priority = ThreadPriority.Lowest, Name = "edgenet-finetune" };
        finetuneThread.Start();
        return new(true, "fine-tune started");
    }

    /// <summary>Fine-tunes a copy on the labelled windows, validates on a held-out part, and swaps it in only if it is
    /// not worse there than the serving model; otherwise the serving model stays and the reason goes to status.</summary>
    void Finetune()
    {
        try
        {
            var (x, y) = buffer.Snapshot();
            int n = y.Length, per = x.Length / n, hold = Math.Max(1, (int)(n * cfg.Finetune.Holdout));
            // every k-th window held out, so both parts see every class
            var valIdx = Enumerable.Range(0, n).Where(i => i % Math.Max(2, n / hold) == 0).ToHashSet();
            float[] Rows(IEnumerable<int> idx) => idx.SelectMany(i => x.AsSpan(i * per, per).ToArray()).ToArray();
            var trainIdx = Enumerable.Range(0, n).Where(i => !valIdx.Contains(i)).ToArray();
            var vx = Rows(valIdx); var vy = valIdx.Select(i => y[i]).ToArray();
            var serving = slots.Current;
            var o = new FineTuneOptions
            {
                Epochs = cfg.Finetune.Epochs, Batch = cfg.Finetune.Batch, Train = TrainSelection.Parse(cfg.Finetune.Train),
                Optimizer = new OptimizerOptions { LearningRate = cfg.Finetune.Lr, Momentum = cfg.Finetune.Momentum },
                Cancel = finetuneStop.Token,
            };
            var result = FineTuner.Fit(serving.Model, Rows(trainIdx), trainIdx.Select(i => y[i]).ToArray(), o);
            double before = Accuracy(serving.Model, vx, vy), after = Accuracy(result.Model, vx, vy);
            if (result.RolledBack) Finish("rejected", $"training diverged ({result.StopReason}); serving model unchanged");
            else if (after < before) Finish("rejected", $"held-out accuracy {after:F3} < serving model's {before:F3}; serving model unchanged");
            else
            {
                var slot = slots.Publish(result.Model);
                Finish("swapped", $"model version {slot.Version}: held-out accuracy {before:F3} -> {after:F3} on {vy.Length} windows");
            }
        }
        catch (OperationCanceledException)
        {
            Finish("cancelled", "the service is stopping; serving model unchanged");
        }
        catch (Exception e) when (e is ArgumentException or ModelFormatException or IOException or InvalidOperationException)
        {
            Finish("failed", $"{e.Message}; serving model unchanged");
        }
    }

    void Finish(string state, string reason)
    {
        lock (gate) { finetuneState = state; finetuneReason = reason; }
        log.LogInformation("fine-tune {State}: {Reason}", state, reason);
    }

    static double Accuracy(Model m, float[] x, long[] y)
    {
        using var s = new Session(m, 16);
        var logits = BatchRunner.RunAll(s, x, out int rows);
        int classes = logits.Length / rows, ok = 0;
        for (int i = 0; i < rows; i++) if (BatchRunner.ArgMax(logits.AsSpan(i * classes, classes)) == y[i]) ok++;
        return (double)ok / rows;
    }

    public MessageReply Rollback() => slots.Rollback() ? new(true, $"serving model version {slots.Current.Version} again") : new(false, "no previous model to roll back to");

    /// <summary>Reloads the serving model's file; a corrupt file is refused and the old model keeps serving.</summary>
    public MessageReply Reload()
    {
        try { var s = slots.Load(slots.Current.Path, slots.Current.Version); return new(true, $"reloaded {s.Path}"); }
        catch (ModelFormatException e) { return new(false, $"reload refused, still serving the loaded model: {e.Message}"); }
    }

    /// <summary>SIGTERM: the loop finishes its window; a fine-tune stops at its next step, and a save under way completes.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        finetuneStop.Cancel();
        await base.StopAsync(cancellationToken);
        finetuneThread?.Join(TimeSpan.FromSeconds(20));
    }

    public override void Dispose()
    {
        source?.Dispose(); jsonl?.Dispose(); gpio?.Dispose();
        base.Dispose();
    }
}
