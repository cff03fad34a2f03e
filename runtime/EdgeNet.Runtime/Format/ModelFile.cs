using System.Buffers.Binary;

namespace EdgeNet.Format;

/// <summary>
/// The .enet container (docs/format.md): a 64-byte header, a section table, then 64-byte aligned sections
/// (metadata, tensors, graph, weights), each with an XxHash64 checksum. Weight blobs are 64-byte aligned in the file.
/// </summary>
public static class ModelFile
{
    /// <summary>The first four bytes of every .enet file.</summary>
    public static ReadOnlySpan<byte> Magic => "ENET"u8;
    /// <summary>The format version this runtime writes.</summary>
    public const ushort FormatVersion = 1;
    /// <summary>The newest format version this runtime reads.</summary>
    public const ushort RuntimeVersion = 1;   // the newest format this runtime reads
    /// <summary>Weight blobs start at multiples of this many bytes.</summary>
    public const int Alignment = 64;
    const int HeaderBytes = 64, SectionEntryBytes = 32;

    /// <summary>The file's sections, by id.</summary>
    public enum Section : int
    {
        /// <summary>Name, labels, input layout and normalization, provenance.</summary>
        Metadata = 1,
        /// <summary>Every tensor's name, type, shape and quantization.</summary>
        Tensors = 2,
        /// <summary>Nodes, graph inputs and outputs.</summary>
        Graph = 3,
        /// <summary>The constants' bytes, 64-byte aligned.</summary>
        Weights = 4,
    }

    /// <summary>The longest string (UTF-8 bytes) and the most graph inputs or outputs the reader accepts.</summary>
    public const int MaxStringBytes = 1 << 16, MaxGraphIo = 1024;

    /// <summary>The reader's limits, checked before anything is written: a model the reader would refuse is refused here
    /// (by the converter, before it writes a file) with the same words.</summary>
    public static void CheckLimits(Model m)
    {
        var md = m.Metadata;
        Str(md.Name, "model name"); Str(md.InputLayout, "input layout"); Str(md.SourceSha256, "source sha256"); Str(md.ConverterVersion, "converter version");
        foreach (var l in md.ClassLabels) Str(l, "class label");
        foreach (var (k, v) in md.Properties) { Str(k, "property key"); Str(v, $"property '{k}'"); }
        if (m.Inputs.Count > MaxGraphIo || m.Outputs.Count > MaxGraphIo) throw new ModelFormatException($"{m.Inputs.Count} graph inputs and {m.Outputs.Count} outputs; at most {MaxGraphIo} each");
        foreach (var t in m.Tensors)
        {
            Str(t.Name, "tensor name");
            if (t.Shape.Length > Shape.MaxRank) throw new ModelFormatException($"tensor '{t.Name}': rank {t.Shape.Length} exceeds {Shape.MaxRank}");
            if (t.Quant is { } q && q.Scale.Length > 1 << 20) throw new ModelFormatException($"tensor '{t.Name}': {q.Scale.Length} quantization scales exceed {1 << 20}");
        }
        foreach (var n in m.Nodes)
        {
            Str(n.Name, "node name");
            if (n.Inputs.Length > byte.MaxValue || n.Outputs.Length > byte.MaxValue || n.Attributes.All.Count > ushort.MaxValue)
                throw new ModelFormatException($"node '{n.Name}': {n.Inputs.Length} inputs, {n.Outputs.Length} outputs and {n.Attributes.All.Count} attributes; at most {byte.MaxValue}, {byte.MaxValue} and {ushort.MaxValue}");
            foreach (var (k, v) in n.Attributes.All) { Str(k, "attribute name"); if (v.String is { } sv) Str(sv, $"node '{n.Name}': attribute '{k}'"); }
        }

        static void Str(string s, string what)
        {
            // UTF-8 needs at most 3 bytes per UTF-16 unit: short strings skip the count.
            if (s.Length * 3 > MaxStringBytes && System.Text.Encoding.UTF8.GetByteCount(s) > MaxStringBytes)
                throw new ModelFormatException($"{what} '{s[..Math.Min(s.Length, 40)]}…' is {System.Text.Encoding.UTF8.GetByteCount(s)} bytes of UTF-8; the limit is {MaxStringBytes}");
        }
    }

