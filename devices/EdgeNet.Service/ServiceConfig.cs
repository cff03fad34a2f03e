using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeNet.Devices.Simulated;

namespace EdgeNet.Service;

/// <summary>
/// /etc/edgenet/edgenet.json: what to watch, which model, what to do with results (every key: docs/service.md).
/// <see cref="Load"/> checks every key and path before anything is opened; each problem is one
/// <see cref="ConfigException"/> naming its key (exit code 2). What needs the model is checked by <see cref="ModelFit"/>.
/// </summary>
public sealed class ServiceConfig
{
    /// <summary>The .enet model served (required); a regular file of at most <see cref="MaxModelBytes"/>.</summary>
    public string Model { get; set; } = "";
    /// <summary>Fine-tuned models, serving.json, the fine-tune buffer and the instance lock.</summary>
    public string StateDirectory { get; set; } = "/var/lib/edgenet";
    /// <summary>Intra-op threads per inference (a Pi has 4 cores; the fine-tune thread and the OS want some too).</summary>
    public int Threads { get; set; } = 1;
    /// <summary>Where windows come from: an IMU (real or simulated) or a camera.</summary>
    public SourceConfig Source { get; set; } = new();
    /// <summary>How logits become a decision: top-k, threshold, majority vote.</summary>
    public PostprocessConfig Postprocess { get; set; } = new();
    /// <summary>Where results go: stdout, a JSON-lines file, GPIO lines.</summary>
    public SinksConfig Sinks { get; set; } = new();
    /// <summary>The control socket.</summary>
    public ControlConfig Control { get; set; } = new();
    /// <summary>On-device fine-tuning on labelled windows.</summary>
    public FinetuneConfig Finetune { get; set; } = new();
    /// <summary>Results and commands over MQTT (off by default).</summary>
    public MqttConfig Mqtt { get; set; } = new();
    /// <summary>The Prometheus /metrics endpoint (off by default).</summary>
    public MetricsConfig Metrics { get; set; } = new();

    /// <summary>The largest model file the service reads (a model path that became /dev/zero or a huge file is refused by its size).</summary>
    public const long MaxModelBytes = 1L << 30;

    /// <summary>Reads and checks the config at <paramref name="path"/> (relative paths in it are relative to its folder).</summary>
    /// <exception cref="ConfigException">A key or path is wrong; the message names it.</exception>
    /// <param name="path">The config file.</param>
    public static ServiceConfig Load(string path)
    {
        if (FileKind.Of(path) is { Kind: not FileKind.Type.Regular } k) throw new ConfigException($"config '{path}' is {k.Describe}, not a file");
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ConfigException($"cannot read config '{path}': {e.Message}"); }
        ServiceConfig? c;
        try { c = JsonSerializer.Deserialize(text, ConfigJson.Default.ServiceConfig); }
        catch (JsonException e) { throw new ConfigException($"config '{path}': {ConfigErrors.Explain(e)}"); }
        if (c is null) throw new ConfigException($"config '{path}' is empty");
        c.Validate(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return c;
    }

    void Validate(string baseDir)
    {
        // Every relative path in the file is relative to the file, not to the service's working directory.
        string Full(string p) => Path.GetFullPath(Path.Combine(baseDir, p));
        ConfigErrors.Require(Model.Length > 0, "model", "is required (path to an .enet file)");
        Model = Full(Model);
        StateDirectory = Full(ConfigErrors.NonEmpty(StateDirectory, "stateDirectory"));
        Control.Socket = Full(ConfigErrors.NonEmpty(Control.Socket, "control.socket"));
        if (Sinks.JsonLines.Length > 0) Sinks.JsonLines = Full(Sinks.JsonLines);
        if (Source.File.Length > 0) Source.File = Full(Source.File);

        ConfigErrors.Range(Threads, 1, Environment.ProcessorCount, "threads", " (the CPUs this process may use)");   // ProcessorCount honours affinity and cgroup limits
        Source.Validate();
        Postprocess.Validate();
        Sinks.Validate();
        Control.Validate();
        Finetune.Validate();
        Mqtt.Validate(baseDir);
        Metrics.Validate();
        ConfigPaths.Check(this);
    }
}

