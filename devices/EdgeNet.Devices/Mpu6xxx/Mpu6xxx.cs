using System.Buffers.Binary;
using System.Device.I2c;
using System.Numerics;

namespace EdgeNet.Devices.Mpu6xxx;

/// <summary>One IMU sample in SI units: acceleration in m/s², angular rate in rad/s, temperature in °C.</summary>
public readonly record struct ImuSample(Vector3 Acceleration, Vector3 AngularRate, float TemperatureCelsius);

/// <summary>
/// MPU-6050 / MPU-6500 accelerometer + gyroscope over I2C (address 0x68, or 0x69 with AD0 high), in dotnet/iot's
/// shape: the constructor takes the bus device and checks the chip id; ranges and sample rate are configured; one
/// burst read returns a whole sample; <see cref="TryRead"/> never returns garbage (I2C errors and all-ones or
/// all-zeros frames from a detached sensor are reported as failures).
/// </summary>
public sealed class Mpu6xxx : IDisposable
{
    public const int DefaultAddress = 0x68;
    const float StandardGravity = 9.80665f;
    readonly I2cDevice device;
    readonly bool ownsDevice;
    float accelPerLsb, gyroPerLsb;

    public string Model { get; }

    public Mpu6xxx(I2cDevice device, bool ownsDevice = true)
    {
        this.device = device; this.ownsDevice = ownsDevice;
        byte id = ReadByte(Register.WhoAmI);
        Model = id switch
        {
            0x68 => "MPU-6050",
            0x70 => "MPU-6500",
            0x71 => "MPU-9250",
            _ => throw new IOException($"no MPU-6050/6500 at I2C address 0x{device.ConnectionSettings.DeviceAddress:X2}: WHO_AM_I is 0x{id:X2}"),
        };
        WriteByte(Register.PowerManagement1, 0x01);   // wake up, clock from the gyro's PLL
        Configure(AccelRange.G4, GyroRange.Dps500, sampleRateHz: 100);
    }

    /// <summary>Sets the ranges and the output data rate (1 kHz internal rate with the 44 Hz low-pass, divided down).</summary>
    public void Configure(AccelRange accel, GyroRange gyro, int sampleRateHz)
    {
        if (sampleRateHz is < 4 or > 1000) throw new ArgumentOutOfRangeException(nameof(sampleRateHz), "4..1000 Hz");
        WriteByte(Register.Config, 0x03);                                    // DLPF 44 Hz → 1 kHz internal
        WriteByte(Register.SampleRateDivider, (byte)(1000 / sampleRateHz - 1));
        WriteByte(Register.AccelConfig, (byte)((byte)accel << 3));
        WriteByte(Register.GyroConfig, (byte)((byte)gyro << 3));
        accelPerLsb = (2 << (int)accel) * StandardGravity / 32768f;
        gyroPerLsb = (250 << (int)gyro) * MathF.PI / 180f / 32768f;
        SampleRateHz = sampleRateHz;
    }

    public int SampleRateHz { get; private set; }

    /// <summary>Reads one sample; false (and a reason) when the bus fails or the frame is implausible.</summary>
    public bool TryRead(out ImuSample sample, out string? error)
    {
        sample = default;
        Span<byte> raw = stackalloc byte[14];
        try
        {
            device.WriteByte((byte)Register.AccelXHigh);
            device.Read(raw);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or TimeoutException)
        {
            error = $"I2C read failed: {e.Message}";
            return false;
        }
        if (raw.IndexOfAnyExcept((byte)0xFF) < 0 || raw.IndexOfAnyExcept((byte)0x00) < 0)
        {
            error = "the sensor returned an all-ones or all-zeros frame (detached or not powered?)";
            return false;
        }
        static short S(ReadOnlySpan<byte> r, int i) => BinaryPrimitives.ReadInt16BigEndian(r[i..]);
        sample = new ImuSample(
            new Vector3(S(raw, 0), S(raw, 2), S(raw, 4)) * accelPerLsb,
            new Vector3(S(raw, 8), S(raw, 10), S(raw, 12)) * gyroPerLsb,
            Model == "MPU-6050" ? S(raw, 6) / 340f + 36.53f : S(raw, 6) / 333.87f + 21f);
        error = null;
        return true;
    }

    byte ReadByte(Register r) { device.WriteByte((byte)r); return device.ReadByte(); }
    void WriteByte(Register r, byte v) => device.Write([(byte)r, v]);

    public void Dispose() { if (ownsDevice) device.Dispose(); }
}
