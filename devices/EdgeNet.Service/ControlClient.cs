using System.Net.Sockets;
using System.Text;

namespace EdgeNet.Service;

/// <summary>`edgenet ctl`: sends one command line to the control socket and returns the JSON answer. Failing to reach
/// the service is one <see cref="IOException"/> saying which socket and why (not running, stale, not allowed).</summary>
public static class ControlClient
{
    /// <summary>The socket of the packaged service (control.socket's default).</summary>
    public const string DefaultSocket = "/run/edgenet/control.sock";

    /// <summary>`subscribe`: prints each result line until the service stops or the reader is interrupted.</summary>
    public static void Subscribe(string socketPath, TextWriter output)
    {
        using var s = Connect(socketPath, Timeout.InfiniteTimeSpan);
        using var stream = new NetworkStream(s);
        using var w = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        using var r = new StreamReader(stream);
        w.WriteLine("subscribe");
        while (r.ReadLine() is { } line) output.WriteLine(line);
    }

    /// <summary>Sends <paramref name="command"/> (e.g. <c>status</c>, <c>label shake</c>) and returns the service's JSON answer.</summary>
    /// <param name="socketPath">The service's control.socket.</param>
    /// <param name="command">One command line.</param>
    /// <param name="timeout">How long to wait for the connection and the answer.</param>
    /// <exception cref="IOException">The service cannot be reached or did not answer in time.</exception>
    public static string Send(string socketPath, string command, TimeSpan timeout)
    {
        using var s = Connect(socketPath, timeout);
        using var stream = new NetworkStream(s);
        using var w = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        using var r = new StreamReader(stream);
        try
        {
            w.WriteLine(command);
            return r.ReadLine() ?? throw new IOException($"the service at {socketPath} closed the connection without an answer (is this user allowed? see docs/service.md)");
        }
        catch (IOException e) when (e.InnerException is SocketException se)
        {
            throw new IOException($"the service at {socketPath} dropped the connection ({se.Message}); is this user allowed? see docs/service.md", e);
        }
    }

    static Socket Connect(string socketPath, TimeSpan timeout)
    {
        int ms = timeout == Timeout.InfiniteTimeSpan ? 0 : (int)timeout.TotalMilliseconds;
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = ms, SendTimeout = ms };
        try
        {
            if (FileKind.Of(socketPath) is not { } k) throw new IOException($"{socketPath} does not exist: the service is not running (systemctl status edgenet), or it uses another control.socket (--socket)");
            if (k.Kind != FileKind.Type.Socket) throw new IOException($"{socketPath} is {k.Describe}, not the service's control socket");
            s.Connect(new UnixDomainSocketEndPoint(socketPath));
            return s;
        }
        catch (SocketException e)
        {
            s.Dispose();
            throw new IOException(e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => $"nothing listens on {socketPath}: the service is not running (a stale socket from an earlier run)",
                SocketError.AccessDenied => $"permission denied on {socketPath}: run as root or as a member of the socket's group (usermod -aG edgenet $USER)",
                _ => $"cannot reach the service at {socketPath}: {e.Message}",
            }, e);
        }
        catch { s.Dispose(); throw; }
    }
}
