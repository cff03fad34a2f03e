using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EdgeNet.Service;

/// <summary>
/// Who may use the control socket: root, the service's own user, and members of the socket file's group — by primary
/// or supplementary group, as the kernel decides for the file (`usermod -aG edgenet alice` is the usual way in).
/// The peer's credentials come from the connection itself (SO_PEERCRED, SO_PEERGROUPS), not from what it says.
/// </summary>
internal static partial class PeerAccess
{
    public readonly record struct Peer(int Pid, uint Uid, uint Gid, uint[] Groups);

    public static bool Allowed(Peer p, uint ownerUid, uint socketGid) =>
        p.Uid == 0 || p.Uid == ownerUid || p.Gid == socketGid || Array.IndexOf(p.Groups, socketGid) >= 0;

    /// <summary>The connected peer's credentials, or null when the kernel does not say.</summary>
    public static Peer? Of(Socket client)
    {
        if (!OperatingSystem.IsLinux()) return null;
        Span<byte> cred = stackalloc byte[12];   // struct ucred { pid, uid, gid }
        if (client.GetRawSocketOption(1 /* SOL_SOCKET */, 17 /* SO_PEERCRED */, cred) != 12) return null;
        int pid = BitConverter.ToInt32(cred); uint uid = BitConverter.ToUInt32(cred[4..]), gid = BitConverter.ToUInt32(cred[8..]);
        return new Peer(pid, uid, gid, Groups(client, pid));
    }

    /// <summary>Supplementary groups as of connect (SO_PEERGROUPS, Linux 4.13), else from /proc/PID/status.</summary>
    static uint[] Groups(Socket client, int pid)
    {
        var buf = new byte[4 * 1024];
        try
        {
            int n = client.GetRawSocketOption(1, 59 /* SO_PEERGROUPS */, buf);
            return MemoryMarshal.Cast<byte, uint>(buf.AsSpan(0, n)).ToArray();
        }
        catch (SocketException) { }
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("Groups:", StringComparison.Ordinal))
                    return line[7..].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(uint.Parse).ToArray();
        }
        catch (IOException) { }
        return [];
    }

    public static uint EffectiveUid => OperatingSystem.IsLinux() ? geteuid() : 0;

    [LibraryImport("libc")] private static partial uint geteuid();
}
