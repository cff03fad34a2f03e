using System.Runtime.InteropServices;
using EdgeNet.Converter.Onnx;
using EdgeNet.Engine;
using EdgeNet.Format;
using Google.Protobuf;

namespace EdgeNet.Fuzz;

/// <summary>
/// Seeds no mutation of our models reaches (issue 16): external data through a symlink out of the folder, into a FIFO
/// or /dev/zero, int64 attribute extremes, and huge declared sizes. Every fuzz run starts from these as well as from
/// the corpus; <see cref="Neighbours"/> puts the files they name beside the fuzzed model.
/// </summary>
public static partial class HostileSeeds
{
    const long Int40 = 1L << 40, Int32Plus1 = (1L << 32) + 1;

    /// <summary>ONNX seeds, named; all are refused except "slice-int64-min", which ONNX defines (one element per row).</summary>
    public static IEnumerable<(string Name, byte[] Bytes)> Onnx()
    {
        foreach (var loc in new[] { "link.bin", "zero.bin", "fifo.bin", "folder.bin", "../outside.bin" })
            yield return ($"external-{loc}", External(loc, [4, 3]));
        yield return ("external-2^31x1", External("sparse.bin", [int.MaxValue, 1]));
        yield return ("constantofshape-46340^2", Graph(g => { g.Initializer.Add(Int64s("s", 46340, 46340)); Chain(g, Node("ConstantOfShape", ["s"], ["c"]), Node("Add", ["x", "c"], ["y"])); }));
        yield return ("constantofshape-2^31", Graph(g => { g.Initializer.Add(Int64s("s", 1L << 31)); Chain(g, Node("ConstantOfShape", ["s"], ["c"]), Node("Add", ["x", "c"], ["y"])); }));
        yield return ("expand-46340^2", Graph(g => { g.Initializer.Add(Floats("one", [1])); g.Initializer.Add(Int64s("s", 46340, 46340)); Chain(g, Node("Expand", ["one", "s"], ["c"]), Node("Add", ["x", "c"], ["y"])); }));
        yield return ("softmax-axis-2^40", Graph(g => Chain(g, Node("Softmax", ["x"], ["y"], Int("axis", Int40)))));
        yield return ("flatten-axis-2^32+1", Graph(g => Chain(g, Node("Flatten", ["x"], ["y"], Int("axis", Int32Plus1)))));
        yield return ("concat-axis-int64-min", Graph(g => Chain(g, Node("Concat", ["x", "x"], ["y"], Int("axis", long.MinValue)))));
        yield return ("gather-index-2^40", Graph(g => { g.Initializer.Add(Int64s("i", Int40)); Chain(g, Node("Gather", ["x", "i"], ["y"], Int("axis", 1))); }));
        yield return ("conv-group-2^32+1", Graph(g => { g.Initializer.Add(Floats("w", [1, 1, 3, 3])); Chain(g, Node("Conv", ["x", "w"], ["y"], Int("group", Int32Plus1))); }, 1, 8, 8));
        yield return ("maxpool-kernel-2^32+2", Graph(g => Chain(g, Node("MaxPool", ["x"], ["y"], Ints("kernel_shape", Int32Plus1 + 1, 2))), 1, 8, 8));
        yield return ("maxpool-pads-ge-kernel", Graph(g => Chain(g, Node("MaxPool", ["x"], ["y"], Ints("kernel_shape", 2, 2), Ints("pads", 2, 2, 2, 2))), 1, 8, 8));
        yield return ("lstm-hidden-2^32+4", Graph(g => { g.Initializer.Add(Floats("W", [1, 16, 8])); g.Initializer.Add(Floats("R", [1, 16, 4])); Chain(g, Node("LSTM", ["x", "W", "R"], ["y"], Int("hidden_size", (1L << 32) + 4))); }, 8, 8));
        yield return ("slice-int64-min", Graph(g =>
        {
            g.Initializer.Add(Int64s("s", -1)); g.Initializer.Add(Int64s("e", long.MinValue)); g.Initializer.Add(Int64s("a", 1)); g.Initializer.Add(Int64s("p", long.MinValue));
            Chain(g, Node("Slice", ["x", "s", "e", "a", "p"], ["y"]));
        }));
        yield return ("rank-9", Graph(g => Chain(g, Node("Relu", ["x"], ["y"])), 1, 1, 1, 1, 1, 1, 1, 4));
    }

