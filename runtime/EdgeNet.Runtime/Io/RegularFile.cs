using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace EdgeNet.Io;

/// <summary>
/// Reading files that input names. Symbolic links are resolved first (<see cref="RealPath"/>), anything but a regular
/// file is refused (a FIFO blocks its reader forever, /dev/zero never ends, a directory has no bytes), and no read goes
/// past the length the file had when it was opened, so a file's claimed sizes never drive an allocation beyond it.
/// Failures are <see cref="IOException"/> (<see cref="FileNotFoundException"/> when missing) whose message does not
/// repeat the path: callers name the file.
/// </summary>
public static partial class RegularFile
{
    /// <summary>The canonical absolute path with every symbolic link resolved, in every component (realpath(3)).</summary>
    public static string RealPath(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            string full = Path.GetFullPath(path);
            return File.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full;
        }
        nint p = Native.realpath(path, 0);
        if (p == 0) throw Errno(Marshal.GetLastPInvokeError());
        try { return Marshal.PtrToStringUTF8(p)!; }
        finally { Native.free(p); }
    }

    /// <summary>The whole file, at most <paramref name="maxBytes"/> long.</summary>
    public static byte[] ReadAll(string path, long maxBytes = int.MaxValue)
    {
        using var h = OpenRegular(path, out long size);
        if (size > Math.Min(maxBytes, Array.MaxLength)) throw new IOException($"is {size} bytes; the limit is {Math.Min(maxBytes, Array.MaxLength)}");
        var bytes = new byte[size];
        Fill(h, bytes, 0);
        return bytes;
    }

    /// <summary><paramref name="length"/> bytes at <paramref name="offset"/>, refused unless the file holds them.</summary>
    public static byte[] ReadRange(string path, long offset, long length)
    {
        using var h = OpenRegular(path, out long size);
        if (offset < 0 || length < 0 || offset > size || length > size - offset)
            throw new IOException($"{offset}+{length} lies outside the file's {size} bytes");
        if (length > Array.MaxLength) throw new IOException($"{length} bytes exceed the {Array.MaxLength}-byte limit");
        var bytes = new byte[length];
        Fill(h, bytes, offset);
        return bytes;
    }

    static void Fill(SafeFileHandle h, byte[] bytes, long offset)
    {
        int done = 0;
        while (done < bytes.Length)
        {
            int n = RandomAccess.Read(h, bytes.AsSpan(done), offset + done);
            if (n == 0) throw new IOException($"shrank while being read ({done} of {bytes.Length} bytes)");
            done += n;
        }
    }

    /// <summary>Opens a regular file and returns its length at that moment. On Linux the type is checked on the open
    /// descriptor (opened non-blocking, so a FIFO cannot hang us), so no rename between check and read can swap it.</summary>
    static SafeFileHandle OpenRegular(string path, out long size)
    {
        if (!OperatingSystem.IsLinux())
        {
            if (Directory.Exists(path)) throw new IOException("is not a regular file (it is a directory)");
            // No statx: a FIFO, socket or device reports length 0, which no file we read may have.
            var info = new FileInfo(RealPath(path));
            if (!info.Exists) throw new FileNotFoundException("no such file");
            if (info.Length == 0) throw new IOException("is empty or not a regular file");
            var handle = File.OpenHandle(info.FullName, FileMode.Open, FileAccess.Read, FileShare.Read);
            size = RandomAccess.GetLength(handle);
            return handle;
        }
        const int O_RDONLY = 0, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;   // the same on x64 and arm64 Linux
        int fd = Native.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) throw Errno(Marshal.GetLastPInvokeError());
        var h = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var (mode, length) = Stat(fd);
            if (mode != S_IFREG) throw new IOException($"is not a regular file (it is a {TypeName(mode)})");
            size = length;
            return h;
        }
        catch { h.Dispose(); throw; }
    }

    const int S_IFMT = 0xF000, S_IFREG = 0x8000;

    static string TypeName(int mode) => mode switch
    {
        0x1000 => "FIFO", 0x2000 => "character device", 0x4000 => "directory", 0x6000 => "block device", 0xC000 => "socket", _ => $"file of type 0x{mode:x}",
    };

    /// <summary>statx(2) on an open descriptor: its struct is the same on every Linux architecture (unlike struct stat).</summary>
    static (int mode, long size) Stat(int fd)
    {
        const int AT_EMPTY_PATH = 0x1000, STATX_TYPE = 0x1, STATX_SIZE = 0x200;
        Span<byte> buf = stackalloc byte[256];
        if (Native.statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE, ref MemoryMarshal.GetReference(buf)) != 0)
            throw Errno(Marshal.GetLastPInvokeError());
        int mode = BinaryPrimitives.ReadUInt16LittleEndian(buf[28..]) & S_IFMT;        // stx_mode
        long size = BinaryPrimitives.ReadInt64LittleEndian(buf[40..]);                  // stx_size
        return (mode, size);
    }

    static IOException Errno(int errno) => errno switch
    {
        2 => new FileNotFoundException("no such file"),
        _ => new IOException(Marshal.GetPInvokeErrorMessage(errno)),
    };

    static partial class Native
    {
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int open(string path, int flags);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial int statx(int dirfd, string path, int flags, int mask, ref byte buffer);
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] public static partial nint realpath(string path, nint resolved);
        [LibraryImport("libc")] public static partial void free(nint p);
    }
}
