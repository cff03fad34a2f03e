namespace EdgeNet.Examples.FaceDetect;

/// <summary>A detected box in image pixels (corners), its score in [0, 1] and optional keypoints (x, y pairs).</summary>
public readonly record struct Detection(float X1, float Y1, float X2, float Y2, float Score, float[]? Keypoints = null)
{
    public float Width => X2 - X1;
    public float Height => Y2 - Y1;
    public float Area => MathF.Max(0, Width) * MathF.Max(0, Height);

    /// <summary>Intersection over union of two boxes (0 when they do not overlap or both are empty).</summary>
    public static float IoU(in Detection a, in Detection b)
    {
        float w = MathF.Min(a.X2, b.X2) - MathF.Max(a.X1, b.X1), h = MathF.Min(a.Y2, b.Y2) - MathF.Max(a.Y1, b.Y1);
        if (w <= 0 || h <= 0) return 0;
        float inter = w * h, union = a.Area + b.Area - inter;
        return union > 0 ? inter / union : 0;
    }

    /// <summary>This box with its corners and keypoints mapped by x' = (x − dx)·sx, y' = (y − dy)·sy.</summary>
    public Detection Map(float dx, float dy, float sx, float sy)
    {
        float[]? k = null;
        if (Keypoints is { } p)
        {
            k = new float[p.Length];
            for (int i = 0; i < p.Length; i += 2) { k[i] = (p[i] - dx) * sx; k[i + 1] = (p[i + 1] - dy) * sy; }
        }
        return new((X1 - dx) * sx, (Y1 - dy) * sy, (X2 - dx) * sx, (Y2 - dy) * sy, Score, k);
    }
}
