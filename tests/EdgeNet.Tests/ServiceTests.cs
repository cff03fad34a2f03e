using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using EdgeNet.Devices.Camera;
using EdgeNet.Devices.Simulated;
using EdgeNet.Format;
using EdgeNet.Training;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>`edgenet serve` as a real process: systemd's notify protocol, the control socket, labelling, fine-tuning
/// with the model swapped in, SIGTERM; a camera fed by ffmpeg; a sensor that fails mid-stream.</summary>
public partial class ServiceTests(ITestOutputHelper output)
{
    [LibraryImport("libc")] internal static partial int kill(int pid, int sig);

    public sealed class ServiceProcess : IDisposable
    {
        public readonly Process Process;
        public readonly string Socket, Dir;
        readonly Socket notify;
        public readonly List<string> Notifications = [];
        public readonly StringBuilder Stdout = new(), Stderr = new();

        readonly System.Collections.Concurrent.BlockingCollection<string> stderrLines = [];

        /// <param name="wrapper">a command the service runs under (e.g. unshare with a small tmpfs), or none</param>
        /// <param name="edgenet">the command that runs edgenet, e.g. a NativeAOT build under qemu; default: `dotnet edgenet.dll` next to the tests</param>
        public ServiceProcess(string configJson, string dir, string[]? wrapper = null, string[]? edgenet = null)
        {
            Dir = dir; Socket = Path.Combine(dir, "ctl.sock");
            string cfg = Path.Combine(dir, "edgenet.json");
            File.WriteAllText(cfg, configJson.Replace("@SOCKET@", Socket).Replace("@STATE@", Path.Combine(dir, "state")));
            string notifyPath = Path.Combine(dir, "notify.sock");
            notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            File.Delete(notifyPath);   // a restart of the service in the same folder
            notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
            string[] command = [.. wrapper ?? [], .. edgenet ?? ["dotnet", Path.Combine(AppContext.BaseDirectory, "edgenet.dll")], "serve", "--config", cfg];
            var psi = new ProcessStartInfo(command[0], command[1..])
            { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.Environment["NOTIFY_SOCKET"] = notifyPath;
            Process = Process.Start(psi)!;
            Process.OutputDataReceived += (_, e) => { lock (Stdout) Stdout.AppendLine(e.Data); };
            Process.ErrorDataReceived += (_, e) =>
            {
                lock (Stderr) Stderr.AppendLine(e.Data);
                if (e.Data is not null) stderrLines.Add(e.Data);
            };
            Process.BeginOutputReadLine(); Process.BeginErrorReadLine();
            // A thread of its own, not a pool task: with tests blocking pool threads under load, a task could start
            // seconds late, and a test that looked at Notifications then would miss a datagram already sent.
            new Thread(() =>
            {
                var buf = new byte[256];
                try
                {
                    while (true)
                    {
                        int n = notify.Receive(buf);
                        lock (Notifications) { Notifications.Add(Encoding.ASCII.GetString(buf, 0, n)); Monitor.PulseAll(Notifications); }
                    }
                }
                catch (SocketException) { } catch (ObjectDisposedException) { }
            }) { IsBackground = true, Name = "notify-socket" }.Start();
        }

        /// <summary>Waits for a notification containing <paramref name="text"/> (woken by each datagram as it arrives);
        /// false if the service exits first or none comes within <paramref name="seconds"/>.</summary>
        public bool WaitForNotification(string text, int seconds)
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            lock (Notifications)
                while (!Notifications.Any(n => n.Contains(text)))
                {
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) return false;
                    bool exited = Process.HasExited;   // looked at each second; after an exit only datagrams in flight can come
                    if (!Monitor.Wait(Notifications, left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1)) && exited) return false;
                }
            return true;
        }

        /// <summary>A bound on the service's start, for failures only: a JIT start of `dotnet edgenet.dll serve` on a
        /// loaded two-core machine (the test suite's own services, builds) has taken over 30 s.</summary>
        public const int StartSeconds = 180;

        /// <summary>Waits until the control socket exists (the service is up: READY=1 is sent just before).</summary>
        public bool WaitForStart() => WaitFor(() => File.Exists(Socket), StartSeconds);

        public bool WaitFor(Func<bool> condition, int seconds)
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed.TotalSeconds < seconds) { if (condition()) return true; if (Process.HasExited) return false; Thread.Sleep(100); }
            return false;
        }

        /// <summary>The next stderr line that matches (earlier lines are passed over); fails after <paramref name="seconds"/> without one.</summary>
        public string NextStderr(Func<string, bool> match, int seconds)
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            while (stderrLines.TryTake(out var line, Math.Max(0, (int)(deadline - DateTime.UtcNow).TotalMilliseconds)))
                if (match(line)) return line;
            throw new TimeoutException($"no matching line on the service's stderr within {seconds} s:\n{Stderr}");
        }

        public JsonElement Ctl(string command) => JsonDocument.Parse(EdgeNet.Service.ControlClient.Send(Socket, command, TimeSpan.FromSeconds(10))).RootElement;

        public int Terminate()
        {
            kill(Process.Id, 15);   // SIGTERM, as systemd stops a service
            if (!Process.WaitForExit(20000)) { Process.Kill(); return -1; }
            Process.WaitForExit();   // without a timeout it also waits for the output handlers: Stdout and Stderr are complete
            return Process.ExitCode;
        }

        public void Dispose() { if (!Process.HasExited) Process.Kill(); notify.Dispose(); }
    }

    static string ImuConfig(string model, string extra = "") => $$"""
        { "model": "{{model}}", "stateDirectory": "@STATE@",
          "source": { "type": "imu", "simulated": true, "rateHz": 200, "window": 20, "stride": 10,
                      "simulatedGestures": [0, 1, 2], "simulatedGestureSamples": 60 {{extra}} },
          "sinks": { "stdout": true }, "control": { "socket": "@SOCKET@" },
          "finetune": { "epochs": 15, "batch": 8, "lr": 0.05, "momentum": 0.9, "train": "all", "holdout": 0.25 } }
        """;

    [Fact]
    public void Imu_service_labels_finetunes_swaps_and_stops_on_sigterm()
    {
        var dir = Fixtures.TempDir();
        string model = Path.Combine(dir, "untrained.enet");
        var m = ModelSpec.Build("dense:16,relu,dense:3", [20, 6], seed: 3);
        // The output layer zeroed: every logit is 0, so the serving model always decides class 0 ("still"). Only
        // windows of the other gestures are labelled below, so its held-out accuracy is 0 and the fine-tuned model
        // cannot be worse: the swap is certain, not a matter of how a few held-out windows fall.
        foreach (var t in m.Tensors.Where(t => t.IsConstant).TakeLast(2)) MemoryMarshal.AsMemory(t.Data!.Value).Span.Clear();
        m.Metadata.ClassLabels = SimulatedMpu6xxx.GestureNames;
        ModelFile.Save(m, model);
        using var s = new ServiceProcess(ImuConfig(model), dir);
        var started = Stopwatch.StartNew();
        Assert.True(s.WaitForNotification("READY=1", ServiceProcess.StartSeconds), "READY=1 was never sent\n" + s.Stderr);
        output.WriteLine($"READY=1 after {started.ElapsedMilliseconds} ms (process start to first window classified)");
        Assert.True(s.WaitForStart());
        Assert.Equal("running", s.Ctl("status").GetProperty("state").GetString());

        // A subscriber receives results as they are made.
        using (var sub = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 10000 })
        {
            sub.Connect(new UnixDomainSocketEndPoint(s.Socket));
            using var ns = new NetworkStream(sub);
            using var w = new StreamWriter(ns) { AutoFlush = true }; using var r = new StreamReader(ns);
            w.WriteLine("subscribe");
            var windows = Enumerable.Range(0, 3).Select(_ => JsonDocument.Parse(r.ReadLine()!).RootElement.GetProperty("window").GetInt64()).ToArray();
            Assert.True(windows[0] < windows[1] && windows[1] < windows[2]);
        }

        // Label 48 windows of shakes and circles with the gesture the simulated sensor was playing, then fine-tune.
        long lastWindow = -1; int labelled = 0;
        while (labelled < 48)
        {
            var last = s.Ctl("last");
            if (!last.TryGetProperty("window", out var w) || w.GetInt64() == lastWindow) { Thread.Sleep(20); continue; }
            lastWindow = w.GetInt64();
            if (last.GetProperty("truth").GetInt32() == 0) continue;
            Assert.True(s.Ctl($"label {last.GetProperty("truth").GetInt32()}").GetProperty("ok").GetBoolean());
            labelled++;
        }
        Assert.True(s.Ctl("finetune").GetProperty("ok").GetBoolean());
        Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("finetune").GetString() is "swapped" or "rejected" or "failed", 120), "fine-tune did not finish");
        var status = s.Ctl("status");
        output.WriteLine(status.ToString());
        Assert.Equal("swapped", status.GetProperty("finetune").GetString());
        Assert.Equal(1, status.GetProperty("modelVersion").GetInt32());
        Assert.True(status.GetProperty("canRollback").GetBoolean());
        Assert.True(File.Exists(Path.Combine(dir, "state", "models", "model-1.enet")));
        Assert.True(s.Ctl("metrics").GetProperty("windows").GetInt64() > 48);
        Assert.True(s.WaitForNotification("WATCHDOG=1", 30), "WATCHDOG=1 was never sent");

        // A corrupt model file and reload: refused, the loaded model keeps serving.
        File.WriteAllBytes(Path.Combine(dir, "state", "models", "model-1.enet"), [1, 2, 3, 4]);
        var reload = s.Ctl("reload");
        Assert.False(reload.GetProperty("ok").GetBoolean());
        long before = s.Ctl("status").GetProperty("windows").GetInt64();
        Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("windows").GetInt64() > before + 2, 10));
        Assert.True(s.Ctl("rollback").GetProperty("ok").GetBoolean());
        Assert.Equal(0, s.Ctl("status").GetProperty("modelVersion").GetInt32());

        Assert.Equal(0, s.Terminate());
        Assert.Contains("stopping after", s.Stderr.ToString());
        var lines = s.Stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => JsonDocument.Parse(l));   // stdout holds only JSON results

        // A restart after the rollback serves what served before it: version 0, nothing to roll back to, and the labels kept.
        using var again = new ServiceProcess(ImuConfig(model), dir);
        Assert.True(again.WaitFor(() => File.Exists(again.Socket), 30), again.Stderr.ToString());
        var restarted = again.Ctl("status");
        Assert.Equal(0, restarted.GetProperty("modelVersion").GetInt32());
        Assert.False(restarted.GetProperty("canRollback").GetBoolean());
        Assert.Equal(48, restarted.GetProperty("labelledSamples").GetInt32());
        Assert.Equal(0, again.Terminate());
    }

    [Fact]
    public void Sensor_failing_mid_stream_is_reported_and_serving_continues()
    {
        var dir = Fixtures.TempDir();
        string model = Path.Combine(dir, "m.enet");
        ModelFile.Save(ModelSpec.Build("dense:8,relu,dense:3", [20, 6], seed: 1), model);
        using var s = new ServiceProcess(ImuConfig(model, ", \"simulatedFailure\": [100, 400]"), dir);
        Assert.True(s.WaitForStart(), s.Stderr.ToString());
        Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("sensorFaults").GetInt64() > 0, 20), "the fault was never reported");
        var during = s.Ctl("status");
        output.WriteLine(during.ToString());
        long faults = during.GetProperty("sensorFaults").GetInt64(), windows = during.GetProperty("windows").GetInt64();
        Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("windows").GetInt64() > windows + 5, 20), "serving did not resume after the sensor came back");
        var after = s.Ctl("status");
        Assert.Equal("running", after.GetProperty("state").GetString());
        Assert.True(after.GetProperty("sensorFaults").GetInt64() >= faults);
        Assert.Equal(0, s.Terminate());
    }

    /// <summary>An LSTM served as one unbroken stream: each window continues the state the previous one ended in
    /// (equivalence with the whole stream is <see cref="StreamingStateTests"/>); a sensor fault restarts the stream.</summary>
    [Fact]
    public void Streaming_lstm_service_carries_state_and_survives_a_fault()
    {
        var dir = Fixtures.TempDir();
        string model = Path.Combine(dir, "lstm.enet");
        ModelFile.Save(ModelSpec.Build("lstm:8,dense:3", [20, 6], seed: 1), model);
        string Streaming(string stride) => ImuConfig(model, ", \"streaming\": true, \"simulatedFailure\": [200, 300]").Replace("\"stride\": 10", $"\"stride\": {stride}");
        using (var s = new ServiceProcess(Streaming("20"), dir))
        {
            Assert.True(s.WaitForStart(), s.Stderr.ToString());
            Assert.True(s.Ctl("status").GetProperty("streaming").GetBoolean());
            Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("sensorFaults").GetInt64() > 0, 20), "the fault was never reported");
            long windows = s.Ctl("status").GetProperty("windows").GetInt64();
            Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("windows").GetInt64() > windows + 3, 20), "serving did not resume");
            Assert.Equal(0, s.Terminate());
        }
        // Overlapping windows cannot stream, and neither can a model without a recurrent layer: refused at start, with why.
        var bad = Assert.Throws<EdgeNet.Service.ConfigException>(() =>
        {
            File.WriteAllText(Path.Combine(dir, "overlap.json"), Streaming("10").Replace("@SOCKET@", "c.sock").Replace("@STATE@", "state"));
            EdgeNet.Service.ServiceConfig.Load(Path.Combine(dir, "overlap.json"));
        });
        Assert.Contains("stride 10 must equal window 20", bad.Message);
        string mlp = Path.Combine(dir, "mlp.enet");
        ModelFile.Save(ModelSpec.Build("dense:8,dense:3", [20, 6]), mlp);
        var sub = Fixtures.TempDir();
        using var m = new ServiceProcess(ImuConfig(mlp, ", \"streaming\": true").Replace("\"stride\": 10", "\"stride\": 20"), sub);
        Assert.True(m.Process.WaitForExit(30000));
        m.Process.WaitForExit();   // the timed wait returns before the redirected stderr is drained; this one waits for it
        Assert.NotEqual(0, m.Process.ExitCode);
        Assert.Contains("cannot stream", m.Stderr.ToString());
    }

    [Fact]
    public void Camera_service_classifies_ffmpeg_test_frames()
    {
        if (!File.Exists("/usr/bin/ffmpeg")) Assert.Skip("ffmpeg is not installed (.ci/run installs it)");
        var dir = Fixtures.TempDir();
        string model = Path.Combine(dir, "cnn.enet");
        ModelFile.Save(Fixtures.Convert(Fixtures.Digits("cnn_digits.onnx")), model);
        string cfg = $$"""
            { "model": "{{model}}", "stateDirectory": "@STATE@", "threads": 2,
              "source": { "type": "camera", "command": "ffmpeg", "width": 32, "height": 24, "format": "gray8",
                          "args": ["-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=32x24:rate=20", "-t", "2", "-f", "rawvideo", "-pix_fmt", "gray", "-"] },
              "sinks": { "stdout": true }, "control": { "socket": "@SOCKET@" } }
            """;
        using var s = new ServiceProcess(cfg, dir);
        Assert.True(s.WaitForStart(), s.Stderr.ToString());
        // The 2-second clip ends, ffmpeg exits, and the source restarts it: frames keep coming, restarts are faults.
        Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("windows").GetInt64() > 50, 30), s.Stderr.ToString());
        Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("sensorFaults").GetInt64() > 0, 30), "the camera process ending was not reported");
        Assert.Equal(0, s.Terminate());
    }
}

