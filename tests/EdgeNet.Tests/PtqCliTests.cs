using System.Diagnostics;
using EdgeNet.Io;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>`edgenet-convert --quantize int8` as a user runs it: calibration data it must refuse, and an accuracy
/// budget that only the fp32 model meets.</summary>
public class PtqCliTests(ITestOutputHelper output)
{
    static string Mlp => Fixtures.Digits("mlp_digits.onnx");

    (int code, string stdout, string stderr) Convert(params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "edgenet-convert.dll"), .. args]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        output.WriteLine($"exit {p.ExitCode}\n{o}{err.Result}");
        return (p.ExitCode, o, err.Result);
    }

    /// <summary>All NaN, all infinity, one NaN, no rows, or a size that is not whole samples: exit 4, one line, no file.</summary>
    [Theory]
    [InlineData("nan", "non-finite value at row 0")]
    [InlineData("inf", "non-finite value at row 0")]
    [InlineData("one-nan", "non-finite value at row 3")]
    [InlineData("empty", "holds no rows")]
    [InlineData("partial", "not a whole number of samples")]
    public void Calibration_data_that_cannot_calibrate_is_refused(string kind, string message)
    {
        var dir = Fixtures.TempDir();
        string calib = Path.Combine(dir, "calib.npy"), outFile = Path.Combine(dir, "m.enet");
        var rows = Fixtures.Floats(Fixtures.Digits("digits_test_x.npy"))[..(8 * 64)];
        switch (kind)
        {
            case "nan": Array.Fill(rows, float.NaN); Npy.Write(calib, rows, [8, 64]); break;
            case "inf": Array.Fill(rows, float.PositiveInfinity); Npy.Write(calib, rows, [8, 64]); break;
            case "one-nan": rows[3 * 64 + 5] = float.NaN; Npy.Write(calib, rows, [8, 64]); break;
            case "empty": Npy.Write(calib, Array.Empty<float>(), [0, 64]); break;
            case "partial": Npy.Write(calib, rows[..100], [100]); break;
        }
        var (code, _, stderr) = Convert(Mlp, "-o", outFile, "--quantize", "int8", "--calibration", calib);
        Assert.Equal(4, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("error: --calibration calib.npy: calibration data", stderr);
        Assert.Contains(message, stderr);
        Assert.False(File.Exists(outFile));
    }

    /// <summary>
    /// Calibrated on rows a hundredth of the real ones, every int8 layer clips: the budget is met only with every layer
    /// in fp32. That is refused (exit 4, one line, the SQNR table printed, nothing written) unless
    /// --accept-fp32-fallback asks for the fp32 model.
    /// </summary>
    [Fact]
    public void An_accuracy_budget_only_fp32_meets_is_refused_unless_accepted()
    {
        var dir = Fixtures.TempDir();
        string calib = Path.Combine(dir, "calib.npy"), outFile = Path.Combine(dir, "m.enet");
        var rows = Fixtures.Floats(Fixtures.Digits("digits_test_x.npy"))[..(64 * 64)].Select(v => v / 100).ToArray();
        Npy.Write(calib, rows, [64, 64]);
        string[] args = [Mlp, "-o", outFile, "--quantize", "int8", "--calibration", calib, "--max-accuracy-drop", "0.5",
                         "--eval-data", Fixtures.Digits("digits_test_x.npy"), "--eval-labels", Fixtures.Digits("digits_test_y.npy")];
        var (code, stdout, stderr) = Convert(args);
        Assert.Equal(4, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("budget is met only with every layer in fp32", stderr);
        Assert.Contains("--accept-fp32-fallback", stderr);
        int table = stdout.IndexOf("per-layer SQNR", StringComparison.Ordinal);
        Assert.True(table >= 0, "no SQNR table");
        Assert.Equal(3, stdout[table..].Split('\n').Count(l => l.StartsWith("  ")));   // a row for each of the MLP's three Dense layers
        Assert.False(File.Exists(outFile));

        (code, stdout, _) = Convert([.. args, "--accept-fp32-fallback"]);
        Assert.Equal(0, code);
        Assert.Contains("warning: --max-accuracy-drop 0.5", stdout);
        var written = Format.ModelFile.Load(outFile);
        Assert.DoesNotContain(written.Tensors, t => t.Type == Format.DataType.Int8);
    }
}
