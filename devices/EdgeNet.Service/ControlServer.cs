using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeNet.Service;

/// <summary>
/// The control socket: a Unix domain socket (mode 0660) taking one command per line — status, last, metrics,
/// label CLASS, finetune, rollback, reload — and answering one JSON object per line; `subscribe` turns the
/// connection into a stream of results (one JSON line each; a slow reader loses the oldest, never stalls inference). A peer is served only if it is
/// root, the service's own user, or in the service's group (SO_PEERCRED).
/// </summary>
public sealed partial class ControlServer(ServiceConfig cfg, Pipeline pipeline, ILogger<ControlServer> log) : BackgroundService
{
    Socket? listener;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(cfg.Control.Socket)!);
        if (File.Exists(cfg.Control.Socket)) File.Delete(cfg.Control.Socket);
        listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        // Bound and listening under a temporary name, then renamed into place: a client that sees the path can connect.
        string staging = Path.Combine(Path.GetDirectoryName(cfg.Control.Socket)!, $".edgenet-{Environment.ProcessId}.sock");
        if (System.Text.Encoding.UTF8.GetByteCount(staging) > 107) staging = cfg.Control.Socket;
        if (File.Exists(staging)) File.Delete(staging);
        listener.Bind(new UnixDomainSocketEndPoint(staging));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        listener.Listen(8);
        if (staging != cfg.Control.Socket) File.Move(staging, cfg.Control.Socket, overwrite: true);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener!.AcceptAsync(stop); }
            catch (OperationCanceledException) { break; }
            _ = Task.Run(() => Serve(client, stop), stop);
        }
    }

    async Task Serve(Socket client, CancellationToken stop)
    {
        using var _ = client;
        if (!Allowed(client)) { log.LogWarning("control: refused a peer without permission"); return; }
        using var stream = new NetworkStream(client);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        try
        {
            while (await reader.ReadLineAsync(stop) is { } line)
            {
                if (line.Trim() == "subscribe") { await Stream(writer, stop); return; }
                await writer.WriteLineAsync(Handle(line.Trim()));
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException) { }
    }

    async Task Stream(StreamWriter writer, CancellationToken stop)
    {
        var results = System.Threading.Channels.Channel.CreateBounded<string>(new System.Threading.Channels.BoundedChannelOptions(256)
        { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest, SingleReader = true });
        void OnResult(string line) => results.Writer.TryWrite(line);
        pipeline.ResultPublished += OnResult;
        try
        {
            await foreach (var line in results.Reader.ReadAllAsync(stop)) await writer.WriteLineAsync(line);
        }
        finally { pipeline.ResultPublished -= OnResult; }
    }

    string Handle(string line)
    {
        var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        var j = ConfigJson.Default;
        return parts.FirstOrDefault() switch
        {
            "status" => JsonSerializer.Serialize(pipeline.Status(), j.StatusReply),
            "last" => pipeline.Last() is { } r ? JsonSerializer.Serialize(r, j.ResultReply) : JsonSerializer.Serialize(new MessageReply(false, "no result yet"), j.MessageReply),
            "metrics" => JsonSerializer.Serialize(pipeline.Metrics(), j.MetricsReply),
            "label" when parts.Length == 2 => JsonSerializer.Serialize(pipeline.Label(parts[1].Trim()), j.MessageReply),
            "finetune" => JsonSerializer.Serialize(pipeline.StartFinetune(), j.MessageReply),
            "rollback" => JsonSerializer.Serialize(pipeline.Rollback(), j.MessageReply),
            "reload" => JsonSerializer.Serialize(pipeline.Reload(), j.MessageReply),
            _ => JsonSerializer.Serialize(new MessageReply(false, "commands: status, last, metrics, label CLASS, finetune, rollback, reload, subscribe"), j.MessageReply),
        };
    }

    static bool Allowed(Socket client)
    {
        if (!OperatingSystem.IsLinux()) return true;
        Span<byte> cred = stackalloc byte[12];   // struct ucred { pid, uid, gid }
        if (client.GetRawSocketOption(1 /* SOL_SOCKET */, 17 /* SO_PEERCRED */, cred) != 12) return false;
        uint uid = BitConverter.ToUInt32(cred[4..]), gid = BitConverter.ToUInt32(cred[8..]);
        return uid == 0 || uid == geteuid() || gid == getegid();
    }

    [LibraryImport("libc")] private static partial uint geteuid();
    [LibraryImport("libc")] private static partial uint getegid();

    public override void Dispose()
    {
        listener?.Dispose();
        try { File.Delete(cfg.Control.Socket); } catch (IOException) { }
        base.Dispose();
    }
}

/// <summary>`edgenet ctl`: sends one command line to the control socket and prints the JSON answer.</summary>
public static class ControlClient
{
    /// <summary>`subscribe`: prints each result line until the service stops or the reader is interrupted.</summary>
    public static void Subscribe(string socketPath, TextWriter output)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(socketPath));
        using var stream = new NetworkStream(s);
        using var w = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        using var r = new StreamReader(stream);
        w.WriteLine("subscribe");
        while (r.ReadLine() is { } line) output.WriteLine(line);
    }

    public static string Send(string socketPath, string command, TimeSpan timeout)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = (int)timeout.TotalMilliseconds, SendTimeout = (int)timeout.TotalMilliseconds };
        s.Connect(new UnixDomainSocketEndPoint(socketPath));
        using var stream = new NetworkStream(s);
        using var w = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        using var r = new StreamReader(stream);
        w.WriteLine(command);
        return r.ReadLine() ?? throw new IOException("the service closed the connection");
    }
}
