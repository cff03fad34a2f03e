using EdgeNet.Converter;
using EdgeNet.Engine;
using EdgeNet.Examples.WakeWord;
using EdgeNet.Format;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>examples/wakeword: the WAV reader and the streaming buffers on their own, then each openWakeWord stage
/// and the whole pipeline over the example's WAV against ONNX Runtime. The models are CC BY-NC-SA and downloaded
/// (examples/wakeword/fetch-models.sh), never stored: without them the tests that need them say so and skip.</summary>
public class WakeWordExampleTests(ITestOutputHelper output)
{
    static readonly string[] Heads = ["oww_alexa", "oww_hey_mycroft"];
    static string Wav => Path.Combine(ExampleRoot.Dir, "wakeword", "wake.wav");

    [Fact]
    public void Wav_reader_takes_16_bit_mono_pcm_and_refuses_the_rest()
    {
        string dir = Fixtures.TempDir(), good = Path.Combine(dir, "a.wav"), stereo = Path.Combine(dir, "b.wav");
        File.WriteAllBytes(good, WavBytes(1, 16, [1, -2, 32767, -32768]));
        var (s, rate) = Examples.WakeWord.Wav.Read(good);
        Assert.Equal(16000, rate); Assert.Equal([1, -2, 32767, -32768], s);
        File.WriteAllBytes(stereo, WavBytes(2, 16, [1, 2]));
        Assert.Contains("16-bit PCM mono", Assert.Throws<InvalidDataException>(() => Examples.WakeWord.Wav.Read(stereo)).Message);
        File.WriteAllBytes(stereo, [.. "RIFF"u8, 0, 0, 0, 0, .. "AVI "u8]);
        Assert.Contains("not a WAV", Assert.Throws<InvalidDataException>(() => Examples.WakeWord.Wav.Read(stereo)).Message);
        var (ex, exRate) = Examples.WakeWord.Wav.Read(Wav);
        Assert.Equal(16000, exRate); Assert.InRange(ex.Length, 4 * 16000, 8 * 16000);
    }

    static byte[] WavBytes(int channels, int bits, short[] samples)
    {
        var m = new MemoryStream(); var w = new BinaryWriter(m);
        w.Write("RIFF"u8); w.Write(36 + 2 * samples.Length); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(16); w.Write((short)1); w.Write((short)channels); w.Write(16000); w.Write(16000 * channels * bits / 8); w.Write((short)(channels * bits / 8)); w.Write((short)bits);
        w.Write("data"u8); w.Write(2 * samples.Length); foreach (var v in samples) w.Write(v);
        return m.ToArray();
    }

    /// <summary>A stage that records what it was given and answers with a function of the call count.</summary>
    sealed class FakeStage(int inputs, int outputs, Func<int, float> value) : IStage
    {
        readonly float[] input = new float[inputs], output = new float[outputs];
        public int Calls; public float[] LastInput = [];
        public Span<float> Input => input;
        public ReadOnlySpan<float> Output => output;
        public void Run() { Calls++; LastInput = (float[])input.Clone(); Array.Fill(output, value(Calls)); }
    }

    [Fact]
    public void Pipeline_slides_audio_mel_frames_and_embeddings_as_openWakeWord_does()
    {
        var mel = new FakeStage(1760, 8 * 32, c => 10 * c);        // chunk c's frames are c·10 → c + 2 after x/10 + 2
        var emb = new FakeStage(76 * 32, 96, c => c);
        var head = new FakeStage(16 * 96, 1, c => 0.5f);
        var p = new WakeWordPipeline(mel, emb, [head]);
        var scores = new float[1];
        var chunk = Enumerable.Range(0, 1280).Select(i => (short)i).ToArray();
        Assert.False(p.Push(chunk, scores));
        Assert.Equal(Enumerable.Repeat(0f, 480).Concat(chunk.Select(v => (float)v)), mel.LastInput);   // 480 zeros first
        Assert.Equal(Enumerable.Repeat(1f, 68 * 32).Concat(Enumerable.Repeat(3f, 8 * 32)), emb.LastInput);
        chunk = chunk.Select(v => (short)-v).ToArray();
        Assert.False(p.Push(chunk, scores));
        Assert.Equal(Enumerable.Range(800, 480).Select(v => (float)v).Concat(chunk.Select(v => (float)v)), mel.LastInput);
        Assert.Equal(Enumerable.Repeat(1f, 60 * 32).Concat(Enumerable.Repeat(3f, 8 * 32)).Concat(Enumerable.Repeat(4f, 8 * 32)), emb.LastInput);
        for (int c = 3; c < 16; c++) Assert.False(p.Push(chunk, scores));
        Assert.Equal(0, head.Calls);
        Assert.True(p.Push(chunk, scores));                          // the 16th embedding: the head runs
        Assert.Equal(0.5f, scores[0]);
        Assert.Equal(Enumerable.Range(1, 16).SelectMany(e => Enumerable.Repeat((float)e, 96)), head.LastInput);
        Assert.Equal(1.28, WakeWordPipeline.Seconds(16), 9);
        Assert.Throws<ArgumentException>(() => p.Push(chunk[..100], scores));
        Assert.Throws<ArgumentException>(() => new WakeWordPipeline(new FakeStage(16000, 97 * 32, _ => 0), emb, [head]));
    }

