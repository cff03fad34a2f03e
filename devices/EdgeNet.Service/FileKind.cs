using System.Runtime.InteropServices;

namespace EdgeNet.Service;

/// <summary>
/// What a path is, without opening it (statx): the config checks must tell a socket from a regular file, a device
/// (/dev/zero, /dev/full) or a FIFO before anything reads or writes it, and the access rule needs the socket's group.
/// </summary>
internal readonly partial record struct FileKind(FileKind.Type Kind, long Size, uint Uid, uint Gid, ulong Inode, ulong Device)
{
    public enum Type { Fifo = 1, CharDevice = 2, Directory = 4, BlockDevice = 6, Regular = 8, Symlink = 10, Socket = 12, Other = 0 }

    /// <summary>The file at <paramref name="path"/> (its link target unless <paramref name="followLinks"/> is false), or null when nothing is there.</summary>
    public static unsafe FileKind? Of(string path, bool followLinks = true)
    {
        if (!OperatingSystem.IsLinux()) return null;
        byte* b = stackalloc byte[256];   // struct statx: the same layout on every architecture
        if (Native.statx(-100 /* AT_FDCWD */, path, followLinks ? 0 : 0x100 /* AT_SYMLINK_NOFOLLOW */, 0x7ff /* STATX_BASIC_STATS */, b) != 0) return null;
        ushort mode = *(ushort*)(b + 28);
        var kind = Enum.IsDefined((Type)(mode >> 12)) ? (Type)(mode >> 12) : Type.Other;
        ulong dev = (ulong)*(uint*)(b + 136) << 32 | *(uint*)(b + 140);
        return new FileKind(kind, (long)*(ulong*)(b + 40), *(uint*)(b + 20), *(uint*)(b + 24), *(ulong*)(b + 32), dev);
    }

    public string Describe => Kind switch
    {
        Type.Fifo => "a FIFO", Type.CharDevice => "a character device", Type.BlockDevice => "a block device", Type.Directory => "a folder",
        Type.Regular => "a regular file", Type.Symlink => "a symbolic link", Type.Socket => "a socket", _ => "a special file",
    };

    static partial class Native
    {
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);
    }
}
