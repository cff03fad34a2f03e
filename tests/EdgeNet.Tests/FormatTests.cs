using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Io;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>The .enet container: round trips, and every kind of damage gives the one typed error.</summary>
public class FormatTests
{
    static Model Small() => Fixtures.Convert(Fixtures.Digits("cnn_digits.onnx"));

    [Fact]
    public void Write_then_read_gives_the_same_model()
    {
        var m = Small();
        m.Metadata.ClassLabels = Enumerable.Range(0, 10).Select(i => $"digit {i}").ToArray();
        var bytes = ModelFile.Write(m);
        var r = ModelFile.Read(bytes);
        Assert.Equal(m.Tensors.Count, r.Tensors.Count);
        for (int i = 0; i < m.Tensors.Count; i++)
        {
            Assert.Equal(m.Tensors[i].Name, r.Tensors[i].Name);
            Assert.Equal(m.Tensors[i].Shape, r.Tensors[i].Shape);
            Assert.Equal(m.Tensors[i].Type, r.Tensors[i].Type);
            Assert.Equal(m.Tensors[i].Data?.ToArray(), r.Tensors[i].Data?.ToArray());
        }
        Assert.Equal(m.Nodes.Select(n => (n.Op, n.Name, string.Join(",", n.Inputs), string.Join(",", n.Outputs))),
                     r.Nodes.Select(n => (n.Op, n.Name, string.Join(",", n.Inputs), string.Join(",", n.Outputs))));
        Assert.Equal(m.Metadata.ClassLabels, r.Metadata.ClassLabels);
        Assert.Equal(m.Metadata.SourceSha256, r.Metadata.SourceSha256);
        Assert.Equal(bytes, ModelFile.Write(r));   // deterministic
    }

    [Fact]
    public void Weight_blobs_are_64_byte_aligned()
    {
        var bytes = ModelFile.Write(Small());
        var r = ModelFile.Read(bytes);
        foreach (var t in r.Tensors.Where(t => t.IsConstant))
        {
            Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(t.Data!.Value, out var seg));
            Assert.Equal(0, seg.Offset % 64);
        }
    }

    [Fact]
    public void Truncation_at_every_offset_is_a_format_error()
    {
        var bytes = ModelFile.Write(Small());
        for (int n = 0; n < bytes.Length; n++)
            Assert.Throws<ModelFormatException>(() => ModelFile.Read(bytes[..n]));
    }

    [Fact]
    public void Every_single_byte_change_is_a_format_error()
    {
        var bytes = ModelFile.Write(Small());
        var rng = new Random(42);
        for (int i = 0; i < bytes.Length; i++)
        {
            var copy = (byte[])bytes.Clone();
            copy[i] ^= (byte)(1 + rng.Next(255));
            var e = Record.Exception(() => ModelFile.Read(copy));
            // Padding between sections is not covered by a checksum; every other byte is.
            if (e is null) Assert.True(IsPadding(bytes, i), $"byte {i} changed without an error");
            else Assert.IsType<ModelFormatException>(e);
        }
    }

    static bool IsPadding(byte[] file, int i)
    {
        var r = ModelFile.Read(file);
        int count = BitConverter.ToInt32(file, 8);
        for (int s = 0; s < count; s++)
        {
            long off = BitConverter.ToInt64(file, 64 + s * 32 + 8), len = BitConverter.ToInt64(file, 64 + s * 32 + 16);
            if (i >= off && i < off + len) return false;
        }
        return i >= 64 + count * 32;
    }

    [Fact]
    public void Semantic_bombs_are_refused_before_running()
    {
        var good = Small();
        Expect(m => m.Nodes[0].Inputs[0] = 9999, "out of range");
        Expect(m => m.Nodes[0].Inputs[0] = m.Nodes[^1].Outputs[0], "before any node writes");           // cycle / order
        Expect(m => m.Nodes[1].Outputs[0] = m.Nodes[1].Inputs[0], "already defined");                   // in and out at once
        Expect(m => m.Nodes[0].Attributes.Set("strides", new long[] { 0, 0 }), "stride 0");
        Expect(m => m.Nodes[0].Attributes.Set("group", 0L), "group 0");
        Expect(m => m.Tensors[m.Nodes[0].Outputs[0]].Shape[1] = int.MaxValue, "");
        Expect(m => m.Tensors[m.Nodes[0].Outputs[0]].Shape[2] = -5, "");
        Expect(m => m.Tensors[m.Inputs[0]].Shape[2] = 0, "");

        void Expect(Action<Model> damage, string words)
        {
            var m = ModelFile.Read(ModelFile.Write(good));
            damage(m);
            var e = Assert.Throws<ModelFormatException>(() =>
            {
                ModelValidator.Validate(m);
                using var s = new Session(m, 4);
            });
            Assert.Contains(words, e.Message);
        }
    }

    [Fact]
    public void Npy_round_trip()
    {
        var dir = Fixtures.TempDir();
        var path = Path.Combine(dir, "a.npy");
        float[] data = [1, 2, 3, 4, 5, 6];
        Npy.Write(path, data, [2, 3]);
        var back = Npy.Read(path);
        Assert.Equal([2, 3], back.Shape);
        Assert.Equal(data, back.Floats);
        Assert.Throws<InvalidDataException>(() => Npy.Parse([1, 2, 3]));
    }

    [Fact]
    public void Atomic_save_replaces_the_file_whole()
    {
        var dir = Fixtures.TempDir();
        var path = Path.Combine(dir, "m.enet");
        ModelFile.Save(Small(), path);
        var first = File.ReadAllBytes(path);
        ModelFile.Save(Small(), path);
        Assert.Equal(first, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir));   // no temp file left behind
    }
}
