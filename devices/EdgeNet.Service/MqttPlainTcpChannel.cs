using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Channel;
using MQTTnet.Exceptions;

namespace EdgeNet.Service;

/// <summary>
/// MQTT over plain TCP: what the bridge uses unless mqtt.tls is on. MQTTnet's own TCP channel carries its TLS code
/// (SslStream, X509 chain building, which fetches certificates over HTTP), about 2 MB of a NativeAOT binary; with this
/// channel, a build that switches TLS off (<see cref="MqttConfig.TlsSupported"/>) leaves all of that out.
/// </summary>
sealed class MqttPlainTcpChannel(string host, int port) : IMqttChannel
{
    Socket? socket;
    NetworkStream? stream;

    public X509Certificate2 ClientCertificate => null!;
    public EndPoint RemoteEndPoint => socket?.RemoteEndPoint!;
    public EndPoint LocalEndPoint => socket?.LocalEndPoint!;
    public bool IsSecureConnection => false;

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var s = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };   // dual mode: IPv4 and IPv6
        try { await s.ConnectAsync(host, port, cancellationToken); }
        catch { s.Dispose(); throw; }
        socket = s;
        stream = new NetworkStream(s, ownsSocket: true);
    }

    public Task DisconnectAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        await Connected().ReadAsync(buffer.AsMemory(offset, count), cancellationToken);

    public async Task WriteAsync(ReadOnlySequence<byte> buffer, bool isEndOfPacket, CancellationToken cancellationToken)
    {
        var s = Connected();
        foreach (var segment in buffer) await s.WriteAsync(segment, cancellationToken);
    }

    NetworkStream Connected() => stream ?? throw new MqttCommunicationException("the MQTT connection is closed");

    public void Dispose()
    {
        stream?.Dispose(); socket?.Dispose();
        stream = null; socket = null;
    }
}