/// <summary>Drivers against simulated register files, and the image paths, without hardware.</summary>
public class DeviceTests
{
    [Fact]
    public void Images_load_and_preprocess_to_the_model_input()
    {
        var dir = Fixtures.TempDir();
        // a 4x2 PGM: left half black, right half white
        var pgm = Encoding.ASCII.GetBytes("P5\n# test\n4 2\n255\n").Concat(new byte[] { 0, 0, 255, 255, 0, 0, 255, 255 }).ToArray();
        File.WriteAllBytes(Path.Combine(dir, "a.pgm"), pgm);
        var f = ImageFile.Read(Path.Combine(dir, "a.pgm"));
        Assert.Equal((4, 2, PixelFormat.Gray8), (f.Width, f.Height, f.Format));
        var t = new float[1 * 2 * 2];
        new Preprocess(1, 2, 2).Run(f, t);   // center crop 2x2 of the 4x2 frame: columns 1..2
        Assert.True(t[0] < 0.5f && t[1] > 0.5f);
        File.WriteAllBytes(Path.Combine(dir, "bad.pgm"), Encoding.ASCII.GetBytes("P5\n4 2\n255\n").Concat(new byte[3]).ToArray());
        Assert.Throws<InvalidDataException>(() => ImageFile.Read(Path.Combine(dir, "bad.pgm")));
    }

