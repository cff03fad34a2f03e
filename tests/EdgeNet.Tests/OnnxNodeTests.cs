using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using EdgeNet.Converter;
using EdgeNet.Converter.Onnx;
using EdgeNet.Engine;
using EdgeNet.Format;
using Google.Protobuf;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// ONNX's backend node tests (../shared/onnx-node-tests, the suite ONNX Runtime is judged by) for the ops of the
/// "one op table" issue: each test's model converted (weight-like inputs made initializers, as an exported model
/// holds them), run, and compared with ONNX's tolerance (rtol 1e-3, atol 1e-7) after the shape. A test passes,
/// is refused cleanly (one ModelFormatException: the op or form is not supported), or fails: a wrong result or a
/// crash (any other exception) — none allowed. The table per op goes to the test output and, with
/// EDGENET_WRITE_OPERATORS=path/to/docs/operators.md, into that file between its conformance markers.
/// </summary>
public class OnnxNodeTests(ITestOutputHelper output)
{
    /// <summary>The ops the issue lists (unary, binary/variadic, reductions, normalization, data movement, convolution family, If).</summary>
    static readonly string[] Ops =
    [
        "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Erf", "Gelu", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan", "Asin", "Acos",
        "Atan", "Sinh", "Cosh", "Elu", "Selu", "Celu", "Softplus", "Softsign", "Mish", "HardSigmoid", "HardSwish", "Swish", "ThresholdedRelu", "Shrink",
        "PRelu", "Not", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip",
        "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual",
        "And", "Or", "Xor", "Where",
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp",
        "ArgMax", "ArgMin", "TopK", "CumSum", "Softmax", "LogSoftmax", "Hardmax",
        "LayerNormalization", "InstanceNormalization", "GroupNormalization", "LRN", "BatchNormalization",
        "Split", "Pad", "Resize", "Upsample", "Tile", "Expand", "Gather", "GatherElements", "DepthToSpace", "SpaceToDepth", "Trilu", "Range",
        "Cast", "Shape", "Size", "ConstantOfShape", "Einsum",
        "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "MatMul", "Gemm",
        "If", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Slice", "Identity", "Dropout", "LSTM", "GRU", "RNN",
    ];

    /// <summary>Ops whose every input carries activations in real models; the others keep only input 0 as a graph input.</summary>
    static readonly HashSet<string> AllInputsAreData =
    [
        "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual",
        "And", "Or", "Xor", "Where", "MatMul", "Concat", "Einsum",
    ];

    static readonly HashSet<int> DataTypes = [1, 6, 7, 9, 3, 2];   // float, int32, int64, bool, int8, uint8

    enum Outcome { Pass, Refused, Wrong, Crash }

