using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Channel;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Diagnostics.PacketInspection;
using MQTTnet.Formatter;
using MQTTnet.Implementations;

namespace EdgeNet.Service;

/// <summary>MQTTnet's client adapter for TCP (and TLS over TCP) alone: its default factory can also open WebSocket
/// channels, which brings System.Net.Http and WebSockets (about 0.9 MB) into the NativeAOT binary. Plain TCP goes
/// through <see cref="MqttPlainTcpChannel"/>; MQTTnet's channel (and its TLS) only where TLS is asked for and built in.</summary>
sealed class MqttTcpAdapterFactory(MqttConfig mqtt) : IMqttClientAdapterFactory
{
    public IMqttChannelAdapter CreateClientAdapter(MqttClientOptions options, MqttPacketInspector packetInspector, IMqttNetLogger logger) =>
        new MqttChannelAdapter(Channel(options), new MqttPacketFormatterAdapter(options.ProtocolVersion, new MqttBufferWriter(options.WriterBufferSize, options.WriterBufferSizeMax)), logger)
        {
            AllowPacketFragmentation = options.AllowPacketFragmentation,
            PacketInspector = packetInspector,
        };

    IMqttChannel Channel(MqttClientOptions options) =>
        MqttConfig.TlsSupported && mqtt.Tls ? new MqttTcpChannel(options) : new MqttPlainTcpChannel(mqtt.Host, mqtt.Port);
}