    [Fact]
    public void Button_is_debounced()
    {
        // Drive a GPIO input through the debouncer with a driver that bounces: one press counts once.
        var driver = new FakeGpio();
        using var controller = new System.Device.Gpio.GpioController(driver);
        using var b = new EdgeNet.Devices.Gpio.DebouncedButton(controller, 5, debounceMs: 30, pollMs: 100000);
        int presses = 0; b.Pressed += () => presses++;
        long t = 0;
        foreach (var v in new[] { 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1 }) { driver.Value = v; b.Poll(t); t += 10; }
        Assert.Equal(1, presses);
    }

    sealed class FakeGpio : System.Device.Gpio.GpioDriver
    {
        public int Value = 1;
        protected override int PinCount => 40;
        protected override void OpenPin(int pinNumber) { }
        protected override void ClosePin(int pinNumber) { }
        protected override void SetPinMode(int pinNumber, System.Device.Gpio.PinMode mode) { }
        protected override System.Device.Gpio.PinMode GetPinMode(int pinNumber) => System.Device.Gpio.PinMode.InputPullUp;
        protected override bool IsPinModeSupported(int pinNumber, System.Device.Gpio.PinMode mode) => true;
        protected override System.Device.Gpio.PinValue Read(int pinNumber) => Value == 1 ? System.Device.Gpio.PinValue.High : System.Device.Gpio.PinValue.Low;
        protected override void Write(int pinNumber, System.Device.Gpio.PinValue value) { }
        protected override System.Device.Gpio.WaitForEventResult WaitForEvent(int pinNumber, System.Device.Gpio.PinEventTypes eventTypes, CancellationToken cancellationToken) => default;
        protected override void AddCallbackForPinValueChangedEvent(int pinNumber, System.Device.Gpio.PinEventTypes eventTypes, System.Device.Gpio.PinChangeEventHandler callback) { }
        protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, System.Device.Gpio.PinChangeEventHandler callback) { }
    }
}

