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
public sealed class Pipeline(ServiceConfig cfg, ConfiguredModel configured, ILogger<Pipeline> log, ISystemdNotifier notifier, IHostApplicationLifetime lifetime) : BackgroundService
{
    readonly ModelSlots slots = new(cfg.StateDirectory, cfg.Model, cfg.Source.Streaming, cfg.Threads);
    FinetuneBuffer buffer = null!;
    readonly object gate = new();
    IWindowSource source = null!;
    Postprocessor post = null!;
    float[] window = [], logits = [];
    float[][] recent = [];   // the last finetune.recentWindows windows, window id w in recent[w % length]: what `label` stores
    readonly List<double> latencies = [];
    readonly Dictionary<string, long> counts = [];
    long windows, faults;
    string? lastFault;
    ResultReply? last;
    string finetuneState = "idle"; string? finetuneReason;
    ResultsFile? results;
    ClassOutputs? gpio;
    string? gpioProblem;
    long lastWatchdog;

    /// <summary>The serving model's class labels (its output indices when it has none).</summary>
    public string[] Labels { get; private set; } = [];

    /// <summary>True when the inference loop ended by an unexpected error: the process then exits non-zero, so systemd restarts it.</summary>
    public bool Failed { get; private set; }

    /// <summary>Each result as its JSON line, for control-socket subscribers (called on the inference thread).</summary>
    public event Action<string>? ResultPublished;

    /// <summary>Each result as it is made (called on the inference thread: keep handlers short).</summary>
    public event Action<ResultReply>? Classified;

    readonly CancellationTokenSource finetuneStop = new();
    Thread? finetuneThread;

    string? Fits(Model m)
    {
        try { ModelFit.Check(m, cfg, "this model"); return null; }
        catch (ConfigException e) { return e.Message; }
    }

