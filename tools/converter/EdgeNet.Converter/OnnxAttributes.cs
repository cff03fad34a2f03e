using EdgeNet.Converter.Onnx;
using EdgeNet.Format;

namespace EdgeNet.Converter;

// Reading ONNX node attributes. ONNX stores integers as int64; EdgeNet's kernels hold axes, sizes, groups and flags in
// 32 bits, so every integer is range-checked as the int64 it is (never cut: 2^32+1 must not become 1), and the error
// quotes the value the file holds. Only the attributes ONNX defines over the whole int64 range (Slice-1 starts/ends,
// Shape start/end, which clamp) are read with the *64 readers.
public sealed partial class OnnxImporter
{
    AttributeProto? Attr(NodeProto n, string name) => n.Attribute.FirstOrDefault(a => a.Name == name);

    long AttrI(NodeProto n, string name, long fallback) => Attr(n, name) is { } a ? Int32Range(name, a.I) : fallback;
    long[] AttrInts(NodeProto n, string name, long[] fallback)
    {
        if (Attr(n, name) is not { } a) return fallback;
        var v = a.Ints.ToArray();
        foreach (var x in v) Int32Range(name, x);
        return v;
    }

    long AttrI64(NodeProto n, string name, long fallback) => Attr(n, name) is { } a ? a.I : fallback;
    long[] AttrInts64(NodeProto n, string name, long[] fallback) => Attr(n, name) is { } a ? a.Ints.ToArray() : fallback;
    float AttrF(NodeProto n, string name, float fallback) => Attr(n, name) is { } a ? a.F : fallback;
    string AttrS(NodeProto n, string name, string fallback) => Attr(n, name) is { } a ? a.S.ToStringUtf8() : fallback;

    long Int32Range(string name, long v) =>
        v is >= int.MinValue and <= int.MaxValue ? v : throw Error($"attribute '{name}' = {v} is out of range (at most {int.MaxValue} in magnitude)");
}