/// <summary>The deployment files: the unit passes systemd-analyze verify; the default config parses and validates.</summary>
public class DeploymentTests
{
    static string Root()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "EdgeNet.sln"))) d = d.Parent;
        return d!.FullName;
    }

    [Fact]
    public void Unit_file_verifies()
    {
        if (!File.Exists("/usr/bin/systemd-analyze")) Assert.Skip("systemd-analyze is not installed");
        var dir = Fixtures.TempDir();
        // The binary is not installed here: point ExecStart at one that exists; everything else is checked as shipped.
        var unit = File.ReadAllText(Path.Combine(Root(), "publish-profiles", "edgenet.service")).Replace("/usr/bin/edgenet", "/bin/true");
        File.WriteAllText(Path.Combine(dir, "edgenet.service"), unit);
        var p = Process.Start(new ProcessStartInfo("systemd-analyze", ["verify", Path.Combine(dir, "edgenet.service")]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        string err = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0 && !err.Contains("edgenet.service:"), err);
        Assert.Contains("Type=notify", unit);
        Assert.Contains("WatchdogSec=", unit);
        Assert.Contains("DevicePolicy=closed", unit);
    }

    /// <summary>12.19: `systemd-analyze security` rates the shipped unit at most 2.5, with the devices the sensors and
    /// cameras need still allowed.</summary>
    [Fact]
    public void Unit_is_hardened()
    {
        if (!File.Exists("/usr/bin/systemd-analyze")) Assert.Skip("systemd-analyze is not installed");
        var dir = Fixtures.TempDir();
        string unit = File.ReadAllText(Path.Combine(Root(), "publish-profiles", "edgenet.service"));
        File.WriteAllText(Path.Combine(dir, "edgenet.service"), unit);
        var p = Process.Start(new ProcessStartInfo("systemd-analyze", ["security", "--offline=yes", Path.Combine(dir, "edgenet.service")]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        string text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (text.Contains("unrecognized option", StringComparison.Ordinal)) Assert.Skip("this systemd-analyze has no --offline (systemd < 250)");
        var m = System.Text.RegularExpressions.Regex.Match(text, @"Overall exposure level for edgenet\.service: ([0-9.]+)");
        Assert.True(m.Success, text);
        double score = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(score <= 2.5, $"exposure {score}\n{text}");
        foreach (var device in new[] { "char-gpiochip rw", "char-i2c rw", "char-video4linux rw", "char-media rw", "char-dma_heap rw" })
            Assert.Contains($"DeviceAllow={device}", unit);
        Assert.Contains("SupplementaryGroups=gpio i2c video", unit);
        Assert.DoesNotContain("PrivateDevices=yes", unit);
        Assert.DoesNotContain("PrivateUsers=yes", unit);   // it would map the device groups away
    }

    /// <summary>12.19: the .deb installs the model under its own name and a config that serves it — a camera config for
    /// the digits CNN, an IMU config with the model's window for a gesture model — with real maintainer fields and
    /// maintainer scripts that stop and remove what they made.</summary>
    [Fact]
    public void Deb_serves_the_model_it_is_given()
    {
        if (!File.Exists("/usr/bin/dpkg-deb")) Assert.Skip("dpkg-deb is not installed");
        var dir = Fixtures.TempDir();
        // The package's binary: this build run through dotnet (the NativeAOT publish is the script's default, minutes long).
        string binary = Path.Combine(dir, "edgenet");
        File.WriteAllText(binary, $"#!/bin/sh\nexec dotnet {Path.Combine(AppContext.BaseDirectory, "edgenet.dll")} \"$@\"\n");
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(binary, (UnixFileMode)0b111_101_101);
        string digits = Path.Combine(dir, "cnn_digits.enet"), gesture = Path.Combine(dir, "gesture-30.enet");
        ModelFile.Save(Fixtures.Convert(Fixtures.Digits("cnn_digits.onnx")), digits);
        var g = ModelSpec.Build("dense:8,dense:3", [30, 6], seed: 1);
        g.Metadata.ClassLabels = SimulatedMpu6xxx.GestureNames;
        ModelFile.Save(g, gesture);
        foreach (var (model, source) in new[] { (digits, "camera"), (gesture, "imu") })
        {
            string outDir = Path.Combine(dir, Path.GetFileNameWithoutExtension(model));
            var psi = new ProcessStartInfo("bash", ["-c", "bash \"$0\" \"$@\" 2>&1", Path.Combine(Root(), "publish-profiles", "build-deb.sh"), "linux-x64", model, outDir]) { RedirectStandardOutput = true };
            psi.Environment["EDGENET_BINARY"] = binary; psi.Environment["DEBFULLNAME"] = "Test Maintainer"; psi.Environment["DEBEMAIL"] = "test@example.org";
            using var p = Process.Start(psi)!;
            string said = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, said);
            string deb = said.Split('\n')[^1];
            string root = Path.Combine(outDir, "root");
            Process.Start("dpkg-deb", ["-x", deb, root])!.WaitForExit();
            string name = Path.GetFileName(model);
            Assert.True(File.Exists(Path.Combine(root, "usr/share/edgenet/models", name)), $"{name} is not installed under its own name");
            string cfg = File.ReadAllText(Path.Combine(root, "etc/edgenet/edgenet.json"));
            Assert.Contains($"/usr/share/edgenet/models/{name}", cfg);
            // The installed config, pointed at the extracted files, validates and fits its model.
            string local = Path.Combine(root, "local.json");
            File.WriteAllText(local, cfg.Replace("/usr/share/edgenet", Path.Combine(root, "usr/share/edgenet")).Replace("/var/lib/edgenet", Path.Combine(root, "state")).Replace("/run/edgenet", root));
            var c = EdgeNet.Service.ServiceConfig.Load(local);
            Assert.Equal(source, c.Source.Type);
            EdgeNet.Service.ModelFit.Check(ModelFile.Load(c.Model), c, name);
            var info = Process.Start(new ProcessStartInfo("dpkg-deb", ["-f", deb, "Maintainer"]) { RedirectStandardOutput = true })!;
            Assert.Equal("Test Maintainer <test@example.org>", info.StandardOutput.ReadToEnd().Trim());
            var scripts = Path.Combine(outDir, "deb", Path.GetFileNameWithoutExtension(deb), "DEBIAN");
            Assert.Contains("systemctl stop edgenet.service", File.ReadAllText(Path.Combine(scripts, "prerm")));
            Assert.Contains("purge", File.ReadAllText(Path.Combine(scripts, "postrm")));
        }
    }

    [Fact]
    public void Default_config_parses_and_bad_configs_say_why()
    {
        var dir = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(dir, "m.enet"), "");
        var text = File.ReadAllText(Path.Combine(Root(), "publish-profiles", "edgenet.json")).Replace("/usr/share/edgenet/models/gesture.enet", Path.Combine(dir, "m.enet"));
        File.WriteAllText(Path.Combine(dir, "ok.json"), text);
        var c = EdgeNet.Service.ServiceConfig.Load(Path.Combine(dir, "ok.json"));
        Assert.Equal("imu", c.Source.Type);
        File.WriteAllText(Path.Combine(dir, "bad.json"), text.Replace("\"rateHz\": 50", "\"rateHz\": 5000"));
        Assert.Contains("rateHz", Assert.Throws<EdgeNet.Service.ConfigException>(() => EdgeNet.Service.ServiceConfig.Load(Path.Combine(dir, "bad.json"))).Message);
        File.WriteAllText(Path.Combine(dir, "threads.json"), text.Replace("\"stateDirectory\"", "\"threads\": 0, \"stateDirectory\""));
        Assert.Contains("threads: 0", Assert.Throws<EdgeNet.Service.ConfigException>(() => EdgeNet.Service.ServiceConfig.Load(Path.Combine(dir, "threads.json"))).Message);
        File.WriteAllText(Path.Combine(dir, "typo.json"), text.Replace("\"stride\"", "\"strid\""));
        Assert.Contains("strid", Assert.Throws<EdgeNet.Service.ConfigException>(() => EdgeNet.Service.ServiceConfig.Load(Path.Combine(dir, "typo.json"))).Message);
    }
}

