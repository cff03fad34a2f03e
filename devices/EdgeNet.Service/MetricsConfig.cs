using System.Net;

namespace EdgeNet.Service;

/// <summary>config "metrics": a Prometheus text endpoint, GET /metrics on <see cref="Address"/>. Off by default.</summary>
public sealed class MetricsConfig
{
    /// <summary>Serve /metrics at all (default false).</summary>
    public bool Enabled { get; set; }
    /// <summary>Where to listen, address:port (e.g. 0.0.0.0:9464 for a scraper on the network; the default is local only).</summary>
    public string Address { get; set; } = "127.0.0.1:9464";

    internal IPEndPoint EndPoint { get; private set; } = new(IPAddress.Loopback, 9464);

    internal void Validate()
    {
        if (!Enabled) return;
        if (!IPEndPoint.TryParse(Address, out var ep) || ep.Port is < 1 or > 65535)
            throw new ConfigException($"config: metrics.address '{Address}' is not address:port (e.g. 127.0.0.1:9464 or [::]:9464)");
        EndPoint = ep;
    }
}
