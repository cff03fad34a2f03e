using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Kernels;

/// <summary>
/// Conv2D on channels-last tensors (x [N, H, W, C] → y [N, OH, OW, OC]), as planned by <see cref="ChannelsLast"/>.
/// Pointwise: Y[N·HW, OC] = X[N·HW, C] · Wᵀ, one GEMM with Wᵀ packed at load and bias and clamp in its epilogue; to at
/// most 2 channels on AVX-512, 4 elsewhere (detector heads), a dot product per output along C (<see cref="PointwiseNarrow"/>).
/// Depthwise: <see cref="DepthwiseNhwc"/>. A stem on NCHW input: <see cref="DirectConvNhwc"/>. 3×3 stride 1 (one group,
/// no dilation) on AVX-512, AVX2 and NEON: Winograd F(4×4, 3×3) or F(2×2, 3×3), <see cref="WinogradNhwc"/>. Any other (k×k,
/// strided, dilated, grouped): on AVX-512, <see cref="IndirectConvNhwc"/> (the rows read in place, blocks of pixels by
/// ranges of output-channel panels); else per group, the rows of <see cref="Im2ColNhwc"/> (one output pixel each:
/// KH·KW runs of the group's channels) times the group's packed Wᵀ, block of rows by block of rows so the rows stay in
/// cache. A clamp activation (and SiLU after a depthwise on AVX-512) is applied in the kernels' registers; any other, and a residual sum (a 4th input, fused
/// into the plan by <see cref="ConvSumFusion"/>: y = act(conv(x) + b + sum)), by <see cref="OutputEpilogue"/> on each
/// part of the output (band of rows, block of pixels) right after the part is written, in its thread.
/// </summary>
internal sealed unsafe class ConvNhwcKernel : Kernel, IDisposable, IParallelWork, IPartStarts
{
    readonly int x, y, sum = -1;
    readonly ConvGeometry g;
    readonly OutputEpilogue epi;
    readonly bool depthwise, direct;   // direct: NCHW input, few channels (Simd.DirectConvNhwc)
    readonly bool dwSwish;   // depthwise with SiLU applied in its store
    readonly bool padDirect;   // direct, reading a zero-padded copy of each image (geometry gp) from the scratch
    readonly ConvGeometry gp;
    readonly bool general;   // im2col rows × packed Wᵀ per group
    readonly bool indirect;   // general, on AVX-512: rows read in place (Simd.IndirectConvNhwc)
    readonly bool narrow;     // pointwise to at most PointwiseNarrow.MaxOutputs channels: Simd.PointwiseNarrow
    readonly bool winograd;   // general, 3×3 stride 1 (not SSE alone): Simd.WinogradNhwc
    readonly int K, blockRows;   // general: columns of a row (KH·KW·C/group); rows per block
    readonly NativeBuffer weights, bias;   // pointwise: packed Wᵀ panels; depthwise: [KH·KW, C]
    readonly NativeBuffer? zeros;   // indirect: one segment of zeros, what taps in the padding read
    int ldp;   // floats from one output pixel to the next: OC, or a Concat's wider pixels (ConcatInPlace)

