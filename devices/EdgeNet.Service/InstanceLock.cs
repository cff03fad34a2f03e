using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EdgeNet.Service;

/// <summary>
/// One service per state directory: an exclusive flock on stateDirectory/.lock, held for the process's life (the
/// kernel drops it when the process dies, however it dies). A second `serve` with the same state directory, or whose
/// control socket another service answers on, is refused before it touches either.
/// </summary>
internal sealed partial class InstanceLock : IDisposable
{
    readonly FileStream file;
    InstanceLock(FileStream file) => this.file = file;

    public static InstanceLock Acquire(ServiceConfig cfg)
    {
        Directory.CreateDirectory(cfg.StateDirectory);
        string path = Path.Combine(cfg.StateDirectory, ".lock");
        var busy = new IOException($"another edgenet serve is running with state directory {cfg.StateDirectory} (it holds {path})");
        FileStream f;
        // .NET itself takes a shared flock when it opens a file, which fails while another service holds the exclusive one.
        try { f = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite); }
        catch (IOException) when (File.Exists(path)) { throw busy; }
        if (OperatingSystem.IsLinux() && flock((int)f.SafeFileHandle.DangerousGetHandle(), 2 /* LOCK_EX */ | 4 /* LOCK_NB */) != 0)
        {
            f.Dispose();
            throw busy;
        }
        if (Answers(cfg.Control.Socket))
        {
            f.Dispose();
            throw new IOException($"another service answers on control.socket {cfg.Control.Socket}");
        }
        f.SetLength(0);
        var pid = System.Text.Encoding.ASCII.GetBytes($"{Environment.ProcessId}\n");
        f.Write(pid); f.Flush();
        return new InstanceLock(f);
    }

    /// <summary>Whether something listens on the socket path (a stale socket from a killed service does not).</summary>
    static bool Answers(string socketPath)
    {
        if (FileKind.Of(socketPath, followLinks: false) is not { Kind: FileKind.Type.Socket }) return false;
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { s.Connect(new UnixDomainSocketEndPoint(socketPath)); return true; }
        catch (SocketException) { return false; }
    }

    public void Dispose() => file.Dispose();

    [LibraryImport("libc", SetLastError = true)] private static partial int flock(int fd, int operation);
}
