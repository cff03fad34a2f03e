using System.CommandLine;
using System.CommandLine.Parsing;
using EdgeNet;
using EdgeNet.Converter;
using EdgeNet.Engine;
using EdgeNet.Format;

// edgenet-convert: the dev-PC side. ONNX in, .enet out; never shipped to the device.
var model = Input(new Argument<FileInfo>("model") { Description = "ONNX model (.onnx) to convert" });
var output = Output(new Option<FileInfo>("--output", "-o") { Description = "the .enet file to write" });
var labels = Input(new Option<FileInfo?>("--labels") { Description = "text file with one class label per line" });
var verify = new Option<bool>("--verify") { Description = "run ONNX Runtime on the ONNX file and EdgeNet on the written model with the same input; print the max |difference| per output" };
var verifyInput = new Option<string[]>("--verify-input") { Description = "[NAME=]X.npy: an input for --verify, once per graph input given (without NAME=, the first): [N, ...input shape] or flat [N, features] rows, or the input's exact shape where it has no batch. Inputs not given: floats random in [-1, 1], integers and bools their --input-value or 0; batch 2 unless a file sets it" };
var noOptimize = new Option<bool>("--no-optimize") { Description = "skip the graph rewrites (BatchNorm folding, activation fusion)" };
var quantize = new Option<string?>("--quantize") { Description = "int8: post-training quantization (needs --calibration)" };
var calibration = Input(new Option<FileInfo?>("--calibration") { Description = "float32 .npy rows to calibrate activation ranges on: [N, ...input shape] or flat [N, features]" });
var method = new Option<string>("--calibration-method") { DefaultValueFactory = _ => "minmax", Description = "minmax, percentile or entropy" };
var keepFp32 = new Option<string[]>("--keep-fp32") { Description = "layers (node names) to leave in fp32", AllowMultipleArgumentsPerToken = true };
var evalData = Input(new Option<FileInfo?>("--eval-data") { Description = "float32 .npy rows for the accuracy report" });
var evalLabels = Input(new Option<FileInfo?>("--eval-labels") { Description = "int64 .npy labels for the accuracy report, [N]" });
var maxDrop = new Option<double?>("--max-accuracy-drop") { Description = "keep layers in fp32, least precise first, until int8 accuracy is within this many points of fp32" };
// Not a number: one line naming the option, not System.CommandLine's "as expected type 'System.Nullable`1[System.Double]'".
maxDrop.CustomParser = r =>
{
    if (r.Tokens.Count != 1) return null;
    if (double.TryParse(r.Tokens[0].Value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.CurrentCulture, out double v)) return v;
    r.AddError($"--max-accuracy-drop {r.Tokens[0].Value}: not a number (accuracy points)");
    return null;
};
var inputShape = new Option<string[]>("--input-shape") { Description = "NAME=d0,d1,...: a graph input's concrete shape (symbolic dimensions made concrete; N or -1 first keeps the batch symbolic); once per input", AllowMultipleArgumentsPerToken = false };
var inputValue = new Option<string[]>("--input-value") { Description = "NAME=v0,v1,...: a graph input whose value is fixed (a sample rate): folded at conversion, the input stays and other values are refused at run time" };
var acceptFp32 = new Option<bool>("--accept-fp32-fallback") { Description = "with --max-accuracy-drop: write the fp32 model when only it meets the budget (else exit 4)" };

