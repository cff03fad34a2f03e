using System.Device.I2c;
using System.Diagnostics.CodeAnalysis;
using System.Device.Spi;
using System.Numerics;
using Iot.Device.Ads1115;
using Iot.Device.Adxl345;
using Iot.Device.Bmxx80;
using Iot.Device.Bno055;
using Iot.Device.Imu;
using Iot.Device.Bmxx80.ReadResult;
using Iot.Device.Lsm9Ds1;
using UnitsNet.Units;

namespace EdgeNet.Devices.Sensors;

/// <summary>
/// The sensors the service opens by name (<c>mpu6050</c>, <c>MPU-6050</c> and <c>mpu_6050</c> are one name), each a
/// driver from Iot.Device.Bindings behind <see cref="ISensor"/> with its channels in SI units: acceleration m/s²,
/// angular rate rad/s, magnetic flux density T, temperature °C, pressure Pa, relative humidity %, resistance Ω,
/// voltage V. (Iot.Device.Bindings 4.2 has no ICM-20948 driver.)
/// </summary>
public static class SensorCatalog
{
    /// <summary>
    /// BME280 and BME680 report UnitsNet quantities, and any use of UnitsNet keeps all of it (about 6 MB) in a
    /// NativeAOT binary. A build leaves them out with the feature switch <c>EdgeNet.Devices.ClimateSensors=false</c>
    /// (<c>&lt;RuntimeHostConfigurationOption Include="EdgeNet.Devices.ClimateSensors" Value="false" Trim="true" /&gt;</c>;
    /// the edgenet device binary does); opening one then says so.
    /// </summary>
    [FeatureSwitchDefinition("EdgeNet.Devices.ClimateSensors")]
    static bool ClimateSensors => !AppContext.TryGetSwitch("EdgeNet.Devices.ClimateSensors", out bool on) || on;

    const float StandardGravity = 9.80665f, DegreesToRadians = MathF.PI / 180f;

    /// <summary>A chip: its model name, default I2C address (−1: SPI), channels, whether an all-equal frame means a
    /// detached chip, and how to open the binding (I2C device by address, SPI device, address) → reader, owned objects.</summary>
    sealed record Entry(string Model, int Address, SensorChannel[] Channels, bool RejectConstantFrames,
        Func<Func<int, I2cDevice>, Func<SpiDevice>, int, (SampleReader Read, IDisposable Owned)> Open);

    static readonly SensorChannel[] Accel = [new("accel_x", "m/s²"), new("accel_y", "m/s²"), new("accel_z", "m/s²")];
    static readonly SensorChannel[] Gyro = [new("gyro_x", "rad/s"), new("gyro_y", "rad/s"), new("gyro_z", "rad/s")];
    static readonly SensorChannel[] Mag = [new("mag_x", "T"), new("mag_y", "T"), new("mag_z", "T")];
    static readonly SensorChannel[] ClimateChannels = [new("temperature", "°C"), new("pressure", "Pa"), new("humidity", "%")];

    static readonly Dictionary<string, Entry> Entries = new()
    {
        ["mpu6050"] = new("MPU-6050", Mpu6050.DefaultI2cAddress, [.. Accel, .. Gyro], true, (i2c, _, a) => Mpu(new Mpu6050(i2c(a)))),
        ["mpu6500"] = new("MPU-6500", Mpu6050.DefaultI2cAddress, [.. Accel, .. Gyro], true, (i2c, _, a) => Mpu(new Mpu6500(i2c(a)))),
        ["mpu9250"] = new("MPU-9250", Mpu6050.DefaultI2cAddress, [.. Accel, .. Gyro, .. Mag], true, (i2c, _, a) => Mpu9250(new Mpu9250(i2c(a)))),
        ["lsm9ds1"] = new("LSM9DS1", 0x6B, [.. Accel, .. Gyro, .. Mag], true, (i2c, _, a) => Lsm9Ds1(i2c(a), i2c(0x1E))),
        ["bno055"] = new("BNO055", Bno055Sensor.DefaultI2cAddress, [.. Accel, .. Gyro, .. Mag], true,
            (i2c, _, a) => Bno055(new Bno055Sensor(i2c(a), OperationMode.AccelerometerMagnetometerGyroscope))),
        ["adxl345"] = new("ADXL345", -1, Accel, true, (_, spi, _) => Adxl345(new Adxl345(spi(), GravityRange.Range04))),
        ["bme280"] = new("BME280", 0x76, ClimateChannels, false, (i2c, _, a) => ClimateSensors ? Bme280(new Bme280(i2c(a))) : throw LeftOutError("BME280")),
        ["bme680"] = new("BME680", 0x76, [.. ClimateChannels, new("gas_resistance", "Ω")], false, (i2c, _, a) => ClimateSensors ? Bme680(new Bme680(i2c(a))) : throw LeftOutError("BME680")),
        ["ads1115"] = new("ADS1115", 0x48, [new("ain0", "V"), new("ain1", "V"), new("ain2", "V"), new("ain3", "V")], false,
            (i2c, _, a) => Ads1115(new Ads1115(i2c(a), InputMultiplexer.AIN0, MeasuringRange.FS4096, DataRate.SPS860, DeviceMode.PowerDown))),
    };

