namespace EdgeNet.Examples.FaceDetect;

/// <summary>An anchor: centre and size, in [0, 1] of the model's input.</summary>
public readonly record struct Anchor(float CenterX, float CenterY, float Width, float Height);

/// <summary>
/// MediaPipe's SSD anchors (SsdAnchorsCalculator with fixed_anchor_size, aspect ratio 1 and the interpolated scale):
/// two anchors per cell for every layer; consecutive layers of one stride share a grid, so their anchors sit
/// together per cell. Order: layer group, row, column, anchor — the order of the model's regressor rows.
/// </summary>
public static class SsdAnchors
{
    /// <summary>Anchors for an input of <paramref name="width"/> x <paramref name="height"/> and the layers' strides.</summary>
    public static Anchor[] Generate(int width, int height, ReadOnlySpan<int> strides, float offset = 0.5f)
    {
        var anchors = new List<Anchor>();
        for (int layer = 0; layer < strides.Length;)
        {
            int stride = strides[layer], perCell = 0;
            for (; layer < strides.Length && strides[layer] == stride; layer++) perCell += 2;
            int rows = (height + stride - 1) / stride, cols = (width + stride - 1) / stride;
            for (int y = 0; y < rows; y++)
                for (int x = 0; x < cols; x++)
                    for (int a = 0; a < perCell; a++)
                        anchors.Add(new((x + offset) / cols, (y + offset) / rows, 1, 1));
        }
        return [.. anchors];
    }
}
