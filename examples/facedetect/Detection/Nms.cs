namespace EdgeNet.Examples.FaceDetect;

/// <summary>Non-maximum suppression: the detectors' last step, shared by every anchor-based model.</summary>
public static class Nms
{
    /// <summary>
    /// Greedy ("hard") NMS: candidates by descending score (ties by their order in the input, so the result is
    /// deterministic); each one kept unless it overlaps an already kept box by IoU &gt; <paramref name="iouThreshold"/>.
    /// At most <paramref name="maxCandidates"/> of the best candidates are considered and <paramref name="maxResults"/> kept.
    /// </summary>
    public static List<Detection> Hard(IReadOnlyList<Detection> candidates, float iouThreshold, int maxCandidates = 200, int maxResults = 100)
    {
        var order = Enumerable.Range(0, candidates.Count).OrderByDescending(i => candidates[i].Score).ThenBy(i => i).Take(maxCandidates);
        var kept = new List<Detection>();
        foreach (int i in order)
        {
            var c = candidates[i];
            bool suppressed = false;
            foreach (var k in kept) if (Detection.IoU(k, c) > iouThreshold) { suppressed = true; break; }
            if (suppressed) continue;
            kept.Add(c);
            if (kept.Count == maxResults) break;
        }
        return kept;
    }

    /// <summary>
    /// Weighted NMS (MediaPipe's for BlazeFace): each kept box is the score-weighted mean of the candidates that
    /// overlap the best remaining one by IoU &gt; <paramref name="iouThreshold"/>, with the best one's score. It
    /// steadies boxes between frames where several anchors see one face.
    /// </summary>
    public static List<Detection> Weighted(IReadOnlyList<Detection> candidates, float iouThreshold, int maxResults = 100)
    {
        var remaining = Enumerable.Range(0, candidates.Count).OrderByDescending(i => candidates[i].Score).ThenBy(i => i).ToList();
        var kept = new List<Detection>();
        while (remaining.Count > 0 && kept.Count < maxResults)
        {
            var best = candidates[remaining[0]];
            var cluster = remaining.Where(i => Detection.IoU(best, candidates[i]) > iouThreshold).ToList();
            if (cluster.Count == 0) cluster.Add(remaining[0]);   // an empty best box overlaps nothing, not even itself
            float total = 0, x1 = 0, y1 = 0, x2 = 0, y2 = 0;
            float[]? kp = best.Keypoints is { } bk ? new float[bk.Length] : null;
            foreach (int i in cluster)
            {
                var c = candidates[i]; float w = c.Score;
                total += w; x1 += c.X1 * w; y1 += c.Y1 * w; x2 += c.X2 * w; y2 += c.Y2 * w;
                if (kp is not null && c.Keypoints is { } ck && ck.Length == kp.Length) for (int j = 0; j < kp.Length; j++) kp[j] += ck[j] * w;
            }
            if (kp is not null) for (int j = 0; j < kp.Length; j++) kp[j] /= total;
            kept.Add(new(x1 / total, y1 / total, x2 / total, y2 / total, best.Score, kp));
            remaining.RemoveAll(cluster.Contains);
        }
        return kept;
    }
}