/// <summary>Faults around fine-tuning in the service: poisoned labels are caught by the validation gate; SIGTERM in the
/// middle of a fine-tune leaves no partial model files.</summary>
public partial class ServiceFaultTests(ITestOutputHelper output)
{
    static string Model(string dir)
    {
        string model = Path.Combine(dir, "m.enet");
        var m = ModelSpec.Build("dense:16,relu,dense:3", [20, 6], seed: 3);
        // Pretrain so the serving model is good and a poisoned fine-tune can only make it worse.
        int n = 240, w = 20;
        var rng = new Random(2);
        var x = new float[n * w * 6]; var y = new long[n];
        for (int i = 0; i < n; i++)
        {
            int g = i % 3; y[i] = g;
            for (int k = 0; k < w; k++) { var (a, r) = SimulatedMpu6xxx.Gesture(g, i * 7 + k, 200, rng); a.CopyTo(x, (i * w + k) * 6); r.CopyTo(x, (i * w + k) * 6 + 3); }
        }
        var trained = FineTuner.Fit(m, x, y, new FineTuneOptions { Epochs = 30, Batch = 16, Optimizer = new OptimizerOptions { LearningRate = 0.02f, Momentum = 0.9f } }).Model;
        ModelFile.Save(trained, model);
        return model;
    }

