using EdgeNet.Format;
using EdgeNet.Service;
using EdgeNet.Training;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>The service's state directory, in process: the labelled-window buffer (appended, capped, damage moved
/// aside), which model serves after a restart, replaced sessions released; and the control socket's access rule and
/// line limit (issue 15 items 3, 1, 6, 7, 8, 9, 13).</summary>
public class ServiceStateTests
{
    static float[] Window(int per, int seed) => Enumerable.Range(0, per).Select(i => (float)(seed * 1000 + i)).ToArray();
    static string Records(string state) => Path.Combine(state, "finetune", "windows.bin");

    [Fact]
    public void Labels_are_appended_and_capped_oldest_first()
    {
        var state = Fixtures.TempDir();
        const int per = 120, cap = 8;
        using (var b = new FinetuneBuffer(state, per, cap))
        {
            long header = new FileInfo(Records(state)).Length;
            for (int i = 0; i < 5; i++) b.Add(Window(per, i), i % 3);
            long record = (new FileInfo(Records(state)).Length - header) / 5;
            Assert.Equal(16 + 4 * per, record);   // one record per label, nothing rewritten
            for (int i = 5; i < 12; i++) b.Add(Window(per, i), i % 3);
            Assert.Equal(cap, b.Count);
            Assert.Equal(header + cap * record, new FileInfo(Records(state)).Length);   // full: the oldest is replaced in place
            var (x, y) = b.Snapshot();
            Assert.Equal(cap, y.Length);
            Assert.Equal(4 * 1000f, x[0]);             // windows 4..11 remain, oldest first
            Assert.Equal(11 * 1000f + per - 1, x[^1]);
            Assert.Equal(Enumerable.Range(4, cap).Select(i => (long)(i % 3)), y);
        }
        using (var again = new FinetuneBuffer(state, per, cap))   // a restart reads the same windows back
        {
            Assert.Equal(cap, again.Count);
            Assert.Null(again.Problem);
            Assert.Equal(4 * 1000f, again.Snapshot().x[0]);
            again.Add(Window(per, 12), 0);
            Assert.Equal(5 * 1000f, again.Snapshot().x[0]);
        }
        using (var smaller = new FinetuneBuffer(state, per, 3))   // a smaller cap keeps the newest
        {
            Assert.Equal(3, smaller.Count);
            Assert.Equal(10 * 1000f, smaller.Snapshot().x[0]);
        }
    }

    [Fact]
    public void A_torn_record_is_dropped_and_a_damaged_buffer_is_moved_aside()
    {
        var state = Fixtures.TempDir();
        const int per = 6;
        using (var b = new FinetuneBuffer(state, per, 100)) for (int i = 0; i < 4; i++) b.Add(Window(per, i), 1);
        using (var f = new FileStream(Records(state), FileMode.Open)) { f.Position = 16 + 2 * (16 + 4 * per) + 20; f.WriteByte(0x55); f.SetLength(f.Length - 3); }
        using (var b = new FinetuneBuffer(state, per, 100))
        {
            Assert.Equal(2, b.Count);   // record 2 fails its checksum, record 3 was cut short
            Assert.Equal([0f, 1000f], b.Snapshot().x.Where((_, i) => i % per == 0));
        }
        // Another window size (the configured model changed) or garbage: moved aside, the service starts empty.
        using (var b = new FinetuneBuffer(state, per * 2, 100))
        {
            Assert.Equal(0, b.Count);
            Assert.Contains("moved to", b.Problem);
            Assert.Contains("the model takes 12", b.Problem);
        }
        Assert.Single(Directory.GetFiles(Path.Combine(state, "finetune"), "damaged-*"));
        File.WriteAllText(Records(state), "not a buffer at all");
        using (var b = new FinetuneBuffer(state, per * 2, 100)) { Assert.Contains("bad header", b.Problem); Assert.Equal(0, b.Count); }
    }

    /// <summary>The x.npy/y.npy buffer of earlier versions: imported when readable, moved aside when its header is bad
    /// (it used to stop the service from starting).</summary>
    [Fact]
    public void Legacy_npy_buffer_is_imported_or_quarantined()
    {
        var state = Fixtures.TempDir();
        var ft = Path.Combine(state, "finetune");
        Directory.CreateDirectory(ft);
        EdgeNet.Io.Npy.Write(Path.Combine(ft, "x.npy"), Window(6, 0).Concat(Window(6, 1)).ToArray(), [2, 6]);
        EdgeNet.Io.AtomicFile.Write(Path.Combine(ft, "y.npy"), EdgeNet.Io.Npy.Serialize(new long[] { 2, 1 }, [2]));
        using (var b = new FinetuneBuffer(state, 6, 100)) { Assert.Equal(2, b.Count); Assert.Equal([2L, 1L], b.Snapshot().y); }
        Assert.False(File.Exists(Path.Combine(ft, "x.npy")));

        File.WriteAllBytes(Path.Combine(ft, "x.npy"), "\x93NUMPY\x01\x00\x20\x00{'descr': '<f4', 'shape': (9"u8.ToArray());
        File.WriteAllBytes(Path.Combine(ft, "y.npy"), [1, 2, 3]);
        using (var b = new FinetuneBuffer(state, 6, 100))
        {
            Assert.Contains("moved to", b.Problem);
            Assert.Equal(2, b.Count);   // what was already imported stays
        }
        Assert.Equal(2, Directory.GetFiles(ft, "damaged-*.npy").Length);
    }

    static (string dir, string configured, Model model) Configured(int seed = 1)
    {
        var dir = Fixtures.TempDir();
        string path = Path.Combine(dir, "configured.enet");
        var m = ModelSpec.Build("dense:4,dense:3", [20, 6], seed: seed);
        ModelFile.Save(m, path);
        return (dir, path, m);
    }

