namespace EdgeNet.Devices.Sensors;

/// <summary>A sensor read one sample at a time: a fixed list of channels, each value in its channel's SI unit.</summary>
public interface ISensor : IDisposable
{
    /// <summary>The chip, as its datasheet names it (e.g. <c>MPU-6050</c>).</summary>
    string Model { get; }

    /// <summary>The values of one sample, in the order <see cref="TryRead"/> writes them.</summary>
    IReadOnlyList<SensorChannel> Channels { get; }

    /// <summary>Reads one sample into <paramref name="values"/> (length <see cref="Channels"/>.Count); false with a
    /// reason when the bus failed or the sample is implausible (a detached sensor), never a garbage sample.</summary>
    bool TryRead(Span<float> values, out string? error);
}
