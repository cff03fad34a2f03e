using EdgeNet.Converter;
using EdgeNet.Format;
using EdgeNet.Io;

namespace EdgeNet.Tests;

/// <summary>Paths to the fixtures copied beside the test binary, and cached conversions of them.</summary>
public static class Fixtures
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "fixtures");
    public static string Digits(string file) => Path.Combine(Dir, "digits", file);
    public static string Exported(string file) => Path.Combine(Dir, "exported", file);

    static readonly Dictionary<string, Model> cache = new();
    public static Model Convert(string onnxPath)
    {
        lock (cache)
        {
            if (!cache.TryGetValue(onnxPath, out var m)) cache[onnxPath] = m = OnnxImporter.Convert(onnxPath);
            return m;
        }
    }

    public static float[] Floats(string path) => Npy.Read(path).Floats!;
    public static long[] Longs(string path) => Npy.Read(path).Longs!;

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "edgenet-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }
}