    [Fact]
    public void A_rollback_survives_a_restart()
    {
        var (dir, configured, m) = Configured();
        string state = Path.Combine(dir, "state");
        using (var slots = new ModelSlots(state, configured))
        {
            slots.Start(m, _ => null);
            Assert.Equal(1, slots.Publish(ModelSpec.Build("dense:4,dense:3", [20, 6], seed: 9)).Version);
            Assert.True(slots.Rollback());
            Assert.Equal(0, slots.Current.Version);
        }
        using (var restarted = new ModelSlots(state, configured))
        {
            restarted.Start(m, _ => null);
            Assert.Equal(0, restarted.Current.Version);   // not model-1 again
            Assert.False(restarted.CanRollback);
            Assert.Null(restarted.StartNote);
            Assert.Equal(2, restarted.Publish(ModelSpec.Build("dense:4,dense:3", [20, 6], seed: 8)).Version);   // never reuses a version's file
        }
        using (var again = new ModelSlots(state, configured))
        {
            again.Start(m, _ => null);
            Assert.Equal(2, again.Current.Version);       // a fine-tuned model serves on after a restart
            Assert.True(again.CanRollback);
            Assert.True(again.Rollback());
            Assert.Equal(0, again.Current.Version);
        }
    }

    /// <summary>Precedence: a configured model that changed (other bytes or another path) wins over the versions
    /// fine-tuned from the old one, and status says so; a fine-tuned file that no longer fits is not served.</summary>
    [Fact]
    public void A_changed_configured_model_wins_and_says_so()
    {
        var (dir, configured, m) = Configured();
        string state = Path.Combine(dir, "state");
        using (var slots = new ModelSlots(state, configured))
        {
            slots.Start(m, _ => null);
            slots.Publish(ModelSpec.Build("dense:4,dense:3", [20, 6], seed: 9));
        }
        var replacement = ModelSpec.Build("dense:6,dense:3", [20, 6], seed: 5);
        ModelFile.Save(replacement, configured);
        using (var slots = new ModelSlots(state, configured))
        {
            slots.Start(replacement, _ => null);
            Assert.Equal(0, slots.Current.Version);
            Assert.Contains("changed", slots.StartNote);
            Assert.False(slots.CanRollback);
        }
        using (var slots = new ModelSlots(state, configured))   // from now on the record follows the new model
        {
            slots.Start(replacement, _ => null);
            Assert.Null(slots.StartNote);
            slots.Publish(ModelSpec.Build("dense:4,dense:3", [20, 6], seed: 7));
        }
        using (var slots = new ModelSlots(state, configured))
        {
            slots.Start(replacement, _ => "does not fit");
            Assert.Equal(0, slots.Current.Version);
            Assert.Contains("does not fit", slots.StartNote);
        }
    }

    /// <summary>Every session a reload replaces is disposed by the inference thread's next <see cref="ModelSlots.ReleaseRetired"/>,
    /// which ends its intra-op workers (the thread count itself is held by ServiceAttackTests, in a process of its own).</summary>
    [Fact]
    public void Replaced_sessions_release_their_threads()
    {
        var (dir, configured, m) = Configured();
        using var slots = new ModelSlots(Path.Combine(dir, "state"), configured, threads: Math.Min(2, Environment.ProcessorCount));
        slots.Start(m, _ => null);
        Assert.Contains("changes its mind", Assert.Throws<ModelFormatException>(() => slots.Reload(_ => "changes its mind")).Message);
        var replaced = slots.Current.Session;
        for (int i = 0; i < 5; i++) slots.Reload(_ => null);
        replaced.Run(new float[120], new float[3]);   // still usable until the inference thread says it is done with them
        Assert.Equal(5, slots.ReleaseRetired());
        Assert.Equal(0, slots.ReleaseRetired());
        Assert.True(slots.Rollback() is false);        // a reload keeps no rollback slot of its own
        slots.Publish(ModelSpec.Build("dense:4,dense:3", [20, 6], seed: 9));
        slots.Publish(ModelSpec.Build("dense:4,dense:3", [20, 6], seed: 8));   // the first publish's rollback slot is replaced
        Assert.Equal(1, slots.ReleaseRetired());
        Assert.True(slots.Rollback());
        Assert.Equal(1, slots.ReleaseRetired());
        slots.Current.Session.Run(new float[120], new float[3]);
    }

    [Fact]
    public void Supplementary_group_members_may_connect()
    {
        const uint service = 998, group = 997;
        Assert.True(PeerAccess.Allowed(new(1, 1000, 1000, [27, group]), service, group));    // usermod -aG edgenet alice
        Assert.True(PeerAccess.Allowed(new(1, 1000, group, []), service, group));             // primary group
        Assert.True(PeerAccess.Allowed(new(1, service, 5, []), service, group));              // the service's own user
        Assert.True(PeerAccess.Allowed(new(1, 0, 0, []), service, group));                    // root
        Assert.False(PeerAccess.Allowed(new(1, 1000, 1000, [27, 100]), service, group));
    }

    [Fact]
    public async Task A_command_line_is_bounded()
    {
        var lines = new MemoryStream("status\r\nlabel shake\n"u8.ToArray().Concat(new byte[5000].Select(_ => (byte)'a')).ToArray());
        var r = new RequestReader(lines, 4096);
        Assert.Equal("status", await r.ReadLineAsync(TestContext.Current.CancellationToken));
        Assert.Equal("label shake", await r.ReadLineAsync(TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<RequestReader.TooLongException>(async () => await r.ReadLineAsync(TestContext.Current.CancellationToken));
        Assert.True(lines.Position <= 64 + 4096 + 4096, $"read {lines.Position} bytes past a line it refused");
    }
}
