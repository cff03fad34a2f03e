namespace EdgeNet.Service;

/// <summary>Logits → softmax, top-k, a confidence threshold, and a majority vote over the last K decisions.</summary>
internal sealed class Postprocessor(PostprocessConfig cfg, int classes)
{
    readonly Queue<int> recent = new();
    readonly float[] probs = new float[classes];
    readonly int[] votes = new int[classes + 1];

    /// <summary>The decided class (−1 = below threshold, "unknown"), its probability, and the top-k.</summary>
    public (int cls, float confidence, int[] top, float[] topScores) Decide(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity, sum = 0;
        foreach (var v in logits) max = Math.Max(max, v);
        for (int i = 0; i < classes; i++) sum += probs[i] = MathF.Exp(logits[i] - max);
        for (int i = 0; i < classes; i++) probs[i] /= sum;
        int k = Math.Min(cfg.TopK, classes);
        var top = Enumerable.Range(0, classes).OrderByDescending(i => probs[i]).Take(k).ToArray();
        int raw = probs[top[0]] >= cfg.Threshold ? top[0] : -1;
        recent.Enqueue(raw);
        while (recent.Count > cfg.Vote) recent.Dequeue();
        Array.Clear(votes);
        foreach (var r in recent) votes[r + 1]++;
        int decided = Array.IndexOf(votes, votes.Max()) - 1;
        return (decided, decided >= 0 ? probs[decided] : probs[top[0]], top, top.Select(i => probs[i]).ToArray());
    }
}
