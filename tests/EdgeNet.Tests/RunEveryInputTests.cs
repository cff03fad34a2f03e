using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Io;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>`edgenet run` with every graph input (NAME=FILE, dtype conversions that cannot change a value) and every
/// output (--output-dir DIR/&lt;k&gt;_&lt;name&gt;.npy).</summary>
public class RunEveryInputTests
{
    /// <summary>y = a + b and out:1 = relu(a), over inputs a [N,3] and b [N,3].</summary>
    static string TwoByTwo(string dir)
    {
        var g = new GraphBuilder();
        int a = g.Input("a", -1, 3), b = g.Input("b", -1, 3);
        int sum = g.Add(OpType.Add, [a, b], name: "y");
        int relu = g.Add(OpType.Relu, [a], name: "out");
        string path = Path.Combine(dir, "two.enet");
        ModelFile.Save(g.Build(sum, relu), path);
        return path;
    }

    static (int code, string stdout, string stderr) Edgenet(params string[] args) => CliTests.Run("edgenet.dll", args);

    [Fact]
    public void Every_input_by_name_and_every_output_in_the_folder_in_graph_order()
    {
        string dir = Fixtures.TempDir(), model = TwoByTwo(dir), outDir = Path.Combine(dir, "out");
        float[] a = [-1, 2, -3, 4, -5, 6, 7, -8, 9, 10], b = [1, 1, 1, 2, 2, 2, 3, 3, 3, 4];
        Npy.Write(Path.Combine(dir, "a.npy"), a[..9], [3, 3]);
        Npy.Write(Path.Combine(dir, "b.npy"), b[..9], [3, 3]);
        var r = Edgenet("run", model, "--input", $"b={Path.Combine(dir, "b.npy")}", "--input", Path.Combine(dir, "a.npy"), "--output-dir", outDir, "--batch", "2");
        Assert.True(r.code == 0, r.stderr);
        Assert.Equal(["0_y_0.npy", "1_out_0.npy"], Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var y = Npy.Read(Path.Combine(outDir, "0_y_0.npy"));
        Assert.Equal([3, 3], y.Shape);
        Assert.Equal(a[..9].Zip(b[..9], (p, q) => p + q), y.Floats!);
        Assert.Equal(a[..9].Select(v => Math.Max(v, 0f)), Npy.Read(Path.Combine(outDir, "1_out_0.npy")).Floats!);
    }

    /// <summary>An output named with 300 characters (TensorFlow exports such as M-LSD's join the fused ops' names) is
    /// written under its first 120: the whole name is longer than a file name may be.</summary>
    [Fact]
    public void An_output_with_a_very_long_name_is_written_under_a_cut_name()
    {
        string dir = Fixtures.TempDir(), model = Path.Combine(dir, "long.enet"), outDir = Path.Combine(dir, "out");
        string name = string.Concat(Enumerable.Repeat("Decoder/fpn/upblock/conv_bn_act/", 10))[..300];
        var g = new GraphBuilder();
        int a = g.Input("a", -1, 3);
        ModelFile.Save(g.Build(g.Add(OpType.Relu, [a], name: name)), model);
        Npy.Write(Path.Combine(dir, "a.npy"), new float[] { -1, 2, 3 }, [1, 3]);
        var r = Edgenet("run", model, "--input", Path.Combine(dir, "a.npy"), "--output-dir", outDir);
        Assert.True(r.code == 0, r.stderr);
        string file = Assert.Single(Directory.GetFiles(outDir).Select(Path.GetFileName))!;
        Assert.Equal("0_" + name.Replace('/', '_')[..ModelFeeds.MaxOutputNameChars] + ".npy", file);
        Assert.Equal([0f, 2, 3], Npy.Read(Path.Combine(outDir, file)).Floats!);
    }

    [Fact]
    public void Float64_converts_with_a_note_and_anything_lossy_or_missing_is_refused()
    {
        string dir = Fixtures.TempDir(), model = TwoByTwo(dir), y = Path.Combine(dir, "y.npy");
        string a = Path.Combine(dir, "a.npy"), b64 = Path.Combine(dir, "b64.npy"), ints = Path.Combine(dir, "ints.npy"), b4 = Path.Combine(dir, "b4.npy");
        Npy.Write(a, new float[6], [2, 3]);
        File.WriteAllBytes(b64, Npy.Serialize(System.Runtime.InteropServices.MemoryMarshal.AsBytes(new double[] { 1, 2, 3, 4, 5, 6 }.AsSpan()), "<f8", [2, 3]));
        File.WriteAllBytes(ints, Npy.Serialize(new long[6], [2, 3]));
        Npy.Write(b4, new float[12], [4, 3]);

        var ok = Edgenet("run", model, "--input", $"a={a}", "--input", $"b={b64}", "--output", y);
        Assert.True(ok.code == 0, ok.stderr);
        Assert.Contains("f8 array converted to Float32", ok.stderr);
        Assert.Contains("--output-dir", ok.stdout);   // the note that more outputs exist
        Assert.Equal([1f, 2, 3, 4, 5, 6], Npy.Read(y).Floats!);

        Refused(Edgenet("run", model, "--input", $"a={a}", "--input", $"b={ints}", "--output", y), 4, "integers are not converted to floats");
        Refused(Edgenet("run", model, "--input", $"a={a}", "--output", y), 2, "no --input for 'b'");
        Refused(Edgenet("run", model, "--input", a, "--input", b64, "--output", y), 2, "names no input");
        Refused(Edgenet("run", model, "--input", $"a={a}", "--input", $"b={b4}", "--output", y), 4, "different numbers of rows");
        Refused(Edgenet("run", model, "--input", $"a={a}", "--input", $"b={a}"), 2, "--output-dir");
    }

    static void Refused((int code, string stdout, string stderr) r, int code, string contains)
    {
        Assert.True(r.code == code, $"exit {r.code}, expected {code}: {r.stderr}");
        Assert.StartsWith("error: ", r.stderr);
        Assert.Contains(contains, r.stderr);
        Assert.DoesNotContain("   at ", r.stderr);
    }
}
