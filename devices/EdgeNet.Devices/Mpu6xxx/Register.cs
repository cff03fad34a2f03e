namespace EdgeNet.Devices.Mpu6xxx;

/// <summary>MPU-6050/6500 registers used by the driver (datasheet register map).</summary>
public enum Register : byte
{
    SampleRateDivider = 0x19,
    Config = 0x1A,
    GyroConfig = 0x1B,
    AccelConfig = 0x1C,
    AccelXHigh = 0x3B,     // burst: accel x/y/z, temperature, gyro x/y/z, 14 bytes big-endian
    PowerManagement1 = 0x6B,
    WhoAmI = 0x75,
}

public enum AccelRange : byte { G2 = 0, G4 = 1, G8 = 2, G16 = 3 }
public enum GyroRange : byte { Dps250 = 0, Dps500 = 1, Dps1000 = 2, Dps2000 = 3 }
