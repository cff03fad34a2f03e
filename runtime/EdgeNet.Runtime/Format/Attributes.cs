namespace EdgeNet.Format;

/// <summary>Kinds of attribute value, with their on-disk codes.</summary>
public enum AttrKind : byte { Int = 1, Float = 2, Ints = 3, Floats = 4, String = 5 }

public readonly record struct AttrValue(AttrKind Kind, long Int = 0, float Float = 0, long[]? Ints = null, float[]? Floats = null, string? String = null);

/// <summary>Named node attributes with typed, defaulted getters that raise a precise error on a wrong kind.</summary>
public sealed class Attributes
{
    readonly Dictionary<string, AttrValue> values = new(StringComparer.Ordinal);
    public IReadOnlyDictionary<string, AttrValue> All => values;

    public Attributes Set(string name, long v) { values[name] = new(AttrKind.Int, Int: v); return this; }
    public Attributes Set(string name, float v) { values[name] = new(AttrKind.Float, Float: v); return this; }
    public Attributes Set(string name, long[] v) { values[name] = new(AttrKind.Ints, Ints: v); return this; }
    public Attributes Set(string name, float[] v) { values[name] = new(AttrKind.Floats, Floats: v); return this; }
    public Attributes Set(string name, string v) { values[name] = new(AttrKind.String, String: v); return this; }
    public Attributes Set(string name, AttrValue v) { values[name] = v; return this; }
    public bool Has(string name) => values.ContainsKey(name);

    public long Int(string name, long fallback) => Get(name, AttrKind.Int) is { } v ? v.Int : fallback;
    public float Float(string name, float fallback) => Get(name, AttrKind.Float) is { } v ? v.Float : fallback;
    public long[] Ints(string name, long[] fallback) => Get(name, AttrKind.Ints) is { } v ? v.Ints! : fallback;
    public float[] Floats(string name, float[] fallback) => Get(name, AttrKind.Floats) is { } v ? v.Floats! : fallback;
    public string String(string name, string fallback) => Get(name, AttrKind.String) is { } v ? v.String! : fallback;

    AttrValue? Get(string name, AttrKind kind)
    {
        if (!values.TryGetValue(name, out var v)) return null;
        if (v.Kind != kind) throw new ModelFormatException($"attribute '{name}' is {v.Kind}, expected {kind}");
        return v;
    }
}
