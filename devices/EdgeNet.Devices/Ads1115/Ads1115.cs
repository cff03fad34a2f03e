using System.Buffers.Binary;
using System.Device.I2c;

namespace EdgeNet.Devices.Ads1115;

/// <summary>ADS1115 registers.</summary>
public enum Register : byte { Conversion = 0x00, Config = 0x01, LowThreshold = 0x02, HighThreshold = 0x03 }

/// <summary>Full-scale ranges of the programmable gain amplifier, in volts.</summary>
public enum Range : ushort { V6_144 = 0, V4_096 = 1, V2_048 = 2, V1_024 = 3, V0_512 = 4, V0_256 = 5 }

/// <summary>
/// ADS1115 16-bit ADC over I2C (address 0x48): single-shot conversions on one of four single-ended inputs, in volts.
/// The chip has no id register; the constructor checks that the config register reads back its documented reset value
/// (0x8583) or a value this driver wrote, which a different chip at 0x48 is unlikely to do.
/// </summary>
public sealed class Ads1115 : IDisposable
{
    public const int DefaultAddress = 0x48;
    readonly I2cDevice device;

    public Ads1115(I2cDevice device)
    {
        this.device = device;
        ushort config = ReadRegister(Register.Config);
        if ((config & 0x00FF) != 0x0083 && (config & 0x001F) != 0x0003)
            throw new IOException($"no ADS1115 at 0x{device.ConnectionSettings.DeviceAddress:X2}: config register reads 0x{config:X4}");
    }

    public Range Range { get; set; } = Range.V4_096;

    static float FullScale(Range r) => r switch { Range.V6_144 => 6.144f, Range.V4_096 => 4.096f, Range.V2_048 => 2.048f, Range.V1_024 => 1.024f, Range.V0_512 => 0.512f, _ => 0.256f };

    /// <summary>One single-shot conversion of input AIN0..AIN3 against GND, in volts; false on a bus error or timeout.</summary>
    public bool TryReadVoltage(int channel, out float volts, out string? error)
    {
        volts = 0;
        if (channel is < 0 or > 3) throw new ArgumentOutOfRangeException(nameof(channel));
        try
        {
            ushort config = (ushort)(0x8000 | ((4 + channel) << 12) | ((int)Range << 9) | 0x0100 | (4 << 5) | 0x0003);   // start, single-shot, 128 SPS
            WriteRegister(Register.Config, config);
            for (int i = 0; ; i++)
            {
                Thread.Sleep(1);
                if ((ReadRegister(Register.Config) & 0x8000) != 0) break;   // conversion done
                if (i > 50) { error = "conversion did not finish"; return false; }
            }
            volts = (short)ReadRegister(Register.Conversion) * FullScale(Range) / 32768f;
            error = null;
            return true;
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException)
        {
            error = $"I2C failed: {e.Message}";
            return false;
        }
    }

    ushort ReadRegister(Register r)
    {
        Span<byte> b = stackalloc byte[2];
        device.WriteByte((byte)r);
        device.Read(b);
        return BinaryPrimitives.ReadUInt16BigEndian(b);
    }

    void WriteRegister(Register r, ushort v)
    {
        Span<byte> b = [(byte)r, (byte)(v >> 8), (byte)v];
        device.Write(b);
    }

    public void Dispose() => device.Dispose();
}
