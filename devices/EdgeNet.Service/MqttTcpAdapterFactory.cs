using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Diagnostics.PacketInspection;
using MQTTnet.Formatter;

namespace EdgeNet.Service;

/// <summary>MQTTnet's client adapter over <see cref="MqttSocketChannel"/> (TCP, or TLS where asked for and built in):
/// MQTTnet's default factory can also open WebSocket channels, which brings System.Net.Http and WebSockets (about
/// 0.9 MB) into the NativeAOT binary, and its TCP channel always brings its TLS code.</summary>
sealed class MqttTcpAdapterFactory(MqttConfig mqtt) : IMqttClientAdapterFactory
{
    public IMqttChannelAdapter CreateClientAdapter(MqttClientOptions options, MqttPacketInspector packetInspector, IMqttNetLogger logger) =>
        new MqttChannelAdapter(new MqttSocketChannel(mqtt), new MqttPacketFormatterAdapter(options.ProtocolVersion, new MqttBufferWriter(options.WriterBufferSize, options.WriterBufferSizeMax)), logger)
        {
            AllowPacketFragmentation = options.AllowPacketFragmentation,
            PacketInspector = packetInspector,
        };
}
