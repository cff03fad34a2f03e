using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeNet.Service;

/// <summary>
/// Home Assistant MQTT discovery: one retained config message per entity under
/// &lt;discoveryPrefix&gt;/sensor/edgenet_&lt;device&gt;/&lt;object&gt;/config — the decided class, and one sensor per class
/// whose state is the confidence (%) when that class is decided and 0 otherwise — all read from the result topic and
/// tied to the availability topic.
/// </summary>
static class MqttDiscovery
{
    /// <summary>(topic, payload) for every entity of this device.</summary>
    public static IEnumerable<(string Topic, string Payload)> Messages(MqttConfig mqtt, IReadOnlyList<string> labels, string modelName)
    {
        string node = $"edgenet_{mqtt.DeviceId}";
        var device = new DiscoveryDevice([node], $"EdgeNet {mqtt.DeviceId}", "EdgeNet", modelName, typeof(MqttDiscovery).Assembly.GetName().Version?.ToString(3) ?? "");
        string result = mqtt.Topic("result"), availability = mqtt.Topic("availability");
        DiscoveryEntity Entity(string name, string id, string template, string? unit) =>
            new(name, $"{node}_{id}", $"{node}_{id}", result, template, availability, "online", "offline", unit, unit is null ? null : "measurement", device);

        yield return Message(mqtt, node, "class", Entity("class", "class", "{{ value_json.label }}", null));
        var used = new HashSet<string>();
        for (int i = 0; i < labels.Count; i++)
        {
            string id = ObjectId(labels[i], i, used);
            string quoted = labels[i].Replace("\\", "\\\\").Replace("'", "\\'");
            yield return Message(mqtt, node, id, Entity(labels[i], id, $"{{{{ (value_json.confidence * 100) | round(1) if value_json.label == '{quoted}' else 0 }}}}", "%"));
        }
    }

    static (string, string) Message(MqttConfig mqtt, string node, string id, DiscoveryEntity e) =>
        ($"{mqtt.DiscoveryPrefix}/sensor/{node}/{id}/config", JsonSerializer.Serialize(e, DiscoveryJson.Default.DiscoveryEntity));

    /// <summary>A topic-safe, unique object id for a class label: [a-z0-9_], else its index.</summary>
    static string ObjectId(string label, int index, HashSet<string> used)
    {
        var b = new StringBuilder("class_");
        foreach (char c in label.ToLowerInvariant()) b.Append(c is >= 'a' and <= 'z' or >= '0' and <= '9' ? c : '_');
        string id = b.ToString();
        if (id == "class_" || !used.Add(id)) { id = $"class_{index}"; used.Add(id); }
        return id;
    }
}

/// <summary>A Home Assistant MQTT sensor's discovery config (the keys Home Assistant reads).</summary>
sealed record DiscoveryEntity(string Name, string UniqueId, string ObjectId, string StateTopic, string ValueTemplate, string AvailabilityTopic,
    string PayloadAvailable, string PayloadNotAvailable, string? UnitOfMeasurement, string? StateClass, DiscoveryDevice Device);

/// <summary>The device the entities belong to, so Home Assistant groups them.</summary>
sealed record DiscoveryDevice(string[] Identifiers, string Name, string Manufacturer, string Model, string SwVersion);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DiscoveryEntity))]
sealed partial class DiscoveryJson : JsonSerializerContext;