    static string? SharedTgz()
    {
        if (Environment.GetEnvironmentVariable("EDGENET_SHARED") is { Length: > 0 } env) return Path.Combine(env, "onnx-node-tests", "node-tests.tgz");
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "shared", "onnx-node-tests", "node-tests.tgz");
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>Unpacks the suite once per machine into the temp folder (a complete copy is renamed into place).</summary>
    static string Unpack(string tgz)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"edgenet-onnx-node-tests-{new FileInfo(tgz).Length}");
        if (Directory.Exists(dir)) return dir;
        var tmp = dir + "." + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(tmp);
        using (var gz = new GZipStream(File.OpenRead(tgz), CompressionMode.Decompress)) TarFile.ExtractToDirectory(gz, tmp, overwriteFiles: true);
        try { Directory.Move(tmp, dir); } catch (IOException) { Directory.Delete(tmp, true); }   // another run won the race
        return dir;
    }

    static IEnumerable<string> TestDirs(string root) =>
        Directory.EnumerateDirectories(root, "test_*", SearchOption.AllDirectories)
            .Where(d => File.Exists(Path.Combine(d, "model.onnx")) && !d.EndsWith("_expanded", StringComparison.Ordinal) && !d.Contains("_expanded_ver", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    static TensorProto ReadTensor(string path) => TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));

    [Fact]
    public void Conformance_of_the_listed_ops()
    {
        var tgz = SharedTgz();
        if (tgz is null) Assert.Skip("../shared/onnx-node-tests/node-tests.tgz is not present");
        var root = Unpack(tgz);
        var results = new SortedDictionary<string, int[]>(StringComparer.Ordinal);
        var bad = new List<string>();
        var work = Fixtures.TempDir();
        // While working on ops: EDGENET_NODE_TESTS_OPS=Equal,Where runs only those; EDGENET_NODE_TESTS_LOG=file lists every outcome.
        var only = Environment.GetEnvironmentVariable("EDGENET_NODE_TESTS_OPS") is { Length: > 0 } o ? o.Split(',').ToHashSet() : null;
        var log = new StringBuilder();
        foreach (var dir in TestDirs(root))
        {
            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "model.onnx")));
            if (model.Graph.Node.Count == 0) continue;
            string op = model.Graph.Node[^1].OpType;
            if (!Ops.Contains(op) || (only is not null && !only.Contains(op))) continue;
            var set = Path.Combine(dir, "test_data_set_0");
            var inputs = model.Graph.Input.Select((_, i) => ReadTensor(Path.Combine(set, $"input_{i}.pb"))).ToArray();
            var expected = model.Graph.Output.Select((_, i) => ReadTensor(Path.Combine(set, $"output_{i}.pb"))).ToArray();
            if (inputs.Concat(expected).Any(t => !DataTypes.Contains(t.DataType))) continue;   // float64, float16, strings...: not in scope
            var (outcome, why) = Run(model, op, inputs, expected, Path.Combine(work, Path.GetFileName(dir) + ".onnx"));
            if (!results.TryGetValue(op, out var counts)) results[op] = counts = new int[4];
            counts[(int)outcome]++;
            if (outcome is Outcome.Wrong or Outcome.Crash) bad.Add($"{Path.GetFileName(dir)}: {outcome}: {why}");
            log.AppendLine($"{Path.GetFileName(dir)}: {outcome}: {why}");
        }
        if (Environment.GetEnvironmentVariable("EDGENET_NODE_TESTS_LOG") is { Length: > 0 } logPath) File.WriteAllText(logPath, log.ToString());
        int total = results.Values.Sum(c => c.Sum()), pass = results.Values.Sum(c => c[0]), refused = results.Values.Sum(c => c[1]);
        var table = Table(results, total, pass, refused);
        output.WriteLine(table);
        if (Environment.GetEnvironmentVariable("EDGENET_WRITE_OPERATORS") is { Length: > 0 } doc && only is null) WriteInto(doc, table);
        if (only is null) Assert.True(total > 500, $"only {total} tests found under {root}");
        Assert.True(bad.Count == 0, $"{bad.Count} wrong results or crashes:\n" + string.Join("\n", bad));
    }

    (Outcome, string) Run(ModelProto model, string op, TensorProto[] inputs, TensorProto[] expected, string path)
    {
        // Weight-like inputs become initializers holding the test's values (the shape of an exported model).
        var feeds = new List<(int Index, TensorProto Value)>();
        for (int i = model.Graph.Input.Count - 1; i >= 0; i--)
        {
            if (i == 0 || AllInputsAreData.Contains(op)) { feeds.Insert(0, (i, inputs[i])); continue; }
            var init = inputs[i].Clone();
            init.Name = model.Graph.Input[i].Name;
            model.Graph.Initializer.Add(init);
            model.Graph.Input.RemoveAt(i);
        }
        File.WriteAllBytes(path, model.ToByteArray());
        Model m;
        Session s;
        try
        {
            m = OnnxImporter.Convert(path);
            s = new Session(m, 1);
        }
        catch (ModelFormatException e) { return (Outcome.Refused, e.Message); }
        catch (Exception e) { return (Outcome.Crash, $"{e.GetType().Name}: {e.Message}"); }
        using (s)
        {
            try
            {
                if (m.Inputs.Count != feeds.Count) return (Outcome.Refused, $"{m.Inputs.Count} graph inputs for {feeds.Count} fed");
                for (int k = 0; k < feeds.Count; k++)
                {
                    var type = s.InputType(k);
                    if (OnnxTypes.Onnx(type) != feeds[k].Value.DataType) return (Outcome.Wrong, $"input {k} is {type}, the test feeds ONNX type {feeds[k].Value.DataType}");
                    var data = RawBytes(feeds[k].Value);
                    var dst = s.InputBytes(k, 1);
                    if (dst.Length != data.Length) return (Outcome.Wrong, $"input {k}: {dst.Length} bytes, the test has {data.Length}");
                    data.AsSpan().CopyTo(dst);
                }
                s.Run(1);
                if (m.Outputs.Count != expected.Length) return (Outcome.Wrong, $"{m.Outputs.Count} outputs, expected {expected.Length}");
                for (int k = 0; k < expected.Length; k++)
                {
                    var shape = s.OutputShape(k).ToArray();
                    var wantShape = expected[k].Dims.Select(d => (int)d).ToArray();
                    if (!shape.SequenceEqual(wantShape)) return (Outcome.Wrong, $"output {k}: shape {Shape.Format(shape)}, expected {Shape.Format(wantShape)}");
                    var type = s.OutputType(k);
                    if (OnnxTypes.Onnx(type) != expected[k].DataType) return (Outcome.Wrong, $"output {k}: {type}, expected ONNX type {expected[k].DataType}");
                    if (type != DataType.Float32)
                    {
                        // integers and bools: exactly
                        var wantBytes = RawBytes(expected[k]);
                        var gotBytes = s.OutputBytes(k);
                        int size = EdgeNet.Format.DataTypes.SizeOf(type);
                        for (int j = 0; j < wantBytes.Length; j += size)
                            if (!gotBytes.Slice(j, size).SequenceEqual(wantBytes.AsSpan(j, size)))
                                return (Outcome.Wrong, $"output {k}[{j / size}]: {Show(gotBytes.Slice(j, size), type)}, expected {Show(wantBytes.AsSpan(j, size), type)}");
                        continue;
                    }
                    var want = Values(expected[k]);
                    var got = s.Output(k);
                    for (int j = 0; j < want.Length; j++)
                    {
                        float a = got[j], e = want[j];
                        bool ok = a == e || (float.IsNaN(a) && float.IsNaN(e)) || Math.Abs(a - e) <= 1e-7 + 1e-3 * Math.Abs(e);
                        if (!ok) return (Outcome.Wrong, $"output {k}[{j}]: {a}, expected {e}");
                    }
                }
                return (Outcome.Pass, "");
            }
            catch (ModelFormatException e) { return (Outcome.Refused, e.Message); }
            catch (Exception e) { return (Outcome.Crash, $"{e.GetType().Name}: {e.Message}"); }
        }
    }

    /// <summary>A test tensor's elements as little-endian bytes of its own type (as a session's buffer holds them).</summary>
    static byte[] RawBytes(TensorProto t)
    {
        if (t.RawData.Length > 0) return t.RawData.ToByteArray();
        var ms = new MemoryStream();
        switch (t.DataType)
        {
            case 1: foreach (var v in t.FloatData) ms.Write(BitConverter.GetBytes(v)); break;
            case 7: foreach (var v in t.Int64Data) ms.Write(BitConverter.GetBytes(v)); break;
            case 6: foreach (var v in t.Int32Data) ms.Write(BitConverter.GetBytes(v)); break;
            default: foreach (var v in t.Int32Data) ms.WriteByte((byte)v); break;   // bool, int8, uint8: one byte each
        }
        return ms.ToArray();
    }

    static string Show(ReadOnlySpan<byte> b, DataType t) => t switch
    {
        DataType.Int64 => BitConverter.ToInt64(b).ToString(), DataType.Int32 => BitConverter.ToInt32(b).ToString(),
        DataType.Int8 => ((sbyte)b[0]).ToString(), _ => b[0].ToString(),
    };

    /// <summary>A float32 test tensor's values.</summary>
    static float[] Values(TensorProto t)
    {
        if (t.RawData.Length > 0)
            return t.DataType switch
            {
                1 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray(),
                6 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(t.RawData.Span).ToArray().Select(v => (float)v).ToArray(),
                7 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray().Select(v => (float)v).ToArray(),
                3 => t.RawData.Span.ToArray().Select(v => (float)(sbyte)v).ToArray(),
                _ => t.RawData.Span.ToArray().Select(v => (float)v).ToArray(),   // bool, uint8
            };
        return t.DataType switch
        {
            1 => t.FloatData.ToArray(),
            7 => t.Int64Data.Select(v => (float)v).ToArray(),
            _ => t.Int32Data.Select(v => (float)(t.DataType == 3 ? (sbyte)v : v)).ToArray(),
        };
    }

    static string Table(SortedDictionary<string, int[]> results, int total, int pass, int refused)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"ONNX backend node tests of the listed ops (non-expanded; float32, int64, int32, bool, int8, uint8 data): **{pass} of {total} pass**, {refused} refused cleanly, {total - pass - refused} wrong or crashed.");
        sb.AppendLine();
        sb.AppendLine("| ONNX op | tests | pass | refused |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var (op, c) in results) sb.AppendLine($"| {op} | {c.Sum()} | {c[0]} | {c[1]} |");
        return sb.ToString();
    }

    const string Begin = "<!-- onnx-node-tests: begin (OnnxNodeTests writes this) -->", End = "<!-- onnx-node-tests: end -->";

    static void WriteInto(string doc, string table)
    {
        var text = File.ReadAllText(doc);
        int a = text.IndexOf(Begin, StringComparison.Ordinal), b = text.IndexOf(End, StringComparison.Ordinal);
        if (a < 0 || b < a) throw new InvalidOperationException($"{doc} has no conformance markers");
        File.WriteAllText(doc, text[..(a + Begin.Length)] + "\n" + table + text[b..]);
    }
}
