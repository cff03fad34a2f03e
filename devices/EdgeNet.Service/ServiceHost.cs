using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeNet.Service;

/// <summary>`edgenet serve --config FILE`: the generic host with systemd integration (notify, journal-style logs).</summary>
public static class ServiceHost
{
    public static int Run(string configPath)
    {
        var cfg = ServiceConfig.Load(configPath);
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
        builder.Services.AddSingleton<Pipeline>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Pipeline>());
        builder.Services.AddHostedService<ControlServer>();
        using var host = builder.Build();
        host.Run();
        return 0;
    }
}
