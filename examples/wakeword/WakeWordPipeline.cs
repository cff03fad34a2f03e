namespace EdgeNet.Examples.WakeWord;

/// <summary>One model of the pipeline: write its input, run it, read its output (an EdgeNet session, or ONNX Runtime in a test).</summary>
public interface IStage
{
    Span<float> Input { get; }
    void Run();
    ReadOnlySpan<float> Output { get; }
}

/// <summary>
/// openWakeWord's streaming pipeline, fed 80 ms chunks (1280 samples at 16 kHz, int16 scale) as a microphone gives
/// them. Per chunk: (1) the melspectrogram model on the chunk and the 480 samples before it (its 512-sample window
/// needs them) gives 8 frames of 32 mel bins, kept as x / 10 + 2; (2) the embedding model on the last 76 frames gives
/// one 96-value embedding; (3) each wake-word head scores the last 16 embeddings. As openWakeWord's AudioFeatures
/// does, the mel buffer starts as 76 frames of ones; unlike it, the audio starts after 480 zero samples (so every
/// melspectrogram run has one shape) and there is no score until 16 embeddings exist (1.28 s; openWakeWord fills
/// them with embeddings of random noise and reports 0 for its first 5 chunks).
/// </summary>
public sealed class WakeWordPipeline
{
    public const int SampleRate = 16000, ChunkSamples = 1280, MelContext = 480, MelFramesPerChunk = 8, MelBins = 32;
    public const int EmbeddingWindow = 76, EmbeddingSize = 96, HeadWindow = 16;

    readonly IStage mel, embedding;
    readonly IStage[] heads;
    readonly float[] audio = new float[ChunkSamples + MelContext];
    readonly float[] mels = new float[EmbeddingWindow * MelBins];      // the last 76 frames, oldest first
    readonly float[] embeddings = new float[HeadWindow * EmbeddingSize]; // the last 16 embeddings, oldest first
    int embeddingCount;

    public WakeWordPipeline(IStage mel, IStage embedding, IReadOnlyList<IStage> heads)
    {
        this.mel = mel; this.embedding = embedding; this.heads = [.. heads];
        if (mel.Input.Length != audio.Length) throw new ArgumentException($"the melspectrogram model takes {mel.Input.Length} samples; this pipeline feeds {audio.Length} (convert it with --input-shape input=1,{audio.Length})");
        if (embedding.Input.Length != mels.Length) throw new ArgumentException($"the embedding model takes {embedding.Input.Length} values, not {EmbeddingWindow}x{MelBins}");
        foreach (var h in this.heads) if (h.Input.Length != embeddings.Length) throw new ArgumentException($"a wake-word head takes {h.Input.Length} values, not {HeadWindow}x{EmbeddingSize}");
        Reset();
    }

    /// <summary>Chunks pushed so far.</summary>
    public long Chunks { get; private set; }

    /// <summary>Back to the start of a stream: no audio, mel frames of ones, no embeddings.</summary>
    public void Reset()
    {
        Array.Clear(audio); mels.AsSpan().Fill(1f); Array.Clear(embeddings); embeddingCount = 0; Chunks = 0;
    }

    /// <summary>
    /// Pushes one 80 ms chunk (1280 samples at int16 scale) and writes each head's score into
    /// <paramref name="scores"/>; false (scores untouched) until 16 embeddings exist. Allocates nothing.
    /// </summary>
    public bool Push(ReadOnlySpan<short> chunk, Span<float> scores)
    {
        if (chunk.Length != ChunkSamples) throw new ArgumentException($"a chunk is {ChunkSamples} samples, not {chunk.Length}");
        Chunks++;
        // (1) melspectrogram of the chunk with the 480 samples before it
        audio.AsSpan(ChunkSamples).CopyTo(audio);
        for (int i = 0; i < ChunkSamples; i++) audio[MelContext + i] = chunk[i];
        audio.CopyTo(mel.Input);
        mel.Run();
        var frames = mel.Output;
        if (frames.Length != MelFramesPerChunk * MelBins) throw new InvalidOperationException($"the melspectrogram model gave {frames.Length} values, not {MelFramesPerChunk}x{MelBins}");
        mels.AsSpan(frames.Length).CopyTo(mels);
        var newest = mels.AsSpan(mels.Length - frames.Length);
        for (int i = 0; i < frames.Length; i++) newest[i] = frames[i] / 10f + 2f;   // openWakeWord's melspec transform

        // (2) one embedding of the last 76 frames
        mels.CopyTo(embedding.Input);
        embedding.Run();
        embeddings.AsSpan(EmbeddingSize).CopyTo(embeddings);
        embedding.Output.CopyTo(embeddings.AsSpan(embeddings.Length - EmbeddingSize));
        if (++embeddingCount < HeadWindow) return false;

        // (3) every wake-word head on the last 16 embeddings
        for (int h = 0; h < heads.Length; h++)
        {
            embeddings.CopyTo(heads[h].Input);
            heads[h].Run();
            scores[h] = heads[h].Output[0];
        }
        return true;
    }

    /// <summary>The end time of chunk <paramref name="chunk"/> (1-based), in seconds.</summary>
    public static double Seconds(long chunk) => chunk * (double)ChunkSamples / SampleRate;
}
