using System.Runtime.InteropServices;
using System.Text;
using EdgeNet.Converter;
using EdgeNet.Format;
using EdgeNet.Io;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>Files built by hand to hurt the readers (issue 16): .npy header lies, FIFOs, devices, directories,
/// symlinks out of the model's folder, .enet padding. Each is one typed error that names the file, allocated in
/// proportion to the file's real size.</summary>
public class HostileFileTests
{
    [DllImport("libc", SetLastError = true)] static extern int mkfifo(string path, uint mode);

    /// <summary>A FIFO nobody writes to: opening it for reading the ordinary way blocks forever.</summary>
    public static string Fifo(string dir, string name = "fifo")
    {
        string path = Path.Combine(dir, name);
        Assert.Equal(0, mkfifo(path, 0x1b6 /* 0666 */));
        return path;
    }

    /// <summary>Runs a read that must not block on <paramref name="fifo"/>; if it does, a writer is opened to release
    /// it and the test fails (the bounded wait guards against a hang; nothing is synchronized on time).</summary>
    public static Exception? ReadWithoutBlocking(string fifo, Action read)
    {
        var t = Task.Run(() => Record.Exception(read));
        if (!t.Wait(TimeSpan.FromSeconds(60)))
        {
            using (new FileStream(fifo, FileMode.Open, FileAccess.Write)) { }
            t.Wait();
            Assert.Fail($"reading the FIFO '{fifo}' blocked");
        }
        return t.Result;
    }

    static byte[] Npy(string header, int dataBytes = 16)
    {
        var h = Encoding.Latin1.GetBytes(header);
        var b = new byte[10 + h.Length + dataBytes];
        b[0] = 0x93; "NUMPY"u8.CopyTo(b.AsSpan(1)); b[6] = 1;
        BitConverter.GetBytes((ushort)h.Length).CopyTo(b, 8);
        h.CopyTo(b, 10);
        return b;
    }

