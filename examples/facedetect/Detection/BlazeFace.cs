using EdgeNet.Devices.Camera;

namespace EdgeNet.Examples.FaceDetect;

/// <summary>
/// MediaPipe BlazeFace (front camera, 128x128): the image letterboxed into the square input, v / 127.5 − 1, NHWC.
/// The model gives raw scores and 16 regressor values per SSD anchor (box centre offset and size, then six
/// keypoints: eyes, nose, mouth, ears), in input pixels relative to the anchor; decoding them against
/// <see cref="SsdAnchors"/> and weighted NMS follow MediaPipe's face_detection_front graph (score sigmoid, 0.75, IoU 0.3).
/// </summary>
public sealed class BlazeFace : FaceModel
{
    readonly int size;
    readonly int[] scoreOutputs, boxOutputs;   // per anchor grid, finest first (the anchors' order)
    readonly Anchor[] anchors;

    public BlazeFace(int size, IReadOnlyList<int[]> outputs)
    {
        this.size = size;
        var idx = Enumerable.Range(0, outputs.Count);
        // The finer grid has more anchors: order each kind of output by its row count, largest first.
        scoreOutputs = idx.Where(i => outputs[i][^1] == 1).OrderByDescending(i => outputs[i][^2]).ToArray();
        boxOutputs = idx.Where(i => outputs[i][^1] == 16).OrderByDescending(i => outputs[i][^2]).ToArray();
        anchors = SsdAnchors.Generate(size, size, [8, 16, 16, 16]);
        int rows = scoreOutputs.Sum(i => outputs[i][^2]);
        if (rows != anchors.Length) throw new NotSupportedException($"BlazeFace outputs hold {rows} anchors; a {size}x{size} front model has {anchors.Length}");
    }

    public override string Name => "blazeface";
    public override int[] InputShape => [1, size, size, 3];
    public override float DefaultThreshold => 0.75f;

    public override InputPlacement Preprocess(Frame image, Span<float> input)
    {
        // Letterbox: the whole image scaled to fit, centred, black (−1) around it, so faces keep their shape.
        float s = Math.Min((float)size / image.Width, (float)size / image.Height);
        int w = Math.Max(1, (int)MathF.Round(image.Width * s)), h = Math.Max(1, (int)MathF.Round(image.Height * s));
        int x0 = (size - w) / 2, y0 = (size - h) / 2;
        var rgb = Images.Resize(image, w, h);
        input[..(size * size * 3)].Fill(-1f);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    input[((y0 + y) * size + x0 + x) * 3 + c] = rgb[(y * w + x) * 3 + c] / 127.5f - 1f;
        return new((float)x0 / size, (float)y0 / size, image.Width / (w / (float)size), image.Height / (h / (float)size));
    }

    public override List<Detection> Candidates(OutputReader outputs, float threshold)
    {
        var found = new List<Detection>();
        float logit = MathF.Log(threshold / (1 - threshold));   // sigmoid(s) > threshold ⇔ s > logit
        int a = 0;
        for (int g = 0; g < scoreOutputs.Length; g++)
        {
            var scores = outputs(scoreOutputs[g]); var raw = outputs(boxOutputs[g]);
            for (int i = 0; i < scores.Length; i++, a++)
            {
                float s = Math.Clamp(scores[i], -100f, 100f);
                if (!(s > logit)) continue;
                var r = raw.Slice(i * 16, 16); var an = anchors[a];
                float cx = r[0] / size * an.Width + an.CenterX, cy = r[1] / size * an.Height + an.CenterY;
                float bw = r[2] / size * an.Width, bh = r[3] / size * an.Height;
                var kp = new float[12];
                for (int k = 0; k < 6; k++) { kp[2 * k] = r[4 + 2 * k] / size * an.Width + an.CenterX; kp[2 * k + 1] = r[5 + 2 * k] / size * an.Height + an.CenterY; }
                found.Add(new(cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2, 1f / (1f + MathF.Exp(-s)), kp));
            }
        }
        return found;
    }

    public override List<Detection> Suppress(List<Detection> candidates) => Nms.Weighted(candidates, IouThreshold);
}
