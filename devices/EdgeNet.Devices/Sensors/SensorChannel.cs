namespace EdgeNet.Devices.Sensors;

/// <summary>One value a sensor reports per sample: its name (e.g. <c>accel_x</c>) and SI unit (e.g. <c>m/s²</c>).</summary>
/// <param name="Name">Channel name, lower case with underscores.</param>
/// <param name="Unit">The SI unit of the value.</param>
public sealed record SensorChannel(string Name, string Unit);
