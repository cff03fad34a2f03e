using System.Diagnostics;
using System.Runtime.InteropServices;
using EdgeNet.Format;
using EdgeNet.Io;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// Saves that meet a full disk, a temp file on another filesystem, or SIGTERM: the old file stays complete, the error
/// is reported, nothing partial is left. A full disk is real: a 256 KiB tmpfs mounted in a private mount namespace
/// (<c>unshare --user --map-root-user --mount</c>, no privileges needed), filled up before the save.
/// </summary>
public partial class SaveFaultTests(ITestOutputHelper output)
{
    [LibraryImport("libc")] private static partial int kill(int pid, int sig);
    static readonly string Edgenet = Path.Combine(AppContext.BaseDirectory, "edgenet.dll");

    static string Device(string dir)
    {
        using var p = Process.Start(new ProcessStartInfo("stat", ["-c", "%d", dir]) { RedirectStandardOutput = true })!;
        string d = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return d;
    }

    /// <summary>Runs a shell script with a fresh tmpfs of <paramref name="kb"/> KiB mounted at $D, in its own mount namespace.</summary>
    static (int code, string output) InSmallTmpfs(int kb, string mountPoint, string script)
    {
        var psi = new ProcessStartInfo("unshare", ["--user", "--map-root-user", "--mount", "sh", "-c",
            $"mount -t tmpfs -o size={kb}k tmpfs \"$D\" || {{ echo 'cannot mount a tmpfs'; exit 99; }}\n{script}"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["D"] = mountPoint;
        psi.Environment["EDGENET"] = Edgenet;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string o = p.StandardOutput.ReadToEnd() + err.Result;
        p.WaitForExit();
        return (p.ExitCode, o);
    }

    [Fact]
    public void A_temp_file_on_another_filesystem_is_refused_not_copied()
    {
        var dir = Fixtures.TempDir();
        var other = Path.Combine("/dev/shm", "edgenet-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(other);
        try
        {
            Assert.True(Device(dir) != Device(other), $"{dir} and {other} should be on different filesystems for this test");
            string target = Path.Combine(dir, "model.enet");
            File.WriteAllBytes(target, [1, 2, 3]);
            var e = Assert.Throws<IOException>(() => AtomicFile.Write(target, new byte[1000], other));
            Assert.Contains("another filesystem", e.Message);
            Assert.Equal([1, 2, 3], File.ReadAllBytes(target));   // untouched, not half-copied
            Assert.Empty(Directory.GetFiles(other));               // and the temp file is gone
        }
        finally { Directory.Delete(other, true); }
    }

    [Fact]
    public void Orphaned_temp_files_of_dead_writers_are_removed_live_ones_kept()
    {
        var dir = Fixtures.TempDir();
        string dead = Path.Combine(dir, ".model-3.enet.4194000.0123abcd.tmp"), live = Path.Combine(dir, ".model-3.enet.1.4567ef.tmp"), keep = Path.Combine(dir, "model-3.enet");
        foreach (var f in new[] { dead, live, keep }) File.WriteAllBytes(f, [1]);
        Assert.Equal(1, AtomicFile.RemoveOrphans(dir));
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live) && File.Exists(keep));
    }

    /// <summary>`edgenet finetune -o OUT` onto a full disk: exit 1 with the OS's reason, the old OUT intact, no temp file.</summary>
    [Fact]
    public void Full_disk_during_a_finetune_save_keeps_the_old_file()
    {
        var dir = Fixtures.TempDir();
        string model = Path.Combine(dir, "m.enet"), mnt = Path.Combine(dir, "small");
        Directory.CreateDirectory(mnt);
        ModelFile.Save(Fixtures.Convert(Fixtures.Digits("mlp_digits.onnx")), model);
        var (code, log) = InSmallTmpfs(256, mnt, $"""
            cp "{model}" "$D/out.enet"; before=$(sha256sum < "$D/out.enet")
            dd if=/dev/zero of="$D/fill" bs=4k 2>/dev/null
            dotnet "$EDGENET" finetune "{model}" --data "{Fixtures.Digits("digits_test_x.npy")}" --labels "{Fixtures.Digits("digits_test_y.npy")}" --epochs 1 -o "$D/out.enet"
            echo "exit=$?"
            [ "$(sha256sum < "$D/out.enet")" = "$before" ] && echo "old file intact"
            ls -a "$D" | grep -c '\.tmp$' | sed 's/^/temp files: /'
            """);
        output.WriteLine(log);
        Assert.NotEqual(99, code);
        Assert.Contains("exit=1", log);
        Assert.Contains("error: No space left on device", log);
        Assert.Contains("old file intact", log);
        Assert.Contains("temp files: 0", log);
    }

    /// <summary>The service's fine-tune publishes onto a full state disk: status says why, the old model keeps serving.</summary>
    [Fact]
    public void Full_disk_during_a_service_save_keeps_serving_the_old_model()
    {
        var dir = Fixtures.TempDir();
        string state = Path.Combine(dir, "state"), model = Path.Combine(dir, "m.enet");
        Directory.CreateDirectory(state);
        var m = Training.ModelSpec.Build("dense:16,relu,dense:3", [20, 6], seed: 3);
        // All weights zero: every logit is 0 and the serving model always decides class 0 (the first of equal scores).
        // Every window is labelled 1, so the serving model's held-out accuracy is 0, the fine-tuned one cannot be
        // worse, and the fine-tune always goes on to publish its model — onto the full disk.
        foreach (var t in m.Tensors.Where(t => t.IsConstant)) MemoryMarshal.AsMemory(t.Data!.Value).Span.Clear();
        ModelFile.Save(m, model);
        string cfg = $$"""
            { "model": "{{model}}", "stateDirectory": "@STATE@",
              "source": { "type": "imu", "simulated": true, "rateHz": 200, "window": 20, "stride": 10, "simulatedGestures": [0, 1, 2], "simulatedGestureSamples": 60 },
              "sinks": { "stdout": false }, "control": { "socket": "@SOCKET@" },
              "finetune": { "epochs": 3, "batch": 8, "lr": 0.01, "momentum": 0.9, "train": "all", "holdout": 0.25 } }
            """;
        string[] smallDisk = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs -o size=256k tmpfs \"$0\" && exec \"$@\"", state];
        using var s = new ServiceTests.ServiceProcess(cfg, dir, smallDisk);
        Assert.True(s.WaitForStart(), s.Stderr.ToString());
        long seen = -1;
        for (int i = 0; i < 12; i++)   // each label on a newer window: wait for the window count to move, not for time
        {
            Assert.True(s.WaitFor(() => s.Ctl("last").TryGetProperty("window", out var w) && w.GetInt64() > seen, 30), "no new window");
            seen = s.Ctl("last").GetProperty("window").GetInt64();
            Assert.True(s.Ctl("label 1").GetProperty("ok").GetBoolean());
        }

        // Fill the service's state disk, seen through its own mount namespace.
        string view = $"/proc/{s.Process.Id}/root{state}";
        Assert.True(Directory.Exists(Path.Combine(view, "finetune")), "the state directory is not visible through /proc");
        try { using var fill = File.Create(Path.Combine(view, "fill")); var block = new byte[4096]; while (true) { fill.Write(block); fill.Flush(); } }
        catch (IOException e) { output.WriteLine($"filled: {e.Message}"); }

        // A label is one record written in place: the first few may still fit in the file's last allocated page.
        int accepted = 0;
        var refused = s.Ctl("label 1");
        while (refused.GetProperty("ok").GetBoolean() && accepted < 64) { accepted++; refused = s.Ctl("label 1"); }
        Assert.False(refused.GetProperty("ok").GetBoolean(), $"{accepted} labels accepted on a full disk");
        Assert.Contains("No space left", refused.GetProperty("message").GetString());
        Assert.True(s.Ctl("finetune").GetProperty("ok").GetBoolean());
        Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("finetune").GetString() is not "running", 60));
        var status = s.Ctl("status");
        output.WriteLine(status.ToString());
        Assert.Equal("failed", status.GetProperty("finetune").GetString());
        Assert.Contains("No space left on device", status.GetProperty("finetuneReason").GetString());
        Assert.Equal(0, status.GetProperty("modelVersion").GetInt32());
        long windows = status.GetProperty("windows").GetInt64();
        Assert.True(s.WaitFor(() => s.Ctl("status").GetProperty("windows").GetInt64() > windows + 3, 10), "the old model stopped serving");
        var models = Path.Combine(view, "models");
        // serving.json (which version serves) may be there; no model file, whole or partial, may be.
        var left = Directory.Exists(models) ? Directory.GetFiles(models).Select(Path.GetFileName).Where(f => f != "serving.json").ToArray() : [];
        Assert.True(left.Length == 0, $"a partial model file was left: {string.Join(", ", left)}");
        Assert.Equal(12 + accepted, s.Ctl("status").GetProperty("labelledSamples").GetInt32());   // the labelled windows survive intact
        // SIGTERM on the still-full disk is a stop like any other (docs/service.md: exit 0): no refused label is left
        // pending in a buffer for the stop to flush and fail on.
        Assert.Equal(0, s.Terminate());
    }

    /// <summary>
    /// SIGTERM at random steps of `edgenet finetune` (--log-steps prints a line per step): before training ends the run
    /// stops with exit 5 and writes nothing; once the save has begun it completes. Never a partial or temp file.
    /// The kill is synchronized on the child's progress, not on time: its step lines go through a pipe of 64 KiB
    /// (Linux's default; 4 KiB under pipe-user-pages-soft) that this test stops reading at the chosen step, so the
    /// child can run at most one full pipe (about 3,300 lines of at least 20 bytes, plus the 4 KiB the reader has
    /// buffered) ahead of it. With 5,600 steps, a SIGTERM sent on reading step 0 always lands during training.
    /// </summary>
    [Fact]
    public async Task Sigterm_during_finetune_or_its_save_leaves_no_partial_file()
    {
        var dir = Fixtures.TempDir();
        string model = Path.Combine(dir, "m.enet"), outFile = Path.Combine(dir, "out.enet");
        ModelFile.Save(Training.ModelSpec.Build("dense:10", [64], seed: 1), model);   // small: the steps, not the model, are the point
        const int epochs = 4, rows = 1400, steps = epochs * rows;   // --batch 1 over digits_train_x
        string[] args = [Edgenet, "finetune", model, "--data", Path.Combine(Fixtures.Dir, "finetune", "digits_train_x.npy"), "--labels", Path.Combine(Fixtures.Dir, "finetune", "digits_train_y.npy"),
                         "--epochs", $"{epochs}", "--batch", "1", "--lr", "0.001", "--no-shuffle", "--log-steps", "-o", outFile];
        using (var p = Process.Start(new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true })!) { p.StandardOutput.ReadToEnd(); p.WaitForExit(); Assert.Equal(0, p.ExitCode); }
        var expected = File.ReadAllBytes(outFile);
        var rng = new Random(5);
        int interrupted = 0, completed = 0;
        for (int i = 0; i < 6; i++)
        {
            File.Delete(outFile);
            int killAt = i == 0 ? 0 : rng.Next(steps);
            using var p = Process.Start(new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var err = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            string? line;
            while ((line = p.StandardOutput.ReadLine()) is not null && !line.StartsWith($"step {killAt} ")) { }
            Assert.True(line is not null, $"run {i}: the output ended before step {killAt}");
            kill(p.Id, 15);
            await p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);   // lets the child go on to its next step
            await p.WaitForExitAsync(TestContext.Current.CancellationToken);
            string stderr = await err;
            if (p.ExitCode == 5) { interrupted++; Assert.False(File.Exists(outFile), "an interrupted run wrote its output"); Assert.Contains("nothing was written", stderr); }
            // 143: the signal came after the handler was released, while the finished process exited — the save is complete.
            else if (p.ExitCode is 0 or 143) { completed++; Assert.Equal(expected, File.ReadAllBytes(outFile)); }
            else Assert.Fail($"run {i}: exit {p.ExitCode}: {stderr}");
            Assert.True(i > 0 || p.ExitCode == 5, $"a SIGTERM at step 0 of {steps} did not interrupt training (exit {p.ExitCode})");
            Assert.Empty(Directory.GetFiles(dir, ".*.tmp"));
        }
        output.WriteLine($"6 SIGTERMs at random steps: {interrupted} interrupted with nothing written, {completed} completed");
    }
}
