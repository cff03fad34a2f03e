using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Io;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>The `edgenet` and `edgenet-convert` command lines as a new user meets them: clear one-line errors, the
/// documented exit codes, outputs in their own type and shape, and help that explains every option.</summary>
public class CliTests(ITestOutputHelper output)
{
    public static (int code, string stdout, string stderr) Run(string dll, params string[] args) =>
        Launch("dotnet", [Path.Combine(AppContext.BaseDirectory, dll), .. args]);

    static (int code, string stdout, string stderr) Launch(string file, string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd(), e = err.Result;
        p.WaitForExit();
        return (p.ExitCode, o, e);
    }

    internal static (int code, string stdout, string stderr) Edgenet(params string[] args) => Run("edgenet.dll", args);
    static (int code, string stdout, string stderr) Convert(params string[] args) => Run("edgenet-convert.dll", args);

    /// <summary>One `error:` line, no stack trace, the documented code.</summary>
    static void Refused((int code, string stdout, string stderr) r, int code, string contains)
    {
        Assert.True(r.code == code, $"exit {r.code}, expected {code}: {r.stderr}");
        Assert.StartsWith("error: ", r.stderr);
        Assert.Contains(contains, r.stderr);
        Assert.DoesNotContain("   at ", r.stderr);
    }

    static string Model(string dir, string onnx = "mlp_digits.onnx")
    {
        string path = Path.Combine(dir, Path.ChangeExtension(onnx, ".enet"));
        ModelFile.Save(Fixtures.Convert(Fixtures.Digits(onnx)), path);
        return path;
    }

    [Fact]
    public void Errors_have_one_line_and_the_documented_exit_code()
    {
        var dir = Fixtures.TempDir();
        string model = Model(dir);
        File.WriteAllBytes(Path.Combine(dir, "bad.enet"), [1, 2, 3]);
        Npy.Write(Path.Combine(dir, "x7.npy"), new float[7 * 3], [7, 3]);           // wrong shape
        var nan = new float[2 * 64]; nan[5] = float.NaN;
        Npy.Write(Path.Combine(dir, "nan.npy"), nan, [2, 64]);
        File.WriteAllBytes(Path.Combine(dir, "labels.npy"), Npy.Serialize(new long[] { 0, 99 }, [2]));

        Refused(Edgenet("eval", Path.Combine(dir, "bad.enet"), "--data", Fixtures.Digits("digits_test_x.npy"), "--labels", Fixtures.Digits("digits_test_y.npy")), 3, "");
        Refused(Edgenet("run", model, "--input", Path.Combine(dir, "x7.npy"), "--output", Path.Combine(dir, "y.npy")), 4, "has shape [7,3], not a whole number of samples; the model takes [N,64]");

        var nanRun = Edgenet("run", model, "--input", Path.Combine(dir, "nan.npy"), "--output", Path.Combine(dir, "y.npy"));
        Assert.Equal(0, nanRun.code);                                                  // flagged, not a crash
        Assert.Contains("NaN", nanRun.stderr);

        var labels = Edgenet("finetune", model, "--data", Path.Combine(dir, "nan.npy"), "--labels", Path.Combine(dir, "labels.npy"), "-o", Path.Combine(dir, "out.enet"));
        Assert.Equal(4, labels.code);
        Assert.False(File.Exists(Path.Combine(dir, "out.enet")));

        Assert.Equal(3, Edgenet("inspect", Path.Combine(dir, "nope.enet")).code);
    }

    // ---- issue 12.13: a new user's path ------------------------------------------------------------------------

    [Fact]
    public void Parser_usage_errors_exit_2_as_documented()
    {
        Refused(Edgenet("run", "m.enet"), 2, "'--input' is required");
        Refused(Edgenet("bench", "m.enet", "--no-such-option"), 2, "--no-such-option");
        Refused(Edgenet("no-such-command"), 2, "no-such-command");
        Refused(Convert(), 2, "(see 'edgenet-convert --help')");
        Refused(Convert("inspect"), 2, "(see 'edgenet-convert inspect --help')");
        var drop = Convert("m.onnx", "--max-accuracy-drop", "abc");
        Refused(drop, 2, "--max-accuracy-drop abc: not a number (accuracy points)");
        Assert.DoesNotContain("System.", drop.stderr);
    }

