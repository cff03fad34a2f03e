using EdgeNet.Format;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeNet.Service;

/// <summary>The configured model, loaded and checked against the config before the host starts.</summary>
public sealed record ConfiguredModel(Model Model);

/// <summary>
/// `edgenet serve --config FILE`: the generic host with systemd integration (notify, journal-style logs). Everything
/// that can be refused is checked first — the config and the configured model (unreadable, or not fitting the
/// config: exit 2, naming the key), one instance per state directory and socket (exit 1) — before a file is written.
/// </summary>
public static class ServiceHost
{
    /// <summary>Runs the service until SIGTERM/SIGINT (0) or an unexpected end of the inference loop (1).</summary>
    public static int Run(string configPath) => Run(configPath, null);

    /// <param name="configPath">The config file.</param>
    /// <param name="beforeStart">Given the pipeline before the host starts: how tests attach a failing sink.</param>
    internal static int Run(string configPath, Action<Pipeline>? beforeStart)
    {
        var cfg = ServiceConfig.Load(configPath);
        Model model;
        try { model = ModelFile.Load(cfg.Model); }
        catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException) { throw new ConfigException($"config: model: '{cfg.Model}' cannot be served: {e.Message}"); }
        ModelFit.Check(model, cfg, $"model '{cfg.Model}'");
        using var instance = InstanceLock.Acquire(cfg);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        builder.Services.AddSystemd();
        // AddSystemd registers a notifier only under systemd; outside it, this one has no NOTIFY_SOCKET and stays silent.
        builder.Services.TryAddSingleton<Microsoft.Extensions.Hosting.Systemd.ISystemdNotifier, Microsoft.Extensions.Hosting.Systemd.SystemdNotifier>();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        // Logs go to stderr (the journal), results stay alone on stdout as JSON lines.
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton(cfg);
        builder.Services.AddSingleton(new ConfiguredModel(model));
        builder.Services.AddSingleton<Pipeline>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Pipeline>());
        builder.Services.AddHostedService<ControlServer>();
        if (cfg.Mqtt.Enabled)
        {
            builder.Services.AddSingleton<MqttBridge>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<MqttBridge>());
        }
        if (cfg.Metrics.Enabled) builder.Services.AddHostedService<MetricsServer>();
        using var host = builder.Build();
        var pipeline = host.Services.GetRequiredService<Pipeline>();
        beforeStart?.Invoke(pipeline);
        host.Run();
        return pipeline.Failed ? 1 : 0;   // 1: the documented exit code of a failure (README)
    }
}
