using System.Diagnostics;
using EdgeNet.Fuzz;

// Fuzzing of EdgeNet's loaders.
//   dotnet run --project tests/EdgeNet.Fuzz -c Release -- run enet|onnx SECONDS CORPUS_DIR [CRASH_DIR]
//       a self-contained mutation fuzzer (bit flips, byte insert/delete, interesting integers, splices) over a seed
//       corpus; bounded in time; exits 1 with the crashing inputs saved if any target throws anything but the typed error.
//       EDGENET_FUZZ_SEED=N draws other mutations (the default, 12345, repeats CI's).
//   ... -- run nodes SECONDS [CRASH_DIR]
//       the ONNX import of random one-node models (NodeFuzz: every handled op, any arity, hostile attributes) instead
//       of mutated files.
//   dotnet run --project tests/EdgeNet.Fuzz -c Release -- libfuzzer enet|onnx
//       SharpFuzz's libFuzzer entry point, for coverage-guided runs with libfuzzer-dotnet on an instrumented build.
//   ... -- afl enet|onnx    SharpFuzz's AFL++ entry point (afl-fuzz with an instrumented build).
//   ... -- seeds onnx|enet DIR
//       writes the hostile seeds (HostileSeeds) as DIR/NAME.onnx|.enet, with the files the ONNX ones name beside them,
//       to try them on edgenet-convert and edgenet themselves.
//   ... -- save-loop A.enet B.enet OUT.enet
//       saves A and B to OUT alternately, forever: the process the durable-save test kills with SIGKILL.
if (args.Length == 4 && args[0] == "save-loop")
{
    var models = new[] { EdgeNet.Format.ModelFile.Load(args[1]), EdgeNet.Format.ModelFile.Load(args[2]) };
    EdgeNet.Format.ModelFile.Save(models[0], args[3]);
    Console.WriteLine("saving");   // after a first complete save: the killer's moments all fall inside the loop, however loaded the machine
    for (long i = 1; ; i++) EdgeNet.Format.ModelFile.Save(models[i % 2], args[3]);
}
if (args.Length == 3 && args[0] == "seeds")
{
    Directory.CreateDirectory(args[2]);
    if (args[1] == "onnx") HostileSeeds.Neighbours(args[2]);
    foreach (var (name, bytes) in args[1] == "onnx" ? HostileSeeds.Onnx() : HostileSeeds.Enet().Select(s => (s.Name, s.Bytes)))
        File.WriteAllBytes(Path.Combine(args[2], $"{name.Replace("../", "up-")}.{args[1]}"), bytes);
    return 0;
}
if (args.Length < 2 || args[0] == "run" && args.Length < (args[1] == "nodes" ? 3 : 4)) { Console.Error.WriteLine("usage: run enet|onnx SECONDS CORPUS_DIR [CRASH_DIR] | run nodes SECONDS [CRASH_DIR] | libfuzzer enet|onnx | afl enet|onnx | seeds onnx|enet DIR | save-loop A B OUT"); return 2; }
string scratch = Directory.CreateTempSubdirectory("edgenet-fuzz").FullName;
bool nodes = args[1] == "nodes";
Action<ReadOnlySpan<byte>> target = args[1] is "onnx" or "nodes" ? d => Targets.Onnx(d, scratch) : d => Targets.Enet(d);
if (args[0] == "replay") { foreach (var f in args[2..]) { target(File.ReadAllBytes(f)); Console.WriteLine($"{f}: no crash"); } return 0; }   // replay enet|onnx FILE...: the exception, unfiltered
switch (args[0])
{
    case "libfuzzer": SharpFuzz.Fuzzer.LibFuzzer.Run(span => target(span)); return 0;
    case "afl": SharpFuzz.Fuzzer.Run(stream => { using var ms = new MemoryStream(); stream.CopyTo(ms); target(ms.ToArray()); }); return 0;
}
double seconds = double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
List<byte[]> seeds = nodes ? [] : Directory.GetFiles(args[3], args[1] == "onnx" ? "*.onnx" : "*.enet", SearchOption.AllDirectories)
    .Select(File.ReadAllBytes).Where(b => b.Length < 4_000_000).ToList();
if (!nodes) seeds.AddRange(args[1] == "onnx" ? HostileSeeds.Onnx().Select(s => s.Bytes) : HostileSeeds.Enet().Select(s => s.Bytes));   // shapes mutation does not reach (issue 16)
if (seeds.Count == 0 && !nodes) { Console.Error.WriteLine($"no seeds in {args[3]}"); return 2; }
string crashes = args.Length > (nodes ? 3 : 4) ? args[nodes ? 3 : 4] : Path.Combine(scratch, "crashes");
Directory.CreateDirectory(crashes);
int rngSeed = int.TryParse(Environment.GetEnvironmentVariable("EDGENET_FUZZ_SEED"), out var given) ? given : 12345;   // another seed: other mutations
var rng = new Random(rngSeed);
var sw = Stopwatch.StartNew();
long execs = 0; int found = 0;
var seen = new HashSet<string>();
foreach (var seed in seeds) Check(seed);   // the seeds themselves must load
while (sw.Elapsed.TotalSeconds < seconds)
{
    var input = nodes ? NodeFuzz.Model(rng) : Mutator.Mutate(seeds[rng.Next(seeds.Count)], seeds[rng.Next(seeds.Count)], rng);
    if (args[1] == "enet" && rng.Next(4) != 0) input = Reseal.Enet(input);   // most inputs get past the checksums
    Check(input);
}
if (args[1] == "enet")
{
    Console.WriteLine($"parsed and validated: {Targets.Parsed}, prepared and ran: {Targets.Ran}; commonest rejections:");
    foreach (var (k, v) in Targets.Rejections.OrderByDescending(p => p.Value).Take(8)) Console.WriteLine($"  {v,9}  {k}");
}
Console.WriteLine($"fuzz {args[1]}: {execs} executions in {sw.Elapsed.TotalSeconds:F0} s over {(nodes ? "random one-node models" : $"{seeds.Count} seeds")} (EDGENET_FUZZ_SEED={rngSeed}); {found} distinct crashes");
return found == 0 ? 0 : 1;

void Check(byte[] input)
{
    execs++;
    var watch = Stopwatch.StartNew();
    try { target(input); }
    catch (Exception e)
    {
        string key = e.GetType().Name + (e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("EdgeNet")) ?? "");
        if (seen.Add(key))
        {
            found++;
            string file = Path.Combine(crashes, $"crash-{found}.bin");
            File.WriteAllBytes(file, input);
            Console.WriteLine($"CRASH {found}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}\n saved {file}");
        }
    }
    if (watch.ElapsedMilliseconds > 2000) Console.WriteLine($"slow input: {watch.ElapsedMilliseconds} ms ({input.Length} bytes)");
}
