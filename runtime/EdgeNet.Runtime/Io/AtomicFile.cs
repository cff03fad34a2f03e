using System.Runtime.InteropServices;

namespace EdgeNet.Io;

/// <summary>
/// Writes a file so that a crash at any moment leaves either the complete old file or the complete new one:
/// temp file in the same folder, fsync, rename over the target, fsync the folder. A rename that cannot be atomic
/// (the temp file on another filesystem) is refused, never replaced by a copy (which .NET's File.Move would do).
/// </summary>
public static partial class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> so that readers see the old file or the whole new one.</summary>
    /// <exception cref="IOException">The folder is missing or not writable (the message names the target), or the disk is full.</exception>
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        string full = Path.GetFullPath(path);
        Write(full, bytes, Path.GetDirectoryName(full) ?? ".");
    }

    /// <summary>Stages the temp file in <paramref name="tempDirectory"/>; only the target's own folder makes the rename atomic.</summary>
    internal static void Write(string path, ReadOnlySpan<byte> bytes, string tempDirectory)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        string tmp = Path.Combine(tempDirectory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);   // a full disk fails here (ENOSPC), before the old file is touched
            }
            Rename(tmp, full);
            FsyncDirectory(dir);
        }
        catch (DirectoryNotFoundException) { throw new IOException($"cannot write '{full}': the folder '{tempDirectory}' does not exist"); }   // the temp file's name says nothing to the user
        catch (UnauthorizedAccessException) { throw new UnauthorizedAccessException($"cannot write '{full}': permission denied in '{tempDirectory}'"); }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>
    /// Deletes temp files left in <paramref name="dir"/> by a writer that was killed (power loss, SIGKILL) before its
    /// rename; a temp file whose writer is still running is left alone. Returns how many were removed.
    /// </summary>
    public static int RemoveOrphans(string dir)
    {
        if (!Directory.Exists(dir)) return 0;
        int removed = 0;
        foreach (var tmp in Directory.GetFiles(dir, ".*.tmp"))
        {
            var parts = Path.GetFileName(tmp).Split('.');   // "", name..., pid, guid, "tmp"
            if (parts.Length < 5 || !int.TryParse(parts[^3], out int pid)) continue;
            if (pid != Environment.ProcessId && Directory.Exists($"/proc/{pid}")) continue;
            try { File.Delete(tmp); removed++; } catch (IOException) { }
        }
        return removed;
    }

    static void Rename(string from, string to)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) { File.Move(from, to, overwrite: true); return; }
        if (Native.rename(from, to) == 0) return;
        int errno = Marshal.GetLastPInvokeError();
        const int EXDEV = 18;
        if (errno == EXDEV)
            throw new IOException($"cannot replace '{to}' atomically: the temp file is on another filesystem; refusing to copy (a copy can be torn)");
        throw new IOException($"cannot rename the temp file over '{to}': {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    static void FsyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        int fd = Native.open(dir, 0 /* O_RDONLY */);
        if (fd < 0) return;   // some filesystems refuse to open folders; the rename is still atomic
        Native.fsync(fd);
        Native.close(fd);
    }

    static partial class Native
    {
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int open(string path, int flags);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int rename(string from, string to);
        [LibraryImport("libc", SetLastError = true)] public static partial int fsync(int fd);
        [LibraryImport("libc")] public static partial int close(int fd);
    }
}
