using EdgeNet.Devices.Camera;
using EdgeNet.Devices.Sensors;
using EdgeNet.Devices.Simulated;

namespace EdgeNet.Service;

/// <summary>Where windows come from: each call returns the next model input (fp32, one sample) or a fault.</summary>
internal interface IWindowSource : IDisposable
{
    /// <summary>Fills <paramref name="window"/>; false with a reason when the device failed this time (the loop retries).</summary>
    bool TryNext(Span<float> window, CancellationToken cancel, out string? fault);
    string Describe { get; }
}

/// <summary>
/// Sensor samples at the configured rate into a sliding window (window samples, advancing by stride), laid out
/// [window, channels]: for an IMU acceleration x, y, z (m/s²) and angular rate x, y, z (rad/s); the other sensors'
/// channels are in <see cref="SensorCatalog"/>. The sensor is a driver from Iot.Device.Bindings, opened by name on the
/// first read: one missing at start (no /dev/i2c-N, nothing answering at the address) is a fault like one that fails
/// mid-stream, reported and retried with a back-off, while the service and its control socket run. Simulated, the
/// driver talks to an MPU-6050 register file.
/// </summary>
internal sealed class ImuWindowSource(SourceConfig cfg) : IWindowSource
{
    ISensor? imu;
    readonly int channels = SensorCatalog.Channels(cfg.Sensor).Count;
    readonly float[] ring = new float[cfg.Window * SensorCatalog.Channels(cfg.Sensor).Count];
    readonly float[] sample = new float[SensorCatalog.Channels(cfg.Sensor).Count];
    int filled, sinceLast, openFailures;
    long next = DateTime.UtcNow.Ticks;
    readonly long periodTicks = TimeSpan.TicksPerSecond / cfg.RateHz;
    readonly SimulatedMpu6xxx? simulator = cfg.Simulated ? Simulate(cfg) : null;

    static SimulatedMpu6xxx Simulate(SourceConfig cfg)
    {
        var noise = new Random(1);
        var sim = new SimulatedMpu6xxx(i => SimulatedMpu6xxx.Gesture(cfg.SimulatedGestures[(int)(i / cfg.SimulatedGestureSamples % cfg.SimulatedGestures.Length)], i, cfg.RateHz, noise));
        if (cfg.SimulatedFailure is [var from, var to]) sim.FailWhile = i => i >= from && i < to;
        return sim;
    }

    int Address => cfg.Address ?? SensorCatalog.DefaultAddress(cfg.Sensor);
    string Where => Address < 0 ? $"SPI bus {cfg.Bus}, chip select 0" : $"I2C bus {cfg.Bus} at 0x{Address:x2}";

    public string Describe => $"{SensorCatalog.Model(cfg.Sensor)} ({string.Join(", ", SensorCatalog.Channels(cfg.Sensor).Select(c => $"{c.Name} {c.Unit}"))}) on {Where}, {cfg.RateHz} Hz{(cfg.Simulated ? " (simulated)" : "")}, window {cfg.Window}, stride {cfg.Stride}";

    /// <summary>The gesture the simulator is playing for a window ending now (for labelling in tests and demos).</summary>
    public int? SimulatedGestureNow => simulator is null ? null : cfg.SimulatedGestures[(int)(Math.Max(0, simulator.SamplesRead - 1) / cfg.SimulatedGestureSamples % cfg.SimulatedGestures.Length)];

    bool TryOpen(CancellationToken cancel, out string? fault)
    {
        fault = null;
        if (imu is not null) return true;
        try
        {
            imu = simulator is not null ? SensorCatalog.Open(cfg.Sensor, _ => simulator) : SensorCatalog.Open(cfg.Sensor, cfg.Bus, cfg.Address);
            openFailures = 0;
            next = DateTime.UtcNow.Ticks;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException or InvalidOperationException or ArgumentException)
        {
            fault = $"cannot open the {SensorCatalog.Model(cfg.Sensor)} on {Where}{(Address < 0 ? "" : $" (/dev/i2c-{cfg.Bus})")}: {e.Message}";
            // Retried with a back-off up to 10 s; the loop keeps reporting and notifying the watchdog meanwhile.
            cancel.WaitHandle.WaitOne(Math.Min(10_000, 500 << Math.Min(openFailures++, 5)));
            return false;
        }
    }

    public bool TryNext(Span<float> window, CancellationToken cancel, out string? fault)
    {
        fault = null;
        while (!cancel.IsCancellationRequested)
        {
            if (!TryOpen(cancel, out fault)) return false;
            long wait = next - DateTime.UtcNow.Ticks;
            if (wait > 0) cancel.WaitHandle.WaitOne(TimeSpan.FromTicks(Math.Min(wait, TimeSpan.TicksPerSecond)));
            next += periodTicks;
            if (!imu!.TryRead(sample, out fault)) { filled = 0; sinceLast = 0; return false; }   // restart the window after a fault
            Array.Copy(ring, channels, ring, 0, ring.Length - channels);
            sample.CopyTo(ring.AsSpan(ring.Length - channels));
            filled = Math.Min(filled + 1, cfg.Window);
            if (filled < cfg.Window || ++sinceLast < cfg.Stride) continue;
            sinceLast = 0;
            ring.CopyTo(window);
            return true;
        }
        fault = "stopping";
        return false;
    }

    public void Dispose() => imu?.Dispose();
}

/// <summary>Frames from a camera process or file, preprocessed to the model's input.</summary>
internal sealed class CameraWindowSource(SourceConfig cfg, int channels, int height, int width, float[] mean, float[] std) : IWindowSource
{
    readonly FrameSource frames = Open(cfg);

    static FrameSource Open(SourceConfig cfg)
    {
        if (cfg.File.Length > 0) return FrameSource.FromFile(cfg.File, cfg.Width, cfg.Height, ParseFormat(cfg.Format));
        var f = FrameSource.FromProcess(cfg.Command, cfg.Args, cfg.Width, cfg.Height, ParseFormat(cfg.Format));
        f.FrameTimeout = TimeSpan.FromSeconds(cfg.FrameTimeoutSeconds);
        return f;
    }
    readonly Preprocess pre = new(channels, height, width, Mean: mean, Std: std, Invert: cfg.Invert);

    static PixelFormat ParseFormat(string f) => f switch { "rgb24" => PixelFormat.Rgb24, "yuv420" => PixelFormat.Yuv420, _ => PixelFormat.Gray8 };
    public string Describe => $"camera {(cfg.File.Length > 0 ? cfg.File : cfg.Command)} {cfg.Width}x{cfg.Height} {cfg.Format} -> {channels}x{height}x{width}";
    public int Restarts => frames.Restarts;

    public bool TryNext(Span<float> window, CancellationToken cancel, out string? fault)
    {
        var f = frames.TryNext(cancel);
        if (f is null) { fault = frames.LastError; return false; }
        pre.Run(f, window);
        fault = null;
        return true;
    }

    public void Dispose() => frames.Dispose();
}