    static string Config(string model, int epochs, string lr = "0.5") => $$"""
        { "model": "{{model}}", "stateDirectory": "@STATE@",
          "source": { "type": "imu", "simulated": true, "rateHz": 200, "window": 20, "stride": 10, "simulatedGestures": [0, 1, 2], "simulatedGestureSamples": 60 },
          "sinks": { "stdout": false }, "control": { "socket": "@SOCKET@" },
          "finetune": { "epochs": {{epochs}}, "batch": 8, "lr": {{lr}}, "momentum": 0.9, "train": "all", "holdout": 0.5 } }
        """;

    /// <summary>Labelled windows put in the state directory before the service starts: the fine-tune sees the same data
    /// on every run, however loaded the machine (labelling live windows races the stream).</summary>
    static void Labelled(string dir, int n)
    {
        var rng = new Random(4);
        using var buffer = new EdgeNet.Service.FinetuneBuffer(Path.Combine(dir, "state"), 20 * 6, 1000);
        var x = new float[20 * 6];
        for (int i = 0; i < n; i++)
        {
            int g = i % 3;
            for (int k = 0; k < 20; k++) { var (a, r) = SimulatedMpu6xxx.Gesture(g, i * 11 + k, 200, rng); a.CopyTo(x, k * 6); r.CopyTo(x, k * 6 + 3); }
            buffer.Add(x, g);
        }
    }