    /// <summary>The names <see cref="Open(string, int, int?)"/> accepts, in their canonical spelling.</summary>
    public static IReadOnlyCollection<string> Names => Entries.Keys;

    /// <summary>Whether <paramref name="name"/> is a known sensor (in any spelling the catalog accepts).</summary>
    public static bool IsKnown(string name) => Entries.ContainsKey(Normalize(name));

    /// <summary>The chip's model name as its datasheet writes it (e.g. <c>MPU-6050</c>).</summary>
    public static string Model(string name) => Find(name).Model;

    /// <summary>The chip's default I2C address, or −1 for an SPI sensor.</summary>
    public static int DefaultAddress(string name) => Find(name).Address;

    /// <summary>The channels a sensor reports, without opening it (to check a configuration against a model).</summary>
    public static IReadOnlyList<SensorChannel> Channels(string name) => Find(name).Channels;

    /// <summary>Opens a sensor on a hardware bus: I2C bus <paramref name="bus"/> at <paramref name="address"/> (the
    /// chip's default when null), or for an SPI sensor SPI bus <paramref name="bus"/> with chip select
    /// <paramref name="address"/> (0 when null).</summary>
    /// <exception cref="ArgumentException">The name is not in the catalog.</exception>
    /// <exception cref="IOException">No such chip answers there.</exception>
    public static ISensor Open(string name, int bus = 1, int? address = null) => Open(name,
        a => I2cDevice.Create(new I2cConnectionSettings(bus, a)),
        () => SpiDevice.Create(new SpiConnectionSettings(bus, address ?? 0) { Mode = SpiMode.Mode3, ClockFrequency = 5_000_000 }),
        address);

    /// <summary>Opens a sensor on devices the caller makes: <paramref name="i2c"/> gives the device at an address (a
    /// simulated register file in tests), <paramref name="spi"/> the device of an SPI sensor.</summary>
    /// <exception cref="ArgumentException">The name is not in the catalog.</exception>
    /// <exception cref="IOException">No such chip answers there.</exception>
    public static ISensor Open(string name, Func<int, I2cDevice> i2c, Func<SpiDevice>? spi = null, int? address = null)
    {
        var e = Find(name);
        var (read, owned) = e.Open(i2c, spi ?? (() => throw new ArgumentException($"{e.Model} is an SPI sensor and no SPI device was given")), address ?? e.Address);
        return new BindingSensor(e.Model, e.Channels, read, e.RejectConstantFrames, owned);
    }

    /// <summary>Why a known sensor cannot be opened in this build (see <see cref="ClimateSensors"/>), or null when it can.</summary>
    public static string? LeftOut(string name) => Find(name).Model is "BME280" or "BME680" && !ClimateSensors ? LeftOutError(Find(name).Model).Message : null;

    static PlatformNotSupportedException LeftOutError(string model) =>
        new($"{model} is left out of this build (feature switch EdgeNet.Devices.ClimateSensors=false: its binding brings UnitsNet, about 6 MB); use a build with it, e.g. the EdgeNet.Devices package in your own app");

    static Entry Find(string name) => Entries.TryGetValue(Normalize(name), out var e) ? e
        : throw new ArgumentException($"unknown sensor '{name}'; known: {string.Join(", ", Entries.Keys)}");

    static string Normalize(string name) => name.Replace("-", "").Replace("_", "").ToLowerInvariant();

    static void Put(Span<float> v, int at, Vector3 x, float scale = 1) { v[at] = x.X * scale; v[at + 1] = x.Y * scale; v[at + 2] = x.Z * scale; }

    /// <summary>±4 g, ±500 °/s and a 41 Hz low-pass, sampled as fast as the service polls. The sample-rate divider
    /// stays 0: the binding divides its scales by it (a bug for anything but 0).</summary>
    static Mpu6050 Configure(Mpu6050 imu)
    {
        imu.GyroscopeBandwidth = GyroscopeBandwidth.Bandwidth0041Hz;   // before the range: this setter rewrites GYRO_CONFIG
        imu.GyroscopeRange = GyroscopeRange.Range0500Dps;
        imu.AccelerometerBandwidth = AccelerometerBandwidth.Bandwidth0041Hz;
        imu.AccelerometerRange = AccelerometerRange.Range04G;
        return imu;
    }

