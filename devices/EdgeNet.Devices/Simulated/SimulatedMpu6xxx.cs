using System.Buffers.Binary;
using System.Device.I2c;
using System.Numerics;

namespace EdgeNet.Devices.Simulated;

/// <summary>
/// An <see cref="I2cDevice"/> that emulates an MPU-6050/6500's register file behind the Iot.Device.Bindings driver
/// (dotnet/iot's simulated-device pattern): WHO_AM_I, a reset on PWR_MGMT_1 bit 7, configuration registers that read
/// back what was written, and the data registers, refilled from <see cref="Signal"/> whenever the driver reads the
/// accelerometer (0x3B), scaled by the configured ranges. <see cref="FailWhile"/> makes those reads throw
/// <see cref="IOException"/>, like an unplugged sensor.
/// </summary>
/// <param name="signal">Acceleration (m/s²) and angular rate (rad/s) of sample <i>i</i>.</param>
/// <param name="whoAmI">The id register: 0x68 MPU-6050, 0x70 MPU-6500.</param>
public sealed class SimulatedMpu6xxx(Func<long, (Vector3 accel, Vector3 gyro)> signal, byte whoAmI = 0x68) : I2cDevice
{
    const byte AccelXHigh = 0x3B, GyroConfig = 0x1B, AccelConfig = 0x1C, PowerManagement1 = 0x6B, WhoAmI = 0x75;
    const float Gravity = 9.807f;   // the binding's value of g
    readonly byte[] registers = new byte[128];
    byte pointer;
    long sample;

    /// <summary>The signal played: acceleration (m/s²) and angular rate (rad/s) of sample <i>i</i>.</summary>
    public Func<long, (Vector3 accel, Vector3 gyro)> Signal { get; set; } = signal;

    /// <summary>Samples for which reading the data registers fails with an I2C error.</summary>
    public Func<long, bool> FailWhile { get; set; } = _ => false;

    /// <inheritdoc/>
    public override I2cConnectionSettings ConnectionSettings { get; } = new(1, 0x68);

    /// <summary>Samples read so far (including failed ones).</summary>
    public long SamplesRead => sample;

    /// <inheritdoc/>
    public override byte ReadByte()
    {
        Span<byte> b = stackalloc byte[1];
        Read(b);
        return b[0];
    }

    /// <inheritdoc/>
    public override void Read(Span<byte> buffer)
    {
        if (pointer == AccelXHigh)
        {
            if (FailWhile(sample)) { sample++; throw new IOException("Remote I/O error (simulated: sensor unplugged)"); }
            Fill();
        }
        registers[WhoAmI] = whoAmI;
        for (int i = 0; i < buffer.Length; i++) buffer[i] = registers[(pointer + i) & 127];
    }

    void Fill()
    {
        var (a, g) = Signal(sample++);
        int accelRange = (registers[AccelConfig] >> 3) & 3, gyroRange = (registers[GyroConfig] >> 3) & 3;
        float aLsb = 32768f / ((2 << accelRange) * Gravity), gLsb = 32768f / ((250 << gyroRange) * MathF.PI / 180f);
        void Put(int at, float v) => BinaryPrimitives.WriteInt16BigEndian(registers.AsSpan(at), (short)Math.Clamp(MathF.Round(v), -32768, 32767));
        Put(0x3B, a.X * aLsb); Put(0x3D, a.Y * aLsb); Put(0x3F, a.Z * aLsb);
        Put(0x41, (25 - 21) * 333.87f + 21);   // 25 °C by the binding's formula
        Put(0x43, g.X * gLsb); Put(0x45, g.Y * gLsb); Put(0x47, g.Z * gLsb);
    }

    /// <inheritdoc/>
    public override void WriteByte(byte value) => pointer = value;

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length == 0) return;
        pointer = buffer[0];
        if (buffer is [PowerManagement1, var v, ..] && (v & 0x80) != 0) { Array.Clear(registers); registers[PowerManagement1] = 0x40; return; }   // device reset
        for (int i = 1; i < buffer.Length; i++) registers[(pointer + i - 1) & 127] = buffer[i];
    }

    /// <inheritdoc/>
    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) { Write(writeBuffer); Read(readBuffer); }

    /// <summary>Synthetic gestures: 0 still, 1 shake (5 Hz along x), 2 circle (rotation about z), with noise.</summary>
    /// <returns>Acceleration (m/s²) and angular rate (rad/s) of sample <paramref name="i"/> at <paramref name="rateHz"/>.</returns>
    public static (Vector3, Vector3) Gesture(int gesture, long i, int rateHz, Random noise)
    {
        float t = (float)i / rateHz;
        float n() => (float)(noise.NextDouble() - 0.5) * 0.3f;
        var g = new Vector3(0, 0, 9.81f);
        return gesture switch
        {
            1 => (g + new Vector3(6 * MathF.Sin(2 * MathF.PI * 5 * t) + n(), n(), n()), new Vector3(n(), 2 * MathF.Cos(2 * MathF.PI * 5 * t), n())),
            2 => (g + new Vector3(3 * MathF.Cos(2 * MathF.PI * t) + n(), 3 * MathF.Sin(2 * MathF.PI * t) + n(), n()), new Vector3(n(), n(), 2 * MathF.PI + n())),
            _ => (g + new Vector3(n(), n(), n()), new Vector3(n() * 0.1f, n() * 0.1f, n() * 0.1f)),
        };
    }

    /// <summary>The class names of <see cref="Gesture"/>, by gesture number.</summary>
    public static string[] GestureNames { get; } = ["still", "shake", "circle"];
}
