using System.Device.Gpio;
using System.Device.Gpio.Drivers;

namespace EdgeNet.Devices.Gpio;

/// <summary>
/// Opens the GPIO chip a config names, /dev/gpiochipN, through libgpiod — that chip and no fallback. (A plain
/// <c>new GpioController()</c> takes chip 0 and, where there is none, the legacy sysfs driver, whose behaviour then
/// depends on the machine.) A missing chip or a missing libgpiod is one <see cref="IOException"/> naming it.
/// </summary>
public static class GpioChip
{
    /// <summary>The device file of chip <paramref name="chip"/>: /dev/gpiochipN.</summary>
    public static string PathOf(int chip) => $"/dev/gpiochip{chip}";

    /// <summary>A controller for the lines of /dev/gpiochip<paramref name="chip"/> (libgpiod v2, else v1).</summary>
    /// <exception cref="IOException">The chip does not exist, or neither libgpiod.so.3 nor libgpiod.so.2 is installed.</exception>
    public static GpioController Open(int chip)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chip);
        string path = PathOf(chip);
        if (!File.Exists(path)) throw new IOException($"{path} does not exist");
        // libgpiod.so.3 (Debian 13, Raspberry Pi OS trixie) has the v2 API; libgpiod.so.2 (bookworm) the v1 API.
        Exception? v2Error;
        try { return new GpioController(new LibGpiodV2Driver(chip)); }
        catch (Exception e) when (e is not OutOfMemoryException) { v2Error = e; }
        try { return new GpioController(new LibGpiodDriver(chip)); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new IOException($"{path}: cannot open it with libgpiod (install libgpiod3 or libgpiod2): {v2Error.Message}; {e.Message}", e);
        }
    }
}
