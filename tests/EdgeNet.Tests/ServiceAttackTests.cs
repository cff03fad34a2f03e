using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EdgeNet.Devices.Simulated;
using EdgeNet.Format;
using EdgeNet.Training;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>`edgenet serve` as a real process under attack and under faults (issue 15): the control socket's limits and
/// access rule, one instance per state directory, reloads that must be refused, a results file on a full disk, a
/// camera that stalls or dies with the service, sensors missing at boot.</summary>
public class ServiceAttackTests(ITestOutputHelper output)
{
    static string Model(string dir, string name = "m.enet", string spec = "dense:8,relu,dense:3", int window = 20, bool labels = true)
    {
        string path = Path.Combine(dir, name);
        var m = ModelSpec.Build(spec, [window, 6], seed: 1);
        if (labels) m.Metadata.ClassLabels = SimulatedMpu6xxx.GestureNames;
        ModelFile.Save(m, path);
        return path;
    }

    static string Imu(string model, string control = "", string top = "") => $$"""
        { "model": "{{model}}", "stateDirectory": "@STATE@" {{top}},
          "source": { "type": "imu", "simulated": true, "rateHz": 200, "window": 20, "stride": 10, "simulatedGestures": [0, 1, 2], "simulatedGestureSamples": 60 },
          "sinks": { "stdout": false }, "control": { "socket": "@SOCKET@" {{control}} } }
        """;

