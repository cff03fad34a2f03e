using EdgeNet.Format;

namespace EdgeNet.Service;

/// <summary>
/// Whether a model fits the configured source and sinks (at start) and can replace the serving model (at reload):
/// the window or frame it takes, one class per label, and the classes the post-processor and GPIO pins were set up for.
/// </summary>
internal static class ModelFit
{
    /// <summary>The class names the service reports: the model's labels, or the class indices.</summary>
    public static string[] Labels(Model m) =>
        m.Metadata.ClassLabels.Length > 0 ? m.Metadata.ClassLabels : Enumerable.Range(0, (int)Classes(m)).Select(i => i.ToString()).ToArray();

    public static long Classes(Model m) => m.Output().Elements(1);

    /// <summary>Throws a <see cref="ConfigException"/> naming the key when <paramref name="m"/> cannot serve <paramref name="cfg"/>.</summary>
    public static void Check(Model m, ServiceConfig cfg, string what)
    {
        var input = m.Input();
        long classes = Classes(m);
        if (classes < 1 || classes > 1_000_000) throw new ConfigException($"config: model: {what} has {classes} outputs per sample; a classifier needs 1..1000000");
        if (m.Metadata.ClassLabels.Length > 0 && m.Metadata.ClassLabels.Length != classes)
            throw new ConfigException($"config: model: {what} has {m.Metadata.ClassLabels.Length} class labels for {classes} outputs");
        int channels = cfg.Source.Type == "imu" ? Devices.Sensors.SensorCatalog.Channels(cfg.Source.Sensor).Count : 0;
        if (cfg.Source.Type == "imu" && input.Elements(1) != (long)cfg.Source.Window * channels)
            throw new ConfigException($"config: source.window: a window of {cfg.Source.Window} samples × {channels} values ({cfg.Source.Sensor}) does not fit the input {Shape.Format(input.Shape)} of {what}");
        if (cfg.Source.Type == "camera" && (input.Shape.Length != 4 || input.Shape[1] is not (1 or 3)))
            throw new ConfigException($"config: source.type: a camera source needs an NCHW input with 1 or 3 channels; {what} takes {Shape.Format(input.Shape)}");
        var labels = Labels(m);
        foreach (var key in cfg.Sinks.GpioPins.Keys)
            if (Array.IndexOf(labels, key) < 0 && !(int.TryParse(key, out int i) && i >= 0 && i < classes))
                throw new ConfigException($"config: sinks.gpioPins: '{key}' is neither a class of {what} ({string.Join(", ", labels.Take(20))}) nor a class index");
        long bytes = (long)cfg.Finetune.MaxLabelled * (input.Elements(1) * 4 + 16);
        if (bytes > FinetuneConfig.MaxBufferBytes)
            throw new ConfigException($"config: finetune.maxLabelled: {cfg.Finetune.MaxLabelled} windows of {input.Elements(1)} values take {bytes >> 20} MiB; at most {FinetuneConfig.MaxBufferBytes >> 20} MiB (use at most {FinetuneConfig.MaxBufferBytes / (input.Elements(1) * 4 + 16)})");
        long recent = (long)cfg.Finetune.RecentWindows * input.Elements(1) * 4;
        if (recent > MaxRecentBytes)
            throw new ConfigException($"config: finetune.recentWindows: {cfg.Finetune.RecentWindows} windows of {input.Elements(1)} values take {recent >> 20} MiB; at most {MaxRecentBytes >> 20} MiB (use at most {Math.Max(1, MaxRecentBytes / (input.Elements(1) * 4))})");
    }

    /// <summary>The most memory finetune.recentWindows may hold.</summary>
    public const long MaxRecentBytes = 64L << 20;

    /// <summary>Why <paramref name="next"/> cannot replace <paramref name="serving"/> without a restart, or null when it can.</summary>
    public static string? CannotReplace(Model serving, Model next)
    {
        var a = serving.Input().Shape; var b = next.Input().Shape;
        if (!a.AsSpan().SequenceEqual(b)) return $"it takes {Shape.Format(b)}, the serving model {Shape.Format(a)}";
        long ca = Classes(serving), cb = Classes(next);
        if (ca != cb) return $"it has {cb} classes, the serving model {ca}";
        var la = Labels(serving); var lb = Labels(next);
        if (serving.Metadata.ClassLabels.Length > 0 && next.Metadata.ClassLabels.Length > 0 && !la.SequenceEqual(lb))
            return $"its classes are {string.Join(", ", lb.Take(20))}, the serving model's {string.Join(", ", la.Take(20))}";
        return null;
    }
}