    /// <summary>ONNX Runtime as a pipeline stage (the reference).</summary>
    sealed class OrtStage : IStage, IDisposable
    {
        readonly InferenceSession session; readonly string name; readonly int[] shape; readonly float[] input; float[] output = [];
        public OrtStage(string onnx, int[] shape)
        {
            using var o = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
            session = new InferenceSession(onnx, o); name = session.InputMetadata.Keys.First(); this.shape = shape;
            input = new float[shape.Aggregate(1, (a, b) => a * b)];
        }
        public Span<float> Input => input;
        public ReadOnlySpan<float> Output => output;
        public void Run()
        {
            using var r = session.Run([NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(input, shape))]);
            output = r.First().AsTensor<float>().ToArray();
        }
        public void Dispose() => session.Dispose();
    }

    static readonly int[] MelShape = [1, 1760], EmbeddingShape = [1, 76, 32, 1], HeadShape = [1, 16, 96];

    /// <summary>The stage converted by the converter as edgenet-convert does, or a visible skip with the converter's message.</summary>
    static Model ConvertOrSkip(string name, ConvertOptions? options = null)
    {
        string onnx = ExampleModels.PathOrSkip(name + ".onnx", "examples/wakeword/fetch-models.sh");
        try { return OnnxImporter.Convert(onnx, options); }
        catch (Exception e) when (e is ModelFormatException or NotSupportedException or InvalidOperationException)
        {
            Assert.Skip($"{name} does not convert yet: {e.Message}");
            throw;
        }
    }

    static ConvertOptions MelOptions => new() { InputShapes = new Dictionary<string, int[]> { ["input"] = MelShape } };

    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [InlineData("oww_melspectrogram")]
    [InlineData("oww_embedding")]
    [InlineData("oww_alexa")]
    [InlineData("oww_hey_mycroft")]
    public void Each_stage_matches_ONNX_Runtime_on_the_streamed_shapes(string name)
    {
        var shape = name switch { "oww_melspectrogram" => MelShape, "oww_embedding" => EmbeddingShape, _ => HeadShape };
        var model = ConvertOrSkip(name, name == "oww_melspectrogram" ? MelOptions : null);
        var rng = new Random(14);
        using var ort = new OrtStage(ExampleModels.PathOrSkip(name + ".onnx", ""), shape);
        using var session = new Session(model);
        // Inputs in each stage's range: audio at int16 scale, mel frames x/10 + 2 (about 0..4), embeddings about ±30.
        float scale = name switch { "oww_melspectrogram" => 8000, "oww_embedding" => 2, _ => 10 };
        for (int i = 0; i < ort.Input.Length; i++) ort.Input[i] = (float)(rng.NextDouble() * 2 - 1) * scale + (name == "oww_embedding" ? 2 : 0);
        ort.Input.CopyTo(session.Input(0, 1));
        ort.Run(); session.Run(1);
        var ours = session.Output(0); var theirs = ort.Output;
        Assert.Equal(theirs.Length, ours.Length);
        float max = 0, diff = 0;
        for (int i = 0; i < ours.Length; i++) { max = Math.Max(max, Math.Abs(theirs[i])); diff = Math.Max(diff, Math.Abs(ours[i] - theirs[i])); }
        output.WriteLine($"{name}: max |EdgeNet − ORT| = {diff:E2} (largest |value| {max:G4})");
        Assert.True(diff <= 1e-4f * Math.Max(1, max), $"{diff}");
    }

    [Trait("Needs", "OnnxRuntime")]
    [Fact]
    public void Pipeline_over_the_example_wav_detects_what_ONNX_Runtime_detects()
    {
        var mel = ConvertOrSkip("oww_melspectrogram", MelOptions);
        var models = new[] { mel, ConvertOrSkip("oww_embedding") }.Concat(Heads.Select(h => ConvertOrSkip(h))).ToArray();
        var stages = models.Select(m => new SessionStage(m)).ToArray();
        var ort = new[] { ("oww_melspectrogram", MelShape), ("oww_embedding", EmbeddingShape) }.Concat(Heads.Select(h => (h, HeadShape)))
            .Select(s => new OrtStage(ExampleModels.PathOrSkip(s.Item1 + ".onnx", ""), s.Item2)).ToArray();
        try
        {
            var ours = Scores(new WakeWordPipeline(stages[0], stages[1], stages[2..]));
            var theirs = Scores(new WakeWordPipeline(ort[0], ort[1], ort[2..]));
            Assert.Equal(theirs.Count, ours.Count);
            float worst = 0;
            for (int c = 0; c < ours.Count; c++) for (int h = 0; h < Heads.Length; h++) worst = Math.Max(worst, Math.Abs(ours[c][h] - theirs[c][h]));
            output.WriteLine($"{ours.Count} scored chunks; max |score EdgeNet − ORT| = {worst:E2}; best: " +
                string.Join(", ", Heads.Select((h, i) => $"{h} {ours.Max(s => s[i]):F3} (ORT {theirs.Max(s => s[i]):F3})")));
            Assert.True(worst <= 1e-3f, $"{worst}");
            for (int h = 0; h < Heads.Length; h++)   // the same chunks above openWakeWord's threshold, 0.5
                Assert.Equal(theirs.Select(s => s[h] >= 0.5f), ours.Select(s => s[h] >= 0.5f));
        }
        finally { foreach (var s in stages) s.Dispose(); foreach (var s in ort) s.Dispose(); }
    }

    /// <summary>The pipeline itself, with ONNX Runtime running every stage: the example WAV (espeak-ng) says "Alexa" at
    /// 1.0–2.0 s and "Hey my croft" at 3.0–4.8 s; each head fires (score ≥ 0.5) after its word and nowhere else.</summary>
    [Trait("Needs", "OnnxRuntime")]
    [Fact]
    public void Pipeline_with_ONNX_Runtime_stages_finds_the_wake_words_where_they_are_said()
    {
        var ort = new[] { ("oww_melspectrogram", MelShape), ("oww_embedding", EmbeddingShape) }.Concat(Heads.Select(h => (h, HeadShape)))
            .Select(s => new OrtStage(ExampleModels.PathOrSkip(s.Item1 + ".onnx", "examples/wakeword/fetch-models.sh"), s.Item2)).ToArray();
        try
        {
            var scores = Scores(new WakeWordPipeline(ort[0], ort[1], ort[2..]));
            (double from, double to)[] said = [(1.0, 2.5), (3.0, 5.0)];
            for (int h = 0; h < Heads.Length; h++)
            {
                var fired = Enumerable.Range(0, scores.Count).Where(c => scores[c][h] >= 0.5f).Select(c => WakeWordPipeline.Seconds(c + 16)).ToList();
                output.WriteLine($"{Heads[h]}: best {scores.Max(s => s[h]):F3}, ≥ 0.5 at {string.Join(" ", fired.Select(t => $"{t:F2}"))} s");
                Assert.NotEmpty(fired);
                Assert.All(fired, t => Assert.InRange(t, said[h].from, said[h].to));
            }
        }
        finally { foreach (var s in ort) s.Dispose(); }
    }

    static List<float[]> Scores(WakeWordPipeline p)
    {
        var (samples, _) = Examples.WakeWord.Wav.Read(Wav);
        var all = new List<float[]>();
        for (int c = 0; c + 1280 <= samples.Length; c += 1280)
        {
            var s = new float[Heads.Length];
            if (p.Push(samples.AsSpan(c, 1280), s)) all.Add(s);
        }
        return all;
    }
}

/// <summary>The downloaded third-party models (examples' fetch scripts): $EDGENET_MODELS or ~/.cache/edgenet-models.</summary>
static class ExampleModels
{
    public static string Dir => Environment.GetEnvironmentVariable("EDGENET_MODELS") is { Length: > 0 } d ? d
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "edgenet-models");

    /// <summary>The model's path, or a visible skip naming the script that downloads it.</summary>
    public static string PathOrSkip(string file, string fetch)
    {
        string p = Path.Combine(Dir, file);
        if (!File.Exists(p)) Assert.Skip($"{p} is not downloaded (offline?): run {fetch}");
        return p;
    }
}