    static (SampleReader, IDisposable) Mpu(Mpu6050 imu)
    {
        Configure(imu);
        return (v =>
        {
            Put(v, 0, imu.GetAccelerometer());                        // m/s²
            Put(v, 3, imu.GetGyroscopeReading(), DegreesToRadians);   // °/s → rad/s
        }, imu);
    }

    static (SampleReader, IDisposable) Mpu9250(Mpu9250 imu)
    {
        Configure(imu);
        return (v =>
        {
            Put(v, 0, imu.GetAccelerometer());
            Put(v, 3, imu.GetGyroscopeReading(), DegreesToRadians);
            Put(v, 6, imu.ReadMagnetometer(waitForData: false), 1e-6f);   // µT → T
        }, imu);
    }

    static (SampleReader, IDisposable) Lsm9Ds1(I2cDevice accelGyro, I2cDevice magnetometer)
    {
        var ag = new Lsm9Ds1AccelerometerAndGyroscope(accelGyro, AccelerationScale.Scale04G, AngularRateScale.Scale0500Dps);
        var m = new Lsm9Ds1Magnetometer(magnetometer);
        return (v =>
        {
            Put(v, 0, ag.Acceleration, StandardGravity);    // g → m/s²
            Put(v, 3, ag.AngularRate, DegreesToRadians);    // °/s → rad/s
            Put(v, 6, m.MagneticInduction, 1e-4f);          // gauss → T
        }, new Owned(ag, m));
    }

    static (SampleReader, IDisposable) Bno055(Bno055Sensor s) => (v =>
    {
        Put(v, 0, s.Accelerometer);                   // m/s² (the binding's default units)
        Put(v, 3, s.Gyroscope, DegreesToRadians);     // °/s → rad/s
        Put(v, 6, s.Magnetometer, 1e-6f);             // µT → T
    }, s);

    static (SampleReader, IDisposable) Adxl345(Adxl345 s) => (v => Put(v, 0, s.Acceleration, StandardGravity), s);   // g → m/s²

    static (SampleReader, IDisposable) Bme280(Bme280 s)
    {
        s.TemperatureSampling = Sampling.Standard; s.PressureSampling = Sampling.Standard; s.HumiditySampling = Sampling.Standard;
        return (v => ReadClimate(s.Read(), v), s);
    }

    static (SampleReader, IDisposable) Bme680(Bme680 s)
    {
        s.TemperatureSampling = Sampling.Standard; s.PressureSampling = Sampling.Standard; s.HumiditySampling = Sampling.Standard;
        return (v =>
        {
            var r = s.Read();
            ReadClimate(r, v);
            v[3] = r.GasResistance is { Unit: ElectricResistanceUnit.Ohm } g ? (float)g.Value : float.NaN;
        }, s);
    }

    /// <summary>The binding's quantities in the units it makes them in, read as they are: UnitsNet's conversions
    /// (<c>.DegreesCelsius</c> and the like) reach its reflection-based converter registry, which is not trim-safe.
    /// A value in another unit (a changed binding) reads as NaN, a failed read.</summary>
    static void ReadClimate(Bme280ReadResult r, Span<float> v)
    {
        v[0] = r.Temperature is { Unit: TemperatureUnit.DegreeCelsius } t ? (float)t.Value : float.NaN;
        v[1] = r.Pressure is { Unit: PressureUnit.Pascal } p ? (float)p.Value : float.NaN;
        v[2] = r.Humidity is { Unit: RelativeHumidityUnit.Percent } h ? (float)h.Value : float.NaN;
    }

    /// <summary>Single-shot conversions of AIN0..AIN3 against GND at ±4.096 V, 860 samples/s; raw counts scaled here
    /// (the binding's ReadVoltage goes through UnitsNet's converter, see <see cref="ReadClimate"/>).</summary>
    static (SampleReader, IDisposable) Ads1115(Ads1115 adc) => (v =>
    {
        const float VoltsPerCount = 4.096f / 32768;
        v[0] = adc.ReadRaw(InputMultiplexer.AIN0) * VoltsPerCount;
        v[1] = adc.ReadRaw(InputMultiplexer.AIN1) * VoltsPerCount;
        v[2] = adc.ReadRaw(InputMultiplexer.AIN2) * VoltsPerCount;
        v[3] = adc.ReadRaw(InputMultiplexer.AIN3) * VoltsPerCount;
    }, adc);

    sealed class Owned(params IDisposable[] parts) : IDisposable
    {
        public void Dispose() { foreach (var p in parts) p.Dispose(); }
    }
}
