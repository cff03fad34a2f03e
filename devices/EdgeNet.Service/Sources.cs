using System.Device.I2c;
using EdgeNet.Devices.Camera;
using EdgeNet.Devices.Mpu6xxx;
using EdgeNet.Devices.Simulated;

namespace EdgeNet.Service;

/// <summary>Where windows come from: each call returns the next model input (fp32, one sample) or a fault.</summary>
public interface IWindowSource : IDisposable
{
    /// <summary>Fills <paramref name="window"/>; false with a reason when the device failed this time (the loop retries).</summary>
    bool TryNext(Span<float> window, CancellationToken cancel, out string? fault);
    string Describe { get; }
}

/// <summary>
/// IMU samples at the configured rate into a sliding window (window samples, advancing by stride): features per sample
/// are acceleration x, y, z (m/s²) and angular rate x, y, z (rad/s), laid out [window, 6].
/// </summary>
public sealed class ImuWindowSource : IWindowSource
{
    readonly Mpu6xxx imu;
    readonly SourceConfig cfg;
    readonly float[] ring;
    int filled, sinceLast;
    long next;
    readonly long periodTicks;
    public SimulatedMpu6xxx? Simulator { get; }

    public ImuWindowSource(SourceConfig cfg)
    {
        this.cfg = cfg;
        I2cDevice dev;
        if (cfg.Simulated)
        {
            var noise = new Random(1);
            var gestures = cfg.SimulatedGestures.Length > 0 ? cfg.SimulatedGestures : [0];
            Simulator = new SimulatedMpu6xxx(i => SimulatedMpu6xxx.Gesture(gestures[(int)(i / cfg.SimulatedGestureSamples % gestures.Length)], i, cfg.RateHz, noise));
            if (cfg.SimulatedFailure is [var from, var to]) Simulator.FailWhile = i => i >= from && i < to;
            dev = Simulator;
        }
        else dev = I2cDevice.Create(new I2cConnectionSettings(cfg.Bus, cfg.Address));
        imu = new Mpu6xxx(dev);
        imu.Configure(AccelRange.G4, GyroRange.Dps500, cfg.RateHz);
        ring = new float[cfg.Window * 6];
        periodTicks = TimeSpan.TicksPerSecond / cfg.RateHz;
        next = DateTime.UtcNow.Ticks;
    }

    public string Describe => $"{imu.Model} at {cfg.RateHz} Hz{(cfg.Simulated ? " (simulated)" : "")}, window {cfg.Window}, stride {cfg.Stride}";

    /// <summary>The gesture the simulator is playing for a window ending now (for labelling in tests and demos).</summary>
    public int? SimulatedGestureNow => Simulator is null ? null : cfg.SimulatedGestures[(int)(Math.Max(0, Simulator.SamplesRead - 1) / cfg.SimulatedGestureSamples % cfg.SimulatedGestures.Length)];

    public bool TryNext(Span<float> window, CancellationToken cancel, out string? fault)
    {
        fault = null;
        while (!cancel.IsCancellationRequested)
        {
            long wait = next - DateTime.UtcNow.Ticks;
            if (wait > 0) Thread.Sleep(TimeSpan.FromTicks(Math.Min(wait, TimeSpan.TicksPerSecond)));
            next += periodTicks;
            if (!imu.TryRead(out var s, out fault)) { filled = 0; sinceLast = 0; return false; }   // restart the window after a fault
            Array.Copy(ring, 6, ring, 0, ring.Length - 6);
            s.Acceleration.CopyTo(ring.AsSpan(ring.Length - 6, 3));
            s.AngularRate.CopyTo(ring.AsSpan(ring.Length - 3, 3));
            filled = Math.Min(filled + 1, cfg.Window);
            if (filled < cfg.Window || ++sinceLast < cfg.Stride) continue;
            sinceLast = 0;
            ring.CopyTo(window);
            return true;
        }
        fault = "stopping";
        return false;
    }

    public void Dispose() => imu.Dispose();
}

/// <summary>Frames from a camera process or file, preprocessed to the model's input.</summary>
public sealed class CameraWindowSource(SourceConfig cfg, int channels, int height, int width, float[] mean, float[] std) : IWindowSource
{
    readonly FrameSource frames = cfg.File.Length > 0
        ? FrameSource.FromFile(cfg.File, cfg.Width, cfg.Height, ParseFormat(cfg.Format))
        : FrameSource.FromProcess(cfg.Command, cfg.Args, cfg.Width, cfg.Height, ParseFormat(cfg.Format));
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