/// <summary>config "source": an IMU (<see cref="Sensor"/> on an I2C/SPI bus, or simulated) or a camera process or file.</summary>
public sealed class SourceConfig
{
    /// <summary><c>imu</c> or <c>camera</c>.</summary>
    public string Type { get; set; } = "imu";
    // imu
    /// <summary>imu: a simulated MPU-6050 playing <see cref="SimulatedGestures"/> instead of a real sensor.</summary>
    public bool Simulated { get; set; }
    /// <summary>The chip, by name (EdgeNet.Devices.Sensors.SensorCatalog): mpu6050, mpu6500, mpu9250, lsm9ds1, bno055,
    /// adxl345 (SPI), bme280, bme680, ads1115. Simulation plays an MPU-6050.</summary>
    public string Sensor { get; set; } = "mpu6050";
    /// <summary>imu: the I2C bus (/dev/i2c-N) or, for an SPI sensor, the SPI bus.</summary>
    public int Bus { get; set; } = 1;
    /// <summary>I2C address (absent: the chip's default), or an SPI sensor's chip select.</summary>
    public int? Address { get; set; }
    /// <summary>imu: samples per second.</summary>
    public int RateHz { get; set; } = 50;
    /// <summary>imu: samples per window; window × channels is the model's input size.</summary>
    public int Window { get; set; } = 50;
    /// <summary>imu: samples between the starts of two windows.</summary>
    public int Stride { get; set; } = 25;
    /// <summary>
    /// Recurrent models only: each window continues the LSTM/GRU/RNN state the previous window ended in, so the model
    /// sees one unbroken stream. Windows must then not overlap (stride = window); a sensor fault restarts the stream.
    /// </summary>
    public bool Streaming { get; set; }
    /// <summary>Simulation only: the gesture played, changing every this many samples (0 still, 1 shake, 2 circle).</summary>
    public int[] SimulatedGestures { get; set; } = [0, 1];
    /// <summary>Simulation only: samples per gesture.</summary>
    public int SimulatedGestureSamples { get; set; } = 200;
    /// <summary>Simulation only: samples [from, to) fail with an I2C error, like an unplugged sensor.</summary>
    public long[] SimulatedFailure { get; set; } = [];
    // camera
    /// <summary>camera: a process writing raw frames to stdout (rpicam-vid, ffmpeg).</summary>
    public string Command { get; set; } = "";
    /// <summary>camera: the arguments of <see cref="Command"/>.</summary>
    public string[] Args { get; set; } = [];
    /// <summary>camera: a regular file of concatenated frames instead of a process.</summary>
    public string File { get; set; } = "";
    /// <summary>camera: frame width in pixels.</summary>
    public int Width { get; set; }
    /// <summary>camera: frame height in pixels.</summary>
    public int Height { get; set; }
    /// <summary>camera: <c>gray8</c>, <c>rgb24</c> or <c>yuv420</c>.</summary>
    public string Format { get; set; } = "gray8";
    /// <summary>camera: invert the grey levels (white digits on black).</summary>
    public bool Invert { get; set; }
    /// <summary>A camera that sends no frame for this long is reported as stalled and restarted.</summary>
    public double FrameTimeoutSeconds { get; set; } = 10;

    /// <summary>The largest window (samples) and frame side (pixels) accepted.</summary>
    public const int MaxWindow = 65536, MaxFrameSide = 8192;

