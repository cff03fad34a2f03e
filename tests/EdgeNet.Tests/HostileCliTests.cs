using EdgeNet.Format;
using EdgeNet.Io;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>Issue 16 items 2, 4 and 11 at the command line: hostile files and numbers in every entry point give one
/// `error:` line naming the file and the documented exit code (3 model, 4 data, 2 usage), without allocating GBs.</summary>
public class HostileCliTests
{
    static (int code, string stdout, string stderr) Edgenet(params string[] args) => CliTests.Edgenet(args);

    static void OneLine((int code, string stdout, string stderr) r, int code, string words)
    {
        Assert.True(r.code == code, $"exit {r.code}, expected {code}: {r.stderr}");
        Assert.StartsWith("error: ", r.stderr);
        Assert.Single(r.stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains(words, r.stderr);
        Assert.DoesNotContain("(Parameter", r.stderr);
    }

    [Fact]
    public void Devices_and_fifos_as_data_or_model_in_every_command()
    {
        var dir = Fixtures.TempDir();
        string model = Path.Combine(dir, "m.enet"), outFile = Path.Combine(dir, "out.enet");
        ModelFile.Save(Fixtures.Convert(Fixtures.Digits("mlp_digits.onnx")), model);
        string fifo = HostileFileTests.Fifo(dir);
        string x = Fixtures.Digits("digits_test_x.npy"), y = Fixtures.Digits("digits_test_y.npy");
        foreach (var bad in new[] { "/dev/zero", fifo })
        {
            OneLine(Edgenet("run", model, "--input", bad, "-o", Path.Combine(dir, "y.npy")), 4, $"'{bad}': is not a regular file");
            OneLine(Edgenet("eval", model, "--data", bad, "--labels", y), 4, bad);
            OneLine(Edgenet("eval", model, "--data", x, "--labels", bad), 4, bad);
            OneLine(Edgenet("finetune", model, "--data", bad, "--labels", y, "-o", outFile), 4, bad);
            OneLine(Edgenet("train", "--arch", "dense:10", "--input-shape", "64", "--data", x, "--labels", bad, "-o", outFile), 4, bad);
            OneLine(Edgenet("run", bad, "--input", x, "-o", Path.Combine(dir, "y.npy")), 3, $"'{bad}': is not a regular file");
            OneLine(Edgenet("finetune", bad, "--data", x, "--labels", y, "-o", outFile), 3, bad);
        }
        Assert.False(File.Exists(outFile));
    }

    [Fact]
    public void Numbers_out_of_range_are_usage_errors()
    {
        var dir = Fixtures.TempDir();
        string model = Path.Combine(dir, "m.enet"), outFile = Path.Combine(dir, "out.enet");
        ModelFile.Save(Fixtures.Convert(Fixtures.Digits("mlp_digits.onnx")), model);
        string x = Fixtures.Digits("digits_test_x.npy"), y = Fixtures.Digits("digits_test_y.npy");
        OneLine(Edgenet("run", model, "--input", x, "-o", Path.Combine(dir, "y.npy"), "--batch", "2147483647"), 2, "--batch 2147483647 is outside 1..");
        OneLine(Edgenet("train", "--arch", "dense:10", "--input-shape", "2147483647", "--data", x, "--labels", y, "-o", outFile), 2, "--input-shape '2147483647' has more than");
        OneLine(Edgenet("train", "--arch", "dense:10", "--input-shape", "64x-1", "--data", x, "--labels", y, "-o", outFile), 2, "--input-shape");
        OneLine(Edgenet("train", "--arch", "", "--input-shape", "64", "--data", x, "--labels", y, "-o", outFile), 2, "no layer with weights");
        OneLine(Edgenet("train", "--arch", "relu", "--input-shape", "64", "--data", x, "--labels", y, "-o", outFile), 2, "no layer with weights");
        OneLine(Edgenet("train", "--arch", "dense:2147483647", "--input-shape", "64", "--data", x, "--labels", y, "-o", outFile), 2, "the limit is 16777216 per layer");
        OneLine(Edgenet("finetune", model, "--data", x, "--labels", y, "-o", outFile, "--lr", "NaN"), 2, "--lr NaN must be a finite number");
        OneLine(Edgenet("finetune", model, "--data", x, "--labels", y, "-o", outFile, "--label-smoothing", "1"), 2, "--label-smoothing 1 must be below 1");
        Assert.False(File.Exists(outFile));
    }

    /// <summary>`finetune --batch 2147483647` on 4 rows trains with a batch of 4: its peak training memory is the
    /// 4-row figure, not gigabytes.</summary>
    [Fact]
    public void Finetune_batch_is_clamped_to_the_rows()
    {
        var dir = Fixtures.TempDir();
        string model = Path.Combine(dir, "m.enet"), outFile = Path.Combine(dir, "out.enet");
        ModelFile.Save(Fixtures.Convert(Fixtures.Digits("mlp_digits.onnx")), model);
        var x = Fixtures.Floats(Fixtures.Digits("digits_test_x.npy"))[..(4 * 64)];
        var y = Fixtures.Longs(Fixtures.Digits("digits_test_y.npy"))[..4];
        Npy.Write(Path.Combine(dir, "x.npy"), x, [4, 64]);
        File.WriteAllBytes(Path.Combine(dir, "y.npy"), Npy.Serialize(y, [4]));
        long Peak(string batch)
        {
            var r = Edgenet("finetune", model, "--data", Path.Combine(dir, "x.npy"), "--labels", Path.Combine(dir, "y.npy"), "-o", outFile, "--epochs", "1", "--batch", batch, "--verbose");
            Assert.True(r.code == 0, r.stderr);
            var line = r.stdout.Split('\n').Single(l => l.StartsWith("peak training memory: ", StringComparison.Ordinal));
            return long.Parse(line["peak training memory: ".Length..].Split(' ')[0].Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);
        }
        long four = Peak("4");
        Assert.Equal(four, Peak("2147483647"));
        Assert.Equal(four, Peak("1000000"));
    }
}
