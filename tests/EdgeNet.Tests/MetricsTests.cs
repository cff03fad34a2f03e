using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Text.RegularExpressions;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>/metrics of a running service, scraped over HTTP and read as Prometheus text.</summary>
public partial class MetricsTests(ITestOutputHelper output)
{
    [GeneratedRegex("""^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\})? ([-+]?(?:[0-9.eE+-]+|Inf|NaN))$""")]
    private static partial Regex SampleLine();

    /// <summary>The text format's grammar: HELP/TYPE comments, then samples of a declared family; returns the samples.</summary>
    static List<(string Name, string? Label, double Value)> Parse(string text)
    {
        var types = new Dictionary<string, string>();
        var samples = new List<(string, string?, double)>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# HELP ")) continue;
            if (line.StartsWith("# TYPE "))
            {
                var p = line.Split(' ');
                Assert.Equal(4, p.Length);
                Assert.Contains(p[3], new[] { "counter", "gauge", "histogram", "summary", "untyped" });
                Assert.True(types.TryAdd(p[2], p[3]), $"family {p[2]} declared twice");
                continue;
            }
            var m = SampleLine().Match(line);
            Assert.True(m.Success, $"not a sample line: '{line}'");
            string name = m.Groups[1].Value;
            string family = types.ContainsKey(name) ? name : Regex.Replace(name, "_(bucket|sum|count)$", "");
            Assert.True(types.ContainsKey(family), $"sample {name} before its TYPE");
            double v = m.Groups[5].Value switch { "+Inf" => double.PositiveInfinity, "NaN" => double.NaN, var s => double.Parse(s, CultureInfo.InvariantCulture) };
            samples.Add((name, m.Groups[2].Success ? $"{m.Groups[3].Value}={m.Groups[4].Value}" : null, v));
        }
        return samples;
    }

    [Fact]
    public async Task Metrics_endpoint_serves_prometheus_text()
    {
        var dir = Fixtures.TempDir();
        string model = MqttTests.ConstantModel(Path.Combine(dir, "m.enet"), 1);
        int port = Mosquitto.FreePort();
        using var s = new ServiceTests.ServiceProcess(MqttTests.Config(model, "", $$"""{ "enabled": true, "address": "127.0.0.1:{{port}}" }"""), dir);
        Assert.True(s.WaitForStart(), s.Stderr.ToString());
        Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("windows").GetInt64() >= 5, 30));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var response = await http.GetAsync($"http://127.0.0.1:{port}/metrics", TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString());
        Assert.Contains("version=0.0.4", response.Content.Headers.ContentType!.ToString());
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        output.WriteLine(text);
        var samples = Parse(text);
        double Value(string name, string? label = null) => samples.Single(x => x.Name == name && x.Label == label).Value;

        var buckets = samples.Where(x => x.Name == "edgenet_inference_latency_seconds_bucket").ToList();
        Assert.Equal("le=+Inf", buckets[^1].Label);
        for (int i = 1; i < buckets.Count; i++) Assert.True(buckets[i].Value >= buckets[i - 1].Value, "histogram buckets are cumulative");
        Assert.Equal(buckets[^1].Value, Value("edgenet_inference_latency_seconds_count"));
        Assert.True(Value("edgenet_inference_latency_seconds_count") >= 4);
        Assert.True(Value("edgenet_inference_latency_seconds_sum") > 0);
        double windows = Value("edgenet_windows_total");
        Assert.True(windows >= 5);
        Assert.Equal(windows, Value("edgenet_class_total", "class=shake"));   // the constant model decides class 1
        Assert.Equal(0, Value("edgenet_class_total", "class=still"));
        Assert.Equal(0, Value("edgenet_sensor_faults_total"));
        Assert.Equal(1, Value("edgenet_finetune_state", "state=idle"));
        Assert.Equal(0, Value("edgenet_model_version"));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{port}/", TestContext.Current.CancellationToken)).StatusCode);
        ReferenceParser(text);
        Assert.Equal(0, s.Terminate());
    }

    /// <summary>The Prometheus project's own Python parser (Debian python3-prometheus-client), where installed.</summary>
    void ReferenceParser(string text)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3", ["-c", "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\nprint(sum(len(f.samples) for f in p(sys.stdin.read())))"])
        { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        Process p;
        try { p = Process.Start(psi)!; } catch (System.ComponentModel.Win32Exception) { output.WriteLine("python3 is not installed: reference parser not run"); return; }
        p.StandardInput.Write(text); p.StandardInput.Close();
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (stderr.Contains("No module named 'prometheus_client'")) { output.WriteLine("python3-prometheus-client is not installed: reference parser not run"); return; }
        Assert.True(p.ExitCode == 0, stderr);
        Assert.Equal(Parse(text).Count, int.Parse(stdout.Trim()));
        output.WriteLine($"prometheus_client parsed {stdout.Trim()} samples");
    }
}
