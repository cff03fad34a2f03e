using System.Buffers.Binary;
using System.Device.I2c;
using System.Numerics;

namespace EdgeNet.Devices.Simulated;

/// <summary>
/// An <see cref="I2cDevice"/> that emulates an MPU-6050's registers (dotnet/iot's SimulatedI2cDevice pattern):
/// WHO_AM_I, the configuration registers it stores, and a 14-byte burst that plays a signal function of the sample
/// index. <see cref="FailWhile"/> makes reads throw <see cref="IOException"/>, like an unplugged sensor.
/// </summary>
public sealed class SimulatedMpu6xxx(Func<long, (Vector3 accel, Vector3 gyro)> signal, byte whoAmI = 0x68) : I2cDevice
{
    readonly byte[] registers = new byte[128];
    byte pointer;
    long sample;
    public Func<long, bool> FailWhile { get; set; } = _ => false;
    public override I2cConnectionSettings ConnectionSettings { get; } = new(1, 0x68);
    public long SamplesRead => sample;

    public override byte ReadByte()
    {
        Span<byte> b = stackalloc byte[1];
        Read(b);
        return b[0];
    }

    public override void Read(Span<byte> buffer)
    {
        if (FailWhile(sample)) { sample++; throw new IOException("Remote I/O error (simulated: sensor unplugged)"); }
        registers[0x75] = whoAmI;
        if (pointer == 0x3B) Fill();
        for (int i = 0; i < buffer.Length; i++) buffer[i] = registers[(pointer + i) & 127];
    }

    void Fill()
    {
        var (a, g) = signal(sample++);
        int accelRange = (registers[0x1C] >> 3) & 3, gyroRange = (registers[0x1B] >> 3) & 3;
        float aLsb = 32768f / ((2 << accelRange) * 9.80665f), gLsb = 32768f / ((250 << gyroRange) * MathF.PI / 180f);
        void Put(int at, float v) => BinaryPrimitives.WriteInt16BigEndian(registers.AsSpan(at), (short)Math.Clamp(MathF.Round(v), -32768, 32767));
        Put(0x3B, a.X * aLsb); Put(0x3D, a.Y * aLsb); Put(0x3F, a.Z * aLsb);
        Put(0x41, (25 - 36.53f) * 340);
        Put(0x43, g.X * gLsb); Put(0x45, g.Y * gLsb); Put(0x47, g.Z * gLsb);
    }

    public override void WriteByte(byte value) => pointer = value;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length == 0) return;
        pointer = buffer[0];
        for (int i = 1; i < buffer.Length; i++) registers[(pointer + i - 1) & 127] = buffer[i];
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) { Write(writeBuffer); Read(readBuffer); }

    /// <summary>Synthetic gestures: 0 still, 1 shake (5 Hz along x), 2 circle (rotation about z), with noise.</summary>
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

    public static string[] GestureNames { get; } = ["still", "shake", "circle"];
}