    /// <summary>A value an option's type cannot take is said as the option, the value and what it must be, not as
    /// System.CommandLine's "as expected type 'System.Nullable`1[System.Int32]'".</summary>
    [Theory]
    [InlineData("bench m.enet --cpu abc", "--cpu abc: not a CPU number (0..1023)")]
    [InlineData("bench m.enet --cpu 1.5", "--cpu 1.5: not a CPU number (0..1023)")]
    [InlineData("bench m.enet --iters abc", "--iters abc: not a whole number")]
    [InlineData("bench m.enet --iters 99999999999", "--iters 99999999999: outside -2147483648..2147483647")]
    [InlineData("bench m.enet --threads 2.5", "--threads 2.5: not a whole number")]
    [InlineData("bench m.enet --iters 1e3", "--iters 1e3: not a whole number")]
    [InlineData("bench m.enet --iters -3000000000", "--iters -3000000000: outside -2147483648..2147483647")]
    [InlineData("inspect m.enet --batch x", "--batch x: not a whole number")]
    [InlineData("finetune m.enet --data x.npy --labels y.npy -o o.enet --lr fast", "--lr fast: not a number")]
    [InlineData("imu-dataset -o d --windows many", "--windows many: not a whole number")]
    public void A_value_of_the_wrong_type_is_one_line_without_a_type_name(string args, string message)
    {
        var r = Edgenet(args.Split(' '));
        Refused(r, 2, message);
        Assert.DoesNotContain("System.", r.stderr);
        Assert.Single(r.stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void A_folder_given_as_a_file_is_named_as_a_folder()
    {
        var dir = Fixtures.TempDir();
        string model = Model(dir);
        Refused(Edgenet("inspect", dir), 2, "is a folder");
        Refused(Edgenet("run", model, "--input", dir, "--output", Path.Combine(dir, "y.npy")), 2, "is a folder");
        Refused(Edgenet("run", model, "--input", Fixtures.Digits("digits_test_x.npy"), "--output", dir), 2, "is a folder");
        Refused(Convert(dir, "-o", Path.Combine(dir, "m2.enet")), 2, "is a folder");
    }

    [Fact]
    public void A_missing_output_folder_is_named_before_any_work_and_no_temp_file_shows()
    {
        var dir = Fixtures.TempDir();
        string model = Model(dir), missing = Path.Combine(dir, "no-such-folder", "y.npy");
        var r = Edgenet("run", model, "--input", Fixtures.Digits("digits_test_x.npy"), "--output", missing);
        Refused(r, 2, "does not exist");
        Assert.DoesNotContain(".tmp", r.stderr);
        Refused(Edgenet("finetune", model, "--data", Fixtures.Digits("digits_test_x.npy"), "--labels", Fixtures.Digits("digits_test_y.npy"), "-o", missing), 2, "does not exist");
    }

    [Fact]
    public void Finetune_refuses_an_output_that_names_its_input()
    {
        var dir = Fixtures.TempDir();
        string model = Model(dir);
        var before = File.ReadAllBytes(model);
        Refused(Edgenet("finetune", model, "--data", Fixtures.Digits("digits_test_x.npy"), "--labels", Fixtures.Digits("digits_test_y.npy"), "-o", Path.Combine(dir, ".", Path.GetFileName(model))), 2, "names the input model");
        Assert.Equal(before, File.ReadAllBytes(model));
    }

    [Fact]
    public void Each_tool_points_to_the_other_when_given_the_other_format()
    {
        var dir = Fixtures.TempDir();
        string model = Model(dir);
        Refused(Edgenet("inspect", Fixtures.Digits("mlp_digits.onnx")), 2, "edgenet-convert mlp_digits.onnx -o mlp_digits.enet");
        Refused(Edgenet("run", Fixtures.Digits("mlp_digits.onnx"), "-i", Fixtures.Digits("digits_test_x.npy"), "-o", Path.Combine(dir, "y.npy")), 2, "is an ONNX model");
        Refused(Convert(model, "-o", Path.Combine(dir, "again.enet")), 2, "already an EdgeNet model");
        Assert.False(File.Exists(Path.Combine(dir, "again.enet")));
    }

    // ---- issue 12.9: outputs keep their type and exact shape ---------------------------------------------------

    [Fact]
    public void Run_writes_a_fixed_batch_output_in_its_exact_shape()
    {
        var dir = Fixtures.TempDir();
        var g = new GraphBuilder();
        int x = g.Input("x", 3, 20);
        string model = Path.Combine(dir, "fixed.enet"), input = Path.Combine(dir, "x.npy"), y = Path.Combine(dir, "y.npy");
        ModelFile.Save(g.Build(g.Add(OpType.Relu, [g.Reshape(x, [3, 4, 5])])), model);
        var data = Enumerable.Range(0, 60).Select(i => i - 30f).ToArray();
        Npy.Write(input, data, [3, 20]);
        var r = Edgenet("run", model, "--input", input, "--output", y);
        Assert.True(r.code == 0, r.stderr);
        var got = Npy.Read(y);
        Assert.Equal([3, 4, 5], got.Shape);
        Assert.Equal(data.Select(v => Math.Max(v, 0)).ToArray(), got.Floats);
    }

    [Fact]
    public void Run_writes_an_int8_output_as_int8_and_a_batched_output_with_all_rows()
    {
        var dir = Fixtures.TempDir();
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 6);
        int q = g.Model.AddTensor(new TensorDesc("q", DataType.Int8, [-1, 6]) { Quant = new QuantParams([0.5f], [3], 0) });
        g.Model.Nodes.Add(new Node(OpType.Quantize, "quantize", [x], [q]));
        string model = Path.Combine(dir, "int8-out.enet"), input = Path.Combine(dir, "x.npy"), y = Path.Combine(dir, "y.npy");
        ModelFile.Save(g.Build(q), model);
        var data = Enumerable.Range(0, 5 * 6).Select(i => (i - 15) * 0.7f).ToArray();
        Npy.Write(input, data, [5, 6]);
        var r = Edgenet("run", model, "--input", input, "--output", y, "--batch", "2");   // 3 runs of 2, 2 and 1 rows
        Assert.True(r.code == 0, r.stderr);
        var bytes = File.ReadAllBytes(y);
        Assert.Contains("'descr': '|i1'", System.Text.Encoding.Latin1.GetString(bytes, 0, 128));
        var got = Npy.Read(y);
        Assert.Equal([5, 6], got.Shape);
        Assert.Equal(data.Select(v => (long)Quant.QuantMath.Quantize(v, 0.5f, 3)).ToArray(), got.Longs);
    }

    [Fact]
    public void Session_reads_an_int8_output_as_its_real_values_or_refuses_to_read_it_as_floats()
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 4);
        int q = g.Model.AddTensor(new TensorDesc("q", DataType.Int8, [-1, 4]) { Quant = new QuantParams([0.25f], [-2], 0) });
        g.Model.Nodes.Add(new Node(OpType.Quantize, "quantize", [x], [q]));
        using var s = new Session(g.Build(q), 2);
        var y = new float[8];
        s.Run([0f, 1f, -1f, 0.3f, 100f, -100f, 0.5f, 2f], y);
        Assert.Equal([0f, 1f, -1f, 0.25f, 32.25f, -31.5f, 0.5f, 2f], y);   // ±100 clamp to the int8 range
        Assert.Throws<InvalidOperationException>(() => s.Output().Length);
        Assert.Equal(8, s.OutputBytes().Length);
    }

    [Fact]
    public void A_disposed_session_refuses_inputs_instead_of_writing_into_its_freed_arena()
    {
        var g = new GraphBuilder();
        var s = new Session(g.Build(g.Add(OpType.Relu, [g.Input("x", -1, 4)])), 2);
        s.Dispose();
        Assert.Throws<ObjectDisposedException>(() => s.Run(new float[8], new float[8]));
        Assert.Throws<ObjectDisposedException>(() => s.Input(0, 1).Length);
        Assert.Throws<ObjectDisposedException>(() => s.OutputBytes().Length);
    }

    [Fact]
    public void Atomic_write_into_a_missing_folder_names_the_target_not_the_temp_file()
    {
        string target = Path.Combine(Fixtures.TempDir(), "no-such-folder", "m.enet");
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(target, [1, 2, 3]));
        Assert.Contains($"cannot write '{target}'", e.Message);
        Assert.DoesNotContain(".tmp", e.Message);
    }

    // ---- issue 16.10: one shape rule for data files ------------------------------------------------------------

    [Fact]
    public void Data_files_take_the_input_shape_or_flat_rows_and_nothing_else()
    {
        var input = new TensorDesc("x", DataType.Float32, [-1, 1, 8, 8]);
        Assert.Equal(5, ModelData.Rows([5, 1, 8, 8], input, "data"));
        Assert.Equal(5, ModelData.Rows([5, 64], input, "data"));
        Assert.Contains("holds no rows", Assert.Throws<InvalidDataException>(() => ModelData.Rows([0, 64], input, "data")).Message);
        foreach (var bad in new[] { new[] { 64, 4 }, [8, 32], [4, 8, 8], [320], [5, 1, 8, 8, 1] })
        {
            var e = Assert.Throws<InvalidDataException>(() => ModelData.Rows(bad, input, "data"));
            Assert.Contains("the model takes [N,1,8,8] or flat [N,64]", e.Message);
        }
        var fixedBatch = new TensorDesc("x", DataType.Float32, [3, 4, 5]);
        Assert.Equal(3, ModelData.Rows([3, 4, 5], fixedBatch, "data"));
        Assert.Equal(6, ModelData.Rows([6, 20], fixedBatch, "data"));
        Assert.Throws<InvalidDataException>(() => ModelData.Rows([4, 20], fixedBatch, "data"));
    }

    [Fact]
    public void Every_command_refuses_data_of_another_shape_and_2d_labels()
    {
        var dir = Fixtures.TempDir();
        string cnn = Model(dir, "cnn_digits.onnx"), wrong = Path.Combine(dir, "x64x4.npy"), labels2d = Path.Combine(dir, "y2d.npy");
        Npy.Write(wrong, Fixtures.Floats(Fixtures.Digits("digits_test_x.npy"))[..256], [64, 4]);   // 4 rows of 64 values, mis-shaped
        var y = Fixtures.Longs(Fixtures.Digits("digits_test_y.npy"));
        File.WriteAllBytes(labels2d, Npy.Serialize(y, [y.Length, 1]));
        string x = Fixtures.Digits("digits_test_x.npy"), yPath = Fixtures.Digits("digits_test_y.npy"), o = Path.Combine(dir, "o.enet");

        Refused(Edgenet("run", cnn, "-i", wrong, "-o", Path.Combine(dir, "y.npy")), 4, "has shape [64,4]");
        Refused(Edgenet("eval", cnn, "--data", wrong, "--labels", yPath), 4, "has shape [64,4]");
        Refused(Edgenet("eval", cnn, "--data", x, "--labels", labels2d), 4, "one class index per row");
        Refused(Edgenet("finetune", cnn, "--data", wrong, "--labels", yPath, "-o", o), 4, "has shape [64,4]");
        Refused(Edgenet("finetune", cnn, "--data", x, "--labels", labels2d, "-o", o), 4, "one class index per row");
        Refused(Convert(Fixtures.Digits("cnn_digits.onnx"), "-o", o, "--quantize", "int8", "--calibration", wrong), 4, "has shape [64,4]");
        Assert.False(File.Exists(o));
    }

    // ---- issue 12.14: --verify says what it compares, and checks its input before writing ----------------------

    [Fact]
    public void Verify_input_of_the_wrong_size_is_refused_before_the_model_is_written()
    {
        var dir = Fixtures.TempDir();
        string wrong = Path.Combine(dir, "x.npy"), o = Path.Combine(dir, "m.enet");
        Npy.Write(wrong, new float[3 * 10], [3, 10]);
        Refused(Convert(Fixtures.Digits("mlp_digits.onnx"), "-o", o, "--verify", "--verify-input", wrong), 4, "('x.npy') has shape [3,10]");
        Assert.False(File.Exists(o));
    }

    [Fact]
    public void Verify_of_an_int8_model_says_it_compares_with_the_fp32_onnx_file()
    {
        var dir = Fixtures.TempDir();
        var r = Convert(Fixtures.Digits("mlp_digits.onnx"), "-o", Path.Combine(dir, "m.enet"), "--quantize", "int8",
            "--calibration", Fixtures.Digits("digits_test_x.npy"), "--verify");
        Assert.True(r.code == 0, r.stderr);
        output.WriteLine(r.stdout);
        Assert.Contains("int8 model against ONNX Runtime running the fp32 ONNX file on random inputs in [-1, 1]", r.stdout);
        Assert.Contains("quantization error", r.stdout);
    }

    // ---- issue 12.15: bench --profile adds up --------------------------------------------------------------------

    [Fact]
    public void Bench_profile_node_times_add_up_to_about_the_p50()
    {
        var dir = Fixtures.TempDir();
        var r = Edgenet("bench", Model(dir, "cnn_digits.onnx"), "--iters", "400", "--profile");
        Assert.True(r.code == 0, r.stderr);
        output.WriteLine(r.stdout);
        double p50 = double.Parse(Regex.Match(r.stdout, @"p50 ([\d.]+) µs").Groups[1].Value, CultureInfo.InvariantCulture);
        double nodes = double.Parse(Regex.Match(r.stdout, @"all nodes \(medians\)\s+([\d.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        // Medians on both sides, so a loaded machine moves both; without the warm-up the nodes sum to 2-4x the p50.
        Assert.InRange(nodes / p50, 0.5, 1.5);
    }

    // ---- issue 18: bench --placement (where the buffers land, for 4K aliasing) -------------------------------------

    [Fact]
    public void Bench_placement_prints_each_buffer_offset_within_its_page()
    {
        var dir = Fixtures.TempDir();
        var r = Edgenet("bench", Model(dir, "cnn_digits.onnx"), "--iters", "5", "--placement");
        Assert.True(r.code == 0, r.stderr);
        output.WriteLine(r.stdout);
        var m = Regex.Match(r.stdout, @"placement \(address mod 4096\): arena 0x([0-9a-f]{3}), constants 0x([0-9a-f]{3}), input 0x([0-9a-f]{3}), output 0x([0-9a-f]{3}); (\d+) other native buffers, (\d+) of >= 4 KiB at((?: 0x[0-9a-f]{3})*)");
        Assert.True(m.Success, r.stdout);
        // NativeBuffer aligns to 64 bytes, and the planner places tensors at multiples of 64 in the arena.
        for (int g = 1; g <= 4; g++) Assert.Equal(0, int.Parse(m.Groups[g].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture) % 64);
        int packed = int.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture), big = int.Parse(m.Groups[6].Value, CultureInfo.InvariantCulture);
        Assert.True(packed > 0, "the conv's packed weights and bias are native buffers");
        Assert.InRange(big, 0, packed);
        Assert.Equal(big, m.Groups[7].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.DoesNotContain("placement", Edgenet("bench", Model(dir, "cnn_digits.onnx"), "--iters", "5").stdout);
    }

    // ---- issue 18: bench --cpu (the timing thread on one CPU: a VM's vCPUs differ in speed) ---------------------------

    [Fact]
    public void Bench_cpu_times_on_the_cpu_given_or_refuses_one_it_may_not_run_on()
    {
        var dir = Fixtures.TempDir();
        string model = Model(dir, "cnn_digits.onnx");
        if (!OperatingSystem.IsLinux()) { Refused(Edgenet("bench", model, "--iters", "5", "--cpu", "0"), 2, "Linux only"); return; }
        // The first CPU this process may run on (a container's cpuset need not hold CPU 0).
        string allowed = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
        string first = Regex.Match(allowed, @"\d+").Value;
        var r = Edgenet("bench", model, "--iters", "5", "--cpu", first);
        Assert.True(r.code == 0, r.stderr);
        Assert.Contains("p50 ", r.stdout);
        Assert.Contains($"timing thread's CPUs: {first}\n", r.stdout);   // the thread's mask as read back: that one CPU
        Assert.DoesNotContain("timing thread", Edgenet("bench", model, "--iters", "5").stdout);
        Refused(Edgenet("bench", model, "--iters", "5", "--cpu", "1023"), 2, "--cpu 1023: not a CPU this process may run on");
        Refused(Edgenet("bench", model, "--iters", "5", "--cpu", "-1"), 2, "--cpu -1: not a CPU number (0..1023)");
        Refused(Edgenet("bench", model, "--iters", "5", "--cpu", "abc"), 2, "--cpu abc: not a CPU number (0..1023)");
    }

    /// <summary>A CPU the process was started without (`taskset -c A ... --cpu B`) is refused before the model is loaded:
    /// sched_setaffinity would let the timing thread leave the process's mask (it timed on B).</summary>
    [Fact]
    public void Bench_cpu_refuses_a_cpu_outside_the_process_affinity()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/taskset")) Assert.Skip("Linux with taskset");
        var allowed = Regex.Matches(File.ReadLines("/proc/self/status").First(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)), @"\d+").Select(m => m.Value).ToArray();
        // Cpus_allowed_list "0-1" or "0,1": its first two numbers are two CPUs this process may run on.
        if (allowed.Length < 2) Assert.Skip("one CPU allowed");
        string a = allowed[0], b = allowed[1];
        var dir = Fixtures.TempDir();
        string model = Model(dir, "cnn_digits.onnx");
        var r = Launch("taskset", ["-c", a, "dotnet", Path.Combine(AppContext.BaseDirectory, "edgenet.dll"), "bench", model, "--iters", "5", "--cpu", b]);
        Refused(r, 2, $"--cpu {b}: not a CPU this process may run on (it may run on {a})");
        Assert.DoesNotContain("p50", r.stdout);
    }

    // ---- issue 12.16: help texts ---------------------------------------------------------------------------------

    [Theory]
    [InlineData("edgenet.dll", "finetune")]
    [InlineData("edgenet.dll", "train")]
    [InlineData("edgenet.dll", "run")]
    [InlineData("edgenet.dll", "eval")]
    [InlineData("edgenet.dll", "bench")]
    [InlineData("edgenet-convert.dll", "")]
    [InlineData("edgenet-convert.dll", "inspect")]
    public void Help_describes_every_option(string dll, string command)
    {
        var r = Run(dll, [.. command.Length > 0 ? new[] { command } : [], "--help"]);
        Assert.Equal(0, r.code);
        var options = r.stdout.Split('\n').SkipWhile(l => !l.StartsWith("Options:", StringComparison.Ordinal)).Skip(1).TakeWhile(l => l.Length > 0)
            .Where(l => l.TrimStart().StartsWith('-'));   // not the wrapped continuation of a description
        foreach (var line in options)
        {
            var m = Regex.Match(line, @"^\s+(?:-\S+, )*--?[\w?-]+(?: <[^>]+>)?(?: \(REQUIRED\))?\s*(.*)$");
            string description = Regex.Replace(m.Groups[1].Value, @"\[default: [^\]]*\]", "").Trim();
            Assert.True(m.Success && description.Length > 0, $"'{command}': no description: '{line.Trim()}'");
        }
        Assert.DoesNotContain("gamma", r.stdout);
        if (command == "inspect") Assert.DoesNotContain("<model>", r.stdout);
    }

    [Fact]
    public void Inspect_of_a_trained_model_shows_no_empty_converter_version()
    {
        var m = Training.ModelSpec.Build("dense:4", [3], 0, Training.ModelSpec.Init.Torch);
        var text = ModelSummary.Describe(m);
        Assert.DoesNotContain("(converter )", text);
        Assert.DoesNotContain("()", text);
    }

    /// <summary>The CLI runs without the background GC (its csproj says why: repeatable instruction counts of
    /// `edgenet run`); the setting travels in the runtimeconfig the JIT build reads and NativeAOT compiles in.</summary>
    [Fact]
    public void Cli_runs_without_the_background_gc()
    {
        var config = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "edgenet.runtimeconfig.json"));
        Assert.Matches("\"System.GC.Concurrent\":\\s*false", config);
    }
}