var root = new RootCommand("edgenet-convert: convert ONNX models to EdgeNet's .enet format") { model, output, labels, verify, verifyInput, noOptimize, quantize, calibration, method, keepFp32, evalData, evalLabels, maxDrop, acceptFp32, inputShape, inputValue };
root.SetAction(r => CommandGuard.Guard(() =>
{
    var src = r.GetValue(model)!;
    var dst = r.GetValue(output) ?? throw new UsageException("--output is required");
    if (IsEnet(src.FullName))
        throw new UsageException($"'{src.Name}' is already an EdgeNet model; edgenet-convert reads ONNX. Run it with 'edgenet run' (or look at it with 'edgenet-convert inspect {src.Name}')");
    var opts = new ConvertOptions
    {
        Labels = r.GetValue(labels) is { } lf ? File.ReadAllLines(lf.FullName).Where(l => l.Length > 0).ToArray() : [],
        Optimize = !r.GetValue(noOptimize),
        InputShapes = ParseAssignments(r.GetValue(inputShape), "--input-shape", ParseShape),
        InputValues = ParseAssignments(r.GetValue(inputValue), "--input-value", ParseValues),
    };
    var m = OnnxImporter.Convert(src.FullName, opts);
    // The verification inputs are checked before anything is written: one run, so the batched ones agree on N and a
    // fixed one holds its exact shape.
    var given = r.GetValue(verifyInput) is { Length: > 0 } vi ? ModelFeeds.Read(m, vi, "--verify-input", Console.Error.WriteLine, every: false) : [];
    if (given.Length > 0 && !r.GetValue(verify)) throw new UsageException("--verify-input goes with --verify");
    if (given.FirstOrDefault(f => !f.Batched && f.Rows != 1) is { } many)
        throw new InvalidDataException($"--verify-input '{m.Input(many.Input).Name}' holds {many.Rows} rows; the model's fixed input {Shape.Format(m.Input(many.Input).Shape)} takes one run");
    var rowCounts = given.Where(f => f.Batched).Select(f => f.Rows).Distinct().ToArray();
    if (rowCounts.Length > 1)
        throw new InvalidDataException($"--verify-input: the inputs hold different numbers of rows ({string.Join(", ", given.Where(f => f.Batched).Select(f => $"'{m.Input(f.Input).Name}': {f.Rows}"))})");
    if (r.GetValue(quantize) is { } qkind) m = Ptq.Run(m, qkind, r.GetValue(calibration), r.GetValue(method)!, r.GetValue(keepFp32) ?? [], r.GetValue(evalData), r.GetValue(evalLabels), r.GetValue(maxDrop), r.GetValue(acceptFp32));
    ModelFile.Save(m, dst.FullName);
    Console.WriteLine($"wrote {dst.FullName}: {m.Nodes.Count} nodes, {m.ParameterCount():N0} parameters, {new FileInfo(dst.FullName).Length:N0} bytes");
    if (r.GetValue(verify))
    {
        int batch = rowCounts.Length == 1 ? rowCounts[0] : m.Inputs.Any(i => Shape.HasBatch(m.Tensors[i].Shape)) ? 2 : 1;
        // An int8 model is compared with ORT running the fp32 ONNX file: the difference is the quantization error.
        bool int8 = m.Tensors.Any(t => t.Type == DataType.Int8) && !OnnxHasQuantization(src.FullName);
        string what = $"{(given.Length == 0 ? "random inputs in [-1, 1]" : string.Join(", ", given.Select(f => $"'{Path.GetFileName(f.File)}'")))}{(m.Inputs.Count > given.Length && m.Inputs.Count > 1 ? " (other float inputs random, integer/bool inputs their --input-value or 0)" : "")}, batch {batch}";
        Console.WriteLine(int8
            ? $"verify: EdgeNet's int8 model against ONNX Runtime running the fp32 ONNX file on {what}; the differences include the quantization error"
            : $"verify: EdgeNet against ONNX Runtime on the same model, {what}");
        foreach (var res in Verifier.Compare(src.FullName, m, given, batch))
            Console.WriteLine($"verify {res.Output}: max |EdgeNet - ONNX Runtime| = {res.MaxAbsDiff:G3} over {res.Values} values");
    }
    return 0;
}));

root.Subcommands.Add(Inspect());   // listed in the root's help
// `inspect` is parsed under a root of its own: under the convert root its usage would show <model>, which it does not take.
bool inspecting = args.Length > 0 && args[0] == "inspect";
var parsed = inspecting ? new RootCommand(root.Description!) { Inspect() }.Parse(args) : root.Parse(args);
if (parsed.Errors.Count > 0) return CommandGuard.UsageErrors(parsed.Errors.Select(e => e.Message), inspecting ? "edgenet-convert inspect" : "edgenet-convert");
return parsed.Invoke();

static Command Inspect()
{
    var file = Input(new Argument<FileInfo>("file") { Description = ".onnx or .enet model" });
    var onnxGraph = new Option<bool>("--onnx-graph") { Description = "list the ONNX nodes as they are in the file, without converting" };
    var inspect = new Command("inspect", "print ops, parameters, MACs, arena size and weight bytes") { file, onnxGraph };
    inspect.SetAction(r => CommandGuard.Guard(() =>
    {
        var f = r.GetValue(file)!;
        if (r.GetValue(onnxGraph))
        {
            PrintGraph(OnnxFile.Load(f.FullName).Proto.Graph, "");
            return 0;
        }
        var m = IsEnet(f.FullName) ? ModelFile.Load(f.FullName) : OnnxImporter.Convert(f.FullName);
        Console.Write(ModelSummary.Describe(m));
        return 0;
    }));
    return inspect;
}

