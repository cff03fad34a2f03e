using EdgeNet.Devices.Camera;

namespace EdgeNet.Examples.FaceDetect;

/// <summary>
/// UltraFace (Linzaer's Ultra-Light-Fast-Generic-Face-Detector): RGB stretched to the input, (v − 127) / 128, NCHW.
/// The "simplified" export gives softmaxed scores and raw SSD locations per prior; decoding them against
/// <see cref="Priors"/> (centre variance 0.1, size variance 0.2), a threshold on class 1 and hard NMS (IoU 0.3)
/// follow the authors' MNN/ncnn demos.
/// </summary>
public sealed class UltraFace(int height, int width, int scoresOutput, int boxesOutput) : FaceModel
{
    const float CenterVariance = 0.1f, SizeVariance = 0.2f;
    readonly Anchor[] priors = Priors(width, height);

    public override string Name => "ultraface";
    public override int[] InputShape => [1, 3, height, width];
    public override float DefaultThreshold => 0.7f;

    public override InputPlacement Preprocess(Frame image, Span<float> input)
    {
        var rgb = Images.Resize(image, width, height);   // a stretch, as the model was trained
        int plane = width * height;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++) input[c * plane + p] = (rgb[p * 3 + c] - 127f) / 128f;
        return new(0, 0, image.Width, image.Height);
    }

    public override List<Detection> Candidates(OutputReader outputs, float threshold)
    {
        var scores = outputs(scoresOutput); var boxes = outputs(boxesOutput);
        if (scores.Length != 2 * priors.Length) throw new InvalidOperationException($"{scores.Length / 2} scores for {priors.Length} priors of a {width}x{height} input");
        var found = new List<Detection>();
        for (int i = 0; i < priors.Length; i++)
        {
            if (!(scores[2 * i + 1] > threshold)) continue;
            var p = priors[i];
            float cx = boxes[4 * i] * CenterVariance * p.Width + p.CenterX, cy = boxes[4 * i + 1] * CenterVariance * p.Height + p.CenterY;
            float w = MathF.Exp(boxes[4 * i + 2] * SizeVariance) * p.Width, h = MathF.Exp(boxes[4 * i + 3] * SizeVariance) * p.Height;
            found.Add(new(Math.Clamp(cx - w / 2, 0, 1), Math.Clamp(cy - h / 2, 0, 1), Math.Clamp(cx + w / 2, 0, 1), Math.Clamp(cy + h / 2, 0, 1), scores[2 * i + 1]));
        }
        return found;
    }

    /// <summary>
    /// UltraFace's priors for a <paramref name="width"/> x <paramref name="height"/> input: feature maps of strides
    /// 8, 16, 32, 64 (⌈size / stride⌉ cells), square boxes of 10/16/24, 32/48, 64/96 and 128/192/256 input pixels
    /// per cell; order row, column, box; centres (cell + 0.5) / (size / stride), all clamped to [0, 1].
    /// </summary>
    public static Anchor[] Priors(int width, int height)
    {
        int[] strides = [8, 16, 32, 64];
        float[][] sizes = [[10, 16, 24], [32, 48], [64, 96], [128, 192, 256]];
        var priors = new List<Anchor>();
        for (int l = 0; l < strides.Length; l++)
        {
            int cols = (width + strides[l] - 1) / strides[l], rows = (height + strides[l] - 1) / strides[l];
            float scaleW = (float)width / strides[l], scaleH = (float)height / strides[l];
            for (int y = 0; y < rows; y++)
                for (int x = 0; x < cols; x++)
                    foreach (float s in sizes[l])
                        priors.Add(new(Math.Clamp((x + 0.5f) / scaleW, 0, 1), Math.Clamp((y + 0.5f) / scaleH, 0, 1), Math.Clamp(s / width, 0, 1), Math.Clamp(s / height, 0, 1)));
        }
        return [.. priors];
    }
}
