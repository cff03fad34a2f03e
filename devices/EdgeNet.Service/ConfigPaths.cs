using System.Runtime.InteropServices;

namespace EdgeNet.Service;

/// <summary>
/// The config's paths, checked by what they are (statx/statfs) before anything opens them: the model must be a regular
/// file of a sane size, the state directory a folder on a real filesystem, the socket path free or a stale socket,
/// the results file a regular file in an existing folder.
/// </summary>
static partial class ConfigPaths
{
    public static void Check(ServiceConfig c)
    {
        var model = FileKind.Of(c.Model);
        ConfigErrors.Require(model is not null, "model", $"'{c.Model}' does not exist");
        ConfigErrors.Require(model!.Value.Kind == FileKind.Type.Regular, "model", $"'{c.Model}' is {model.Value.Describe}, not a model file");
        ConfigErrors.Require(model.Value.Size <= ServiceConfig.MaxModelBytes, "model", $"'{c.Model}' is {model.Value.Size} bytes; the service reads models up to {ServiceConfig.MaxModelBytes >> 20} MiB");

        FolderToBe(c.StateDirectory, "stateDirectory");
        ConfigErrors.Require(!IsVirtual(c.StateDirectory), "stateDirectory", $"'{c.StateDirectory}' is on a kernel filesystem (/proc, /sys, /dev), not a place to keep state");

        FolderToBe(Path.GetDirectoryName(c.Control.Socket)!, "control.socket");
        if (FileKind.Of(c.Control.Socket, followLinks: false) is { Kind: not FileKind.Type.Socket } there)
            throw new ConfigException($"config: control.socket: '{c.Control.Socket}' exists and is {there.Describe}; only a stale socket is replaced");

        if (c.Sinks.JsonLines.Length > 0)
        {
            string dir = Path.GetDirectoryName(c.Sinks.JsonLines)!;
            ConfigErrors.Require(FileKind.Of(dir) is { Kind: FileKind.Type.Directory }, "sinks.jsonLines", $"folder '{dir}' does not exist");
            if (FileKind.Of(c.Sinks.JsonLines) is { Kind: not FileKind.Type.Regular } k)
                throw new ConfigException($"config: sinks.jsonLines: '{c.Sinks.JsonLines}' is {k.Describe}, not a file results can be appended to");
        }
        if (c.Source.Type == "camera" && c.Source.File.Length > 0)
        {
            var f = FileKind.Of(c.Source.File);
            ConfigErrors.Require(f is not null, "source.file", $"'{c.Source.File}' does not exist");
            ConfigErrors.Require(f!.Value.Kind == FileKind.Type.Regular, "source.file", $"'{c.Source.File}' is {f.Value.Describe}, not a file of frames");
        }
    }

    /// <summary>A folder that exists or can be made: whatever part of the path exists must be a folder.</summary>
    static void FolderToBe(string path, string key)
    {
        for (string? p = path; p is not null; p = Path.GetDirectoryName(p))
        {
            if (FileKind.Of(p) is not { } k) continue;
            ConfigErrors.Require(k.Kind == FileKind.Type.Directory, key, p == path ? $"'{p}' is {k.Describe}, not a folder" : $"'{p}' in '{path}' is {k.Describe}, not a folder");
            return;
        }
    }

    /// <summary>Under /proc, /sys or /dev, by name or by the filesystem the nearest existing part of the path is on.</summary>
    static bool IsVirtual(string path)
    {
        foreach (var root in new[] { "/proc", "/sys", "/dev" })
            if (path == root || path.StartsWith(root + "/", StringComparison.Ordinal)) return true;
        string? p = path;
        while (p is not null && FileKind.Of(p) is null) p = Path.GetDirectoryName(p);
        return p is not null && FilesystemMagic(p) is 0x9fa0 /* proc */ or 0x62656572 /* sysfs */ or 0x1cd1 /* devpts */;
    }

    static unsafe long FilesystemMagic(string path)
    {
        if (!OperatingSystem.IsLinux()) return 0;
        long* buf = stackalloc long[16];   // struct statfs (64-bit): f_type first
        return statfs(path, buf) == 0 ? buf[0] : 0;
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int statfs(string path, long* buffer);
}
