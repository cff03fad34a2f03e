using System.Runtime.InteropServices;

namespace EdgeNet.Io;

/// <summary>
/// Writes a file so that a crash at any moment leaves either the complete old file or the complete new one:
/// temp file in the same folder, fsync, rename over the target, fsync the folder.
/// </summary>
public static partial class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);   // rename(2): atomic within one filesystem
            FsyncDirectory(dir);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
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
        [LibraryImport("libc", SetLastError = true)] public static partial int fsync(int fd);
        [LibraryImport("libc")] public static partial int close(int fd);
    }
}
