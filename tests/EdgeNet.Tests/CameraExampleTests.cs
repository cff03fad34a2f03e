using System.Text.Json;
using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>examples/camera as the README runs it: the held-out digits rendered as camera frames, classified by the
/// service as well as the model classifies the digits themselves.</summary>
public class CameraExampleTests(ITestOutputHelper output)
{
    static string Root()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "EdgeNet.sln"))) d = d.Parent;
        return d!.FullName;
    }

    [Fact]
    public void Camera_example_classifies_the_test_digit_frames_at_the_models_accuracy()
    {
        string example = Path.Combine(Root(), "examples", "camera"), dir = Fixtures.TempDir(), model = Path.Combine(dir, "cnn_digits.enet");
        var m = Fixtures.Convert(Fixtures.Digits("cnn_digits.onnx"));
        ModelFile.Save(m, model);
        string cfg = File.ReadAllText(Path.Combine(example, "edgenet.json"))
            .Replace("../../out/cnn_digits.enet", model).Replace("../../out/camera-state", "@STATE@").Replace("../../out/camera.sock", "@SOCKET@")
            .Replace("\"digits_test.gray8\"", JsonSerializer.Serialize(Path.Combine(example, "digits_test.gray8")));
        var y = Fixtures.Longs(Fixtures.Digits("digits_test_y.npy"));

        var predicted = new Dictionary<long, int>();
        using (var s = new ServiceTests.ServiceProcess(cfg, dir))
        {
            Assert.True(s.WaitFor(() => Results(s, predicted) >= y.Length, 120), s.Stderr.ToString());
            Assert.Equal(0, s.Terminate());
        }
        double service = Enumerable.Range(0, y.Length).Count(i => predicted[i] == y[i]) / (double)y.Length;
        using var session = new Session(m, 64);
        var logits = BatchRunner.RunAll(session, Fixtures.Floats(Fixtures.Digits("digits_test_x.npy")), out _);
        double direct = Enumerable.Range(0, y.Length).Count(i => BatchRunner.ArgMax(logits.AsSpan(i * 10, 10)) == y[i]) / (double)y.Length;
        output.WriteLine($"camera frames: accuracy {service:F4}; the model on the test set: {direct:F4}; classes seen: {string.Join(",", predicted.Values.Distinct().Order())}");
        Assert.InRange(service, direct - 0.01, direct + 0.01);   // 8-bit pixels move a borderline digit at most
        Assert.Equal(10, predicted.Values.Distinct().Count());
    }

    /// <summary>Collects the result lines printed so far (window k is frame k of the file); returns how many.</summary>
    static int Results(ServiceTests.ServiceProcess s, Dictionary<long, int> predicted)
    {
        string text;
        lock (s.Stdout) text = s.Stdout.ToString();
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("{\"window\"", StringComparison.Ordinal)) continue;
            var r = JsonDocument.Parse(line).RootElement;
            predicted[r.GetProperty("window").GetInt64()] = r.GetProperty("class").GetInt32();
        }
        return predicted.Count;
    }
}