    [Theory]
    [InlineData("{'descr': '', 'fortran_order': False, 'shape': (4,), }", "dtype")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }", "needs more than the 16 data bytes")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }", "needs more than the 16 data bytes")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape' (4,), }", "bad header field 'shape'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (4,", "bad header field 'shape'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", "bad shape")]
    [InlineData("{'descr': '<f4', 'fortran_order': False}", "no 'shape'")]
    public void Npy_header_lies_are_one_error_naming_the_file(string header, string words)
    {
        string path = Path.Combine(Fixtures.TempDir(), "lie.npy");
        File.WriteAllBytes(path, Npy(header));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => EdgeNet.Io.Npy.Read(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 100_000);
        Assert.Contains(path, e.Message);
        Assert.Contains(words, e.Message);
        Assert.DoesNotContain("Specified argument", e.Message);
    }

    [Fact]
    public void Npy_header_length_past_the_end_is_truncated()
    {
        var b = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }");
        b[6] = 2;   // version 2: a 4-byte header length
        BitConverter.GetBytes(int.MaxValue).CopyTo(b, 8);
        Assert.Contains("truncated header", Assert.Throws<InvalidDataException>(() => EdgeNet.Io.Npy.Parse(b)).Message);
    }

    [Fact]
    public void Npy_and_models_refuse_devices_fifos_and_folders()
    {
        var dir = Fixtures.TempDir();
        string fifo = Fifo(dir);
        foreach (var path in new[] { "/dev/zero", fifo, dir })
        {
            var e = ReadWithoutBlocking(fifo, () => EdgeNet.Io.Npy.Read(path));
            Assert.IsType<InvalidDataException>(e);
            Assert.Contains(path, e!.Message);
            Assert.Contains("not a regular file", e.Message);
            var m = ReadWithoutBlocking(fifo, () => ModelFile.Load(path));
            Assert.IsType<ModelFormatException>(m);
            Assert.Contains("not a regular file", m!.Message);
            var o = ReadWithoutBlocking(fifo, () => OnnxFile.Load(path));
            Assert.IsType<ModelFormatException>(o);
            Assert.Contains("not a regular file", o!.Message);
        }
    }

    [Fact]
    public void Symlinks_to_data_are_followed_for_reading()
    {
        var dir = Fixtures.TempDir();
        string link = Path.Combine(dir, "x.npy");
        File.CreateSymbolicLink(link, Fixtures.Digits("digits_test_x.npy"));
        Assert.Equal(397 * 64, EdgeNet.Io.Npy.Read(link).Length);
        Assert.Equal(Fixtures.Digits("digits_test_x.npy"), RegularFile.RealPath(link), ignoreCase: false);
    }

    /// <summary>Issue 12 item 20: the alignment padding no checksum covers must be zero.</summary>
    [Fact]
    public void Enet_padding_that_is_not_zero_is_refused()
    {
        var good = ModelFile.Write(Fixtures.Convert(Fixtures.Digits("mlp_digits.onnx")));
        int count = BitConverter.ToInt32(good, 8);
        var covered = new bool[good.Length];
        Array.Fill(covered, true, 0, 64 + 32 * count);
        for (int i = 0; i < count; i++)
        {
            long off = BitConverter.ToInt64(good, 64 + 32 * i + 8), len = BitConverter.ToInt64(good, 64 + 32 * i + 16);
            Array.Fill(covered, true, (int)off, (int)len);
        }
        var gaps = Enumerable.Range(0, good.Length).Where(i => !covered[i]).ToArray();
        Assert.NotEmpty(gaps);
        ModelFile.Read(good);
        foreach (int at in new[] { gaps[0], gaps[^1] })
        {
            var bad = (byte[])good.Clone();
            bad[at] = 0x5a;
            var e = Assert.Throws<ModelFormatException>(() => ModelFile.Read(bad));
            Assert.Contains($"padding byte at offset {at}", e.Message);
        }
    }

    /// <summary>Issue 16 item 3: a (2^31−1)×1 float tensor in a 9 GB sparse external file is refused by its size, not read.</summary>
    [Fact]
    public void Huge_external_tensor_is_refused_before_reading()
    {
        var dir = Fixtures.TempDir();
        using (var fs = new FileStream(Path.Combine(dir, "w.bin"), FileMode.CreateNew)) fs.SetLength(9L << 30);   // sparse
        var path = HostileOnnx.External(dir, "w.bin", [int.MaxValue, 1]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
        Assert.Contains("exceed the 2147483647-byte limit", e.Message);
    }

    /// <summary>Issue 16 item 1: external data through symlinks that leave the folder, FIFOs, devices and folders.</summary>
    [Fact]
    public void External_data_is_resolved_and_must_be_a_regular_file_in_the_folder()
    {
        var root = Fixtures.TempDir();
        var dir = Directory.CreateDirectory(Path.Combine(root, "model")).FullName;
        var outside = Directory.CreateDirectory(Path.Combine(root, "secrets")).FullName;
        string key = Path.Combine(outside, "id_ed25519");
        File.WriteAllBytes(key, Enumerable.Range(0, 48).Select(i => (byte)i).ToArray());
        File.CreateSymbolicLink(Path.Combine(dir, "key.bin"), key);                  // a symlinked file
        File.CreateSymbolicLink(Path.Combine(dir, "sub"), outside);                  // a symlinked folder
        File.CreateSymbolicLink(Path.Combine(dir, "zero.bin"), "/dev/zero");
        string fifo = Fifo(dir, "fifo.bin");
        Directory.CreateDirectory(Path.Combine(dir, "folder.bin"));

        foreach (var (loc, words) in new[] { ("key.bin", "leaves the model's folder"), ("sub/id_ed25519", "leaves the model's folder"),
                                             ("zero.bin", "leaves the model's folder"), ("fifo.bin", "not a regular file (it is a FIFO)"),
                                             ("folder.bin", "not a regular file (it is a directory)"), ("nothere.bin", "is missing") })
        {
            var path = HostileOnnx.External(dir, loc, [4, 3]);
            var e = ReadWithoutBlocking(fifo, () => OnnxImporter.Convert(path));
            Assert.IsType<ModelFormatException>(e);
            Assert.Contains(words, e!.Message);
        }

        // A symlink that stays inside the folder is fine, and exactly the tensor's bytes are read.
        File.WriteAllBytes(Path.Combine(dir, "real.bin"), new byte[48 + 100]);
        File.CreateSymbolicLink(Path.Combine(dir, "alias.bin"), "real.bin");
        var m = OnnxImporter.Convert(HostileOnnx.External(dir, "alias.bin", [4, 3]));
        Assert.Single(m.Nodes);
    }

    /// <summary>Issue 16 item 11: a repeated external-data key is named, not "An item with the same key has already been added".</summary>
    [Fact]
    public void Duplicate_external_data_key_is_named()
    {
        var dir = Fixtures.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "w.bin"), new byte[48]);
        var path = HostileOnnx.External(dir, "w.bin", [4, 3], t => t.ExternalData.Add(new EdgeNet.Converter.Onnx.StringStringEntryProto { Key = "location", Value = "w.bin" }));
        var e = Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(path));
        Assert.Contains("external data key 'location' appears twice", e.Message);
        var bad = HostileOnnx.External(dir, "w.bin", [4, 3], t => t.ExternalData.Add(new EdgeNet.Converter.Onnx.StringStringEntryProto { Key = "offset", Value = "-8" }));
        Assert.Contains("offset '-8' is not a non-negative integer", Assert.Throws<ModelFormatException>(() => OnnxImporter.Convert(bad)).Message);
    }

    /// <summary>Issue 16 item 2: `--calibration` from /dev/zero or a FIFO is one data error naming the file.</summary>
    [Fact]
    public void Calibration_from_a_device_or_fifo_is_refused()
    {
        var dir = Fixtures.TempDir();
        string fifo = Fifo(dir);
        var m = Fixtures.Convert(Fixtures.Digits("mlp_digits.onnx"));
        foreach (var path in new[] { "/dev/zero", fifo })
        {
            var e = ReadWithoutBlocking(fifo, () => Ptq.Run(m, "int8", new FileInfo(path), "minmax", [], null, null, null));
            Assert.IsType<InvalidDataException>(e);
            Assert.Contains(path, e!.Message);
        }
    }
}
