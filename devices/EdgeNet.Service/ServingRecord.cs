using System.Security.Cryptography;
using System.Text.Json;
using EdgeNet.Io;

namespace EdgeNet.Service;

/// <summary>
/// stateDirectory/models/serving.json: which version serves and which one a rollback returns to (0 is the configured
/// model, N is models/model-N.enet), and the configured model these versions were fine-tuned from (path and SHA-256).
/// Written atomically on every swap, so a restart serves what served before it, and a changed configured model is
/// noticed (it then wins: docs/service.md).
/// </summary>
internal sealed record ServingRecord(string Configured, string ConfiguredSha256, int Current, int Previous)
{
    public const string FileName = "serving.json";

    /// <summary>The record, or null with a reason when there is none or it cannot be read.</summary>
    public static ServingRecord? Read(string modelsDir, out string? problem)
    {
        problem = null;
        string path = Path.Combine(modelsDir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            if (new FileInfo(path).Length > 64 << 10) throw new InvalidDataException("too large");
            var r = JsonSerializer.Deserialize(File.ReadAllText(path), ConfigJson.Default.ServingRecord);
            if (r is null || r.Current < 0) throw new InvalidDataException("empty or negative version");
            return r;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
        {
            problem = $"{path} is unreadable ({e.Message}); serving the configured model";
            return null;
        }
    }

    public void Write(string modelsDir)
    {
        Directory.CreateDirectory(modelsDir);
        AtomicFile.Write(Path.Combine(modelsDir, FileName), JsonSerializer.SerializeToUtf8Bytes(this, ConfigJson.Default.ServingRecord));
    }

    public static string Sha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }
}
