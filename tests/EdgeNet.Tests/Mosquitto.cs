using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeNet.Tests;

/// <summary>A real Mosquitto broker (Debian's mosquitto) on a free loopback port, with persistence so that a restart
/// keeps durable sessions. Start and stop wait for the broker's own log lines and exit, never for a time.</summary>
public sealed class Mosquitto : IDisposable
{
    public const string Binary = "/usr/sbin/mosquitto";
    public int Port { get; } = FreePort();
    readonly string dir, conf;
    Process? process;
    public readonly StringBuilder Log = new();

    public Mosquitto(string dir, string extraConfig = "")
    {
        this.dir = dir;
        conf = Path.Combine(dir, "mosquitto.conf");
        File.WriteAllText(conf, $"""
            listener {Port} 127.0.0.1
            persistence true
            persistence_location {dir}/
            log_dest stderr
            log_type error
            log_type warning
            log_type notice
            log_type information
            {(extraConfig.Length == 0 ? "allow_anonymous true" : extraConfig)}

            """);
        Start();
    }

    public static bool Installed => File.Exists(Binary);

    public static int FreePort()
    {
        using var l = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        l.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)l.LocalEndPoint!).Port;
    }

    public void Start()
    {
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var p = Process.Start(new ProcessStartInfo(Binary, ["-c", conf]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (Log) Log.AppendLine(e.Data);
            if (e.Data.Contains(" running")) running.TrySetResult();
        };
        p.Exited += (_, _) => running.TrySetResult();
        p.EnableRaisingEvents = true;
        p.BeginErrorReadLine(); p.BeginOutputReadLine();
        process = p;
        if (!running.Task.Wait(TimeSpan.FromSeconds(30)) || p.HasExited) throw new InvalidOperationException("mosquitto did not start:\n" + Log);
    }

    /// <summary>SIGTERM, as an administrator restarts it: the broker saves its sessions and exits.</summary>
    public void Stop()
    {
        if (process is not { HasExited: false } p) return;
        ServiceTests.kill(p.Id, 15);
        if (!p.WaitForExit(30000)) p.Kill();
        p.WaitForExit();
        p.Dispose(); process = null;
    }

    public void Dispose()
    {
        if (process is { HasExited: false } p) p.Kill();
        process?.Dispose();
    }
}

/// <summary>A test's MQTT client: everything received, in order, to wait on.</summary>
public sealed class MqttProbe : IDisposable
{
    readonly IMqttClient client = new MqttClientFactory().CreateMqttClient();
    readonly BlockingCollection<(string Topic, string Payload, bool Retained)> received = [];
    readonly MqttClientOptions options;
    readonly string[] filters;
    readonly ManualResetEventSlim disconnected = new();   // set by the client's own event when its connection ends

    /// <param name="tls">TLS to the broker: its certificate must chain to <c>Ca</c>; <c>Client</c> is presented if the broker asks</param>
    public MqttProbe(int port, string[] filters, string? clientId = null, string? user = null, string? password = null,
        (X509Certificate2 Ca, X509Certificate2 Client)? tls = null)
    {
        this.filters = filters;
        var b = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId ?? $"probe-{Guid.NewGuid():N}")
            .WithCleanSession(clientId is null).WithTimeout(TimeSpan.FromSeconds(10));
        if (user is not null) b.WithCredentials(user, password);
        if (tls is var (ca, clientCert))
            b.WithTlsOptions(t => t.UseTls().WithTargetHost("127.0.0.1").WithClientCertificates([clientCert])
                .WithCertificateValidationHandler(c => TestPki.Chains(c.Certificate, ca)));
        options = b.Build();
        client.DisconnectedAsync += _ => { disconnected.Set(); return Task.CompletedTask; };
        client.ApplicationMessageReceivedAsync += e =>
        {
            received.Add((e.ApplicationMessage.Topic, Encoding.UTF8.GetString(e.ApplicationMessage.Payload), e.ApplicationMessage.Retain));
            return Task.CompletedTask;
        };
        Connect();
    }

    /// <summary>Waits until the client has seen its connection end (the broker stopped), so that <see cref="Connect"/> starts a new one.</summary>
    public void WaitDisconnected()
    {
        if (!disconnected.Wait(TimeSpan.FromSeconds(60))) throw new TimeoutException("the probe still thinks it is connected");
        disconnected.Reset();
    }

    /// <summary>Connects (a durable session when the probe has a client id) and subscribes at QoS 1.</summary>
    public void Connect()
    {
        client.ConnectAsync(options).GetAwaiter().GetResult();
        var s = new MqttClientSubscribeOptionsBuilder();
        foreach (var f in filters) s.WithTopicFilter(f, MqttQualityOfServiceLevel.AtLeastOnce);
        client.SubscribeAsync(s.Build()).GetAwaiter().GetResult();
    }

    public void Publish(string topic, string payload) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build()).GetAwaiter().GetResult();

    /// <summary>The next message that matches, skipping others; fails after <paramref name="seconds"/> without one.</summary>
    public (string Topic, string Payload, bool Retained) Next(Func<(string Topic, string Payload, bool Retained), bool> match, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (received.TryTake(out var m, Math.Max(0, (int)(deadline - DateTime.UtcNow).TotalMilliseconds)))
            if (match(m)) return m;
        throw new TimeoutException($"no matching MQTT message within {seconds} s");
    }

    public (string Topic, string Payload, bool Retained) Next(string topic, int seconds = 30) => Next(m => m.Topic == topic, seconds);

    public void Dispose()
    {
        try { if (client.IsConnected) client.DisconnectAsync().GetAwaiter().GetResult(); } catch (MQTTnet.Exceptions.MqttCommunicationException) { }
        client.Dispose();
        disconnected.Dispose();
    }
}
