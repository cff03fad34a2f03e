using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// `edgenet serve` to a real Mosquitto over TLS: a CA, the broker's and the service's certificates made by the test
/// (<see cref="TestPki"/>), a listener that wants a client certificate and a password; the service trusts the CA from
/// its config (mqtt.caFile) and a subscriber gets its results over TLS. A service given another CA is refused, and
/// says so in one log line. edgenet runs as built with <c>-p:EdgeNetMqttTls=true</c> (its feature switch on): the
/// default edgenet binary leaves TLS out (ServiceConfigTests). EDGENET_TLS_BINARY runs the test against such a
/// NativeAOT build instead (a command line: .ci/run gives the arm64 one under qemu).
/// </summary>
public class MqttTlsTests(ITestOutputHelper output)
{
    /// <summary>How to run edgenet with TLS: EDGENET_TLS_BINARY, or edgenet.dll with the feature switch
    /// EdgeNet.Service.MqttTls on in its runtimeconfig.json, as -p:EdgeNetMqttTls=true writes it.</summary>
    static string[] EdgenetWithTls(string dir)
    {
        if (Environment.GetEnvironmentVariable("EDGENET_TLS_BINARY") is { Length: > 0 } binary)
            return binary.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "edgenet.runtimeconfig.json"));
        string on = text.Replace("\"EdgeNet.Service.MqttTls\": false", "\"EdgeNet.Service.MqttTls\": true");
        Assert.NotEqual(text, on);   // the switch is off in edgenet's own build
        string path = Path.Combine(dir, "edgenet-tls.runtimeconfig.json");
        File.WriteAllText(path, on);
        return ["dotnet", "exec", "--runtimeconfig", path, Path.Combine(AppContext.BaseDirectory, "edgenet.dll")];
    }

    [Fact]
    public void Results_over_tls_with_a_ca_file_a_client_certificate_and_a_password_and_another_ca_refused_in_one_line()
    {
        if (!Mosquitto.Installed) Assert.Skip("mosquitto is not installed (.ci/run installs Debian's mosquitto)");
        var dir = Fixtures.TempDir();
        string P(string name) => Path.Combine(dir, name);
        using var ca = TestPki.Ca("EdgeNet test CA");
        using var otherCa = TestPki.Ca("Some other CA");
        using var brokerCert = TestPki.Issue(ca, "broker", server: true);
        using var clientCert = TestPki.Issue(ca, "edgenet-device", server: false);
        TestPki.WritePem(ca, P("ca.crt"));
        TestPki.WritePem(otherCa, P("other-ca.crt"));
        TestPki.WritePem(brokerCert, P("broker.crt"), P("broker.key"), keyReadableByAll: true);   // mosquitto started as root reads it as user mosquitto
        TestPki.WritePem(clientCert, P("client.crt"), P("client.key"));
        const string password = "tls-pw-never-logged";
        File.WriteAllText(P("mqtt.secret"), password + "\n");
        var mk = Process.Start(new ProcessStartInfo("mosquitto_passwd", ["-b", "-c", P("passwd"), "edge", password]) { RedirectStandardError = true })!;
        mk.WaitForExit();
        Assert.Equal(0, mk.ExitCode);
        using var broker = new Mosquitto(dir, $"""
            cafile {P("ca.crt")}
            certfile {P("broker.crt")}
            keyfile {P("broker.key")}
            require_certificate true
            allow_anonymous false
            password_file {P("passwd")}
            """);
        using var probe = new MqttProbe(broker.Port, ["edgenet/#"], user: "edge", password: password, tls: (ca, clientCert));
        string model = MqttTests.ConstantModel(P("m.enet"), 1);
        string[] edgenet = EdgenetWithTls(dir);
        output.WriteLine("edgenet: " + string.Join(' ', edgenet));
        string Mqtt(string device, string caFile) => $$"""
            { "enabled": true, "host": "127.0.0.1", "port": {{broker.Port}}, "deviceId": "{{device}}", "discovery": false,
              "tls": true, "caFile": "{{caFile}}", "clientCertFile": "client.crt", "clientKeyFile": "client.key",
              "username": "edge", "passwordFile": "mqtt.secret" }
            """;

        // Trusting the broker's CA: connected, results arrive over TLS.
        var goodDir = Directory.CreateDirectory(P("good")).FullName;
        foreach (var f in new[] { "client.crt", "client.key", "mqtt.secret" }) File.Copy(P(f), Path.Combine(goodDir, f));
        using (var s = new ServiceTests.ServiceProcess(MqttTests.Config(model, Mqtt("tls1", P("ca.crt"))), goodDir, edgenet: edgenet))
        {
            Assert.Equal("online", probe.Next("edgenet/tls1/availability").Payload);
            for (int i = 0; i < 3; i++)
                Assert.Equal("shake", JsonDocument.Parse(probe.Next("edgenet/tls1/result").Payload).RootElement.GetProperty("label").GetString());
            Assert.Equal(0, s.Terminate());
            probe.Next(m => m.Topic == "edgenet/tls1/availability" && m.Payload == "offline");   // the clean stop says so itself
            Assert.Contains("mqtt: connected to 127.0.0.1", s.Stderr.ToString());
            Assert.DoesNotContain(password, s.Stderr.ToString() + s.Stdout);
        }

        // Trusting another CA: the handshake is refused, and the log says why in one line, not a stack trace.
        var badDir = Directory.CreateDirectory(P("bad")).FullName;
        foreach (var f in new[] { "client.crt", "client.key", "mqtt.secret" }) File.Copy(P(f), Path.Combine(badDir, f));
        using (var s = new ServiceTests.ServiceProcess(MqttTests.Config(model, Mqtt("tls2", P("other-ca.crt"))), badDir, edgenet: edgenet))
        {
            string line = s.NextStderr(l => l.Contains("mqtt:"), 60);
            output.WriteLine(line);
            Assert.Contains($"mqtt: 127.0.0.1:{broker.Port} refused: TLS: the broker's certificate (CN=broker, issued by CN=EdgeNet test CA) is not trusted: it does not chain to the CA in mqtt.caFile '{P("other-ca.crt")}'", line);
            Assert.Equal(0, s.Terminate());
            var stderr = s.Stderr.ToString();
            Assert.Single(stderr.Split('\n'), l => l.Contains("mqtt:"));
            Assert.DoesNotContain("   at ", stderr);
            Assert.DoesNotContain(password, stderr + s.Stdout);
        }
    }
}
