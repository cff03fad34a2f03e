using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeNet.Service;

/// <summary>/etc/edgenet/edgenet.json: what to watch, which model, what to do with results. Validated at start.</summary>
public sealed class ServiceConfig
{
    public string Model { get; set; } = "";
    public string StateDirectory { get; set; } = "/var/lib/edgenet";
    /// <summary>Intra-op threads per inference (a Pi has 4 cores; the fine-tune thread and the OS want some too).</summary>
    public int Threads { get; set; } = 1;
    public SourceConfig Source { get; set; } = new();
    public PostprocessConfig Postprocess { get; set; } = new();
    public SinksConfig Sinks { get; set; } = new();
    public ControlConfig Control { get; set; } = new();
    public FinetuneConfig Finetune { get; set; } = new();

    public static ServiceConfig Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ConfigException($"cannot read config '{path}': {e.Message}"); }
        ServiceConfig? c;
        try { c = JsonSerializer.Deserialize(text, ConfigJson.Default.ServiceConfig); }
        catch (JsonException e) { throw new ConfigException($"config '{path}': {e.Message}"); }
        if (c is null) throw new ConfigException($"config '{path}' is empty");
        c.Validate(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return c;
    }

    void Validate(string baseDir)
    {
        if (Model.Length == 0) throw new ConfigException("config: 'model' is required (path to an .enet file)");
        Model = Path.GetFullPath(Path.Combine(baseDir, Model));
        StateDirectory = Path.GetFullPath(Path.Combine(baseDir, StateDirectory));
        // Every relative path in the file is relative to the file, not to the service's working directory.
        if (Control.Socket.Length > 0) Control.Socket = Path.GetFullPath(Path.Combine(baseDir, Control.Socket));
        if (Sinks.JsonLines.Length > 0) Sinks.JsonLines = Path.GetFullPath(Path.Combine(baseDir, Sinks.JsonLines));
        if (Source.File.Length > 0) Source.File = Path.GetFullPath(Path.Combine(baseDir, Source.File));
        if (Control.Socket.Length > 107) throw new ConfigException($"config: control.socket '{Control.Socket}' is longer than a Unix socket path may be (107 bytes)");
        if (!File.Exists(Model)) throw new ConfigException($"config: model '{Model}' does not exist");
        switch (Source.Type)
        {
            case "imu":
                if (Source.RateHz is < 4 or > 1000) throw new ConfigException($"config: source.rateHz {Source.RateHz} is outside 4..1000");
                if (Source.Window < 1 || Source.Stride < 1) throw new ConfigException("config: source.window and source.stride must be at least 1");
                if (Source.Streaming && Source.Stride != Source.Window)
                    throw new ConfigException($"config: source.streaming carries the recurrent state from one window to the next, so windows must not overlap: stride {Source.Stride} must equal window {Source.Window}");
                break;
            case "camera":
                if (Source.Streaming) throw new ConfigException("config: source.streaming is for time series (imu); camera frames are classified one by one");
                if (Source.Command.Length == 0 && Source.File.Length == 0) throw new ConfigException("config: a camera source needs 'command' (e.g. rpicam-vid, ffmpeg) or 'file'");
                if (Source.Width < 1 || Source.Height < 1) throw new ConfigException("config: source.width and source.height must be positive");
                if (Source.Format is not ("gray8" or "rgb24" or "yuv420")) throw new ConfigException($"config: source.format '{Source.Format}' is not gray8, rgb24 or yuv420");
                break;
            default: throw new ConfigException($"config: source.type '{Source.Type}' is not imu or camera");
        }
        if (Postprocess.Vote < 1 || Postprocess.TopK < 1) throw new ConfigException("config: postprocess.vote and postprocess.topK must be at least 1");
        if (Postprocess.Threshold is < 0 or > 1) throw new ConfigException("config: postprocess.threshold must be within 0..1");
        if (Control.Socket.Length == 0) throw new ConfigException("config: control.socket is required");
        if (Threads < 1 || Threads > Engine.IntraOpPool.Available) throw new ConfigException($"config: threads {Threads} is outside 1..{Engine.IntraOpPool.Available} (the CPUs this process may use)");
        if (Finetune.Holdout is <= 0 or >= 1) throw new ConfigException("config: finetune.holdout must be between 0 and 1");
    }
}

public sealed class SourceConfig
{
    public string Type { get; set; } = "imu";
    // imu
    public bool Simulated { get; set; }
    public int Bus { get; set; } = 1;
    public int Address { get; set; } = 0x68;
    public int RateHz { get; set; } = 50;
    public int Window { get; set; } = 50;
    public int Stride { get; set; } = 25;
    /// <summary>
    /// Recurrent models only: each window continues the LSTM/GRU/RNN state the previous window ended in, so the model
    /// sees one unbroken stream. Windows must then not overlap (stride = window); a sensor fault restarts the stream.
    /// </summary>
    public bool Streaming { get; set; }
    /// <summary>Simulation only: the gesture played, changing every this many samples (0 still, 1 shake, 2 circle).</summary>
    public int[] SimulatedGestures { get; set; } = [0, 1];
    public int SimulatedGestureSamples { get; set; } = 200;
    /// <summary>Simulation only: samples [from, to) fail with an I2C error, like an unplugged sensor.</summary>
    public long[] SimulatedFailure { get; set; } = [];
    // camera
    public string Command { get; set; } = "";
    public string[] Args { get; set; } = [];
    public string File { get; set; } = "";
    public int Width { get; set; }
    public int Height { get; set; }
    public string Format { get; set; } = "gray8";
    public bool Invert { get; set; }
}

public sealed class PostprocessConfig
{
    public int TopK { get; set; } = 3;
    public float Threshold { get; set; }
    public int Vote { get; set; } = 1;
}

public sealed class SinksConfig
{
    public bool Stdout { get; set; } = true;
    public string JsonLines { get; set; } = "";
    public int GpioChip { get; set; } = -1;
    public Dictionary<string, int> GpioPins { get; set; } = [];
}

public sealed class ControlConfig
{
    public string Socket { get; set; } = "/run/edgenet/control.sock";
}

public sealed class FinetuneConfig
{
    public int Epochs { get; set; } = 5;
    public int Batch { get; set; } = 8;
    public float Lr { get; set; } = 0.01f;
    public float Momentum { get; set; } = 0.9f;
    public string Train { get; set; } = "all";
    public float Holdout { get; set; } = 0.25f;
}

public sealed class ConfigException(string message) : Exception(message);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, WriteIndented = false, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ServiceConfig))]
[JsonSerializable(typeof(StatusReply))]
[JsonSerializable(typeof(ResultReply))]
[JsonSerializable(typeof(MetricsReply))]
[JsonSerializable(typeof(MessageReply))]
internal sealed partial class ConfigJson : JsonSerializerContext;
