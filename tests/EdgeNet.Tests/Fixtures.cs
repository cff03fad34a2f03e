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

    /// <summary>A new directory under this test process's own root, which is removed when the process exits: a run
    /// leaves nothing behind (they were never deleted: 18 GB of them had piled up on a developer machine).</summary>
    public static string TempDir()
    {
        var d = Path.Combine(TempRoot.Value, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    static readonly Lazy<string> TempRoot = new(() =>
    {
        // short: a Unix socket's path (the service tests bind theirs in a TempDir) must stay under 108 bytes; a live
        // process's id is its own
        var root = Path.Combine(Path.GetTempPath(), "edgenet-tests", $"p{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { } };
        return root;
    });
}