    /// <summary>The model as .enet bytes, after validating it.</summary>
    /// <exception cref="ModelFormatException">The model is inconsistent.</exception>
    public static byte[] Write(Model model)
    {
        ModelValidator.Validate(model);
        CheckLimits(model);
        var weights = new ByteWriter();
        var blobOffsets = new long[model.Tensors.Count];
        for (int i = 0; i < model.Tensors.Count; i++)
        {
            if (model.Tensors[i].Data is not { } d) continue;
            weights.Pad(Alignment);
            blobOffsets[i] = weights.Position;
            weights.Bytes(d.Span);
        }
        var sections = new (Section kind, byte[] bytes)[]
        {
            (Section.Metadata, WriteMetadata(model.Metadata)),
            (Section.Tensors, WriteTensors(model, blobOffsets)),
            (Section.Graph, WriteGraph(model)),
            (Section.Weights, weights.ToArray()),
        };

        long offset = Align(HeaderBytes + SectionEntryBytes * sections.Length);
        var table = new (long off, long len)[sections.Length];
        for (int i = 0; i < sections.Length; i++) { table[i] = (offset, sections[i].bytes.Length); offset = Align(offset + sections[i].bytes.Length); }

        var file = new byte[offset];
        Magic.CopyTo(file);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(4), FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(6), RuntimeVersion);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(8), sections.Length);
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(16), file.LongLength);
        for (int i = 0; i < sections.Length; i++)
        {
            var e = file.AsSpan(HeaderBytes + i * SectionEntryBytes);
            BinaryPrimitives.WriteInt32LittleEndian(e, (int)sections[i].kind);
            BinaryPrimitives.WriteInt64LittleEndian(e[8..], table[i].off);
            BinaryPrimitives.WriteInt64LittleEndian(e[16..], table[i].len);
            BinaryPrimitives.WriteUInt64LittleEndian(e[24..], XxHash64.Hash(sections[i].bytes));
            sections[i].bytes.CopyTo(file.AsSpan((int)table[i].off));
        }
        // The header's own checksum covers the header and the section table.
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(24), HeaderHash(file));
        return file;
    }

    /// <summary>Writes the model to <paramref name="path"/> atomically: a crash or full disk leaves the old file intact.</summary>
    public static void Save(Model model, string path) => Io.AtomicFile.Write(path, Write(model));

    /// <summary>Reads and validates a .enet file: checksums, sizes and graph are checked before anything is trusted.</summary>
    /// <exception cref="ModelFormatException">The file is malformed, inconsistent, damaged or too new.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static Model Load(string path)
    {
        byte[] bytes;
        try { bytes = Io.RegularFile.ReadAll(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new ModelFormatException($"cannot read model '{path}': {e.Message}"); }
        return Read(bytes);
    }

    /// <summary>Parses and fully validates a model. The returned constants alias <paramref name="file"/> (no copy).</summary>
    public static Model Read(byte[] file)
    {
        if (file.Length < HeaderBytes) throw new ModelFormatException($"file is {file.Length} bytes, shorter than the {HeaderBytes}-byte header");
        if (!file.AsSpan(0, 4).SequenceEqual(Magic)) throw new ModelFormatException("not an EdgeNet model (bad magic; expected 'ENET')");
        int version = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(4));
        int minRuntime = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(6));
        if (version < 1 || minRuntime > RuntimeVersion)
            throw new ModelFormatException($"format version {version} needs runtime version {minRuntime}; this runtime reads up to {RuntimeVersion}");
        int count = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(8));
        if (count < 1 || count > 64 || HeaderBytes + (long)count * SectionEntryBytes > file.Length)
            throw new ModelFormatException($"section count {count} is out of range");
        long declared = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(16));
        if (declared != file.Length) throw new ModelFormatException($"file is {file.Length} bytes but its header says {declared} (truncated or padded)");
        if (BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(24)) != HeaderHash(file))
            throw new ModelFormatException("header checksum mismatch (header or section table corrupted)");

        var found = new Dictionary<Section, (int off, int len)>();
        var covered = new (long off, long len)[count + 1];
        covered[count] = (0, HeaderBytes + count * SectionEntryBytes);
        for (int i = 0; i < count; i++)
        {
            var e = file.AsSpan(HeaderBytes + i * SectionEntryBytes);
            var kind = (Section)BinaryPrimitives.ReadInt32LittleEndian(e);
            long off = BinaryPrimitives.ReadInt64LittleEndian(e[8..]), len = BinaryPrimitives.ReadInt64LittleEndian(e[16..]);
            ulong hash = BinaryPrimitives.ReadUInt64LittleEndian(e[24..]);
            if (off < 0 || len < 0 || off % Alignment != 0 || off > file.Length || len > file.Length - off)
                throw new ModelFormatException($"section {kind}: offset {off} + length {len} lies outside the {file.Length}-byte file");
            if (XxHash64.Hash(file.AsSpan((int)off, (int)len)) != hash)
                throw new ModelFormatException($"section {kind}: checksum mismatch (file corrupted)");
            covered[i] = (off, len);
            if (!Enum.IsDefined(kind)) continue;   // unknown sections from newer minor versions are skipped
            if (!found.TryAdd(kind, ((int)off, (int)len))) throw new ModelFormatException($"section {kind} appears twice");
        }
        foreach (var s in Enum.GetValues<Section>())
            if (!found.ContainsKey(s)) throw new ModelFormatException($"section {s} is missing");
        CheckPadding(file, covered);

        var meta = ReadMetadata(Slice(file, found[Section.Metadata]));
        var model = new Model { Metadata = meta };
        var w = found[Section.Weights];
        ReadTensors(new ByteReader(Slice(file, found[Section.Tensors]), "tensors"), model, new ReadOnlyMemory<byte>(file, w.off, w.len));
        ReadGraph(new ByteReader(Slice(file, found[Section.Graph]), "graph"), model);
        ModelValidator.Validate(model);
        return model;
    }

    /// <summary>No checksum covers the alignment padding between and after sections, so it must be zero: a file
    /// whose unchecked bytes changed is refused like any other damage.</summary>
    static void CheckPadding(byte[] file, (long off, long len)[] covered)
    {
        Array.Sort(covered);
        long end = 0;
        foreach (var (off, len) in covered)
        {
            if (off > end) CheckZero(file, end, off);
            end = Math.Max(end, off + len);
        }
        CheckZero(file, end, file.Length);
    }

    static void CheckZero(byte[] file, long from, long to)
    {
        int nonZero = file.AsSpan((int)from, (int)(to - from)).IndexOfAnyExcept((byte)0);
        if (nonZero >= 0) throw new ModelFormatException($"padding byte at offset {from + nonZero} is not zero (file corrupted)");
    }

    static ReadOnlySpan<byte> Slice(byte[] f, (int off, int len) s) => f.AsSpan(s.off, s.len);
    static long Align(long v) => (v + Alignment - 1) / Alignment * Alignment;

    static ulong HeaderHash(byte[] file)
    {
        int count = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(8));
        // The header and section table without the checksum field itself (bytes 24..31); count ≤ 64, so ≤ 2 KiB.
        Span<byte> covered = stackalloc byte[24 + HeaderBytes - 32 + count * SectionEntryBytes];
        file.AsSpan(0, 24).CopyTo(covered);
        file.AsSpan(32, HeaderBytes - 32 + count * SectionEntryBytes).CopyTo(covered[24..]);
        return XxHash64.Hash(covered);
    }

    static byte[] WriteMetadata(ModelMetadata m)
    {
        var w = new ByteWriter();
        w.Str(m.Name); w.Str(m.InputLayout);
        w.I32(m.ClassLabels.Length); foreach (var l in m.ClassLabels) w.Str(l);
        w.I32(m.InputMean.Length); foreach (var v in m.InputMean) w.F32(v);
        w.I32(m.InputStd.Length); foreach (var v in m.InputStd) w.F32(v);
        w.Str(m.SourceSha256); w.Str(m.ConverterVersion);
        w.I32(m.Properties.Count); foreach (var (k, v) in m.Properties) { w.Str(k); w.Str(v); }
        return w.ToArray();
    }

    static ModelMetadata ReadMetadata(ReadOnlySpan<byte> s)
    {
        var r = new ByteReader(s, "metadata");
        var m = new ModelMetadata { Name = r.Str("model name"), InputLayout = r.Str("input layout") };
        m.ClassLabels = new string[r.Count("label count", 4)];
        for (int i = 0; i < m.ClassLabels.Length; i++) m.ClassLabels[i] = r.Str("class label");
        m.InputMean = r.F32s(r.Count("mean count", 4), "input mean");
        m.InputStd = r.F32s(r.Count("std count", 4), "input std");
        m.SourceSha256 = r.Str("source sha256"); m.ConverterVersion = r.Str("converter version");
        int props = r.Count("property count", 8);
        for (int i = 0; i < props; i++) m.Properties[r.Str("property key")] = r.Str("property value");
        return m;
    }

    static byte[] WriteTensors(Model model, long[] blobOffsets)
    {
        var w = new ByteWriter();
        w.I32(model.Tensors.Count);
        for (int i = 0; i < model.Tensors.Count; i++)
        {
            var t = model.Tensors[i];
            w.Str(t.Name); w.U8((byte)t.Type);
            w.U8((byte)t.Shape.Length); foreach (var d in t.Shape) w.I32(d);
            if (t.Quant is { } q)
            {
                w.U8(1); w.I32(q.Scale.Length);
                foreach (var s in q.Scale) w.F32(s);
                foreach (var z in q.ZeroPoint) w.I32(z);
                w.I32(q.Axis);
            }
            else w.U8(0);
            if (t.Data is { } d2) { w.U8(1); w.I64(blobOffsets[i]); w.I64(d2.Length); } else w.U8(0);
        }
        return w.ToArray();
    }

    static void ReadTensors(ByteReader r, Model model, ReadOnlyMemory<byte> weights)
    {
        int n = r.Count("tensor count", 8);
        for (int i = 0; i < n; i++)
        {
            string name = r.Str("tensor name");
            var type = (DataType)r.U8("data type");
            if (!DataTypes.IsValid(type)) throw new ModelFormatException($"tensor '{name}': unknown data type code {(int)type}");
            int rank = r.U8("rank");
            if (rank > Shape.MaxRank) throw new ModelFormatException($"tensor '{name}': rank {rank} exceeds {Shape.MaxRank}");
            var shape = r.I32s(rank, "dimension");
            QuantParams? quant = null;
            if (r.U8("quant flag") == 1)
            {
                int c = r.Count("scale count", 8, 1 << 20);
                quant = new QuantParams(r.F32s(c, "scale"), r.I32s(c, "zero point"), r.I32("quant axis"));
            }
            ReadOnlyMemory<byte>? data = null;
            if (r.U8("constant flag") == 1)
            {
                long off = r.I64("blob offset"), len = r.I64("blob length");
                if (off < 0 || len < 0 || off > weights.Length || len > weights.Length - off)
                    throw new ModelFormatException($"tensor '{name}': data at {off}+{len} lies outside the {weights.Length}-byte weights section");
                data = weights.Slice((int)off, (int)len);
            }
            model.AddTensor(new TensorDesc(name, type, shape) { Quant = quant, Data = data });
        }
        if (!r.AtEnd) throw new ModelFormatException($"tensors section: {r.Remaining} unexpected trailing bytes");
    }

    static byte[] WriteGraph(Model model)
    {
        var w = new ByteWriter();
        w.I32(model.Inputs.Count); foreach (var i in model.Inputs) w.I32(i);
        w.I32(model.Outputs.Count); foreach (var o in model.Outputs) w.I32(o);
        w.I32(model.Nodes.Count);
        foreach (var node in model.Nodes)
        {
            w.U16((ushort)node.Op); w.U16(node.Version); w.Str(node.Name);
            w.U8((byte)node.Inputs.Length); foreach (var i in node.Inputs) w.I32(i);
            w.U8((byte)node.Outputs.Length); foreach (var o in node.Outputs) w.I32(o);
            w.U16((ushort)node.Attributes.All.Count);
            foreach (var (k, v) in node.Attributes.All.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                w.Str(k); w.U8((byte)v.Kind);
                switch (v.Kind)
                {
                    case AttrKind.Int: w.I64(v.Int); break;
                    case AttrKind.Float: w.F32(v.Float); break;
                    case AttrKind.Ints: w.I32(v.Ints!.Length); foreach (var x in v.Ints) w.I64(x); break;
                    case AttrKind.Floats: w.I32(v.Floats!.Length); foreach (var x in v.Floats) w.F32(x); break;
                    case AttrKind.String: w.Str(v.String!); break;
                }
            }
        }
        return w.ToArray();
    }

    static void ReadGraph(ByteReader r, Model model)
    {
        model.Inputs.AddRange(r.I32s(r.Count("graph input count", 4, MaxGraphIo), "graph input"));
        model.Outputs.AddRange(r.I32s(r.Count("graph output count", 4, MaxGraphIo), "graph output"));
        int n = r.Count("node count", 8);
        for (int i = 0; i < n; i++)
        {
            var op = (OpType)r.U16("op type");
            ushort version = r.U16("op version");
            string name = r.Str("node name");
            var inputs = r.I32s(r.U8("input count"), "node input");
            var outputs = r.I32s(r.U8("output count"), "node output");
            var attrs = new Attributes();
            int na = r.U16("attribute count");
            for (int a = 0; a < na; a++)
            {
                string key = r.Str("attribute name");
                var kind = (AttrKind)r.U8("attribute kind");
                AttrValue v = kind switch
                {
                    AttrKind.Int => new(kind, Int: r.I64("int attribute")),
                    AttrKind.Float => new(kind, Float: r.F32("float attribute")),
                    AttrKind.Ints => new(kind, Ints: r.I64s(r.Count("ints length", 8), "ints attribute")),
                    AttrKind.Floats => new(kind, Floats: r.F32s(r.Count("floats length", 4), "floats attribute")),
                    AttrKind.String => new(kind, String: r.Str("string attribute")),
                    _ => throw new ModelFormatException($"node '{name}': attribute '{key}' has unknown kind {(int)kind}"),
                };
                attrs.Set(key, v);
            }
            model.Nodes.Add(new Node(op, name, inputs, outputs, attrs, version));
        }
        if (!r.AtEnd) throw new ModelFormatException($"graph section: {r.Remaining} unexpected trailing bytes");
    }
}
