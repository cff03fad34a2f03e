using System.Diagnostics;
using System.Globalization;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Examples.WakeWord;

/// <summary>An EdgeNet session as one stage of the pipeline (batch 1, first input and output).</summary>
public sealed class SessionStage(Model model) : IStage, IDisposable
{
    readonly Session session = new(model);
    public Span<float> Input => session.Input(0, 1);
    public void Run() => session.Run(1);
    public ReadOnlySpan<float> Output => session.Output(0);
    public void Dispose() => session.Dispose();
}

/// <summary>
/// wakeword MEL.enet EMBEDDING.enet HEAD.enet [HEAD.enet...] AUDIO.wav [--threshold 0.5] [--scores]
/// Streams a 16 kHz mono 16-bit WAV through openWakeWord's pipeline in 80 ms chunks, as a microphone would feed it,
/// and prints each detection (a head's score rising to the threshold) with its time. Exit codes: 0, 2 usage,
/// 3 a bad model file, 4 an unreadable or non-16 kHz WAV.
/// </summary>
public static class WakeWordApp
{
    const string Usage = "usage: wakeword MEL.enet EMBEDDING.enet HEAD.enet [HEAD.enet...] AUDIO.wav [--threshold 0.5] [--scores]";

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        float threshold = 0.5f; bool printScores = false; var files = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--scores") printScores = true;
            else if (args[i] == "--threshold" && i + 1 < args.Length && float.TryParse(args[++i], CultureInfo.InvariantCulture, out threshold)) { }
            else if (args[i].StartsWith("--")) { stderr.WriteLine($"error: bad option {args[i]}\n{Usage}"); return 2; }
            else files.Add(args[i]);
        }
        if (files.Count < 4) { stderr.WriteLine(Usage); return 2; }
        string wav = files[^1];
        var modelFiles = files[..^1];

        var stages = new List<SessionStage>();
        try
        {
            foreach (var f in modelFiles) stages.Add(new SessionStage(ModelFile.Load(f)));
        }
        catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {modelFiles[stages.Count]}: {e.Message}");
            foreach (var s in stages) s.Dispose();
            return 3;
        }
        try
        {
            short[] samples; int rate;
            try { (samples, rate) = Wav.Read(wav); }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException) { stderr.WriteLine($"error: {e.Message}"); return 4; }
            if (rate != WakeWordPipeline.SampleRate) { stderr.WriteLine($"error: '{wav}' is {rate} Hz; the models want 16000 (sox IN.wav -r 16000 OUT.wav)"); return 4; }

            WakeWordPipeline pipeline;
            try { pipeline = new WakeWordPipeline(stages[0], stages[1], stages[2..]); }
            catch (ArgumentException e) { stderr.WriteLine($"error: {e.Message}"); return 3; }
            var names = modelFiles[2..].Select(f => Path.GetFileNameWithoutExtension(f)).ToArray();
            var scores = new float[names.Length];
            var above = new bool[names.Length];
            var best = new float[names.Length];
            var sw = new Stopwatch();
            int chunks = samples.Length / WakeWordPipeline.ChunkSamples;   // a last partial chunk waits for more audio, as on a device
            for (int c = 0; c < chunks; c++)
            {
                sw.Start();
                bool ready = pipeline.Push(samples.AsSpan(c * WakeWordPipeline.ChunkSamples, WakeWordPipeline.ChunkSamples), scores);
                sw.Stop();
                if (!ready) continue;
                double t = WakeWordPipeline.Seconds(pipeline.Chunks);
                if (printScores) stdout.WriteLine(FormattableString.Invariant($"{t:F2} s  {string.Join("  ", names.Select((n, h) => $"{n} {scores[h]:F4}"))}"));
                for (int h = 0; h < names.Length; h++)
                {
                    best[h] = Math.Max(best[h], scores[h]);
                    if (scores[h] >= threshold && !above[h]) stdout.WriteLine(FormattableString.Invariant($"{t:F2} s: {names[h]} detected (score {scores[h]:F3})"));
                    above[h] = scores[h] >= threshold;
                }
            }
            stdout.WriteLine(FormattableString.Invariant($"{chunks} chunks of 80 ms ({chunks * 0.08:F2} s of audio) in {sw.Elapsed.TotalMilliseconds:F0} ms ({sw.Elapsed.TotalMilliseconds / Math.Max(1, chunks):F2} ms a chunk); best scores: {string.Join(", ", names.Select((n, h) => $"{n} {best[h]:F3}"))}"));
            return 0;
        }
        finally { foreach (var s in stages) s.Dispose(); }
    }
}
