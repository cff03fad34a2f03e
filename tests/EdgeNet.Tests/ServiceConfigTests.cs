using System.Diagnostics;
using System.Net.Sockets;
using EdgeNet.Devices.Simulated;
using EdgeNet.Format;
using EdgeNet.Service;
using EdgeNet.Training;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>Service configs that are wrong in every way a person or a hostile file can make them: each is one line
/// naming its key, exit code 2, and nothing opened or written (issue 16 item 5, issue 15 items 4, 12, 17).</summary>
public class ServiceConfigTests
{
    internal static (int code, string stdout, string stderr) Edgenet(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "edgenet.dll");
        using var p = Process.Start(new ProcessStartInfo("dotnet", [dll, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var o = p.StandardOutput.ReadToEndAsync(); var e = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, o.Result, e.Result);
    }

    static string Base(string model, string state, string socket) => $$"""
        { "model": "{{model}}", "stateDirectory": "{{state}}", "threads": 1,
          "source": { "type": "imu", "simulated": true, "rateHz": 50, "window": 20, "stride": 10, "simulatedGestures": [0, 1, 2], "simulatedGestureSamples": 60 },
          "postprocess": { "topK": 3, "threshold": 0.5, "vote": 1 },
          "sinks": { "stdout": true, "jsonLines": "" },
          "control": { "socket": "{{socket}}" },
          "finetune": { "epochs": 5, "batch": 8, "lr": 0.01, "momentum": 0.9, "train": "all", "holdout": 0.25 } }
        """;

    const string Camera = "\"source\": { \"type\": \"camera\", \"command\": \"cam\", \"width\": 8, \"height\": 8 }";

    [Fact]
    public void Every_bad_key_or_path_is_one_error_naming_the_key()
    {
        var dir = Fixtures.TempDir();
        string model = Path.Combine(dir, "m.enet"), state = Path.Combine(dir, "state"), socket = Path.Combine(dir, "ctl.sock");
        ModelFile.Save(ModelSpec.Build("dense:8,relu,dense:3", [20, 6], seed: 1), model);
        File.WriteAllText(Path.Combine(dir, "afile"), "x");
        Directory.CreateDirectory(Path.Combine(dir, "afolder"));
        string text = Base(model, state, socket);
        var cases = new (string key, Func<string, string> edit)[]
        {
            ("source", t => t.Replace("\"source\": {", "\"source\": null, \"unused\": {")),
            ("sinks", t => t.Replace("\"sinks\": { \"stdout\": true, \"jsonLines\": \"\" }", "\"sinks\": null")),
            ("control", t => t.Replace($"\"control\": {{ \"socket\": \"{socket}\" }}", "\"control\": null")),
            ("finetune", t => t.Replace("\"finetune\": {", "\"finetune\": null, \"x\": {")),
            ("threads", t => t.Replace("\"threads\": 1", "\"threads\": null")),
            ("model", t => t.Replace($"\"model\": \"{model}\"", "\"model\": null")),
            ("finetune.train", t => t.Replace("\"train\": \"all\"", "\"train\": null")),
            ("source.window", t => t.Replace("\"window\": 20", "\"window\": 100000000")),
            ("source.window", t => t.Replace("\"window\": 20", "\"window\": -3")),
            ("source.simulatedGestureSamples", t => t.Replace("\"simulatedGestureSamples\": 60", "\"simulatedGestureSamples\": 0")),
            ("source.simulatedGestures", t => t.Replace("\"simulatedGestures\": [0, 1, 2]", "\"simulatedGestures\": []")),
            ("source.simulatedGestures", t => t.Replace("\"simulatedGestures\": [0, 1, 2]", "\"simulatedGestures\": [7]")),
            ("source.width", t => t.Replace(t[t.IndexOf("\"source\"")..(t.IndexOf("\"postprocess\"") - 1)], Camera.Replace("\"width\": 8", "\"width\": 1000000") + ",")),
            ("source.height", t => t.Replace(t[t.IndexOf("\"source\"")..(t.IndexOf("\"postprocess\"") - 1)], Camera.Replace("\"height\": 8", "\"height\": 2147483647") + ",")),
            ("finetune.batch", t => t.Replace("\"batch\": 8", "\"batch\": 2147483647")),
            ("finetune.epochs", t => t.Replace("\"epochs\": 5", "\"epochs\": 0")),
            ("finetune.lr", t => t.Replace("\"lr\": 0.01", "\"lr\": -1")),
            ("postprocess.topK", t => t.Replace("\"topK\": 3", "\"topK\": 0")),
            ("stateDirectory", t => t.Replace(state, Path.Combine(dir, "afile"))),
            ("stateDirectory", t => t.Replace(state, Path.Combine(dir, "afile", "sub"))),
            ("stateDirectory", t => t.Replace(state, "/proc/self/edgenet")),
            ("stateDirectory", t => t.Replace(state, "/sys/kernel/edgenet")),
            ("control.socket", t => t.Replace(socket, model)),                           // a regular file: never deleted
            ("control.socket", t => t.Replace(socket, Path.Combine(dir, "afolder"))),
            ("control.socket", t => t.Replace(socket, Path.Combine(dir, "afile", "ctl.sock"))),
            ("control.socket", t => t.Replace(socket, "/tmp/" + new string('s', 120))),
            ("control.maxClients", t => t.Replace($"\"socket\": \"{socket}\"", $"\"socket\": \"{socket}\", \"maxClients\": 0")),
            ("sinks.jsonLines", t => t.Replace("\"jsonLines\": \"\"", $"\"jsonLines\": \"{Path.Combine(dir, "afolder")}\"")),
            ("sinks.jsonLines", t => t.Replace("\"jsonLines\": \"\"", "\"jsonLines\": \"/dev/full\"")),
            ("sinks.jsonLines", t => t.Replace("\"jsonLines\": \"\"", $"\"jsonLines\": \"{Path.Combine(dir, "nofolder", "r.jsonl")}\"")),
            ("model", t => t.Replace(model, "/dev/zero")),
            ("model", t => t.Replace(model, Path.Combine(dir, "afolder"))),
            ("model", t => t.Replace(model, Path.Combine(dir, "missing.enet"))),
            ("source.strid", t => t.Replace("\"stride\"", "\"strid\"")),
        };
        int i = 0;
        foreach (var (key, edit) in cases)
        {
            string path = Path.Combine(dir, $"c{i++}.json"), edited = edit(text);
            Assert.NotEqual(text, edited);
            File.WriteAllText(path, edited);
            var e = Assert.Throws<ConfigException>(() => ServiceConfig.Load(path));
            Assert.Contains(key, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        Assert.False(Directory.Exists(state), "a config check created the state directory");
        Assert.True(File.Exists(model) && new FileInfo(model).Length > 0, "the model named as control.socket was touched");
        ServiceConfig.Load(WriteConfig(dir, text));   // and the unedited config is fine
    }

    static string WriteConfig(string dir, string text)
    {
        string p = Path.Combine(dir, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(p, text);
        return p;
    }

    /// <summary>The whole path through `edgenet serve`: one line, exit 2, no stack trace, nothing opened — also for
    /// what needs the model (a window that does not fit, GPIO pins naming no class) and a socket path on a file.</summary>
    [Fact]
    public void Serve_refuses_bad_configs_with_one_line_and_exit_2()
    {
        var dir = Fixtures.TempDir();
        string model = Path.Combine(dir, "m.enet"), state = Path.Combine(dir, "state"), socket = Path.Combine(dir, "ctl.sock");
        var m = ModelSpec.Build("dense:8,relu,dense:3", [20, 6], seed: 1);
        m.Metadata.ClassLabels = SimulatedMpu6xxx.GestureNames;
        ModelFile.Save(m, model);
        string text = Base(model, state, socket);
        foreach (var (key, edited) in new[]
        {
            ("source.window", text.Replace("\"window\": 20", "\"window\": 30")),
            ("control.socket", text.Replace(socket, model)),
            ("sinks.gpioPins", text.Replace("\"jsonLines\": \"\"", "\"gpioChip\": 0, \"gpioPins\": { \"jump\": 17 }")),
            ("source", text.Replace("\"source\": {", "\"source\": null, \"y\": {")),
            ("finetune.maxLabelled", text.Replace("\"holdout\": 0.25", "\"holdout\": 0.25, \"maxLabelled\": 1000000")),
            ("model", text.Replace(model, Mislabelled(dir))),
            ("model", text.Replace(model, Garbage(dir))),
            // the edgenet binary is built without MQTT over TLS (feature switch EdgeNet.Service.MqttTls=false)
            ("mqtt.tls", text.Replace("\"source\": {", "\"mqtt\": { \"enabled\": true, \"host\": \"broker\", \"tls\": true }, \"source\": {")),
        })
        {
            var (code, _, err) = Edgenet("serve", "--config", WriteConfig(dir, edited));
            Assert.True(code == 2, $"{key}: exit {code}\n{err}");
            Assert.StartsWith("error: ", err);
            Assert.Contains(key, err);
            Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        Assert.False(Directory.Exists(state));
        Assert.False(File.Exists(socket));
        Assert.True(ModelFile.Load(model).Nodes.Count > 0);
    }

    static string Mislabelled(string dir)
    {
        var m = ModelSpec.Build("dense:8,relu,dense:10", [20, 6], seed: 1);
        m.Metadata.ClassLabels = ["a", "b", "c"];   // 3 labels for 10 outputs: classes 3..9 could never win
        string path = Path.Combine(dir, "mislabelled.enet");
        ModelFile.Save(m, path);
        return path;
    }

    static string Garbage(string dir)
    {
        string path = Path.Combine(dir, "garbage.enet");
        File.WriteAllBytes(path, [0x45, 0x4e, 0x45, 0x54, 1, 2, 3]);
        return path;
    }

    /// <summary>Class labels and outputs must agree where labels are given: at conversion, and at the service's start
    /// and reload (<see cref="ModelFit"/>), so no class is silently left out of the softmax.</summary>
    [Fact]
    public void Label_count_must_match_the_outputs()
    {
        var m = ModelSpec.Build("dense:8,relu,dense:10", [20, 6], seed: 1);
        m.Metadata.ClassLabels = ["a", "b", "c"];
        Assert.Contains("3 class labels", Assert.Throws<ModelFormatException>(() => ModelValidator.CheckClassLabels(m)).Message);
        var options = new EdgeNet.Converter.ConvertOptions { Labels = ["a", "b", "c"] };
        Assert.Contains("3 class labels", Assert.Throws<ModelFormatException>(() => EdgeNet.Converter.OnnxImporter.Convert(Fixtures.Digits("mlp_digits.onnx"), options)).Message);

        var three = ModelSpec.Build("dense:8,relu,dense:3", [20, 6], seed: 1);
        three.Metadata.ClassLabels = SimulatedMpu6xxx.GestureNames;
        var five = ModelSpec.Build("dense:8,relu,dense:5", [20, 6], seed: 1);
        var wide = ModelSpec.Build("dense:8,relu,dense:3", [30, 6], seed: 1);
        var renamed = ModelSpec.Build("dense:8,relu,dense:3", [20, 6], seed: 1);
        renamed.Metadata.ClassLabels = ["x", "y", "z"];
        Assert.Contains("5 classes", ModelFit.CannotReplace(three, five));
        Assert.Contains("[N,30,6]", ModelFit.CannotReplace(three, wide));
        Assert.Contains("x, y, z", ModelFit.CannotReplace(three, renamed));
        Assert.Null(ModelFit.CannotReplace(three, ModelSpec.Build("dense:4,dense:3", [20, 6], seed: 2)));
        // 5,000 classes are served (the logits buffer follows the model), as long as the window fits.
        var cfgDir = Fixtures.TempDir();
        ModelFile.Save(three, Path.Combine(cfgDir, "m.enet"));
        var cfg = ServiceConfig.Load(WriteConfig(cfgDir, Base(Path.Combine(cfgDir, "m.enet"), Path.Combine(cfgDir, "s"), Path.Combine(cfgDir, "c.sock"))));
        ModelFit.Check(ModelSpec.Build("dense:5000", [20, 6], seed: 1), cfg, "big");
        Assert.Contains("3 class labels for 10 outputs", Assert.Throws<ConfigException>(() => ModelFit.Check(m, cfg, "m")).Message);
        Assert.Contains("source.window", Assert.Throws<ConfigException>(() => ModelFit.Check(wide, cfg, "wide")).Message);
    }

    /// <summary>12.17: `edgenet ctl` without a running service says which socket it tried and that the service is not
    /// running (it used to say "Cannot assign requested address").</summary>
    [Fact]
    public void Ctl_says_which_socket_and_that_the_service_is_not_running()
    {
        if (File.Exists(ControlClient.DefaultSocket)) Assert.Skip($"{ControlClient.DefaultSocket} exists on this machine");
        var (code, _, err) = Edgenet("ctl", "status");
        Assert.Equal(1, code);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(ControlClient.DefaultSocket, err);
        Assert.Contains("not running", err);
        var dir = Fixtures.TempDir();
        string stale = Path.Combine(dir, "stale.sock");
        StaleSocket(stale);
        (code, _, err) = Edgenet("ctl", "--socket", stale, "status");
        Assert.Equal(1, code);
        Assert.Contains($"nothing listens on {stale}: the service is not running", err);
    }

    /// <summary>A socket file nobody listens on, as a killed service leaves it (.NET removes the file of a socket it
    /// bound when the socket is closed: it is moved away first).</summary>
    internal static void StaleSocket(string path)
    {
        string bound = path + ".bound";
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(bound));
        File.Move(bound, path);
    }
}