    /// <inheritdoc/>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(cfg.StateDirectory);
        slots.Start(configured.Model, Fits);
        if (slots.StartNote is { } note) log.LogWarning("{Note}", note);
        var slot = slots.Current;
        var input = slot.Model.Input();
        Labels = ModelFit.Labels(slot.Model);
        window = new float[input.Elements(1)];
        recent = new float[cfg.Finetune.RecentWindows][];
        for (int i = 0; i < recent.Length; i++) recent[i] = new float[window.Length];
        logits = new float[Labels.Length];
        buffer = new FinetuneBuffer(cfg.StateDirectory, window.Length, cfg.Finetune.MaxLabelled);
        if (buffer.Problem is { } bp) log.LogWarning("{Problem}", bp);
        // Temp files of saves cut off by a power loss or SIGKILL: the targets are intact, the orphans go.
        int orphans = AtomicFile.RemoveOrphans(slots.Directory) + AtomicFile.RemoveOrphans(buffer.Directory);
        if (orphans > 0) log.LogWarning("removed {Count} temp files left by an interrupted save", orphans);
        source = cfg.Source.Type == "imu" ? new ImuWindowSource(cfg.Source) : Camera(slot.Model);
        post = new Postprocessor(cfg.Postprocess, Labels.Length);
        if (cfg.Sinks.JsonLines.Length > 0) results = new ResultsFile(cfg.Sinks.JsonLines);
        if (cfg.Sinks.GpioChip >= 0 && cfg.Sinks.GpioPins.Count > 0)
        {
            try { gpio = new ClassOutputs(GpioChip.Open(cfg.Sinks.GpioChip), cfg.Sinks.GpioPins.ToDictionary(p => Array.IndexOf(Labels, p.Key) is var i && i >= 0 ? i : int.Parse(p.Key), p => p.Value), ownsController: true); }
            catch (Exception e) when (e is not OutOfMemoryException) { GpioFailed(e); }
        }
        log.LogInformation("model {Model} (version {Version}), source {Source}", slot.Path, slot.Version, source.Describe);
        // READY=1 once the model is loaded and the first window classified — or the source reported a fault: the
        // service is then up, says what is wrong in status, and keeps retrying.
        while (!cancellationToken.IsCancellationRequested && !Step(cancellationToken) && faults == 0) { }
        // Said here rather than left to SystemdLifetime (which only runs under systemd and says it when the host starts).
        notifier.Notify(ServiceState.Ready);
        return base.StartAsync(cancellationToken);
    }

    CameraWindowSource Camera(Model m)
    {
        var s = m.Input().Shape;
        return new CameraWindowSource(cfg.Source, s[1], s[2], s[3], m.Metadata.InputMean, m.Metadata.InputStd);
    }

    /// <inheritdoc/>
    protected override Task ExecuteAsync(CancellationToken stop) => Task.Factory.StartNew(() =>
    {
        try
        {
            while (!stop.IsCancellationRequested) Step(stop);
            log.LogInformation("stopping after {Windows} windows", windows);
        }
        catch (Exception e)
        {
            // Not a fault the loop knows how to handle: end the process with a failure so systemd restarts it.
            Failed = true;
            log.LogCritical("the inference loop failed: {Error}", e.ToString());
            lifetime.StopApplication();
        }
    }, stop, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>One window through the pipeline; false when the source faulted (counted and reported, then retried).</summary>
    bool Step(CancellationToken stop)
    {
        slots.ReleaseRetired();
        if (!source.TryNext(window, stop, out var fault))
        {
            if (stop.IsCancellationRequested) return false;
            lock (gate) { faults++; lastFault = fault; }
            slots.Current.Session.ResetState();   // a gap in the stream: the next window starts from the initial state
            if (faults < 5 || faults % 100 == 0) log.LogWarning("source fault: {Fault}", fault);
            Watchdog();   // handling a fault is progress too: the service is alive and retrying
            stop.WaitHandle.WaitOne(20);
            return false;
        }
        var slot = slots.Current;
        long t0 = Stopwatch.GetTimestamp();
        slot.Session.Run(window, logits);
        double us = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        var (cls, conf, top, scores) = post.Decide(logits);
        var r = new ResultReply(windows, cls, cls >= 0 ? Labels[cls] : "unknown", conf, top, scores, us, DateTime.UtcNow.ToString("O"),
            (source as ImuWindowSource)?.SimulatedGestureNow);
        lock (gate)
        {
            window.CopyTo(recent[windows % recent.Length]);   // what `label` stores, by the result's window id
            windows++; last = r; lastFault = null;
            latencies.Add(us); if (latencies.Count > 4096) latencies.RemoveRange(0, 2048);
            counts[r.Label] = counts.GetValueOrDefault(r.Label) + 1;
        }
        string line = JsonSerializer.Serialize(r, ConfigJson.Default.ResultReply);
        if (cfg.Sinks.Stdout) Console.WriteLine(line);
        results?.Write(line);
        ResultPublished?.Invoke(line);
        Classified?.Invoke(r);
        if (cls >= 0 && gpio is not null)
        {
            try { gpio.Show(cls); }
            catch (Exception e) when (e is not OutOfMemoryException) { GpioFailed(e); }
        }
        Watchdog();
        return true;
    }

    /// <summary>A GPIO sink that cannot be opened or written is reported and dropped; classification goes on.</summary>
    void GpioFailed(Exception e)
    {
        gpioProblem = $"GPIO outputs disabled: {e.Message}";
        log.LogWarning("{Problem}", gpioProblem);
        try { gpio?.Dispose(); } catch (Exception d) when (d is not OutOfMemoryException) { }
        gpio = null;
    }

    void Watchdog()
    {
        long now = Environment.TickCount64;
        if (now - lastWatchdog < 1000) return;
        lastWatchdog = now;
        notifier.Notify(new ServiceState("WATCHDOG=1"));
    }

    // ---- control commands --------------------------------------------------------------------------------

    /// <summary>The answer to <c>status</c>. Thread-safe, as are all the command methods.</summary>
    public StatusReply Status()
    {
        lock (gate)
        {
            string[] warnings = new[] { slots.StartNote, buffer.Problem, results?.LastError, gpioProblem }.OfType<string>().ToArray();
            return new StatusReply(lastFault is null ? "running" : "sensor fault", slots.Current.Path, slots.Current.Version, windows, faults, lastFault,
                buffer.Count, finetuneState, finetuneReason, slots.CanRollback, slots.Current.Session.CarriesState, results?.Failures ?? 0, warnings);
        }
    }

    /// <summary>The last result, or null before the first window.</summary>
    public ResultReply? Last() { lock (gate) return last; }

    /// <summary>The answer to <c>metrics</c>: latency percentiles over the recent windows, decisions per class.</summary>
    public MetricsReply Metrics()
    {
        lock (gate)
        {
            var l = latencies.Order().ToArray();
            double P(double p) => l.Length == 0 ? 0 : l[Math.Min(l.Length - 1, (int)(p * l.Length))];
            return new MetricsReply(windows, P(0.5), P(0.9), P(0.99), new(counts), faults);
        }
    }

    /// <summary>
    /// The <c>label</c> command's argument: "CLASS" stores the window of the last result, "CLASS WINDOW" the window
    /// with that id (a result's "window"), as long as it is among the last finetune.recentWindows — so a client that
    /// read a result labels that window, not whichever came after. CLASS is a label (it may contain spaces) or an index.
    /// </summary>
    public MessageReply Label(string args)
    {
        args = args.Trim();
        long? id = null;
        int cut = args.LastIndexOf(' ');
        if (ClassOf(args) < 0 && cut > 0 && long.TryParse(args.AsSpan(cut + 1), out long w)) { id = w; args = args[..cut].TrimEnd(); }
        int c = ClassOf(args);
        if (c < 0) return new(false, int.TryParse(args, out int k) ? $"class {k} is outside 0..{Labels.Length - 1}" : $"unknown class '{args}'; classes: {string.Join(", ", Labels)}");
        float[] copy;
        lock (gate)
        {
            if (last is null) return new(false, "no window classified yet");
            long wanted = id ?? last.Window, oldest = Math.Max(0, windows - recent.Length);
            if (wanted >= windows) return new(false, $"window {wanted} has not been classified yet (the last is {windows - 1})");
            if (wanted < oldest) return new(false, $"window {wanted} is no longer held: the service keeps the last {recent.Length} windows ({oldest}..{windows - 1}; finetune.recentWindows)");
            copy = (float[])recent[wanted % recent.Length].Clone();
            id = wanted;
        }
        try { buffer.Add(copy, c); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new(false, $"could not store the window: {e.Message}"); }
        return new(true, $"stored window {id} as '{Labels[c]}' ({buffer.Count} labelled)");
    }

    /// <summary>The class a label or index names, or -1.</summary>
    int ClassOf(string cls)
    {
        int c = Array.IndexOf(Labels, cls);
        if (c < 0 && int.TryParse(cls, out int k) && k >= 0 && k < Labels.Length) c = k;
        return c;
    }

    /// <summary>Starts a fine-tune on the labelled windows on a background thread (at least 4; one at a time); <see cref="Status"/> says how it ended.</summary>
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
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever goes wrong on this thread (bad data, a full disk, a bug) fails the fine-tune, never the service.
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

    /// <summary>Serves the model that served before the last swap again.</summary>
    public MessageReply Rollback() => slots.Rollback() ? new(true, $"serving model version {slots.Current.Version} again") : new(false, "no previous model to roll back to");

    /// <summary>Reloads the serving model's file; one that is corrupt, not a regular file, too large, or does not fit
    /// (another window size, other classes) is refused and the loaded model keeps serving.</summary>
    public MessageReply Reload()
    {
        try
        {
            var serving = slots.Current.Model;
            var s = slots.Reload(m => ModelFit.CannotReplace(serving, m) is { } why ? $"it cannot replace the serving model: {why}" : Fits(m));
            return new(true, $"reloaded {s.Path}");
        }
        catch (ModelFormatException e) { return new(false, $"reload refused, still serving the loaded model: {e.Message}"); }
        catch (IOException e) { return new(false, $"reload refused, still serving the loaded model: {e.Message}"); }
    }

    /// <summary>SIGTERM: the loop finishes its window; a fine-tune stops at its next step, and a save under way completes.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        finetuneStop.Cancel();
        await base.StopAsync(cancellationToken);
        finetuneThread?.Join(TimeSpan.FromSeconds(20));
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        source?.Dispose(); results?.Dispose(); gpio?.Dispose(); buffer?.Dispose(); slots.Dispose();
        base.Dispose();
    }
}
