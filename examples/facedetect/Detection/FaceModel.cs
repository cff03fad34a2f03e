using EdgeNet.Devices.Camera;

namespace EdgeNet.Examples.FaceDetect;

/// <summary>Reads output <c>i</c> of a model run (EdgeNet's <c>Session.Output</c>, or ONNX Runtime's tensors in a test).</summary>
public delegate ReadOnlySpan<float> OutputReader(int i);

/// <summary>
/// Where the model's input sits in the image: a point u ∈ [0, 1] of the input maps to image pixel (u − Offset)·Scale
/// on each axis (a stretch has offset 0 and scale = the image's size; a letterbox has the padding as offset).
/// </summary>
public readonly record struct InputPlacement(float OffsetX, float OffsetY, float ScaleX, float ScaleY);

/// <summary>
/// A face detector's pre- and post-processing: the image into the model's input tensor, the model's outputs back to
/// boxes in image pixels. <see cref="For"/> picks the one that fits a model's input and output shapes.
/// </summary>
public abstract class FaceModel
{
    /// <summary>A short name for printing ("ultraface", "blazeface").</summary>
    public abstract string Name { get; }
    /// <summary>The model input's shape, batch 1 (NCHW or NHWC as the model wants).</summary>
    public abstract int[] InputShape { get; }
    /// <summary>A score threshold that suits this model.</summary>
    public abstract float DefaultThreshold { get; }
    /// <summary>The IoU above which NMS drops the lower-scored of two boxes.</summary>
    public virtual float IouThreshold => 0.3f;
    public int InputLength => InputShape.Aggregate(1, (a, b) => a * b);

    /// <summary>Writes the model's input for <paramref name="image"/> into <paramref name="input"/> and says where it sits in the image.</summary>
    public abstract InputPlacement Preprocess(Frame image, Span<float> input);

    /// <summary>Every candidate above <paramref name="threshold"/>, in [0, 1] of the model's input, before NMS.</summary>
    public abstract List<Detection> Candidates(OutputReader outputs, float threshold);

    /// <summary>Suppresses overlapping candidates.</summary>
    public virtual List<Detection> Suppress(List<Detection> candidates) => Nms.Hard(candidates, IouThreshold);

    /// <summary>The faces in image pixels, best first: candidates, NMS, then mapped through <paramref name="placement"/>.</summary>
    public List<Detection> Detect(OutputReader outputs, InputPlacement placement, float? threshold = null) =>
        Suppress(Candidates(outputs, threshold ?? DefaultThreshold))
            .Select(d => d.Map(placement.OffsetX, placement.OffsetY, placement.ScaleX, placement.ScaleY)).ToList();

    /// <summary>The face model whose input and output shapes these are.</summary>
    /// <exception cref="NotSupportedException">A model neither detector knows.</exception>
    public static FaceModel For(IReadOnlyList<int> input, IReadOnlyList<int[]> outputs)
    {
        if (input is [1, 3, var h, var w] && outputs.Count == 2 && outputs.Any(o => o[^1] == 2) && outputs.Any(o => o[^1] == 4))
            return new UltraFace(h, w, outputs.ToList().FindIndex(o => o[^1] == 2), outputs.ToList().FindIndex(o => o[^1] == 4));
        if (input is [1, var bh, var bw, 3] && bh == bw && outputs.Count == 4 && outputs.Count(o => o[^1] == 1) == 2 && outputs.Count(o => o[^1] == 16) == 2)
            return new BlazeFace(bh, outputs);
        throw new NotSupportedException($"input [{string.Join(",", input)}] with outputs {string.Join(" ", outputs.Select(o => $"[{string.Join(",", o)}]"))}: " +
            "not UltraFace (NCHW input, scores [1,N,2] and boxes [1,N,4]) nor BlazeFace (NHWC square input, scores [1,N,1] and regressors [1,N,16] for two grids)");
    }
}
