using System.Numerics;
using EdgeNet.Devices.Sensors;
using EdgeNet.Devices.Simulated;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>The Iot.Device.Bindings drivers behind <see cref="SensorCatalog"/>, on simulated register files.</summary>
public class SensorTests
{
    [Fact]
    public void Mpu6050_binding_reads_si_units_and_reports_failures()
    {
        var sim = new SimulatedMpu6xxx(_ => (new Vector3(1, -2, 9.81f), new Vector3(0.5f, 0, -1)));
        using var imu = SensorCatalog.Open("MPU-6050", _ => sim);
        Assert.Equal("MPU-6050", imu.Model);
        Assert.Equal(["accel_x m/s²", "accel_y m/s²", "accel_z m/s²", "gyro_x rad/s", "gyro_y rad/s", "gyro_z rad/s"], imu.Channels.Select(c => $"{c.Name} {c.Unit}"));
        var v = new float[6];
        Assert.True(imu.TryRead(v, out var error), error);
        // ±4 g: 1 LSB is 0.0012 m/s²; ±500 °/s: 1 LSB is 0.00027 rad/s
        Assert.Equal(1f, v[0], 0.002f); Assert.Equal(-2f, v[1], 0.002f); Assert.Equal(9.81f, v[2], 0.002f);
        Assert.Equal(0.5f, v[3], 0.0005f); Assert.Equal(0f, v[4], 0.0005f); Assert.Equal(-1f, v[5], 0.0005f);
        Assert.Equal(1, sim.SamplesRead);
        sim.FailWhile = _ => true;
        Assert.False(imu.TryRead(v, out error));
        Assert.Contains("I2C", error);
        sim.FailWhile = _ => false;
        sim.Signal = _ => default;   // a detached chip reads all zeros
        Assert.False(imu.TryRead(v, out error));
        Assert.Contains("detached", error);
        Assert.Throws<IOException>(() => SensorCatalog.Open("mpu6050", _ => new SimulatedMpu6xxx(_ => default, whoAmI: 0x12)));
    }

    [Fact]
    public void Mpu6500_is_told_apart_by_its_id()
    {
        using var imu = SensorCatalog.Open("mpu6500", _ => new SimulatedMpu6xxx(_ => (Vector3.UnitZ, Vector3.UnitX), whoAmI: 0x70));
        var v = new float[6];
        Assert.True(imu.TryRead(v, out var error), error);
        Assert.Equal(1f, v[2], 0.002f);
        Assert.Throws<IOException>(() => SensorCatalog.Open("mpu6500", _ => new SimulatedMpu6xxx(_ => default)));   // a 6050 is not a 6500
    }

    [Fact]
    public void Ads1115_binding_reads_four_inputs_in_volts()
    {
        using var adc = SensorCatalog.Open("ads1115", _ => new SimulatedAds1115(ch => 0.5f * ch - 0.25f));
        Assert.Equal(["ain0", "ain1", "ain2", "ain3"], adc.Channels.Select(c => c.Name));
        Assert.All(adc.Channels, c => Assert.Equal("V", c.Unit));
        var v = new float[4];
        Assert.True(adc.TryRead(v, out var error), error);
        for (int ch = 0; ch < 4; ch++) Assert.Equal(0.5f * ch - 0.25f, v[ch], 0.0002f);   // ±4.096 V: 1 LSB is 125 µV
    }

    [Fact]
    public void Catalog_names_every_chip_with_channels_in_si_units_and_refuses_unknown_ones()
    {
        string[] si = ["m/s²", "rad/s", "T", "°C", "Pa", "%", "Ω", "V"];
        foreach (var name in new[] { "mpu6050", "mpu6500", "mpu9250", "lsm9ds1", "bno055", "adxl345", "bme280", "bme680", "ads1115" })
        {
            Assert.True(SensorCatalog.IsKnown(name));
            Assert.NotEmpty(SensorCatalog.Channels(name));
            Assert.All(SensorCatalog.Channels(name), c => Assert.Contains(c.Unit, si));
        }
        Assert.Equal(9, SensorCatalog.Channels("MPU_9250").Count);
        Assert.Equal(-1, SensorCatalog.DefaultAddress("adxl345"));   // SPI
        var e = Assert.Throws<ArgumentException>(() => SensorCatalog.Open("icm20948", _ => new SimulatedMpu6xxx(_ => default)));
        Assert.Contains("unknown sensor 'icm20948'", e.Message);
        Assert.Contains("mpu6050", e.Message);
    }
}
