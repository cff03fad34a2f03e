using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeNet.Service;

/// <summary>
/// GET /metrics in the Prometheus text format on config metrics.address: inference latency (histogram), windows and
/// decisions per class, sensor faults, the fine-tune state, the model version and labelled windows. A small HTTP/1.1
/// responder on a socket (one request per connection, a request head of at most 8 KB read within 5 s), so the device
/// binary carries no web server.
/// </summary>
/// <param name="cfg">The service's configuration (metrics.address).</param>
/// <param name="pipeline">The pipeline measured.</param>
/// <param name="log">Where the listening address is logged.</param>
/// <param name="mqtt">The MQTT bridge when one runs: its connection state and queue are exported too.</param>
public sealed class MetricsServer(ServiceConfig cfg, Pipeline pipeline, ILogger<MetricsServer> log, MqttBridge? mqtt = null) : BackgroundService
{
    static readonly string[] FinetuneStates = ["idle", "running", "swapped", "rejected", "failed", "cancelled"];
    readonly MetricsHistogram latency = new();
    Socket? listener;

    /// <inheritdoc/>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        listener = new Socket(cfg.Metrics.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try { listener.Bind(cfg.Metrics.EndPoint); listener.Listen(16); }
        catch (SocketException e) { listener.Dispose(); throw new ConfigException($"config: metrics.address {cfg.Metrics.EndPoint}: {e.Message}"); }
        pipeline.Classified += r => latency.Observe(r.LatencyUs / 1e6);
        log.LogInformation("metrics: http://{EndPoint}/metrics", cfg.Metrics.EndPoint);
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
            _ = Task.Run(() => Serve(client, stop), stop);
        }
    }

    async Task Serve(Socket client, CancellationToken stop)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var head = new byte[8192];
            int n = 0;
            while (n < head.Length && head.AsSpan(0, n).IndexOf("\r\n\r\n"u8) < 0)
            {
                int r = await client.ReceiveAsync(head.AsMemory(n), timeout.Token);
                if (r == 0) return;
                n += r;
            }
            string requestLine = Encoding.ASCII.GetString(head, 0, Math.Max(0, head.AsSpan(0, n).IndexOf("\r\n"u8)));
            var (status, body) = requestLine.Split(' ') switch
            {
                ["GET", "/metrics" or "/metrics/", _] => ("200 OK", Render()),
                ["GET", _, _] => ("404 Not Found", "only /metrics is served here\n"),
                _ => ("400 Bad Request", "GET /metrics\n"),
            };
            var bytes = Encoding.UTF8.GetBytes(body);
            var header = $"HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
            await client.SendAsync(Encoding.ASCII.GetBytes(header), timeout.Token);
            await client.SendAsync(bytes, timeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException) { }
    }

    /// <summary>The current metrics as Prometheus text.</summary>
    public string Render()
    {
        var m = pipeline.Metrics();
        var s = pipeline.Status();
        var t = new MetricsText()
            .Histogram("edgenet_inference_latency_seconds", "Time of one model run on one window.", latency)
            .Family("edgenet_windows_total", "counter", "Windows classified.").Sample("edgenet_windows_total", m.Windows)
            .Family("edgenet_class_total", "counter", "Windows decided as each class (unknown: below the confidence threshold).");
        foreach (var label in pipeline.Labels.Concat(m.CountsPerClass.Keys).Distinct())
            t.Sample("edgenet_class_total", m.CountsPerClass.GetValueOrDefault(label), "class", label);
        t.Family("edgenet_sensor_faults_total", "counter", "Source faults: sensor read errors, camera restarts.").Sample("edgenet_sensor_faults_total", m.SensorFaults)
         .Family("edgenet_sensor_ok", "gauge", "1 while the last read of the source succeeded.").Sample("edgenet_sensor_ok", s.LastFault is null ? 1 : 0)
         .Family("edgenet_finetune_state", "gauge", "The fine-tune state: 1 for the current one.");
        foreach (var state in FinetuneStates) t.Sample("edgenet_finetune_state", s.Finetune == state ? 1 : 0, "state", state);
        t.Family("edgenet_labelled_windows", "gauge", "Labelled windows kept for fine-tuning.").Sample("edgenet_labelled_windows", s.LabelledSamples)
         .Family("edgenet_model_version", "gauge", "Version of the serving model (0: the configured file).").Sample("edgenet_model_version", s.ModelVersion);
        if (mqtt is not null)
            t.Family("edgenet_mqtt_connected", "gauge", "1 while connected to the MQTT broker.").Sample("edgenet_mqtt_connected", mqtt.Connected ? 1 : 0)
             .Family("edgenet_mqtt_queued", "gauge", "Results waiting for the broker.").Sample("edgenet_mqtt_queued", mqtt.Queued)
             .Family("edgenet_mqtt_dropped_total", "counter", "Results dropped because the queue was full while the broker was unreachable.").Sample("edgenet_mqtt_dropped_total", mqtt.Dropped);
        return t.ToString();
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        listener?.Dispose();
        base.Dispose();
    }
}
