using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace EdgeNet.Service;

/// <summary>
/// The MQTT sink and command channel. Results (the same JSON lines as stdout) go to &lt;prefix&gt;/&lt;device&gt;/result
/// at QoS 1 from a bounded queue, so a broker outage loses nothing until the queue is full (then the oldest go, counted
/// in <see cref="Dropped"/>); a result is dequeued only once the broker acknowledged it. availability is "online"
/// (retained) while connected and "offline" by the last will or a clean stop; status is the control socket's status
/// reply (retained), every mqtt.statusSeconds and after each command. Commands from …/cmd, one per message as on the
/// control socket ("label shake", "finetune", "rollback", "reload"), run only if mqtt.commands lists them; the answer
/// goes to …/cmd/reply. The connection is retried with a back-off of up to 5 s.
/// </summary>
public sealed class MqttBridge : BackgroundService
{
    readonly MqttConfig mqtt;
    readonly Pipeline pipeline;
    readonly ILogger<MqttBridge> log;
    readonly Channel<string> queue;
    long dropped;
    IMqttClient? client;

    /// <summary>A bridge for the service's pipeline, configured by the config's mqtt section.</summary>
    public MqttBridge(ServiceConfig cfg, Pipeline pipeline, ILogger<MqttBridge> log)
    {
        mqtt = cfg.Mqtt; this.pipeline = pipeline; this.log = log;
        queue = Channel.CreateBounded<string>(new BoundedChannelOptions(mqtt.QueueLimit) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref dropped));
    }

    /// <summary>Results dropped because the queue was full while the broker was unreachable.</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Whether the bridge is connected to the broker now.</summary>
    public bool Connected => client?.IsConnected == true;

    /// <summary>Results waiting for the broker.</summary>
    public int Queued => queue.Reader.Count;

    /// <inheritdoc/>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        pipeline.ResultPublished += Enqueue;
        return base.StartAsync(cancellationToken);
    }

    void Enqueue(string line) => queue.Writer.TryWrite(line);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        // Not through MqttClientFactory: its constructors make MQTTnet's default adapter factory, and with it the
        // WebSocket and TLS channels (System.Net.Http, SslStream), part of every NativeAOT binary then.
        using var c = new MqttClient(new MqttTcpAdapterFactory(mqtt), new MqttNetNullLogger());
        client = c;
        c.ApplicationMessageReceivedAsync += OnMessage;
        var options = Options();
        if (mqtt.AllowUntrusted) log.LogWarning("mqtt: allowUntrusted is on: any certificate is accepted for {Host}, so the connection can be read and forged on its way", mqtt.Host);
        string? pending = null;   // dequeued, not yet acknowledged by the broker
        int failures = 0;
        long nextStatus = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (!c.IsConnected)
                {
                    await c.ConnectAsync(options, stop);
                    await OnConnected(c, stop);
                    if (failures > 0) log.LogInformation("mqtt: reconnected to {Host}:{Port} after {Failures} failed attempts", mqtt.Host, mqtt.Port, failures);
                    else log.LogInformation("mqtt: connected to {Host}:{Port} as {Device}", mqtt.Host, mqtt.Port, mqtt.DeviceId);
                    failures = 0;
                    nextStatus = 0;   // a status right after (re)connecting
                }
                if (Environment.TickCount64 >= nextStatus)
                {
                    await PublishStatus(c, stop);
                    nextStatus = Environment.TickCount64 + mqtt.StatusSeconds * 1000L;
                }
                pending ??= await NextResult(stop);
                if (pending is null) continue;
                var ack = await c.PublishAsync(Message(mqtt.Topic("result"), pending, retain: false), stop);
                if (ack.IsSuccess) pending = null;
                else log.LogWarning("mqtt: the broker refused a result: {Reason}", ack.ReasonCode);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e) when (e is MqttCommunicationException or SocketException or IOException or AuthenticationException or InvalidOperationException)
            {
                if (failures++ == 0)
                {
                    // A TLS refusal is its own sentence (MqttTls says why); MQTTnet may have wrapped it.
                    if (Find<AuthenticationException>(e) is { } tls)
                        log.LogWarning("mqtt: {Host}:{Port} refused: {Error}; results are queued (up to {Limit}) and the connection retried", mqtt.Host, mqtt.Port, tls.Message, mqtt.QueueLimit);
                    else
                        log.LogWarning("mqtt: {Host}:{Port} unreachable ({Error}); results are queued (up to {Limit}) and the connection retried", mqtt.Host, mqtt.Port, e.Message, mqtt.QueueLimit);
                }
                try { await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 250 << Math.Min(failures, 5))), stop); }
                catch (OperationCanceledException) { break; }
            }
        }
        if (c.IsConnected)
        {
            // A clean stop: say offline ourselves (the broker sends the will only for a connection that breaks).
            try
            {
                await c.PublishAsync(Message(mqtt.Topic("availability"), "offline", retain: true), CancellationToken.None);
                await c.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None);
            }
            catch (Exception e) when (e is MqttCommunicationException or SocketException or IOException or InvalidOperationException) { }
        }
    }

    static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException) if (e is T t) return t;
        return null;
    }

    MqttClientOptions Options()
    {
        var b = new MqttClientOptionsBuilder()
            .WithTcpServer(mqtt.Host, mqtt.Port)
            .WithClientId($"edgenet-{mqtt.DeviceId}")
            .WithCleanSession(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(mqtt.Topic("availability")).WithWillPayload("offline").WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (mqtt.Username.Length > 0) b.WithCredentials(mqtt.Username, mqtt.Password ?? "");
        return b.Build();   // TLS, when configured, is the channel's (MqttSocketChannel)
    }

    async Task OnConnected(IMqttClient c, CancellationToken stop)
    {
        await c.PublishAsync(Message(mqtt.Topic("availability"), "online", retain: true), stop);
        if (mqtt.Discovery)
            foreach (var (topic, payload) in MqttDiscovery.Messages(mqtt, pipeline.Labels, Path.GetFileName(pipeline.Status().Model)))
                await c.PublishAsync(Message(topic, payload, retain: true), stop);
        if (mqtt.Commands.Length > 0)
            await c.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(mqtt.Topic("cmd"), MqttQualityOfServiceLevel.AtLeastOnce).Build(), stop);
    }

    /// <summary>The next queued result, or null when none came within mqtt.statusSeconds (time for a status message).</summary>
    async Task<string?> NextResult(CancellationToken stop)
    {
        if (queue.Reader.TryRead(out var line)) return line;
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop);
        wait.CancelAfter(TimeSpan.FromSeconds(mqtt.StatusSeconds));
        try { return await queue.Reader.ReadAsync(wait.Token); }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested) { return null; }
    }

    Task PublishStatus(IMqttClient c, CancellationToken stop) =>
        c.PublishAsync(Message(mqtt.Topic("status"), JsonSerializer.Serialize(pipeline.Status(), ConfigJson.Default.StatusReply), retain: true), stop);

    static MqttApplicationMessage Message(string topic, string payload, bool retain) => new MqttApplicationMessageBuilder()
        .WithTopic(topic).WithPayload(Encoding.UTF8.GetBytes(payload)).WithRetainFlag(retain)
        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();

    async Task OnMessage(MqttApplicationMessageReceivedEventArgs e)
    {
        if (e.ApplicationMessage.Topic != mqtt.Topic("cmd") || client is not { } c) return;
        string line = Encoding.UTF8.GetString(e.ApplicationMessage.Payload).Trim();
        var reply = Run(line);
        log.LogInformation("mqtt: command '{Command}': {Message}", line.Length > 80 ? line[..80] : line, reply.Message);
        try
        {
            await c.PublishAsync(Message(mqtt.Topic("cmd/reply"), JsonSerializer.Serialize(reply, ConfigJson.Default.MessageReply), retain: false), CancellationToken.None);
            await PublishStatus(c, CancellationToken.None);
        }
        catch (Exception ex) when (ex is MqttCommunicationException or SocketException or IOException or InvalidOperationException) { }
    }

    MessageReply Run(string line)
    {
        var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string verb = parts.FirstOrDefault() ?? "";
        if (!MqttConfig.KnownCommands.Contains(verb)) return new(false, $"commands: {string.Join(", ", MqttConfig.KnownCommands)}");
        if (!mqtt.Commands.Contains(verb)) return new(false, $"'{verb}' is not enabled for MQTT (config mqtt.commands)");
        return verb switch
        {
            "label" when parts.Length == 2 => pipeline.Label(parts[1]),
            "label" => new(false, "label needs a class: label CLASS [WINDOW]"),
            "finetune" => pipeline.StartFinetune(),
            "rollback" => pipeline.Rollback(),
            _ => pipeline.Reload(),
        };
    }
}
