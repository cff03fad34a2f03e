using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Channel;
using MQTTnet.Exceptions;

namespace EdgeNet.Service;

/// <summary>
/// MQTT over TCP, and over TLS (<see cref="MqttTls"/>) when mqtt.tls is on. Not MQTTnet's own TCP channel: that one
/// always carries its TLS code (SslStream, X509 chains, the HTTP client they fetch certificates with), about 2 MB of a
/// NativeAOT binary; here TLS sits behind <see cref="MqttConfig.TlsSupported"/>, so a build that switches it off
/// leaves all of that out.
/// </summary>
sealed class MqttSocketChannel(MqttConfig mqtt) : IMqttChannel
{
    Socket? socket;
    Stream? stream;

    public X509Certificate2 ClientCertificate => null!;
    public EndPoint RemoteEndPoint => socket?.RemoteEndPoint!;
    public EndPoint LocalEndPoint => socket?.LocalEndPoint!;
    public bool IsSecureConnection => stream is SslStream;

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var s = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };   // dual mode: IPv4 and IPv6
        Stream? st = null;
        try
        {
            await s.ConnectAsync(mqtt.Host, mqtt.Port, cancellationToken);
            st = new NetworkStream(s, ownsSocket: true);
            if (MqttConfig.TlsSupported && mqtt.Tls) st = await MqttTls.AuthenticateAsync(st, mqtt, cancellationToken);
        }
        catch
        {
            if (st is not null) await st.DisposeAsync(); else s.Dispose();
            throw;
        }
        socket = s;
        stream = st;
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
        if (isEndOfPacket) await s.FlushAsync(cancellationToken);
    }

    Stream Connected() => stream ?? throw new MqttCommunicationException("the MQTT connection is closed");

    public void Dispose()
    {
        stream?.Dispose(); socket?.Dispose();
        stream = null; socket = null;
    }
}
