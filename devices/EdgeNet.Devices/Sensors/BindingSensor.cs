using System.Device.I2c;
using System.Device.Spi;

namespace EdgeNet.Devices.Sensors;

/// <summary>Writes one sample of a binding's readings into <paramref name="values"/>, converted to SI units.</summary>
/// <param name="values">One value per channel.</param>
public delegate void SampleReader(Span<float> values);

/// <summary>
/// An <see cref="ISensor"/> over a driver from Iot.Device.Bindings: bus errors become a failed read with a reason, and
/// so do non-finite values and (for motion sensors) a frame whose values are all equal, which is what a detached chip
/// returns (all-zeros or all-ones registers).
/// </summary>
sealed class BindingSensor(string model, SensorChannel[] channels, SampleReader read, bool rejectConstantFrames, IDisposable owned) : ISensor
{
    public string Model => model;
    public IReadOnlyList<SensorChannel> Channels => channels;

    public bool TryRead(Span<float> values, out string? error)
    {
        if (values.Length != channels.Length) throw new ArgumentException($"{model} reads {channels.Length} values, the destination holds {values.Length}", nameof(values));
        try { read(values); }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException or UnauthorizedAccessException)
        {
            error = $"{model}: I2C/SPI read failed: {e.Message}";
            return false;
        }
        foreach (var v in values)
            if (!float.IsFinite(v)) { error = $"{model}: the sensor returned a non-finite value"; return false; }
        if (rejectConstantFrames && values.IndexOfAnyExcept(values[0]) < 0)
        {
            error = $"{model}: every value of the sample is {values[0]} (detached or not powered?)";
            return false;
        }
        error = null;
        return true;
    }

    public void Dispose() => owned.Dispose();
}