// The ONNX nodes as the file holds them; the nodes of subgraphs (If branches) indented under their node.
static void PrintGraph(EdgeNet.Converter.Onnx.GraphProto g, string indent)
{
    foreach (var n in g.Node)
    {
        Console.WriteLine($"{indent}{n.OpType,-24} {n.Name,-40} ({string.Join(", ", n.Input)}) -> ({string.Join(", ", n.Output)}) " +
            string.Join(" ", n.Attribute.Where(a => a.G is null).Select(a => $"{a.Name}={(a.Ints.Count > 0 ? "[" + string.Join(",", a.Ints) + "]" : a.Type == EdgeNet.Converter.Onnx.AttributeProto.Types.AttributeType.Float ? a.F.ToString() : a.Type == EdgeNet.Converter.Onnx.AttributeProto.Types.AttributeType.String ? a.S.ToStringUtf8() : a.I.ToString())}")));
        foreach (var a in n.Attribute.Where(a => a.G is not null))
        {
            Console.WriteLine($"{indent}  {a.Name}: ({string.Join(", ", a.G.Input.Select(i => i.Name))}) -> ({string.Join(", ", a.G.Output.Select(o => o.Name))})");
            PrintGraph(a.G, indent + "    ");
        }
    }
}

// An .enet file starts with its magic, whatever its name.
static bool IsEnet(string path)
{
    if (!File.Exists(path)) return false;
    Span<byte> head = stackalloc byte[4];
    using var f = File.OpenRead(path);
    return f.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4 && head.SequenceEqual(ModelFile.Magic);
}

// A QDQ or QOperator ONNX file: ORT runs it quantized, so --verify compares int8 with int8.
static bool OnnxHasQuantization(string path) =>
    OnnxFile.Load(path).Proto.Graph.Node.Any(n => n.OpType is "QuantizeLinear" or "DequantizeLinear" || n.OpType.StartsWith("QLinear", StringComparison.Ordinal) || n.OpType == "QGemm");

// NAME=... once per name; the name may itself hold '=' (the value is after the last one).
static Dictionary<string, T> ParseAssignments<T>(string[]? items, string option, Func<string, string, T> parse)
{
    var r = new Dictionary<string, T>(StringComparer.Ordinal);
    foreach (var item in items ?? [])
    {
        int eq = item.LastIndexOf('=');
        if (eq <= 0) throw new UsageException($"{option} '{item}' is not NAME=...");
        string name = item[..eq];
        if (!r.TryAdd(name, parse(item[(eq + 1)..], $"{option} {name}"))) throw new UsageException($"{option} gives '{name}' twice");
    }
    return r;
}

// d0,d1,... (or d0xd1x...); N or -1 is the batch.
static int[] ParseShape(string text, string what)
{
    if (text.Length == 0) return [];   // a scalar
    var parts = text.Split(',', 'x');
    if (parts.Length > Shape.MaxRank) throw new UsageException($"{what}: more than {Shape.MaxRank} dimensions");
    return parts.Select(p => p is "N" or "-1" ? -1
        : int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var d) && d > 0 ? d
        : throw new UsageException($"{what}: '{p}' is not a positive dimension or N")).ToArray();
}

static double[] ParseValues(string text, string what) => text.Split(',').Select(p =>
    double.TryParse(p, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
    : throw new UsageException($"{what}: '{p}' is not a number")).ToArray();

static T Input<T>(T symbol) where T : Symbol => Validate(symbol, PathCheck.Input);
static T Output<T>(T symbol) where T : Symbol => Validate(symbol, PathCheck.Output);
static T Validate<T>(T symbol, Func<string, string?> check) where T : Symbol
{
    void Check(SymbolResult r) { foreach (var t in r.Tokens) if (check(t.Value) is { } e) r.AddError(e); }
    if (symbol is Argument a) a.Validators.Add(Check); else if (symbol is Option o) o.Validators.Add(Check);
    return symbol;
}
