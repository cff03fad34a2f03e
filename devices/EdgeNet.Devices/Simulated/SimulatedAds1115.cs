using System.Buffers.Binary;
using System.Device.I2c;

namespace EdgeNet.Devices.Simulated;

/// <summary>
/// An <see cref="I2cDevice"/> that emulates an ADS1115's registers behind the Iot.Device.Bindings driver: a write of
/// the config register starts a single-ended conversion of the selected input at the selected range, finished at once.
/// </summary>
/// <param name="volts">The voltage on input AIN0..AIN3.</param>
public sealed class SimulatedAds1115(Func<int, float> volts) : I2cDevice
{
    const byte Conversion = 0, Config = 1;
    ushort config = 0x8583, conversion;   // the datasheet's reset value
    byte pointer;

    /// <inheritdoc/>
    public override I2cConnectionSettings ConnectionSettings { get; } = new(1, 0x48);

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
        Span<byte> v = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(v, pointer == Config ? config : pointer == Conversion ? conversion : (ushort)0);
        v[..Math.Min(2, buffer.Length)].CopyTo(buffer);
    }

    /// <inheritdoc/>
    public override void WriteByte(byte value) => pointer = value;

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length == 0) return;
        pointer = buffer[0];
        if (buffer.Length < 3 || pointer != Config) return;
        config = BinaryPrimitives.ReadUInt16BigEndian(buffer[1..]);
        int mux = (config >> 12) & 7;
        if (mux < 4) throw new IOException("simulated ADS1115: differential inputs are not simulated");
        float fullScale = ((config >> 9) & 7) switch { 0 => 6.144f, 1 => 4.096f, 2 => 2.048f, 3 => 1.024f, 4 => 0.512f, _ => 0.256f };
        conversion = (ushort)(short)Math.Clamp(MathF.Round(volts(mux - 4) / fullScale * 32768), -32768, 32767);
        config |= 0x8000;   // conversion finished
    }

    /// <inheritdoc/>
    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) { Write(writeBuffer); Read(readBuffer); }
}