    /// <summary>A learning rate that diverges: the fine-tune stops on non-finite losses, and the gate keeps the serving
    /// model. (Labels that are all wrong cannot be caught by a held-out split of the same labels; a diverging run can.)</summary>
    [Fact]
    public void Diverging_finetune_leaves_the_serving_model_unchanged()
    {
        var dir = Fixtures.TempDir();
        string model = Model(dir);
        Labelled(dir, 24);
        using var s = new ServiceTests.ServiceProcess(Config(model, 20, lr: "1e30"), dir);
        Assert.True(s.WaitForStart(), s.Stderr.ToString());
        Assert.Equal(24, s.Ctl("status").GetProperty("labelledSamples").GetInt32());
        Assert.True(s.Ctl("finetune").GetProperty("ok").GetBoolean());
        Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("finetune").GetString() is not "running", 60));
        var status = s.Ctl("status");
        output.WriteLine(status.ToString());
        Assert.Equal("rejected", status.GetProperty("finetune").GetString());
        Assert.Equal(0, status.GetProperty("modelVersion").GetInt32());
        Assert.Contains("diverged", status.GetProperty("finetuneReason").GetString());
        Assert.Contains("serving model unchanged", status.GetProperty("finetuneReason").GetString());
        Assert.Equal(0, s.Terminate());
    }

    [Fact]
    public void Sigterm_during_a_finetune_leaves_no_partial_files()
    {
        var dir = Fixtures.TempDir();
        string model = Model(dir);
        Labelled(dir, 8);
        using var s = new ServiceTests.ServiceProcess(Config(model, 100000), dir);
        Assert.True(s.WaitForStart(), s.Stderr.ToString());
        Assert.True(s.Ctl("finetune").GetProperty("ok").GetBoolean());
        Assert.Equal("running", s.Ctl("status").GetProperty("finetune").GetString());   // 100,000 epochs: SIGTERM comes first
        Assert.Equal(0, s.Terminate());
        var models = Path.Combine(dir, "state", "models");
        Assert.True(!Directory.Exists(models) || Directory.GetFiles(models, "*.enet").Length == 0, "a model file was written");
        var buffer = Path.Combine(dir, "state", "finetune");
        Assert.Empty(Directory.GetFiles(buffer, "*.tmp"));
        using var kept = new EdgeNet.Service.FinetuneBuffer(Path.Combine(dir, "state"), 20 * 6, 1000);
        Assert.Equal(8, kept.Count);   // the labelled windows survive intact
        Assert.Null(kept.Problem);
    }
}
