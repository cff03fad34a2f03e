using System.Diagnostics.CodeAnalysis;

namespace EdgeNet.Service;

/// <summary>
/// config "mqtt": results, status and availability to a broker, Home Assistant discovery, and the control commands
/// listed in <see cref="Commands"/> taken from <c>&lt;topicPrefix&gt;/&lt;deviceId&gt;/cmd</c>. Off by default. The
/// password comes from a file or an environment variable, never from the config itself, and is never logged.
/// </summary>
public sealed class MqttConfig
{
    /// <summary>Connect to the broker at all (default false).</summary>
    public bool Enabled { get; set; }
    /// <summary>Broker host name or address.</summary>
    public string Host { get; set; } = "";
    /// <summary>Broker port; 0 means 1883, or 8883 with <see cref="Tls"/>.</summary>
    public int Port { get; set; }
    /// <summary>This device's name in topics and discovery (letters, digits, '-' and '_'); default: the host name.</summary>
    public string DeviceId { get; set; } = "";
    /// <summary>First topic level: results go to &lt;topicPrefix&gt;/&lt;deviceId&gt;/result.</summary>
    public string TopicPrefix { get; set; } = "edgenet";
    /// <summary>User name for the broker (none: anonymous).</summary>
    public string Username { get; set; } = "";
    /// <summary>A file whose content (trimmed) is the password, e.g. /etc/edgenet/mqtt.secret (mode 0600).</summary>
    public string PasswordFile { get; set; } = "";
    /// <summary>The name of an environment variable that holds the password (e.g. from systemd's LoadCredential or EnvironmentFile).</summary>
    public string PasswordEnv { get; set; } = "";
    /// <summary>TLS to the broker, verified against the system's CAs or <see cref="CaFile"/>.</summary>
    public bool Tls { get; set; }
    /// <summary>A PEM file with the CA certificate that signed the broker's certificate.</summary>
    public string CaFile { get; set; } = "";
    /// <summary>Control commands accepted on the cmd topic: any of label, finetune, rollback, reload (default none).</summary>
    public string[] Commands { get; set; } = [];
    /// <summary>Publish Home Assistant discovery messages (retained) so each class appears as a sensor.</summary>
    public bool Discovery { get; set; } = true;
    /// <summary>Home Assistant's discovery prefix.</summary>
    public string DiscoveryPrefix { get; set; } = "homeassistant";
    /// <summary>Results kept while the broker is unreachable; past this the oldest are dropped (and counted).</summary>
    public int QueueLimit { get; set; } = 1000;
    /// <summary>Seconds between status messages (also sent after each command).</summary>
    public int StatusSeconds { get; set; } = 30;

    /// <summary>
    /// Whether this build can speak TLS to a broker. TLS (SslStream, X509 chains, and the HTTP client .NET fetches
    /// certificates with) is about 2 MB of a NativeAOT binary; the edgenet device binary leaves it out with the
    /// feature switch <c>EdgeNet.Service.MqttTls=false</c>
    /// (<c>&lt;RuntimeHostConfigurationOption Include="EdgeNet.Service.MqttTls" Value="false" Trim="true" /&gt;</c>),
    /// and refuses <c>mqtt.tls</c> at start. The EdgeNet.Service package has it unless an app switches it off.
    /// </summary>
    [FeatureSwitchDefinition("EdgeNet.Service.MqttTls")]
    internal static bool TlsSupported => !AppContext.TryGetSwitch("EdgeNet.Service.MqttTls", out bool on) || on;

    internal static readonly string[] KnownCommands = ["label", "finetune", "rollback", "reload"];

    /// <summary>The password resolved at start from <see cref="PasswordFile"/> or <see cref="PasswordEnv"/>.</summary>
    internal string? Password { get; private set; }

    internal string Topic(string leaf) => $"{TopicPrefix}/{DeviceId}/{leaf}";

    /// <summary>1-64 letters, digits, '-' or '_': safe as one topic level (no '/', '+', '#').</summary>
    static bool IsTopicLevel(string s) => s.Length is >= 1 and <= 64 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>Checks the section and resolves the password; relative paths are relative to the config file.</summary>
    internal void Validate(string baseDir)
    {
        if (!Enabled) return;
        if (Host.Length == 0) throw new ConfigException("config: mqtt.host is required when mqtt.enabled is true");
        if (Tls && !TlsSupported)
            throw new ConfigException("config: mqtt.tls: this build leaves TLS out (feature switch EdgeNet.Service.MqttTls=false, which keeps the edgenet binary small); use a plain listener on a trusted network or a TLS-terminating proxy, or a build with TLS (the EdgeNet.Service package)");
        if (Port == 0) Port = Tls ? 8883 : 1883;
        if (Port is < 1 or > 65535) throw new ConfigException($"config: mqtt.port {Port} is outside 1..65535");
        if (DeviceId.Length == 0) DeviceId = Environment.MachineName;
        if (!IsTopicLevel(DeviceId)) throw new ConfigException($"config: mqtt.deviceId '{DeviceId}' must be 1-64 letters, digits, '-' or '_' (it is a topic level)");
        if (!TopicPrefix.Split('/').All(IsTopicLevel)) throw new ConfigException($"config: mqtt.topicPrefix '{TopicPrefix}' must be topic levels of letters, digits, '-' or '_'");
        if (!IsTopicLevel(DiscoveryPrefix)) throw new ConfigException($"config: mqtt.discoveryPrefix '{DiscoveryPrefix}' must be letters, digits, '-' or '_'");
        foreach (var c in Commands)
            if (!KnownCommands.Contains(c)) throw new ConfigException($"config: mqtt.commands: '{c}' is not one of {string.Join(", ", KnownCommands)}");
        if (QueueLimit is < 1 or > 1_000_000) throw new ConfigException($"config: mqtt.queueLimit {QueueLimit} is outside 1..1000000");
        if (StatusSeconds is < 1 or > 86400) throw new ConfigException($"config: mqtt.statusSeconds {StatusSeconds} is outside 1..86400");
        if (PasswordFile.Length > 0 && PasswordEnv.Length > 0) throw new ConfigException("config: mqtt.passwordFile and mqtt.passwordEnv are both set; use one");
        if ((PasswordFile.Length > 0 || PasswordEnv.Length > 0) && Username.Length == 0) throw new ConfigException("config: mqtt has a password but no username");
        if (PasswordFile.Length > 0)
        {
            PasswordFile = Path.GetFullPath(Path.Combine(baseDir, PasswordFile));
            if (FileKind.Of(PasswordFile) is { } k && (k.Kind != FileKind.Type.Regular || k.Size > 4096))
                throw new ConfigException($"config: mqtt.passwordFile '{PasswordFile}' is {(k.Kind == FileKind.Type.Regular ? $"{k.Size} bytes" : k.Describe)}; it should be a small file holding only the password");
            try { Password = File.ReadAllText(PasswordFile).Trim(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ConfigException($"config: cannot read mqtt.passwordFile '{PasswordFile}': {e.Message}"); }
        }
        if (PasswordEnv.Length > 0)
            Password = Environment.GetEnvironmentVariable(PasswordEnv) is { Length: > 0 } p ? p
                : throw new ConfigException($"config: mqtt.passwordEnv: the environment variable '{PasswordEnv}' is not set");
        if (CaFile.Length > 0)
        {
            if (!Tls) throw new ConfigException("config: mqtt.caFile is set but mqtt.tls is false");
            CaFile = Path.GetFullPath(Path.Combine(baseDir, CaFile));
            if (!File.Exists(CaFile)) throw new ConfigException($"config: mqtt.caFile '{CaFile}' does not exist");
        }
    }
}
