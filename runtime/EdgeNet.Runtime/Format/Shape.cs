namespace EdgeNet.Format;

/// <summary>
/// Shapes with a symbolic batch. A dimension d ≥ 0 is fixed; d &lt; 0 means (-d)·N where N is the batch
/// given at run time (so -1 is N, -8 is 8N after a Reshape that folds the batch into rows).
/// </summary>
public static class Shape
{
    /// <summary>The highest rank a tensor may have.</summary>
    public const int MaxRank = 8;

    /// <summary>A dimension at batch <paramref name="batch"/>.</summary>
    public static int Resolve(int dim, int batch) => dim >= 0 ? dim : checked(-dim * batch);

    /// <summary>Elements of a shape at batch <paramref name="batch"/>.</summary>
    /// <exception cref="OverflowException">More than <see cref="long.MaxValue"/> elements.</exception>
    public static long Elements(ReadOnlySpan<int> template, int batch)
    {
        long n = 1;
        foreach (var d in template) n = checked(n * Resolve(d, batch));
        return n;
    }

    /// <summary>Whether any dimension is a multiple of the batch.</summary>
    public static bool HasBatch(ReadOnlySpan<int> template)
    {
        foreach (var d in template) if (d < 0) return true;
        return false;
    }

    /// <summary>As messages print a shape: [N,1,8,8].</summary>
    public static string Format(ReadOnlySpan<int> template)
    {
        var parts = new string[template.Length];
        for (int i = 0; i < template.Length; i++)
            parts[i] = template[i] switch { >= 0 => template[i].ToString(), -1 => "N", _ => $"{-template[i]}N" };
        return "[" + string.Join(",", parts) + "]";
    }
}