    /// <summary>.enet seeds, named, with the hostile value: int64 attributes past int32 that a hand-made file can hold
    /// (the converter refuses them, so only these reach the runtime's own checks). Each must be refused, quoting it.</summary>
    public static IEnumerable<(string Name, long Value, byte[] Bytes)> Enet()
    {
        (string, long, byte[]) Seed(string name, long value, string attr, Func<GraphBuilder, Attributes, int> build) => (name, value, Patched(build, attr, value));
        yield return Seed("softmax-axis-2^40", Int40, "axis", (g, a) => g.Add(OpType.Softmax, [g.Input("x", -1, 4)], a.Set("axis", 1L)));
        yield return Seed("softmax-axis-int64-min", long.MinValue, "axis", (g, a) => g.Add(OpType.Softmax, [g.Input("x", -1, 4)], a.Set("axis", 1L)));
        yield return Seed("concat-axis-2^32+1", Int32Plus1, "axis", (g, a) => { int x = g.Input("x", -1, 4); return g.Add(OpType.Concat, [x, x], a.Set("axis", 1L)); });
        yield return Seed("conv-group-2^32+1", Int32Plus1, "group", (g, a) => g.Add(OpType.Conv, [g.Input("x", -1, 1, 8, 8), g.Constant("w", new float[9], 1, 1, 3, 3)], a.Set("group", 1L)));
        yield return Seed("maxpool-kernel-2^32+2", Int32Plus1 + 1, "kernel_shape", (g, a) => g.Add(OpType.MaxPool, [g.Input("x", -1, 1, 8, 8)], a.Set("kernel_shape", [2L, 2L])));
    }

    /// <summary>The model <paramref name="build"/> makes (valid), written with <paramref name="attr"/> (or its first
    /// element) set to <paramref name="value"/>: the builder and the writer validate, so the value goes in as an in-range
    /// marker and is patched into the bytes, which are then resealed.</summary>
    static byte[] Patched(Func<GraphBuilder, Attributes, int> build, string attr, long value)
    {
        const long Marker = 0x5EED_0042;
        var g = new GraphBuilder();
        var a = new Attributes();
        var m = g.Build(build(g, a));
        if (a.All[attr].Kind == AttrKind.Int) a.Set(attr, Marker);
        else a.Set(attr, [Marker, .. a.All[attr].Ints!.Skip(1)]);
        var bytes = ModelFile.Write(m);
        var marker = BitConverter.GetBytes(Marker);
        int at = bytes.AsSpan().IndexOf(marker);
        if (at < 0 || bytes.AsSpan(at + 1).IndexOf(marker) >= 0) throw new InvalidOperationException("the marker is not in the file exactly once");
        BitConverter.GetBytes(value).CopyTo(bytes, at);
        return Reseal.Enet(bytes);
    }

    /// <summary>The files the ONNX seeds name, made once in the fuzzer's scratch folder: a symlink leaving it, a symlink
    /// to /dev/zero, a FIFO nobody writes, a folder.</summary>
    public static void Neighbours(string dir)
    {
        if (Directory.Exists(Path.Combine(dir, "folder.bin"))) return;
        File.CreateSymbolicLink(Path.Combine(dir, "link.bin"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(dir, "zero.bin"), "/dev/zero");
        if (OperatingSystem.IsLinux()) mkfifo(Path.Combine(dir, "fifo.bin"), 0x1b6 /* 0666 */);
        Directory.CreateDirectory(Path.Combine(dir, "folder.bin"));
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)] private static partial int mkfifo(string path, uint mode);

    static byte[] Graph(Action<GraphProto> build, params long[] dims)
    {
        var g = new GraphProto { Name = "g" };
        var input = new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() } } };
        input.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (var d in dims.Length == 0 ? [4L] : dims) input.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        g.Input.Add(input);
        build(g);
        var m = new ModelProto { IrVersion = 8, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return m.ToByteArray();
    }

    static void Chain(GraphProto g, params NodeProto[] nodes)
    {
        g.Node.AddRange(nodes);
        g.Output.Add(new ValueInfoProto { Name = nodes[^1].Output[0] });
    }

    static byte[] External(string location, long[] dims) => Graph(g =>
    {
        var w = new TensorProto { Name = "w", DataType = 1, DataLocation = TensorProto.Types.DataLocation.External };
        w.Dims.AddRange(dims);
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        g.Initializer.Add(w);
        Chain(g, Node("MatMul", ["x", "w"], ["y"]));
    });

    static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attrs)
    {
        var n = new NodeProto { OpType = op, Name = op.ToLowerInvariant() };
        n.Input.AddRange(inputs); n.Output.AddRange(outputs); n.Attribute.AddRange(attrs);
        return n;
    }

    static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    static AttributeProto Ints(string name, params long[] v) { var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints }; a.Ints.AddRange(v); return a; }
    static TensorProto Floats(string name, long[] dims) { var t = new TensorProto { Name = name, DataType = 1 }; t.Dims.AddRange(dims); t.FloatData.AddRange(new float[dims.Aggregate(1L, (a, b) => a * b)]); return t; }
    static TensorProto Int64s(string name, params long[] data) { var t = new TensorProto { Name = name, DataType = 7 }; t.Dims.Add(data.Length); t.Int64Data.AddRange(data); return t; }
}
