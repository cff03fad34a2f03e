using System.CommandLine;
using EdgeNet;
using EdgeNet.Converter;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Io;

// edgenet-convert: the dev-PC side. ONNX in, .enet out; never shipped to the device.
var model = new Argument<FileInfo>("model") { Description = "ONNX model (.onnx) to convert" };
var output = new Option<FileInfo>("--output", "-o") { Description = "the .enet file to write" };
var labels = new Option<FileInfo?>("--labels") { Description = "text file with one class label per line" };
var verify = new Option<bool>("--verify") { Description = "run ONNX Runtime and EdgeNet on the same input and print the max |difference| per output" };
var verifyInput = new Option<FileInfo?>("--verify-input") { Description = ".npy input for --verify (default: random values, batch 2)" };
var noOptimize = new Option<bool>("--no-optimize") { Description = "skip the graph rewrites (BatchNorm folding, activation fusion)" };
var quantize = new Option<string?>("--quantize") { Description = "int8: post-training quantization (needs --calibration)" };
var calibration = new Option<FileInfo?>("--calibration") { Description = "float32 .npy rows to calibrate activation ranges on" };
var method = new Option<string>("--calibration-method") { DefaultValueFactory = _ => "minmax", Description = "minmax, percentile or entropy" };
var keepFp32 = new Option<string[]>("--keep-fp32") { Description = "layers (node names) to leave in fp32", AllowMultipleArgumentsPerToken = true };
var evalData = new Option<FileInfo?>("--eval-data") { Description = "float32 .npy rows for the accuracy report" };
var evalLabels = new Option<FileInfo?>("--eval-labels") { Description = "int64 .npy labels for the accuracy report" };
var maxDrop = new Option<double?>("--max-accuracy-drop") { Description = "keep layers in fp32, least precise first, until int8 accuracy is within this many points of fp32" };
var acceptFp32 = new Option<bool>("--accept-fp32-fallback") { Description = "with --max-accuracy-drop: write the fp32 model when only it meets the budget (else exit 4)" };

var root = new RootCommand("edgenet-convert: convert ONNX models to EdgeNet's .enet format") { model, output, labels, verify, verifyInput, noOptimize, quantize, calibration, method, keepFp32, evalData, evalLabels, maxDrop, acceptFp32 };
root.SetAction(r => CommandGuard.Guard(() =>
{
    var src = r.GetValue(model)!;
    var dst = r.GetValue(output) ?? throw new UsageException("--output is required");
    var opts = new ConvertOptions
    {
        Labels = r.GetValue(labels) is { } lf ? File.ReadAllLines(lf.FullName).Where(l => l.Length > 0).ToArray() : [],
        Optimize = !r.GetValue(noOptimize),
    };
    var m = OnnxImporter.Convert(src.FullName, opts);
    if (r.GetValue(quantize) is { } qkind) m = Ptq.Run(m, qkind, r.GetValue(calibration), r.GetValue(method)!, r.GetValue(keepFp32) ?? [], r.GetValue(evalData), r.GetValue(evalLabels), r.GetValue(maxDrop), r.GetValue(acceptFp32));
    ModelFile.Save(m, dst.FullName);
    Console.WriteLine($"wrote {dst.FullName}: {m.Nodes.Count} nodes, {m.ParameterCount():N0} parameters, {new FileInfo(dst.FullName).Length:N0} bytes");
    if (r.GetValue(verify))
    {
        float[]? x = null; int batch = Shape.HasBatch(m.Input().Shape) ? 2 : 1;
        if (r.GetValue(verifyInput) is { } vi)
        {
            var npy = Npy.Read(vi.FullName);
            x = npy.Floats ?? throw new UsageException("--verify-input must hold float32 values");
            batch = Shape.HasBatch(m.Input().Shape) ? (int)(x.Length / m.Input().Elements(1)) : 1;
        }
        foreach (var res in Verifier.Compare(src.FullName, m, x, batch))
            Console.WriteLine($"verify {res.Output}: max |EdgeNet - ONNX Runtime| = {res.MaxAbsDiff:G3} over {res.Values} values");
    }
    return 0;
}));

var inspectArg = new Argument<FileInfo>("file") { Description = ".onnx or .enet model" };
var onnxGraph = new Option<bool>("--onnx-graph") { Description = "list the ONNX nodes as they are in the file, without converting" };
var inspect = new Command("inspect", "print ops, parameters, MACs, arena size and weight bytes") { inspectArg, onnxGraph };
inspect.SetAction(r => CommandGuard.Guard(() =>
{
    var f = r.GetValue(inspectArg)!;
    if (r.GetValue(onnxGraph))
    {
        var g = OnnxFile.Load(f.FullName).Proto.Graph;
        foreach (var n in g.Node)
            Console.WriteLine($"{n.OpType,-24} {n.Name,-40} ({string.Join(", ", n.Input)}) -> ({string.Join(", ", n.Output)}) " +
                string.Join(" ", n.Attribute.Select(a => $"{a.Name}={(a.Ints.Count > 0 ? "[" + string.Join(",", a.Ints) + "]" : a.Type == EdgeNet.Converter.Onnx.AttributeProto.Types.AttributeType.Float ? a.F.ToString() : a.Type == EdgeNet.Converter.Onnx.AttributeProto.Types.AttributeType.String ? a.S.ToStringUtf8() : a.I.ToString())}")));
        foreach (var t in g.Initializer.Where(t => t.Dims.Count <= 1 && t.DataType != 1).Take(0)) { }
        return 0;
    }
    var m = f.Extension == ".onnx" ? OnnxImporter.Convert(f.FullName) : ModelFile.Load(f.FullName);
    Console.Write(ModelSummary.Describe(m));
    return 0;
}));
root.Subcommands.Add(inspect);
return root.Parse(args).Invoke();
