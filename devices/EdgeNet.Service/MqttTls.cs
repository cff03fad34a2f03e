using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeNet.Service;

/// <summary>
/// TLS to the broker: the broker's certificate must chain to the CA(s) in mqtt.caFile — only those, as mosquitto's own
/// cafile — or, without one, to a CA the system trusts, and must name mqtt.host; mqtt.clientCertFile/clientKeyFile
/// add a client certificate for brokers that require one. A refusal is one sentence saying why, for the log.
/// Reached only where <see cref="MqttConfig.TlsSupported"/>: a build that switches TLS off leaves this file out.
/// </summary>
static class MqttTls
{
    /// <summary>Loads the CA file and the client certificate at start, so that a bad one is a config error (exit 2).</summary>
    internal static (X509Certificate2Collection? Cas, X509Certificate2? Client) Load(MqttConfig mqtt)
    {
        X509Certificate2Collection? cas = null;
        if (mqtt.CaFile.Length > 0)
        {
            cas = [];
            try { cas.ImportFromPemFile(mqtt.CaFile); }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            { throw new ConfigException($"config: mqtt.caFile '{mqtt.CaFile}' cannot be read as PEM certificates: {e.Message}"); }
            if (cas.Count == 0) throw new ConfigException($"config: mqtt.caFile '{mqtt.CaFile}' holds no PEM certificate");
        }
        X509Certificate2? client = null;
        if (mqtt.ClientCertFile.Length > 0)
        {
            try { client = X509Certificate2.CreateFromPemFile(mqtt.ClientCertFile, mqtt.ClientKeyFile); }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            { throw new ConfigException($"config: mqtt.clientCertFile/clientKeyFile: cannot load the client certificate and its key from '{mqtt.ClientCertFile}' and '{mqtt.ClientKeyFile}': {e.Message}"); }
        }
        return (cas, client);
    }

    /// <summary>The TLS handshake over a connected stream; <see cref="AuthenticationException"/> with the reason if refused.</summary>
    internal static async Task<Stream> AuthenticateAsync(Stream inner, MqttConfig mqtt, CancellationToken cancellationToken)
    {
        var (cas, client) = (mqtt.TrustedCas, mqtt.ClientCertificate);
        string? refusal = null;
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = mqtt.Host,
            ClientCertificates = client is null ? null : [client],
            RemoteCertificateValidationCallback = (_, cert, chain, errors) => (refusal = Refusal(mqtt, cert, chain, errors)) is null,
        };
        if (cas is not null)
        {
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,   // a private CA rarely publishes revocation lists
                DisableCertificateDownloads = true,
            };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(cas);
        }
        try { await ssl.AuthenticateAsClientAsync(options, cancellationToken); }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync();
            throw new AuthenticationException(refusal is null ? $"TLS handshake with the broker failed: {e.Message}" : $"TLS: {refusal}", e);
        }
        return ssl;
    }

    /// <summary>Why the broker's certificate is refused, or null if it is accepted.</summary>
    static string? Refusal(MqttConfig mqtt, X509Certificate? cert, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None || mqtt.AllowUntrusted) return null;
        if (cert is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) return "the broker sent no certificate";
        string who = $"the broker's certificate ({cert.Subject}, issued by {cert.Issuer})";
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var status = chain is null ? "" : string.Join(", ", chain.ChainStatus.Select(s => s.Status).Distinct());
            string trust = mqtt.CaFile.Length > 0 ? $"the CA in mqtt.caFile '{mqtt.CaFile}'" : "a CA this system trusts (set mqtt.caFile to the broker's CA)";
            return $"{who} is not trusted: it does not chain to {trust} ({status})";
        }
        return $"{who} is not for the host '{mqtt.Host}' (mqtt.host must be a name or address the certificate lists)";
    }
}
