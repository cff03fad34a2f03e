using EdgeNet;
using System.CommandLine;
using System.Diagnostics;
using EdgeNet.Engine;

namespace EdgeNet.Cli;

/// <summary>edgenet bench MODEL [--iters N] [--batch B]: latency percentiles and bytes allocated per inference.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = Options.Model();
        var iters = new Option<int>("--iters") { Description = "timed inferences", DefaultValueFactory = _ => 200 };
        var batch = new Option<int>("--batch") { Description = "samples per inference", DefaultValueFactory = _ => 1 };
        var reference = Options.Reference();
        var threads = Options.Threads();
        var profile = new Option<bool>("--profile") { Description = "print the median time of every node, slowest first (each timed run is followed by a profiled one)" };
        var placement = new Option<bool>("--placement") { Description = "print where the arena, the constants, the first input and output and the kernels' packed weights landed (address mod 4096: 4K aliasing)" };
        var cpuOption = new Option<int?>("--cpu") { Description = "pin the thread that runs and times the inferences to this CPU (Linux; the runtime's other threads stay free): engines compared on one CPU where the CPUs differ in speed (a VM's vCPUs)" };
        // Not a whole number: the same one line as an out-of-range CPU (System.CommandLine's own names the type, Nullable`1).
        cpuOption.CustomParser = r =>
        {
            if (r.Tokens.Count != 1) return null;
            string t = r.Tokens[0].Value;
            if (int.TryParse(t, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int c)) return c;
            r.AddError(Affinity.NotACpu(t));
            return null;
        };
        var cmd = new Command("bench", "time inference") { model, iters, batch, reference, threads, profile, placement, cpuOption };
        cmd.SetAction(r => CommandGuard.Guard(() =>
        {
            int n = r.GetValue(iters), b = r.GetValue(batch);
            if (n < 1) throw new UsageException("--iters must be at least 1");
            if (r.GetValue(cpuOption) is int pinTo) Affinity.Check(pinTo);
            var tracking = r.GetValue(placement) ? NativeBuffer.Track() : null;
            Session s;
            try { s = Options.Open(r.GetValue(model)!, b, r.GetValue(reference), r.GetValue(threads)); }
            finally { tracking?.Dispose(); }
            using var session = s;
            b = Math.Min(b, s.MaxBatch);
            var rng = new Random(0);
            // Every input: float32 ones random in [0, 1); integer and bool ones zero (valid token ids, indices and masks).
            for (int k = 0; k < s.Model.Inputs.Count; k++)
            {
                if (s.InputType(k) != EdgeNet.Format.DataType.Float32) { s.InputBytes(k, b).Clear(); continue; }
                var x = s.Input(k, b);
                for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
            }
            // --profile: every timed run is followed by a profiled one, so the two see the same JIT tier, caches and
            // load, and each node's median over those runs adds up to about the p50.
            long[][]? runs = r.GetValue(profile) ? new long[n][] : null;
            if (runs is not null) for (int i = 0; i < n; i++) runs[i] = new long[s.Kernels.Count];
            var warm = Stopwatch.StartNew();   // warm-up by time: the JIT's tier-1 code arrives after ~100 ms of calls
            while (warm.ElapsedMilliseconds < 400) { s.Run(b); if (runs is not null) s.RunProfiled(b, runs[0]); }
            if (r.GetValue(cpuOption) is int pin)
            {
                // Pinned after the warm-up: a thread inherits its creator's CPUs, and the runtime's threads started during
                // the warm-up (the JIT's tier-1 compiler) must stay free. Then 100 ms more on that CPU (its own caches).
                Affinity.PinCurrentThread(pin);
                warm.Restart();
                while (warm.ElapsedMilliseconds < 100) { s.Run(b); if (runs is not null) s.RunProfiled(b, runs[0]); }
            }
            if (runs is not null) Array.Clear(runs[0]);
            var times = new double[n];
            var cpu0 = Environment.CpuUsage.TotalTime;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < n; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                s.Run(b);
                times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                if (runs is not null) s.RunProfiled(b, runs[i]);
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            // CPU time of the whole process (every intra-op thread) per inference: what the code costs, which unlike
            // the latency hardly moves when other processes share the cores (a JIT's background compiles aside).
            double cpu = (Environment.CpuUsage.TotalTime - cpu0).TotalMicroseconds / n;
            Array.Sort(times);
            Console.WriteLine($"{r.GetValue(model)!.Name}: batch {b}, {n} runs");
            Console.WriteLine($"p50 {Pct(times, 0.5):F1} µs   p90 {Pct(times, 0.9):F1} µs   min {times[0]:F1} µs");
            if (runs is null) Console.WriteLine($"CPU per inference: {cpu:F1} µs");
            Console.WriteLine($"allocated per inference: {allocated / n} bytes");
            Console.WriteLine($"ISA paths: {EdgeNet.Kernels.Simd.IsaPaths.Describe()}");
            if (r.GetValue(cpuOption) is int) Console.WriteLine($"timing thread's CPUs: {Affinity.ThreadCpus()}");   // read back: the pin held
            if (tracking is not null) Console.WriteLine(Placement(s, b, tracking.Buffers));
            if (runs is not null)
            {
                var median = new double[s.Kernels.Count];
                var column = new double[n];
                for (int k = 0; k < median.Length; k++)
                {
                    for (int i = 0; i < n; i++) column[i] = runs[i][k] * 1e6 / Stopwatch.Frequency;
                    Array.Sort(column);
                    median[k] = Pct(column, 0.5);
                }
                double total = median.Sum();
                Console.WriteLine($"{"node",-40} {"op",-18} {"µs",9} {"%",6}");
                foreach (var (k, t) in s.Kernels.Zip(median).OrderByDescending(p => p.Second))
                    Console.WriteLine($"{k.Node.Name,-40} {k.Node.Op + (k.Node.Attributes.Int("group", 1) > 1 ? " dw" : ""),-18} {t,9:F1} {100 * t / total,6:F1}");
                Console.WriteLine($"{"all nodes (medians)",-40} {"",-18} {total,9:F1}");
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>The buffers' addresses mod 4096 (a load whose address matches an earlier store's in bits 0-11 may wait
    /// on it): the arena and constants, the first input and output, and the other native buffers the session
    /// allocated (packed weights and biases; those of 4 KiB or more listed, the others counted).</summary>
    internal static unsafe string Placement(Session s, int batch, IReadOnlyList<(long Bytes, nint Address)> buffers)
    {
        static string Off(nint a) => $"0x{a & 4095:x3}";
        var (arena, constants) = s.Bases;
        fixed (byte* x = s.InputBytes(0, batch))
        fixed (byte* y = s.OutputBytes(0))
        {
            var packed = buffers.Where(p => p.Address != arena && p.Address != constants).ToList();
            var big = packed.Where(p => p.Bytes >= 4096).Select(p => Off(p.Address));
            return $"placement (address mod 4096): arena {Off(arena)}, constants {Off(constants)}, input {Off((nint)x)}, output {Off((nint)y)}; "
                + $"{packed.Count} other native buffers, {packed.Count(p => p.Bytes >= 4096)} of >= 4 KiB at {string.Join(" ", big)}";
        }
    }

    static double Pct(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