    public ConvNhwcKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        var wt = ConstantFloat(m, node.Inputs[1], "weight");
        if (xt.Shape.Length != 4 || wt.Shape.Length != 4) throw Error("channels-last Conv needs a 4-D input and weight");
        for (int d = 1; d < 4; d++) RequireFixed(xt, d, $"dimension {d}");
        direct = node.Attributes.Int(ChannelsLast.Attribute, 1) == 2;
        int[] nchw = direct ? xt.Shape : [xt.Shape[0], xt.Shape[3], xt.Shape[1], xt.Shape[2]];
        int group = (int)node.Attributes.Int("group", 1);
        g = Window.Geometry(this, node.Attributes, nchw, wt.Shape[0], [wt.Shape[2], wt.Shape[3]], group, ceil: false);
        if (wt.Shape[1] * group != g.C || g.OC % group != 0) throw Error($"weight {Format.Shape.Format(wt.Shape)} does not fit {g.C} input channels in {group} groups");
        depthwise = g.IsDepthwise;
        ldp = g.OC;
        padDirect = direct && DirectConvNhwc.Pads(g);
        gp = padDirect ? DirectConvNhwc.Padded(g) : g;
        bool pointwise = group == 1 && g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadTop == 0 && g.PadLeft == 0 && g.OH == g.H && g.OW == g.W;
        if (direct && (group != 1 || !DirectConvNhwc.Supports(g.OC))) throw Error($"a direct channels-last Conv needs group 1 and output channels a multiple of {System.Numerics.Vector<float>.Count}");
        general = !direct && !depthwise && !pointwise;
        narrow = pointwise && PointwiseNarrow.Fits(g.OC, g.C);
        K = g.KH * g.KW * g.CinPerGroup;
        winograd = general && WinogradNhwc.Supports(g);
        indirect = general && !winograd && IndirectConvNhwc.Supports(g);
        blockRows = indirect ? IndirectConvNhwc.BlockRows : BlockRows(K);
        if (winograd)
        {
            zeros = new NativeBuffer(4L * g.C);
            new Span<float>(zeros.Floats, g.C).Clear();
        }
        if (indirect)
        {
            zeros = new NativeBuffer(4L * IndirectConvNhwc.SegmentLength(g));
            new Span<float>(zeros.Floats, IndirectConvNhwc.SegmentLength(g)).Clear();
        }
        var b = node.Inputs.Length > 2 && node.Inputs[2] >= 0 ? ConstantFloat(m, node.Inputs[2], "bias").Floats() : new float[g.OC];
        if (b.Length != g.OC) throw Error($"bias has {b.Length} values for {g.OC} output channels");
        ExpectShape(m, y, [xt.Shape[0], g.OH, g.OW, g.OC]);
        if (node.Inputs.Length > 3 && node.Inputs[3] >= 0)
        {
            sum = node.Inputs[3];
            if (!FloatTensor(m, sum, "sum").Shape.SequenceEqual(m.Tensors[y].Shape)) throw Error($"sum {Format.Shape.Format(m.Tensors[sum].Shape)} is not the output's shape");
        }
        var act = Activation.FromAttributes(node.Attributes, node.Name);
        // SiLU after a depthwise conv goes into the kernel's store (DepthwiseNhwc.FusesSwish), not a pass over the output.
        dwSwish = depthwise && sum < 0 && act.Op?.Op == OpType.Swish && act.Params.A == 1f && DepthwiseNhwc.FusesSwish(g);
        epi = new OutputEpilogue(dwSwish ? Activation.None : act, hasSum: sum >= 0);
        bias = NativeBuffer.Of(b);
        if (direct) weights = NativeBuffer.Of(DirectConvNhwc.PackWeights(wt.Floats(), g.OC, g.C * g.KH * g.KW));
        else if (depthwise) weights = NativeBuffer.Of(DepthwiseNhwc.PackWeights(wt.Floats(), g.C, g.KH * g.KW));
        else if (winograd) weights = WinogradNhwc.PackWeights(wt.Floats(), g);
        else if (general) weights = PackGroups(wt.Floats(), g);
        else if (narrow) weights = NativeBuffer.Of(wt.Floats());   // [OC, C] as it is: PointwiseNarrow's rows
        else
        {
            weights = new NativeBuffer(Gemm.PackedSize(g.C, g.OC) * 4);
            using var w = NativeBuffer.Of(wt.Floats());
            Gemm.Pack(w.Floats, 1, g.C, g.C, g.OC, weights.Floats);   // B[k, j] = W[j, k]
        }
    }

    /// <summary>True when this conv can write its pixels further apart than OC floats (<see cref="OutputStride"/>): the
    /// pointwise GEMM and the im2col blocks (their ldc) and Winograd (its output tiles); with an epilogue pass (SiLU, a
    /// fused sum), OC a multiple of its chunk, so that each pixel's run is whole chunks (the packed output's bits), and at
    /// least 64 but for SiLU (<see cref="OutputEpilogue.RowsInOneLoop"/>): the pass then goes pixel by pixel, a call
    /// each, and on 16 channels that cost more than the copy it saves (YOLOv5n's 80×80 Conv_9: 60 -> 72 µs; 32 channels
    /// +3 µs, about the copy; 64 even).</summary>
    internal bool WritesStrided => (!epi.Active || g.OC % OutputEpilogue.Chunk == 0 && (g.OC >= 64 || epi.RowsInOneLoop)) && (general ? !indirect : !(direct || depthwise || narrow));

    /// <summary>Floats from one output pixel to the next (OC unless set): set by <see cref="ConcatInPlace"/> to the
    /// channels of the Concat this conv writes into, before the first run.</summary>
    internal int OutputStride
    {
        get => ldp;
        set => ldp = WritesStrided && value >= g.OC ? value : throw new InvalidOperationException($"node '{Node.Name}' cannot write pixels {value} floats apart");
    }

    /// <summary>The convolutions this kernel takes: 2-D, a constant 4-D weight, fixed input dimensions.</summary>
    public static bool Accepts(Model m, Node n)
    {
        if (n.Inputs.Length < 2 || n.Inputs[1] < 0 || n.Attributes.Has("auto_pad")) return false;
        var w = m.Tensors[n.Inputs[1]]; var x = m.Tensors[n.Inputs[0]];
        return w.IsConstant && w.Type == DataType.Float32 && w.Shape.Length == 4 && x.Shape.Length == 4 && x.Shape.Skip(1).All(d => d > 0)
            && (n.Inputs.Length < 3 || n.Inputs[2] < 0 || m.Tensors[n.Inputs[2]].IsConstant);
    }

    /// <summary>Rows of an im2col block: about 64 KiB of them (L2-resident while every panel of Wᵀ passes), a multiple
    /// of 24 (the tile heights 8 and 6 divide it).</summary>
    static int BlockRows(int k) => Math.Max(24, 16384 / Math.Max(1, k) / 24 * 24);

    /// <summary>Per group, Wᵀ[(kh·KW + kw)·Cg + c, j] = W[g·OCg + j, c, kh, kw] packed as GEMM panels.</summary>
    static NativeBuffer PackGroups(ReadOnlySpan<float> w, in ConvGeometry g)
    {
        int cg = g.CinPerGroup, og = g.CoutPerGroup, taps = g.KH * g.KW, k = taps * cg;
        long per = Gemm.PackedSize(k, og);
        var packed = new NativeBuffer(per * g.Group * 4);
        using var t = new NativeBuffer((long)k * og * 4);
        for (int grp = 0; grp < g.Group; grp++)
        {
            for (int j = 0; j < og; j++)
                for (int c = 0; c < cg; c++)
                    for (int tap = 0; tap < taps; tap++) t.Floats[(long)(tap * cg + c) * og + j] = w[((grp * og + j) * cg + c) * taps + tap];
            Gemm.Pack(t.Floats, og, 1, k, og, packed.Floats + grp * per);
        }
        return packed;
    }

    public override long ScratchBytes(int batch) => winograd ? WinogradParts(batch) * WinogradNhwc.SlotBytes(g) :
        direct ? TapsBytes + (padDirect ? 4L * batch * gp.C * gp.H * gp.W : 0) : indirect ? MaxParts(batch) * IndirectConvNhwc.SlotBytes(g) : general ? 4L * batch * g.OH * g.OW * K + 64 : 0;

    /// <summary>Direct: the tap offsets, then (padDirect) the padded images.</summary>
    long TapsBytes => (4L * g.C * g.KH * g.KW + 63) / 64 * 64 + 64;

    /// <summary>Indirect: parts are (block of pixels, range of panels); ranges only while blocks are fewer than 2 per thread.</summary>
    long MaxParts(int batch) => (long)batch * BlocksPerImage + 2 * IntraOpPool.Available;

    public override void Run(Frame f)
    {
        int n = f.Shape(x)[0];
        float* xs = f.F(x), ys = f.F(y);
        outImage = (long)g.OH * g.OW * g.OC;
        if (epi.Active) epi.Begin(ys, sum >= 0 ? f.F(sum) : null, n * outImage, g.OC, ldp);
        if (direct || depthwise)
        {
            if (direct) DirectConvNhwc.PrepareTaps(gp, (int*)f.Scratch);
            cx = xs; cy = ys; taps = (int*)f.Scratch;
            if (padDirect)
            {
                cx = (float*)((byte*)f.Scratch + TapsBytes);
                for (int i = 0; i < n; i++) DirectConvNhwc.Pad(xs + i * (long)g.H * g.W * g.C, g, cx + i * (long)gp.H * gp.W * gp.C);
            }
            // Parts are (image, band of output rows): independent outputs, shared read-only inputs. With an epilogue,
            // bands of at most ~64 KiB of output even on one thread, so it finds its band in cache.
            long work = (long)g.OH * g.OW * g.OC * (direct ? g.C : 1) * g.KH * g.KW;
            bool parallel = f.Pool is not null && work >= IntraOpPool.MinWork;
            bands = parallel ? Math.Min(g.OH, 2 * f.Pool!.Threads) : 1;
            if (epi.Active) bands = (int)Math.Max(bands, Math.Min(g.OH, (outImage + 16383) / 16384));
            if (!parallel || bands == 1) for (int i = 0; i < n * bands; i++) Execute(i);
            else f.Pool!.Run(this, n * bands);
            if (epi.Active) epi.Seams(this, n * bands);
        }
        else if (winograd)
        {
            // Parts are threads, each with its own scratch slot, taking every parts-th block of tiles: blocks depend
            // only on the geometry, so the results do not depend on the thread count.
            cx = xs; cy = ys; cols = (float*)f.Scratch; batch = n;
            bool parallel = f.Pool is not null && f.Pool.Threads > 1 && (long)n * g.OH * g.OW * g.OC * K >= IntraOpPool.MinWork;
            bands = parallel ? Math.Min(f.Pool!.Threads, WinogradParts(n)) : 1;
            if (bands == 1) Execute(0);
            else f.Pool!.Run(this, bands);
            if (epi.Active) epi.Whole(f.Pool);   // a part's blocks of tiles are not ranges of the output: after all
        }
        else if (indirect)
        {
            cx = xs; cy = ys; cols = (float*)f.Scratch;
            int blocks = n * BlocksPerImage, panels = (g.CoutPerGroup + Gemm.NR - 1) / Gemm.NR;
            bool parallel = f.Pool is not null && f.Pool.Threads > 1 && (long)n * g.OH * g.OW * g.OC * K >= IntraOpPool.MinWork;
            ranges = parallel && blocks < 2 * f.Pool!.Threads ? Math.Min(panels, (2 * f.Pool.Threads + blocks - 1) / blocks) : 1;
            ranges = (int)Math.Max(1, Math.Min(ranges, MaxParts(n) / blocks));
            panelsPerRange = (panels + ranges - 1) / ranges;
            if (!parallel) for (int i = 0; i < blocks * ranges; i++) Execute(i);
            else f.Pool!.Run(this, blocks * ranges);
            if (epi.Active && ranges == 1) epi.Seams(this, blocks);
            else if (epi.Active) epi.Whole(f.Pool);   // a part wrote some panels of its pixels: the epilogue after all
        }
        else if (general)
        {
            // Parts are blocks of output pixels (any image): each gathers its own rows into its own slice of the
            // scratch and multiplies them, so threads share only the read-only input and weights.
            cx = xs; cy = ys; cols = (float*)f.Scratch;
            bands = n * BlocksPerImage;
            if (f.Pool is null || (long)n * g.OH * g.OW * g.OC * K < IntraOpPool.MinWork) for (int i = 0; i < bands; i++) Execute(i);
            else f.Pool.Run(this, bands);
            if (epi.Active) epi.Seams(this, bands);
        }
        else if (narrow)
        {
            PointwiseNarrow.Run(xs, weights.Floats, bias.Floats, ys, (long)n * g.H * g.W, g.C, g.OC, epi.Lo, epi.Hi);
            if (epi.Active) epi.Part(0, n * outImage);
        }
        else gemm.Run(f.Pool, xs, g.C, weights.Floats, ys, ldp, n * g.H * g.W, g.OC, g.C, null, bias.Floats, epi.Lo, epi.Hi, epi);
    }

    readonly ParallelGemm gemm = new();
    float* cx, cy, cols; int* taps; int bands = 1, ranges = 1, panelsPerRange, batch;
    long outImage;

    /// <summary>Where part <paramref name="part"/>'s output begins (the parts of <see cref="Execute"/>, ranges = 1).</summary>
    public long Start(int part)
    {
        if (indirect || general)
        {
            int bpi = BlocksPerImage;
            return ((long)(part / bpi) * g.OH * g.OW + part % bpi * blockRows) * g.OC;
        }
        return part / bands * outImage + (long)g.OH * (part % bands) / bands * g.OW * g.OC;
    }

    /// <summary>Part <paramref name="index"/>: image index / bands, rows band index % bands (general: a block of pixels).</summary>
    public void Execute(int index)
    {
        if (winograd) { WinogradPart(index); return; }
        if (indirect) { IndirectPart(index); return; }
        if (general) { Block(index); return; }
        int image = index / bands, band = index % bands;
        int oh0 = (int)((long)g.OH * band / bands), oh1 = (int)((long)g.OH * (band + 1) / bands);
        float* xi = cx + image * (long)gp.H * gp.W * gp.C, yi = cy + image * (long)g.OH * g.OW * g.OC;
        if (direct) DirectConvNhwc.Run(xi, weights.Floats, bias.Floats, yi, gp, epi.Lo, epi.Hi, taps, oh0, oh1);
        else DepthwiseNhwc.Run(xi, weights.Floats, bias.Floats, yi, g, epi.Lo, epi.Hi, oh0, oh1, dwSwish);
        if (epi.Active) epi.Part(image * outImage + (long)oh0 * g.OW * g.OC, image * outImage + (long)oh1 * g.OW * g.OC);
    }

    int BlocksPerImage => (g.OH * g.OW + blockRows - 1) / blockRows;

    /// <summary>Block <paramref name="index"/> of <see cref="BlocksPerImage"/> per image: its rows gathered, times Wᵀ.</summary>
    void Block(int index)
    {
        int pixels = g.OH * g.OW, bpi = BlocksPerImage, image = index / bpi, first = index % bpi * blockRows;
        int rows = Math.Min(blockRows, pixels - first);
        long p0 = (long)image * pixels + first;
        float* xi = cx + image * (long)g.H * g.W * g.C, a = cols + p0 * K, yb = cy + p0 * ldp;
        long per = Gemm.PackedSize(K, g.CoutPerGroup);
        for (int grp = 0; grp < g.Group; grp++)
        {
            Im2ColNhwc.Fill(xi, g, grp, first, rows, a);
            Gemm.Run(a, K, weights.Floats + grp * per, yb + grp * g.CoutPerGroup, ldp, rows, g.CoutPerGroup, K, null, bias.Floats + grp * g.CoutPerGroup, epi.Lo, epi.Hi);
        }
        if (epi.Active) epi.Part(p0 * g.OC, (p0 + rows) * g.OC);
    }

    /// <summary>Part <paramref name="index"/>: block index / ranges of the pixels, panel range index % ranges, in its own scratch slot.</summary>
    void IndirectPart(int index)
    {
        int pixels = g.OH * g.OW, bpi = BlocksPerImage, block = index / ranges, range = index % ranges;
        int image = block / bpi, first = block % bpi * blockRows, p0 = range * panelsPerRange;
        IndirectConvNhwc.Run(cx + image * (long)g.H * g.W * g.C, weights.Floats, Gemm.PackedSize(K, g.CoutPerGroup), bias.Floats,
            cy + image * (long)pixels * g.OC, g, first, Math.Min(blockRows, pixels - first), p0, p0 + panelsPerRange,
            zeros!.Floats, Slot(index), epi.Lo, epi.Hi);
        if (epi.Active && ranges == 1) epi.Part(((long)image * pixels + first) * g.OC, ((long)image * pixels + first + Math.Min(blockRows, pixels - first)) * g.OC);
    }

    /// <summary>Winograd: scratch slots, one per thread that can take a block.</summary>
    int WinogradParts(int n) => (int)Math.Max(1, Math.Min((long)n * WinogradNhwc.BlocksPerImage(g), IntraOpPool.Available));

    /// <summary>Winograd part <paramref name="index"/> of <see cref="bands"/>: blocks index, index + bands, … in slot index.</summary>
    void WinogradPart(int index)
    {
        int bpi = WinogradNhwc.BlocksPerImage(g), bt = WinogradNhwc.BlockTiles(g), tiles = WinogradNhwc.TilesHigh(g) * WinogradNhwc.TilesWide(g);
        float* slot = (float*)((byte*)cols + index * WinogradNhwc.SlotBytes(g));
        for (int b = index; b < batch * bpi; b += bands)
        {
            int image = b / bpi, first = b % bpi * bt;
            WinogradNhwc.Run(cx + image * (long)g.H * g.W * g.C, weights.Floats, bias.Floats, cy + image * (long)g.OH * g.OW * ldp, ldp, g,
                first, Math.Min(bt, tiles - first), zeros!.Floats, slot, epi.Lo, epi.Hi);
        }
    }

    byte* Slot(int index) => (byte*)cols + index * IndirectConvNhwc.SlotBytes(g);

    public void Dispose() { weights.Dispose(); bias.Dispose(); zeros?.Dispose(); }
}
