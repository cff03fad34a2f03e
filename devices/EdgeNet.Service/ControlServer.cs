using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeNet.Service;

/// <summary>
/// The control socket: a Unix domain socket (mode 0660) taking one command per line — status, last, metrics,
/// label CLASS [WINDOW], finetune, rollback, reload — and answering one JSON object per line; `subscribe` turns the
/// connection into a stream of results (one JSON line each; a slow reader loses the oldest, never stalls inference).
/// Who may connect: <see cref="PeerAccess"/>. Limits: a command line is at most <see cref="MaxLineBytes"/>, at most
/// control.maxClients connections are served at once, and one that sends no command (or cannot take a result) for
/// control.idleTimeoutSeconds is closed. The inference loop and systemd's watchdog never wait for a client.
/// </summary>
public sealed partial class ControlServer(ServiceConfig cfg, Pipeline pipeline, ILogger<ControlServer> log) : BackgroundService
{
    /// <summary>The longest command line (a longer one drops the client) and the listen backlog.</summary>
    public const int MaxLineBytes = 4096, Backlog = 64;
    Socket? listener;
    FileKind bound;
    int clients;
    long acceptErrors;

    /// <inheritdoc/>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        string path = cfg.Control.Socket, dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        // Only a stale socket is replaced (ServiceHost made sure nobody listens on it); anything else was refused by the config check.
        if (FileKind.Of(path, followLinks: false) is { Kind: FileKind.Type.Socket }) File.Delete(path);
        listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        // Bound and listening under a temporary name, then renamed into place: a client that sees the path can connect.
        string staging = Path.Combine(dir, $".edgenet-{Environment.ProcessId}.sock");
        if (Encoding.UTF8.GetByteCount(staging) > 107) staging = path;
        if (FileKind.Of(staging, followLinks: false) is { Kind: FileKind.Type.Socket }) File.Delete(staging);
        listener.Bind(new UnixDomainSocketEndPoint(staging));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        listener.Listen(Backlog);
        if (staging != path) File.Move(staging, path, overwrite: true);
        bound = FileKind.Of(path, followLinks: false) ?? default;
        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener!.AcceptAsync(stop); }
            catch (OperationCanceledException) { break; }
            catch (SocketException e)
            {
                // Out of file descriptors or memory for a moment: the service goes on; new clients wait.
                if (acceptErrors++ % 100 == 0) log.LogWarning("control: accept failed ({Error}); retrying", e.Message);
                try { await Task.Delay(100, stop); } catch (OperationCanceledException) { break; }
                continue;
            }
            _ = Task.Run(() => Serve(client, stop), CancellationToken.None);
        }
    }

    async Task Serve(Socket client, CancellationToken stop)
    {
        using var _ = client;
        using var stream = new NetworkStream(client, ownsSocket: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var idle = TimeSpan.FromSeconds(cfg.Control.IdleTimeoutSeconds);
        try
        {
            if (Interlocked.Increment(ref clients) > cfg.Control.MaxClients)
            {
                timeout.CancelAfter(idle);
                await Send(stream, Message(false, $"busy: {cfg.Control.MaxClients} clients are connected (control.maxClients); try again later"), timeout.Token);
                return;
            }
            if (PeerAccess.Of(client) is not { } peer || !PeerAccess.Allowed(peer, bound.Uid, bound.Gid))
            {
                log.LogWarning("control: refused a peer that is not root, the service's user or in the socket's group");
                return;
            }
            var reader = new RequestReader(stream, MaxLineBytes);
            while (true)
            {
                timeout.CancelAfter(idle);
                string? line;
                try { line = await reader.ReadLineAsync(timeout.Token); }
                catch (RequestReader.TooLongException e)
                {
                    await Send(stream, Message(false, $"{e.Message}: closing the connection"), timeout.Token);
                    return;
                }
                if (line is null) return;
                line = line.Trim();
                if (line == "subscribe") { await Stream(stream, timeout, idle); return; }
                await Send(stream, Handle(line), timeout.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException) { }
        finally { Interlocked.Decrement(ref clients); }
    }

    static ValueTask Send(NetworkStream stream, string reply, CancellationToken cancel) => stream.WriteAsync(Encoding.UTF8.GetBytes(reply + "\n"), cancel);

    /// <summary>Results as they are made; a subscriber that takes none for the idle timeout is dropped.</summary>
    async Task Stream(NetworkStream stream, CancellationTokenSource timeout, TimeSpan idle)
    {
        var results = System.Threading.Channels.Channel.CreateBounded<string>(new System.Threading.Channels.BoundedChannelOptions(256)
        { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest, SingleReader = true });
        void OnResult(string line) => results.Writer.TryWrite(line);
        pipeline.ResultPublished += OnResult;
        try
        {
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            var stop = timeout.Token;
            while (await results.Reader.WaitToReadAsync(stop))
                while (results.Reader.TryRead(out var line))
                {
                    timeout.CancelAfter(idle);
                    await Send(stream, line, stop);
                    timeout.CancelAfter(Timeout.InfiniteTimeSpan);
                }
        }
        finally { pipeline.ResultPublished -= OnResult; }
    }

    static string Message(bool ok, string text) => JsonSerializer.Serialize(new MessageReply(ok, text), ConfigJson.Replies.MessageReply);

    string Handle(string line)
    {
        var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        var j = ConfigJson.Replies;
        return parts.FirstOrDefault() switch
        {
            "status" => JsonSerializer.Serialize(pipeline.Status(), j.StatusReply),
            "last" => pipeline.Last() is { } r ? JsonSerializer.Serialize(r, j.ResultReply) : Message(false, "no result yet"),
            "metrics" => JsonSerializer.Serialize(pipeline.Metrics(), j.MetricsReply),
            "label" when parts.Length == 2 => JsonSerializer.Serialize(pipeline.Label(parts[1].Trim()), j.MessageReply),
            "finetune" => JsonSerializer.Serialize(pipeline.StartFinetune(), j.MessageReply),
            "rollback" => JsonSerializer.Serialize(pipeline.Rollback(), j.MessageReply),
            "reload" => JsonSerializer.Serialize(pipeline.Reload(), j.MessageReply),
            _ => Message(false, "commands: status, last, metrics, label CLASS [WINDOW], finetune, rollback, reload, subscribe"),
        };
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        listener?.Dispose();
        // Only the socket this instance made: a path replaced since (by hand, or another service) is left alone.
        if (FileKind.Of(cfg.Control.Socket, followLinks: false) is { Kind: FileKind.Type.Socket } now && now.Inode == bound.Inode && now.Device == bound.Device)
            try { File.Delete(cfg.Control.Socket); } catch (IOException) { }
        base.Dispose();
    }
}
