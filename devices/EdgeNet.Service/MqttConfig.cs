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
    /// <summary>TLS to the broker: its certificate must chain to <see cref="CaFile"/> (or, without one, to a CA the
    /// system trusts) and name <see cref="Host"/>.</summary>
    public bool Tls { get; set; }
    /// <summary>A PEM file with the CA certificate(s) that signed the broker's certificate; only these are trusted.</summary>
    public string CaFile { get; set; } = "";
    /// <summary>A PEM client certificate for brokers that require one (mosquitto's require_certificate), with <see cref="ClientKeyFile"/>.</summary>
    public string ClientCertFile { get; set; } = "";
    /// <summary>The PEM private key of <see cref="ClientCertFile"/> (unencrypted PKCS#8, PKCS#1 or SEC1; mode 0600).</summary>
    public string ClientKeyFile { get; set; } = "";
    /// <summary>Accept any broker certificate, trusted or not (default false; for a test bench only: anyone on the path can read and forge the traffic).</summary>
    public bool AllowUntrusted { get; set; }
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
    /// certificates with) is about 2 MB of a NativeAOT binary; edgenet's default build leaves it out with the
    /// feature switch <c>EdgeNet.Service.MqttTls=false</c>
    /// (<c>&lt;RuntimeHostConfigurationOption Include="EdgeNet.Service.MqttTls" Value="false" Trim="true" /&gt;</c>;
    /// <c>-p:EdgeNetMqttTls=true</c> keeps it) and refuses <c>mqtt.tls</c> at start. The EdgeNet.Service package has
    /// it unless an app switches it off.
    /// </summary>
    [FeatureSwitchDefinition("EdgeNet.Service.MqttTls")]
    internal static bool TlsSupported => !AppContext.TryGetSwitch("EdgeNet.Service.MqttTls", out bool on) || on;

    internal static readonly string[] KnownCommands = ["label", "finetune", "rollback", "reload"];

    /// <summary>The password resolved at start from <see cref="PasswordFile"/> or <see cref="PasswordEnv"/>.</summary>
    internal string? Password { get; private set; }

    /// <summary>The certificates of <see cref="CaFile"/> and the client certificate, loaded at start.</summary>
    internal System.Security.Cryptography.X509Certificates.X509Certificate2Collection? TrustedCas { get; private set; }
    internal System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; private set; }

    internal string Topic(string leaf) => $"{TopicPrefix}/{DeviceId}/{leaf}";

    /// <summary>1-64 letters, digits, '-' or '_': safe as one topic level (no '/', '+', '#').</summary>
    static bool IsTopicLevel(string s) => s.Length is >= 1 and <= 64 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>Checks the section and resolves the password; relative paths are relative to the config file.</summary>
    internal void Validate(string baseDir)
    {
        if (!Enabled) return;
        if (Host.Length == 0) throw new ConfigException("config: mqtt.host is required when mqtt.enabled is true");
        if (Tls && !TlsSupported)
            throw new ConfigException("config: mqtt.tls: this build leaves MQTT over TLS out (feature switch EdgeNet.Service.MqttTls=false, as edgenet's default build does to stay small): publish edgenet with -p:EdgeNetMqttTls=true (docs/service.md), or use a plain listener on a trusted network");
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
        if (!Tls && (CaFile.Length > 0 || ClientCertFile.Length > 0 || ClientKeyFile.Length > 0 || AllowUntrusted))
            throw new ConfigException("config: mqtt.caFile, clientCertFile, clientKeyFile and allowUntrusted need mqtt.tls: true");
        if ((ClientCertFile.Length > 0) != (ClientKeyFile.Length > 0))
            throw new ConfigException("config: mqtt.clientCertFile and mqtt.clientKeyFile go together: set both or neither");
        if (AllowUntrusted && CaFile.Length > 0)
            throw new ConfigException("config: mqtt.allowUntrusted accepts any certificate, so mqtt.caFile would not be checked; use one");
        CaFile = TlsFile(baseDir, CaFile, "caFile");
        ClientCertFile = TlsFile(baseDir, ClientCertFile, "clientCertFile");
        ClientKeyFile = TlsFile(baseDir, ClientKeyFile, "clientKeyFile");
        if (Tls && TlsSupported) (TrustedCas, ClientCertificate) = MqttTls.Load(this);
    }

    /// <summary>A TLS file's full path: a regular file of at most 1 MiB, or "" when not set.</summary>
    static string TlsFile(string baseDir, string path, string key)
    {
        if (path.Length == 0) return "";
        path = Path.GetFullPath(Path.Combine(baseDir, path));
        if (!File.Exists(path)) throw new ConfigException($"config: mqtt.{key} '{path}' does not exist");
        if (FileKind.Of(path) is { } k && (k.Kind != FileKind.Type.Regular || k.Size > 1 << 20))
            throw new ConfigException($"config: mqtt.{key} '{path}' is {(k.Kind == FileKind.Type.Regular ? $"{k.Size} bytes" : k.Describe)}; it should be a PEM file");
        return path;
    }
}
