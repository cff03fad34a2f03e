namespace EdgeNet;

/// <summary>What is wrong with a path given on the command line, checked before any work (a usage error, exit code 2).</summary>
internal static class PathCheck
{
    /// <summary>A file to read: a folder in its place is named as such (reading one says "access denied").</summary>
    public static string? Input(string path) => Directory.Exists(path) ? $"'{path}' is a folder; give a file" : null;

    /// <summary>A file to write: its folder must exist and the path must not be a folder.</summary>
    public static string? Output(string path)
    {
        if (Directory.Exists(path)) return $"'{path}' is a folder; give a file name to write";
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        return dir is not null && !Directory.Exists(dir) ? $"cannot write '{path}': the folder '{dir}' does not exist" : null;
    }

    /// <summary>True when two paths name the same file (after resolving links), so writing one would overwrite the other.</summary>
    public static bool SameFile(string a, string b) => string.Equals(Resolve(a), Resolve(b), StringComparison.Ordinal);

    static string Resolve(string path)
    {
        var full = Path.GetFullPath(path);
        return File.Exists(full) && new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target ? target.FullName : full;
    }
}
