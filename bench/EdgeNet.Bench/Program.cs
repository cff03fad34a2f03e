using BenchmarkDotNet.Running;
using EdgeNet.Bench;

// dotnet run --project bench/EdgeNet.Bench -c Release -- compare [--shared ../shared] [--threads 1,2] [--iters N] [--out bench/results]
// dotnet run --project bench/EdgeNet.Bench -c Release -- micro [BenchmarkDotNet filters]
// dotnet run --project bench/EdgeNet.Bench -c Release -- peak
// dotnet run --project bench/EdgeNet.Bench -c Release -- ort-profile MODEL.onnx [INPUT.npy | NAME=X.npy ...]   (ORT's per-node times, 1 thread)
// dotnet run --project bench/EdgeNet.Bench -c Release -- conv-probe MODEL.enet [RUNS] [NODE|all] [INPUT.npy]   (each conv's fastest time and GFLOP/s)
// dotnet run --project bench/EdgeNet.Bench -c Release -- conv-shape H W C OC K STRIDE [RUNS]   (one channels-last conv of that shape, random data)
if (args is ["--", ..]) args = args[1..];   // `dotnet EdgeNet.Bench.dll -- peak` as under `dotnet run ... -- peak`
if (args.Length > 0 && args[0] == "micro") { BenchmarkSwitcher.FromAssembly(typeof(KernelBenchmarks).Assembly).Run(args[1..]); return 0; }
if (args.Length > 1 && args[0] == "ort-profile") { OrtProfile.Run(args[1], args[2..], 300, Console.Out); return 0; }
if (args.Length > 1 && args[0] == "conv-probe") { ConvProbe.Run(args[1], args.Length > 2 ? int.Parse(args[2]) : 20, Console.Out, args.Length > 3 ? args[3] : null, args.Length > 4 ? args[4] : null); return 0; }
if (args.Length > 6 && args[0] == "conv-shape") { ConvProbe.OneShape([.. args[1..7].Select(int.Parse)], args.Length > 7 ? int.Parse(args[7]) : 20, Console.Out); return 0; }
if (args.Length > 1 && args[0] == "nodes") { NodeProbe.Run(args[1], 20000, Console.Out); return 0; }
if (args.Length > 0 && args[0] == "finetune-step")
{
    // Median time of one SGD step (forward, backward, update) of the digits CNN at batch 8; BenchmarkDotNet has the same as FineTuneStepBenchmark.
    var b = new FineTuneStepBenchmark(); b.Setup();
    for (int i = 0; i < 500; i++) b.CnnStepBatch8();
    var t = new double[2000];
    for (int i = 0; i < t.Length; i++) { long s0 = System.Diagnostics.Stopwatch.GetTimestamp(); b.CnnStepBatch8(); t[i] = System.Diagnostics.Stopwatch.GetElapsedTime(s0).TotalMicroseconds; }
    Array.Sort(t);
    Console.WriteLine($"digits CNN fine-tune step, batch 8: p50 {t[t.Length / 2]:F1} µs, p90 {t[(int)(t.Length * 0.9)]:F1} µs");
    return 0;
}
if (args.Length > 0 && args[0] == "peak") { Console.WriteLine(Peak.Describe()); GemmProbe.Run(Console.Out); GemmInt8Probe.Run(Console.Out); return 0; }
if (args.Length > 3 && args[0] == "multi") return MultiCompare.Run(args[1], int.Parse(args[2]), args[3..], Console.Out);
if (args.Length > 0 && args[0] == "int8-gemm") { GemmInt8Probe.Run(Console.Out, args[1..]); return 0; }
// Anything else but compare's options is a typo or a command short of its arguments: not a compare that rewrites bench/results.
if (args.Length > 0 && args[0] != "compare" && !args[0].StartsWith("--", StringComparison.Ordinal))
{
    Console.Error.WriteLine($"unknown command or missing arguments: '{string.Join(' ', args)}' (compare [--only NAME] [--threads 1,2] [--iters N] [--out DIR] | micro | peak | int8-gemm [M,K,N ...] | finetune-step | ort-profile MODEL.onnx [INPUT.npy | NAME=X.npy ...] | conv-probe MODEL.enet [RUNS] [NODE|all] [INPUT.npy] | conv-shape H W C OC K STRIDE [RUNS] | nodes MODEL.enet | multi MODEL.onnx L NAME=X.npy...)");
    return 2;
}

string Arg(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
string root = FindRoot();
string shared = Arg("--shared", Path.GetFullPath(Path.Combine(root, "..", "shared")));
int[] threads = Arg("--threads", "1,2").Split(',').Select(int.Parse).ToArray();
int iters = int.Parse(Arg("--iters", "0"));
string outDir = Arg("--out", Path.Combine(root, "bench", "results"));
Directory.CreateDirectory(outDir);
var cases = Compare.DefaultCases(shared);
cases.AddRange(Int8Cases.All(shared));
cases.AddRange(RealModelCases.All(shared));
cases.AddRange(FamilyCases.All());
if (Arg("--only", "") is { Length: > 0 } only) cases = cases.Where(c => c.Name.Contains(only, StringComparison.OrdinalIgnoreCase)).ToList();
Console.WriteLine(Peak.Describe());
var rows = Compare.Run(cases, threads, iters, Console.Out);
string machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}";
File.WriteAllText(Path.Combine(outDir, "compare.md"), Compare.Markdown(rows, machine) + "\n" + Peak.Describe() + "\n");
Compare.Chart(rows, Path.Combine(outDir, "compare.png"));
Console.WriteLine($"wrote {Path.Combine(outDir, "compare.md")} and compare.png");
return 0;

static string FindRoot()
{
    var d = new DirectoryInfo(AppContext.BaseDirectory);
    while (d is not null && !File.Exists(Path.Combine(d.FullName, "EdgeNet.sln"))) d = d.Parent;
    return d?.FullName ?? Directory.GetCurrentDirectory();
}