    internal void Validate()
    {
        switch (Type)
        {
            case "imu":
                ConfigErrors.Range(RateHz, 4, 1000, "source.rateHz");
                ConfigErrors.Range(Window, 1, MaxWindow, "source.window");
                ConfigErrors.Range(Stride, 1, MaxWindow, "source.stride");
                ConfigErrors.Range(Bus, 0, 255, "source.bus");
                ConfigErrors.Require(Devices.Sensors.SensorCatalog.IsKnown(Sensor), "source.sensor", $"'{Sensor}' is not one of {string.Join(", ", Devices.Sensors.SensorCatalog.Names)}");
                ConfigErrors.Require(Devices.Sensors.SensorCatalog.LeftOut(Sensor) is null, "source.sensor", Devices.Sensors.SensorCatalog.LeftOut(Sensor) ?? "");
                ConfigErrors.Require(!Simulated || Devices.Sensors.SensorCatalog.Model(Sensor) == "MPU-6050", "source.simulated", $"plays an MPU-6050; it cannot stand in for '{Sensor}'");
                if (Address is int a && Devices.Sensors.SensorCatalog.DefaultAddress(Sensor) < 0) ConfigErrors.Range(a, 0, 15, "source.address", " (the SPI chip select)");
                else if (Address is int i2c) ConfigErrors.Range(i2c, 0x03, 0x77, "source.address");
                if (Streaming && Stride != Window)
                    throw new ConfigException($"config: source.streaming carries the recurrent state from one window to the next, so windows must not overlap: stride {Stride} must equal window {Window}");
                ConfigErrors.Require(SimulatedGestures.Length > 0, "source.simulatedGestures", "is empty (list the gestures to play: 0 still, 1 shake, 2 circle)");
                foreach (var g in SimulatedGestures) ConfigErrors.Range(g, 0, SimulatedMpu6xxx.GestureNames.Length - 1, "source.simulatedGestures");
                ConfigErrors.Range(SimulatedGestureSamples, 1, int.MaxValue, "source.simulatedGestureSamples");
                ConfigErrors.Require(SimulatedFailure.Length is 0 or 2, "source.simulatedFailure", "must be [from, to] or absent");
                break;
            case "camera":
                if (Streaming) throw new ConfigException("config: source.streaming is for time series (imu); camera frames are classified one by one");
                ConfigErrors.Require(Command.Length > 0 || File.Length > 0, "source.command", "a camera source needs 'command' (e.g. rpicam-vid, ffmpeg) or 'file'");
                ConfigErrors.Require(Args.All(a => a is not null), "source.args", "must not hold null");
                ConfigErrors.Range(Width, 1, MaxFrameSide, "source.width");
                ConfigErrors.Range(Height, 1, MaxFrameSide, "source.height");
                ConfigErrors.Require(Format is "gray8" or "rgb24" or "yuv420", "source.format", $"'{Format}' is not gray8, rgb24 or yuv420");
                ConfigErrors.Require(FrameTimeoutSeconds is >= 0.05 and <= 3600, "source.frameTimeoutSeconds", $"{FrameTimeoutSeconds} is outside 0.05..3600");
                break;
            default: throw new ConfigException($"config: source.type '{Type}' is not imu or camera");
        }
    }
}

/// <summary>config "postprocess": how a window's logits become the reported decision.</summary>
public sealed class PostprocessConfig
{
    /// <summary>Classes reported per result.</summary>
    public int TopK { get; set; } = 3;
    /// <summary>Below this probability the decision is <c>unknown</c> (0..1).</summary>
    public float Threshold { get; set; }
    /// <summary>Majority vote over the last this many decisions (1: none).</summary>
    public int Vote { get; set; } = 1;

    internal void Validate()
    {
        ConfigErrors.Range(TopK, 1, 1000, "postprocess.topK");
        ConfigErrors.Range(Vote, 1, 1000, "postprocess.vote");
        ConfigErrors.Require(Threshold is >= 0 and <= 1, "postprocess.threshold", $"{Threshold} is outside 0..1");
    }
}

/// <summary>config "sinks": where results go besides the control socket, MQTT and /metrics.</summary>
public sealed class SinksConfig
{
    /// <summary>Each result as a JSON line on stdout (logs go to stderr).</summary>
    public bool Stdout { get; set; } = true;
    /// <summary>A file results are appended to, one JSON line each ("" for none).</summary>
    public string JsonLines { get; set; } = "";
    /// <summary>The GPIO chip (/dev/gpiochipN) of <see cref="GpioPins"/>; -1 for none.</summary>
    public int GpioChip { get; set; } = -1;
    /// <summary>Class (label or index) → GPIO line lit while that class is decided.</summary>
    public Dictionary<string, int> GpioPins { get; set; } = [];

    internal void Validate()
    {
        ConfigErrors.Range(GpioChip, -1, 64, "sinks.gpioChip");
        foreach (var (cls, pin) in GpioPins) ConfigErrors.Range(pin, 0, 1023, $"sinks.gpioPins.{cls}");
    }
}

/// <summary>config "control": the Unix control socket (who may connect: docs/service.md).</summary>
public sealed class ControlConfig
{
    /// <summary>The socket's path (at most 107 bytes); only a stale socket there is replaced.</summary>
    public string Socket { get; set; } = "/run/edgenet/control.sock";
    /// <summary>Connections served at once; one more is told "busy" and closed.</summary>
    public int MaxClients { get; set; } = 16;
    /// <summary>A connection that sends no complete command for this long is closed (subscribers are exempt while they read).</summary>
    public double IdleTimeoutSeconds { get; set; } = 300;

    internal void Validate()
    {
        ConfigErrors.Require(System.Text.Encoding.UTF8.GetByteCount(Socket) <= 107, "control.socket", $"'{Socket}' is longer than a Unix socket path may be (107 bytes)");
        ConfigErrors.Range(MaxClients, 1, 1024, "control.maxClients");
        ConfigErrors.Require(IdleTimeoutSeconds is >= 0.05 and <= 86400, "control.idleTimeoutSeconds", $"{IdleTimeoutSeconds} is outside 0.05..86400");
    }
}