    /// <summary>`label CLASS WINDOW` stores the window a client read (its result's id), not whichever came after it;
    /// a window no longer held, or not classified yet, is refused by its id. Each step waits for the window count.</summary>
    [Fact]
    public void Label_with_a_window_id_stores_that_window_after_newer_ones_came()
    {
        var dir = Fixtures.TempDir();
        string model = Model(dir);
        JsonElement read;
        long w;
        using (var s = new ServiceTests.ServiceProcess(Imu(model, top: ", \"finetune\": { \"recentWindows\": 4096 }"), dir))
        {
            Assert.True(s.WaitForStart(), s.Stderr.ToString());
            read = s.Ctl("last");
            w = read.GetProperty("window").GetInt64();
            Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("windows").GetInt64() >= w + 3, 60));   // newer windows came
            var stored = s.Ctl($"label shake {w}");
            Assert.True(stored.GetProperty("ok").GetBoolean(), stored.ToString());
            Assert.Contains($"stored window {w} as 'shake'", stored.GetProperty("message").GetString());
            Assert.Contains("has not been classified yet", s.Ctl("label still 100000000").GetProperty("message").GetString());
            Assert.Equal(0, s.Terminate());
        }
        // The stored window is window w: the model gives it the probabilities the service reported for w.
        using (var buffer = new EdgeNet.Service.FinetuneBuffer(Path.Combine(dir, "state"), 20 * 6, 1000))
        {
            var (x, y) = buffer.Snapshot();
            Assert.Equal([1L], y);
            using var session = new EdgeNet.Engine.Session(ModelFile.Load(model));
            var logits = new float[3];
            session.Run(x, logits);
            float max = logits.Max(), sum = logits.Sum(v => MathF.Exp(v - max));
            var top = read.GetProperty("topK").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var scores = read.GetProperty("topKScores").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            for (int i = 0; i < top.Length; i++) Assert.Equal(scores[i], MathF.Exp(logits[top[i]] - max) / sum, 1e-5f);
        }

        // Keeping one window: once the next is classified, the one read is gone, and the refusal says so.
        var dir2 = Fixtures.TempDir();
        using var s2 = new ServiceTests.ServiceProcess(Imu(Model(dir2), top: ", \"finetune\": { \"recentWindows\": 1 }"), dir2);
        Assert.True(s2.WaitForStart(), s2.Stderr.ToString());
        long w2 = s2.Ctl("last").GetProperty("window").GetInt64();
        Assert.True(s2.WaitFor(() => s2.Ctl("status").GetProperty("windows").GetInt64() >= w2 + 2, 60));
        var gone = s2.Ctl($"label shake {w2}");
        Assert.False(gone.GetProperty("ok").GetBoolean());
        Assert.Contains($"window {w2} is no longer held: the service keeps the last 1 windows", gone.GetProperty("message").GetString());
        Assert.True(s2.Ctl("label shake").GetProperty("ok").GetBoolean());   // without an id: the last result's window, as before
        Assert.Equal(0, s2.Terminate());
    }

    static Socket Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 30000, SendTimeout = 30000 };
        s.Connect(new UnixDomainSocketEndPoint(path));
        return s;
    }

    /// <summary>Reads one line (or "" at the end of the stream) from a raw connection.</summary>
    static string ReadLine(Socket s)
    {
        var sb = new StringBuilder(); var b = new byte[1];
        while (s.Receive(b) == 1 && b[0] != '\n') sb.Append((char)b[0]);
        return sb.ToString();
    }

    static bool ClosedByServer(Socket s)
    {
        try { return s.Receive(new byte[64]) == 0; }
        catch (SocketException e) { return e.SocketErrorCode == SocketError.ConnectionReset; }
    }

    /// <summary>A connection the service has answered a status request on (so it holds one of the client slots).</summary>
    static Socket Served(ServiceTests.ServiceProcess s)
    {
        Socket? h = null;
        bool served = s.WaitFor(() =>
        {
            h?.Dispose();
            h = Connect(s.Socket);
            try { h.Send("status\n"u8); return ReadLine(h).Contains("\"windows\""); }
            catch (SocketException) { return false; }   // told "busy" and closed before the request went out
        }, 20);
        Assert.True(served, "no client slot came free");
        return h!;
    }

    static long Windows(ServiceTests.ServiceProcess s) => s.Ctl("status").GetProperty("windows").GetInt64();

    /// <summary>Items 1–5 and 17 of issue 15, 12.17: one service, attacked through its socket and its files.</summary>
    [Fact]
    public void Control_socket_is_bounded_guarded_and_single()
    {
        var dir = Fixtures.TempDir();
        string model = Model(dir);
        // A stale socket (a killed service's) where the control socket goes is replaced.
        ServiceConfigTests.StaleSocket(Path.Combine(dir, "ctl.sock"));
        // A fine-tune buffer with a bad .npy header (it stopped the service from starting): moved aside, reported.
        Directory.CreateDirectory(Path.Combine(dir, "state", "finetune"));
        File.WriteAllText(Path.Combine(dir, "state", "finetune", "x.npy"), "\x93NUMPY garbage");
        File.WriteAllText(Path.Combine(dir, "state", "finetune", "y.npy"), "garbage");
        using var s = new ServiceTests.ServiceProcess(Imu(model, ", \"maxClients\": 4, \"idleTimeoutSeconds\": 4"), dir);
        Assert.True(s.WaitFor(() => File.Exists(s.Socket) && FileKindIsSocketThatAnswers(s), ServiceTests.ServiceProcess.StartSeconds), s.Stderr.ToString());
        var status = s.Ctl("status");
        Assert.Equal(0, status.GetProperty("labelledSamples").GetInt32());
        Assert.Contains(status.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("moved to"));

        // 5: a second service with the same state directory refuses before touching the socket or the state.
        string second = Path.Combine(dir, "second.json");
        File.WriteAllText(second, File.ReadAllText(Path.Combine(dir, "edgenet.json")));
        var (code, _, err) = ServiceConfigTests.Edgenet("serve", "--config", second);
        Assert.True(code == 1, $"exit {code}: {err}");
        Assert.Contains("another edgenet serve", err);
        Assert.Equal("running", s.Ctl("status").GetProperty("state").GetString());

        // 1: a request line without an end: refused at 4 KB, the client dropped, the service unharmed.
        using (var flood = Connect(s.Socket))
        {
            try { for (int i = 0; i < 64; i++) flood.Send(new byte[1024].Select(_ => (byte)'a').ToArray()); }
            catch (SocketException) { }   // the service closed the connection while we were still sending
            string reply = ReadLine(flood);
            Assert.Contains("longer than 4096 bytes", reply);
            Assert.True(ClosedByServer(flood));
        }

        // 2: at most maxClients at once; one more is told so and closed; the loop goes on meanwhile.
        // The service frees a finished client's slot when it reads that client's end of stream, which may come just after
        // the client's last reply: a held client told "busy" by such a slot is retried until the slot is freed.
        var held = Enumerable.Range(0, 4).Select(_ => Served(s)).ToList();   // served: counted
        using (var extra = Connect(s.Socket))   // (well within the 4 s the held ones may stay idle)
        {
            Assert.Contains("busy", ReadLine(extra));
            Assert.True(ClosedByServer(extra));
        }
        // ... and an idle client is closed after idleTimeoutSeconds (we wait for the service to close it).
        foreach (var h in held) { Assert.True(ClosedByServer(h), "an idle client was kept"); h.Dispose(); }
        long w0 = Windows(s);
        Assert.True(s.WaitFor(() => Windows(s) > w0 + 3, 20), "inference stalled");

        // 12.17: replies keep quotes readable.
        string raw = EdgeNet.Service.ControlClient.Send(s.Socket, "label jump", TimeSpan.FromSeconds(10));
        Assert.Contains("'jump'", raw);
        Assert.DoesNotContain("\\u0027", raw);

        // 3: a user whose only link to the socket's group is a supplementary group is served.
        if (Environment.UserName == "root" && File.Exists("/usr/bin/setpriv"))
        {
            var psi = new ProcessStartInfo("setpriv", ["--reuid=4242", "--regid=4242", "--groups=0", "--",
                "dotnet", Path.Combine(AppContext.BaseDirectory, "edgenet.dll"), "ctl", "--socket", s.Socket, "status"]) { RedirectStandardOutput = true };
            psi.Environment["HOME"] = "/tmp"; psi.Environment["DOTNET_CLI_HOME"] = "/tmp";
            using var p = Process.Start(psi)!;
            string o = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            output.WriteLine($"uid 4242 with supplementary group 0: exit {p.ExitCode} {o}");
            Assert.True(p.ExitCode == 0 && o.Contains("\"state\":\"running\""), $"exit {p.ExitCode}: {o}");
        }

        Assert.Equal(0, s.Terminate());
        Assert.False(File.Exists(s.Socket));
    }

    static bool FileKindIsSocketThatAnswers(ServiceTests.ServiceProcess s)
    {
        try { s.Ctl("status"); return true; } catch (IOException) { return false; }
    }

    /// <summary>Items 10, 13, 14 and 17: reloads that cannot serve are refused and the service keeps serving;
    /// replaced models release their intra-op threads.</summary>
    [Fact]
    public void Reloads_that_cannot_serve_are_refused_and_release_threads()
    {
        var dir = Fixtures.TempDir();
        string model = Model(dir), good = Model(dir, "good.enet");
        int threads = Math.Min(2, Environment.ProcessorCount);
        using var s = new ServiceTests.ServiceProcess(Imu(model, top: $", \"threads\": {threads}"), dir);
        Assert.True(s.WaitForStart(), s.Stderr.ToString());
        foreach (var (spec, window, expect) in new[] { ("dense:8,relu,dense:3", 30, "takes [N,30,6]"), ("dense:8,relu,dense:5", 20, "5 classes") })
        {
            Model(dir, "m.enet", spec, window, labels: false);
            var r = s.Ctl("reload");
            Assert.False(r.GetProperty("ok").GetBoolean());
            Assert.Contains(expect, r.GetProperty("message").GetString());
        }
        File.Delete(model);
        File.CreateSymbolicLink(model, "/dev/zero");
        Assert.Contains("character device", s.Ctl("reload").GetProperty("message").GetString());
        long w = Windows(s);
        Assert.True(s.WaitFor(() => Windows(s) > w + 3, 20), "the service stopped serving after a refused reload");
        File.Delete(model);
        File.Copy(good, model);

        int Threads() => Directory.GetDirectories($"/proc/{s.Process.Id}/task").Length;
        Assert.True(s.Ctl("reload").GetProperty("ok").GetBoolean());
        w = Windows(s);
        Assert.True(s.WaitFor(() => Windows(s) > w + 2, 20));
        int before = Threads();
        for (int i = 0; i < 30; i++) Assert.True(s.Ctl("reload").GetProperty("ok").GetBoolean());
        w = Windows(s);
        Assert.True(s.WaitFor(() => Windows(s) > w + 2, 20));   // the loop has released the replaced sessions
        int after = Threads();
        output.WriteLine($"threads {before} -> {after} after 30 reloads with threads={threads}");
        Assert.True(after - before < 8, $"threads {before} -> {after} after 30 reloads");
        Assert.Equal(0, s.Terminate());
    }

    /// <summary>Item 11: the results file's filesystem fills up: reported in status, and the service keeps classifying.</summary>
    [Fact]
    public void A_full_results_disk_is_reported_and_serving_goes_on()
    {
        if (!File.Exists("/usr/bin/unshare")) Assert.Skip("unshare is not installed");
        var dir = Fixtures.TempDir();
        string disk = Path.Combine(dir, "disk");
        Directory.CreateDirectory(disk);
        string[] smallDisk = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
            "mount -t tmpfs -o size=64k tmpfs \"$0\" && (dd if=/dev/zero of=\"$0/fill\" bs=4k count=64 2>/dev/null; true) && exec \"$@\"", disk];
        string cfg = Imu(Model(dir)).Replace("\"stdout\": false", $"\"stdout\": false, \"jsonLines\": \"{Path.Combine(disk, "results.jsonl")}\"");
        using var s = new ServiceTests.ServiceProcess(cfg, dir, smallDisk);
        Assert.True(s.WaitForStart(), s.Stderr.ToString());
        Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("resultsFileFailures").GetInt64() > 0, 20), s.Stderr.ToString());
        var st = s.Ctl("status");
        output.WriteLine(st.ToString());
        Assert.Contains(st.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("results file"));
        long w = st.GetProperty("windows").GetInt64();
        Assert.True(s.WaitFor(() => Windows(s) > w + 5, 20), "serving stopped");
        Assert.Equal(0, s.Terminate());
    }

    static string CameraConfig(string model, string script, string timeout = "0.3") => $$"""
        { "model": "{{model}}", "stateDirectory": "@STATE@",
          "source": { "type": "camera", "command": "sh", "args": ["-c", "{{script}}"], "width": 8, "height": 8, "format": "gray8", "frameTimeoutSeconds": {{timeout}} },
          "sinks": { "stdout": false }, "control": { "socket": "@SOCKET@" } }
        """;

    static string CameraModel(string dir)
    {
        string path = Path.Combine(dir, "cnn.enet");
        ModelFile.Save(ModelSpec.Build("conv:2:3,relu,flatten,dense:3", [1, 8, 8], seed: 1), path);
        return path;
    }

    static bool Dead(int pid) => !File.Exists($"/proc/{pid}/stat") || File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2] is "Z" or "X";

    /// <summary>Item 15: a camera that stays alive but sends nothing is reported and restarted; SIGTERM still ends the
    /// service at once; a SIGKILLed service takes its camera process with it.</summary>
    [Fact]
    public void A_stalled_camera_is_restarted_and_dies_with_the_service()
    {
        var dir = Fixtures.TempDir();
        string pidFile = Path.Combine(dir, "camera.pid");
        string cfg = CameraConfig(CameraModel(dir), $"echo $$ > {pidFile}; exec sleep 600");
        int Pid() => int.TryParse(File.Exists(pidFile) ? File.ReadAllText(pidFile).Trim() : "", out var p) ? p : 0;
        using (var s = new ServiceTests.ServiceProcess(cfg, dir))
        {
            Assert.True(s.WaitForStart(), s.Stderr.ToString());
            Assert.True(s.WaitFor(() => Pid() > 0, 20));
            int first = Pid();
            Assert.True(s.WaitFor(() => Pid() != first && Pid() > 0, 20), "the stalled camera was not restarted");
            var st = s.Ctl("status");
            output.WriteLine(st.ToString());
            Assert.Equal("sensor fault", st.GetProperty("state").GetString());
            Assert.Contains("sent no frame", st.GetProperty("lastFault").GetString());
            Assert.True(s.WaitFor(() => Dead(first), 10), "the stalled camera process was left running");
            var stop = Stopwatch.StartNew();
            Assert.Equal(0, s.Terminate());
            output.WriteLine($"SIGTERM to exit: {stop.ElapsedMilliseconds} ms");
            int last = Pid();
            Assert.True(s.WaitFor(() => Dead(last), 10) || Dead(last), "the camera outlived the stopped service");
        }
        File.Delete(pidFile);
        var dir2 = Fixtures.TempDir();
        using var k = new ServiceTests.ServiceProcess(CameraConfig(Path.Combine(dir, "cnn.enet"), $"echo $$ > {pidFile}; exec sleep 600", "600"), dir2);
        Assert.True(k.WaitFor(() => Pid() > 0, 30), k.Stderr.ToString());
        int child = Pid();
        k.Process.Kill();   // SIGKILL: no cleanup code runs
        k.Process.WaitForExit();
        var sw = Stopwatch.StartNew();
        while (!Dead(child) && sw.Elapsed.TotalSeconds < 10) Thread.Sleep(50);
        Assert.True(Dead(child), "the camera process outlived its SIGKILLed service");
    }

    /// <summary>Item 10: an unexpected end of the inference loop ends the process with exit 1 (docs/service.md), so that
    /// systemd's Restart=on-failure restarts it. The fault, injected in process through the host's hook: a result
    /// handler that throws on the fourth window — a bug in a sink, which nothing in the loop handles. What
    /// <c>ServiceHost.Run</c> returns is what <c>edgenet serve</c> exits with.</summary>
    [Fact]
    public async Task An_unexpected_end_of_the_inference_loop_exits_1()
    {
        var dir = Fixtures.TempDir();
        string cfg = Path.Combine(dir, "edgenet.json");
        File.WriteAllText(cfg, Imu(Model(dir)).Replace("@SOCKET@", Path.Combine(dir, "ctl.sock")).Replace("@STATE@", Path.Combine(dir, "state")));
        EdgeNet.Service.Pipeline? pipeline = null;
        int results = 0;
        var run = Task.Run(() => EdgeNet.Service.ServiceHost.Run(cfg, p =>
        {
            pipeline = p;
            p.Classified += r => { Interlocked.Increment(ref results); if (r.Window == 3) throw new InvalidOperationException("injected: a sink failed"); };
        }), TestContext.Current.CancellationToken);
        var first = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken));
        Assert.True(first == run, "the service kept running after its inference loop failed");
        Assert.Equal(CommandGuard.Failure, await run);
        Assert.True(pipeline!.Failed);
        Assert.Equal(4, results);   // windows 0..3, and the loop ended at the failure
        Assert.False(File.Exists(Path.Combine(dir, "ctl.sock")), "the control socket outlived the stopped service");
    }

    /// <summary>Item 16: a sensor or camera missing from boot is a fault like one mid-stream: the service comes up,
    /// its socket answers, status says what is wrong, and it keeps retrying.</summary>
    [Fact]
    public void Missing_sensor_or_camera_at_start_is_reported_over_the_socket()
    {
        var dir = Fixtures.TempDir();
        // GPIO outputs on a chip this machine lacks (chip 0 on a CI machine) are reported, not fatal.
        int chip = Enumerable.Range(0, 65).First(n => !File.Exists($"/dev/gpiochip{n}"));
        string i2c = Imu(Model(dir)).Replace("\"simulated\": true", "\"simulated\": false, \"bus\": 99")
            .Replace("\"stdout\": false", $"\"stdout\": false, \"gpioChip\": {chip}, \"gpioPins\": {{ \"shake\": 17 }}");
        using (var s = new ServiceTests.ServiceProcess(i2c, dir))
        {
            Assert.True(s.WaitForStart(), s.Stderr.ToString());
            Assert.True(s.WaitForNotification("READY=1", 30), "READY=1 was never sent\n" + s.Stderr);   // sent before the socket opened; the datagram may still be in flight
            var st = s.Ctl("status");
            output.WriteLine(st.ToString());
            Assert.Equal("sensor fault", st.GetProperty("state").GetString());
            Assert.Contains("/dev/i2c-99", st.GetProperty("lastFault").GetString());
            Assert.Contains(st.GetProperty("warnings").EnumerateArray(), w => w.GetString() == $"GPIO outputs disabled: /dev/gpiochip{chip} does not exist");
            long faults = st.GetProperty("sensorFaults").GetInt64();
            Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("sensorFaults").GetInt64() > faults, 20), "no retry");
            Assert.Equal(0, s.Terminate());
        }
        var dir2 = Fixtures.TempDir();
        string cam = CameraConfig(CameraModel(dir2), "exec /nonexistent/camera-app");
        using (var s = new ServiceTests.ServiceProcess(cam, dir2))
        {
            Assert.True(s.WaitForStart(), s.Stderr.ToString());
            Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("lastFault").GetString() is { } f && f.Contains("camera-app"), 20), s.Ctl("status").ToString());
            Assert.Equal(0, s.Terminate());
        }
    }
}
