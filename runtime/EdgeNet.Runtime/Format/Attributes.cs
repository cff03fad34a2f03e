namespace EdgeNet.Format;

/// <summary>Kinds of attribute value, with their on-disk codes.</summary>
public enum AttrKind : byte
{
    /// <summary>One int64.</summary>
    Int = 1,
    /// <summary>One float32.</summary>
    Float = 2,
    /// <summary>A list of int64.</summary>
    Ints = 3,
    /// <summary>A list of float32.</summary>
    Floats = 4,
    /// <summary>A UTF-8 string.</summary>
    String = 5,
}

/// <summary>One attribute value: <paramref name="Kind"/> says which of the other fields holds it.</summary>
/// <param name="Kind">Which field holds the value.</param>
/// <param name="Int">The value of an <see cref="AttrKind.Int"/>.</param>
/// <param name="Float">The value of an <see cref="AttrKind.Float"/>.</param>
/// <param name="Ints">The values of an <see cref="AttrKind.Ints"/>.</param>
/// <param name="Floats">The values of an <see cref="AttrKind.Floats"/>.</param>
/// <param name="String">The value of an <see cref="AttrKind.String"/>.</param>
public readonly record struct AttrValue(AttrKind Kind, long Int = 0, float Float = 0, long[]? Ints = null, float[]? Floats = null, string? String = null);

/// <summary>Named node attributes with typed, defaulted getters that raise a precise error on a wrong kind.</summary>
public sealed class Attributes
{
    readonly Dictionary<string, AttrValue> values = new(StringComparer.Ordinal);
    /// <summary>Every attribute by name.</summary>
    public IReadOnlyDictionary<string, AttrValue> All => values;

    /// <summary>Sets an int64 attribute (replacing any value of that name); returns this, to chain.</summary>
    public Attributes Set(string name, long v) { values[name] = new(AttrKind.Int, Int: v); return this; }
    /// <summary>Sets a float attribute; returns this.</summary>
    public Attributes Set(string name, float v) { values[name] = new(AttrKind.Float, Float: v); return this; }
    /// <summary>Sets an int64-list attribute; returns this.</summary>
    public Attributes Set(string name, long[] v) { values[name] = new(AttrKind.Ints, Ints: v); return this; }
    /// <summary>Sets a float-list attribute; returns this.</summary>
    public Attributes Set(string name, float[] v) { values[name] = new(AttrKind.Floats, Floats: v); return this; }
    /// <summary>Sets a string attribute; returns this.</summary>
    public Attributes Set(string name, string v) { values[name] = new(AttrKind.String, String: v); return this; }
    /// <summary>Sets an attribute of any kind; returns this.</summary>
    public Attributes Set(string name, AttrValue v) { values[name] = v; return this; }
    /// <summary>Whether an attribute of that name is set.</summary>
    public bool Has(string name) => values.ContainsKey(name);

    /// <summary>An int64 attribute, or <paramref name="fallback"/> when absent (ONNX's default).</summary>
    /// <exception cref="ModelFormatException">The attribute has another kind.</exception>
    public long Int(string name, long fallback) => Get(name, AttrKind.Int) is { } v ? v.Int : fallback;
    /// <summary>A float attribute, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ModelFormatException">The attribute has another kind.</exception>
    public float Float(string name, float fallback) => Get(name, AttrKind.Float) is { } v ? v.Float : fallback;
    /// <summary>An int64-list attribute, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ModelFormatException">The attribute has another kind.</exception>
    public long[] Ints(string name, long[] fallback) => Get(name, AttrKind.Ints) is { } v ? v.Ints! : fallback;
    /// <summary>A float-list attribute, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ModelFormatException">The attribute has another kind.</exception>
    public float[] Floats(string name, float[] fallback) => Get(name, AttrKind.Floats) is { } v ? v.Floats! : fallback;
    /// <summary>A string attribute, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ModelFormatException">The attribute has another kind.</exception>
    public string String(string name, string fallback) => Get(name, AttrKind.String) is { } v ? v.String! : fallback;

    AttrValue? Get(string name, AttrKind kind)
    {
        if (!values.TryGetValue(name, out var v)) return null;
        if (v.Kind != kind) throw new ModelFormatException($"attribute '{name}' is {v.Kind}, expected {kind}");
        return v;
    }
}