/// <summary>config "finetune": training on labelled windows, and the held-out share that decides whether the result serves.</summary>
public sealed class FinetuneConfig
{
    /// <summary>Passes over the labelled windows.</summary>
    public int Epochs { get; set; } = 5;
    /// <summary>Windows per optimizer step.</summary>
    public int Batch { get; set; } = 8;
    /// <summary>SGD learning rate.</summary>
    public float Lr { get; set; } = 0.01f;
    /// <summary>SGD momentum (0..1, 1 excluded).</summary>
    public float Momentum { get; set; } = 0.9f;
    /// <summary>What is trained: <c>all</c>, <c>head</c> (the last layer with parameters) or layer names, comma-separated.</summary>
    public string Train { get; set; } = "all";
    /// <summary>The share of labelled windows held out to judge the fine-tuned model against the serving one.</summary>
    public float Holdout { get; set; } = 0.25f;
    /// <summary>Labelled windows kept; when full, a new label replaces the oldest.</summary>
    public int MaxLabelled { get; set; } = 1000;
    /// <summary>The last windows the service keeps so that <c>label CLASS WINDOW</c> can label a result's window after newer ones came.</summary>
    public int RecentWindows { get; set; } = 16;

    /// <summary>The labelled-window buffer on disk and in a fine-tune is at most this big, whatever the window size.</summary>
    public const long MaxBufferBytes = 256L << 20;

    internal void Validate()
    {
        ConfigErrors.Range(Epochs, 1, 100000, "finetune.epochs");
        ConfigErrors.Range(Batch, 1, 4096, "finetune.batch");
        ConfigErrors.Require(float.IsFinite(Lr) && Lr > 0, "finetune.lr", $"{Lr} is not a positive number");
        ConfigErrors.Require(Momentum is >= 0 and < 1, "finetune.momentum", $"{Momentum} is outside 0..1 (1 excluded)");
        ConfigErrors.Require(Train.Length > 0, "finetune.train", "is empty (all, head, or layer names)");
        ConfigErrors.Require(Holdout is > 0 and < 1, "finetune.holdout", $"{Holdout} must be between 0 and 1");
        ConfigErrors.Range(MaxLabelled, 4, 1_000_000, "finetune.maxLabelled");
        ConfigErrors.Range(RecentWindows, 1, 4096, "finetune.recentWindows");
    }
}

/// <summary>A config (or configured model) the service refuses: one line naming the key; <c>edgenet serve</c> exits 2.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>One-line config errors that name their key.</summary>
static class ConfigErrors
{
    public static void Require(bool ok, string key, string problem)
    {
        if (!ok) throw new ConfigException($"config: {key}: {problem}");
    }

    public static void Range(long value, long min, long max, string key, string why = "") =>
        Require(value >= min && value <= max, key, $"{value} is outside {min}..{max}{why}");

    public static string NonEmpty(string value, string key)
    {
        Require(value.Length > 0, key, "is required");
        return value;
    }

    /// <summary>System.Text.Json's message, reduced to the key (from its path), what is wrong and the line.</summary>
    public static string Explain(JsonException e)
    {
        string key = e.Path is { Length: > 2 } p ? p.TrimStart('$').TrimStart('.') : "";
        string line = e.LineNumber is { } l ? $" (line {l + 1})" : "";
        string m = e.Message;
        if (m.Contains("could not be mapped", StringComparison.Ordinal))
        {
            int a = m.IndexOf('\''), b = a < 0 ? -1 : m.IndexOf('\'', a + 1);
            string name = b > a ? m[(a + 1)..b] : "?";
            return $"unknown key '{(key.Length > 0 ? key + "." : "")}{name}'{line}";
        }
        if (key.Length == 0) return $"not valid JSON{line}: {m.Split(" Path:")[0].Split(" LineNumber:")[0]}";
        if (m.Contains("null", StringComparison.Ordinal)) return $"{key}: must not be null{line}";
        return $"{key}: has the wrong type{line}";
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, WriteIndented = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(ServiceConfig))]
[JsonSerializable(typeof(StatusReply))]
[JsonSerializable(typeof(ResultReply))]
[JsonSerializable(typeof(MetricsReply))]
[JsonSerializable(typeof(MessageReply))]
[JsonSerializable(typeof(ServingRecord))]
internal sealed partial class ConfigJson : JsonSerializerContext
{
    /// <summary>Replies as people read them: quotes and apostrophes stay as they are (the default escapes ' as \u0027).</summary>
    public static ConfigJson Replies => replies ??= new ConfigJson(new JsonSerializerOptions(Default.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    static ConfigJson? replies;
}
