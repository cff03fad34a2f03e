using System.Runtime.Intrinsics;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;
using EdgeNet.Quant;

namespace EdgeNet.Kernels.Int8;

/// <summary>
/// int8 Conv2D, the twin of <see cref="ConvKernel"/>. General convolutions: int8 im2col (padding holds z_x, the real
/// zero) packed as GEMM columns, weights as rows, int32 accumulation, requantized epilogue; small images (≤ 256 output
/// pixels) gather the whole batch straight into packed panels through a load-time table and run one GEMM. Depthwise:
/// integers held exactly in fp32 (|acc| &lt; 2^24 checked at load) through the fp32 depthwise kernel, then the same
/// requantization.
/// </summary>
internal sealed unsafe class ConvInt8Kernel : Kernel, IDisposable
{
    readonly int x, y, K, kp, N, zx, zy, lo, hi;
    readonly ConvGeometry g;
    readonly sbyte[] w;
    readonly int[] bias, biasEff;
    readonly float[] multiplier;
    readonly bool intOut, reference, floatDepthwise, pointwise, batched, rowDwords;
    readonly int gemmK;   // the GEMM's K: K, or C·KH·4 with rowDwords
    readonly Activation act;
    readonly NativeBuffer? wRows, wFloat, bFloat;
    readonly GemmInt8.Isa isa;
    readonly int[] xTemplate;
    readonly int[]? gather;   // small images: packed GEMM panels gathered from the zero-point-padded image (GatherTable)
    int Hp => Math.Max(g.H + g.PadTop, (g.OH - 1) * g.StrideH + (g.KH - 1) * g.DilationH + 1);
    int Wp => Math.Max(g.W + g.PadLeft, (g.OW - 1) * g.StrideW + (g.KW - 1) * g.DilationW + 1);

    public ConvInt8Kernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = m.Tensors[x]; var wt = m.Tensors[node.Inputs[1]];
        if (xt.Shape.Length != 4 || wt.Shape.Length != 4) throw Error("int8 Conv needs NCHW input and [OC, C/group, KH, KW] weights");
        for (int d = 1; d < 4; d++) RequireFixed(xt, d, $"dimension {d}");
        var (sx, zxv) = Int8Tensor.PerTensor(this, m, x, "input"); zx = zxv;
        int group = (int)node.Attributes.Int("group", 1);
        g = Window.Geometry(this, node.Attributes, xt.Shape, wt.Shape[0], [wt.Shape[2], wt.Shape[3]], group, ceil: false);
        if (wt.Shape[1] * group != g.C || g.OC % group != 0) throw Error($"weight {Format.Shape.Format(wt.Shape)} does not fit {g.C} channels in {group} groups");
        float[] sw;
        (w, sw) = Int8Tensor.Weights(this, m, node.Inputs[1], g.OC);
        bias = Int8Tensor.Bias(this, m, node, 2, g.OC);
        act = Activation.FromAttributes(node.Attributes, node.Name);
        ExpectShape(m, y, [xt.Shape[0], g.OC, g.OH, g.OW]);
        var scale = Int8Tensor.Output(this, m, y, act, sx, sw);
        (intOut, multiplier, zy, lo, hi) = (scale.IntOut, scale.Multiplier, scale.Zp, scale.Lo, scale.Hi);
        reference = o.Reference; isa = o.Int8Isa;
        xTemplate = xt.Shape;
        K = g.CinPerGroup * g.KH * g.KW; kp = GemmInt8.KPad(K); N = g.OH * g.OW;
        pointwise = g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadTop == 0 && g.PadLeft == 0;
        int shift = GemmInt8.ShiftsActivations(isa) ? 128 : 0;
        biasEff = Int8Tensor.FoldZeroPoint(w, bias, K, zx + shift, out long maxAcc);
        floatDepthwise = !reference && g.IsDepthwise && Depthwise.Supports(g) && maxAcc < (1 << 24);
        if (reference) return;
        // Small images (digits-sized CNNs): one GEMM over the whole batch's im2col columns instead of a tiny GEMM,
        // pack and epilogue per image.
        batched = !floatDepthwise && !pointwise && g.Group == 1 && N <= 256;
        // Where a kernel row fits a dword (KW ≤ 4, no column dilation), k runs over (c, kh, 4 columns): one 4-byte
        // load per k-group and pixel fills a packed VNNI word (the 4th byte has weight 0).
        rowDwords = batched && g.KW <= 4 && g.DilationW == 1;
        gemmK = rowDwords ? g.C * g.KH * 4 : K;
        if (batched) gather = GatherTable();
        if (floatDepthwise)
        {
            wFloat = NativeBuffer.Of(w.Select(v => (float)v).ToArray());
            bFloat = NativeBuffer.Of(bias.Select(v => (float)v).ToArray());
            return;
        }
        int ldw = GemmInt8.KPad(gemmK);
        wRows = new NativeBuffer((long)g.OC * ldw);
        var rows = (sbyte*)wRows.Pointer;
        new Span<sbyte>(rows, g.OC * ldw).Clear();
        for (int oc = 0; oc < g.OC; oc++)
            for (int k = 0; k < K; k++)
            {
                var (c, kh, kw) = Tap(k);
                rows[(long)oc * ldw + (rowDwords ? (c * g.KH + kh) * 4 + kw : k)] = w[oc * K + k];
            }
    }

    public override long ScratchBytes(int batch) =>
        reference ? 0 : floatDepthwise ? 4 * ((long)g.C * g.H * g.W + (long)g.OC * N + Depthwise.ScratchFloats(g) + 64)
        : batched ? BatchedScratch(Format.Shape.Resolve(xTemplate[0], batch)) : GemmScratch(N);

    long GemmScratch(long columns) => K * columns + GemmInt8.PackedBytes(K, (int)columns) + 4L * g.OC * columns + 256;

    /// <summary>Columns per image in the batched GEMM: N rounded up to whole panels, so no panel spans two images.</summary>
    int PanelColumns => (N + GemmInt8.NR - 1) / GemmInt8.NR * GemmInt8.NR;
    long BatchedScratch(long n) => (long)GemmInt8.KPad(gemmK) * n * PanelColumns + 4L * g.OC * n * PanelColumns + (long)g.C * Hp * Wp + 320;

    /// <summary>The input channel and kernel position of im2col row k (k = (c·KH + kh)·KW + kw).</summary>
    (int C, int Kh, int Kw) Tap(int k) => (k / (g.KH * g.KW), k / g.KW % g.KH, k % g.KW);

    /// <summary>For each byte (or, with rowDwords, each 4-byte word) of an image's packed GEMM panels
    /// (<see cref="GemmInt8.Pack"/>'s layout: panel, k-group, column, 4 k), its offset in the zero-point-padded image;
    /// 0 (any byte: its weight or its column is unused) past K or N.</summary>
    int[] GatherTable()
    {
        int np = PanelColumns, nr = GemmInt8.NR, hp = Hp, wp = Wp, kpg = GemmInt8.KPad(gemmK), per = rowDwords ? 1 : 4;
        var t = new int[kpg * np / (4 / per)];
        for (int panel = 0, e = 0; panel < np / nr; panel++)
            for (int kq = 0; kq < kpg; kq += 4)
                for (int j = 0; j < nr; j++)
                    for (int q = 0; q < per; q++, e++)
                    {
                        int k = kq + q, p = panel * nr + j;
                        if (k >= gemmK || p >= N) continue;
                        int oh = p / g.OW, ow = p % g.OW;
                        if (rowDwords) { int grp = kq / 4, c = grp / g.KH, kh = grp % g.KH; t[e] = (c * hp + oh * g.StrideH + kh * g.DilationH) * wp + ow * g.StrideW; continue; }
                        var (ch, kh2, kw) = Tap(k);
                        t[e] = (ch * hp + oh * g.StrideH + kh2 * g.DilationH) * wp + ow * g.StrideW + kw * g.DilationW;
                    }
        return t;
    }

    /// <summary>One small image straight into packed GEMM panels: copied once into a border of z_x (the real 0), then
    /// every packed byte — or 4-byte word — one table lookup (shifted to u8 for VNNI): no im2col matrix, no packing pass.</summary>
    void GatherPacked(sbyte* xi, sbyte* padded, sbyte* dst)
    {
        int hp = Hp, wp = Wp;
        new Span<sbyte>(padded, g.C * hp * wp + 4).Fill((sbyte)zx);   // + 4: a word read at the last column stays inside
        for (int c = 0; c < g.C; c++)
            for (int h = 0; h < g.H; h++)
                new Span<sbyte>(xi + ((long)c * g.H + h) * g.W, g.W).CopyTo(new Span<sbyte>(padded + ((long)c * hp + h + g.PadTop) * wp + g.PadLeft, g.W));
        uint flip = GemmInt8.ShiftsActivations(isa) ? 0x80808080u : 0u;
        int count = gather!.Length;
        fixed (int* t = gather)
        {
            if (rowDwords) { for (int e = 0; e < count; e++) ((uint*)dst)[e] = *(uint*)(padded + t[e]) ^ flip; return; }
            for (int e = 0; e < count; e++) dst[e] = (sbyte)((byte)padded[t[e]] ^ (byte)flip);
        }
    }

    public override void Run(Frame f)
    {
        int n = f.Shape(x)[0];
        long inImage = (long)g.C * g.H * g.W, outImage = (long)g.OC * N;
        sbyte* xs = f.I8(x);
        if (batched) { RunBatched(f, n); return; }
        for (int i = 0; i < n; i++)
        {
            sbyte* xi = xs + i * inImage;
            if (reference) { Reference(xi, f, i * outImage); continue; }
            if (floatDepthwise) { DepthwiseFloat(xi, f, i * outImage); continue; }
            int og = g.CoutPerGroup;
            for (int grp = 0; grp < g.Group; grp++)
            {
                sbyte* col = (sbyte*)f.Scratch;
                sbyte* packed = col + ((long)K * N + 63) / 64 * 64;
                int* acc = (int*)(packed + (GemmInt8.PackedBytes(K, N) + 63) / 64 * 64);
                sbyte* xg = xi + (long)grp * g.CinPerGroup * g.H * g.W;
                if (!pointwise) Im2Col(xg, col, N);
                GemmInt8.Pack(pointwise ? xg : col, N, 1, K, N, packed, GemmInt8.ShiftsActivations(isa));
                if (intOut)
                    fixed (int* pb = biasEff) fixed (float* pm = multiplier)
                    {
                        var e = new GemmInt8.Epilogue { Out = f.I8(y) + i * outImage + (long)grp * og * N, Ldo = N, RowBias = pb + grp * og, RowMult = pm + grp * og, Zp = zy, Lo = lo, Hi = hi };
                        GemmInt8.Run((sbyte*)wRows!.Pointer + (long)grp * og * kp, kp, packed, acc, N, og, N, K, isa, activationsInA: false, ref e);
                        if (isa == GemmInt8.Isa.AvxVnni) continue;   // fused: already stored
                    }
                else GemmInt8.Run((sbyte*)wRows!.Pointer + (long)grp * og * kp, kp, packed, acc, N, og, N, K, isa, activationsInA: false);
                for (int oc = 0; oc < og; oc++)
                {
                    int c = grp * og + oc;
                    if (intOut) Requantize.Row(acc + (long)oc * N, biasEff[c], multiplier[c], zy, lo, hi, f.I8(y) + i * outImage + (long)c * N, N);
                    else for (int j = 0; j < N; j++) Write(f, i * outImage + (long)c * N + j, c, acc[(long)oc * N + j] + biasEff[c]);
                }
            }
        }
        if (!intOut && !act.IsClamp) act.Apply(f.Span(y));
    }

    /// <summary>The batch's images as consecutive panel groups of one GEMM, then each image's rows requantized.</summary>
    void RunBatched(Frame f, int n)
    {
        long inImage = (long)g.C * g.H * g.W, outImage = (long)g.OC * N;
        int np = PanelColumns, cols = n * np, kpg = GemmInt8.KPad(gemmK);
        sbyte* packed = (sbyte*)f.Scratch;
        int* acc = (int*)(packed + ((long)kpg * cols + 63) / 64 * 64);
        sbyte* padded = (sbyte*)(acc + (long)g.OC * cols);
        for (int i = 0; i < n; i++) GatherPacked(f.I8(x) + i * inImage, padded, packed + (long)i * kpg * np);
        GemmInt8.Run((sbyte*)wRows!.Pointer, kpg, packed, acc, cols, g.OC, cols, gemmK, isa, activationsInA: false);
        for (int i = 0; i < n; i++)
            for (int oc = 0; oc < g.OC; oc++)
            {
                int* a = acc + (long)oc * cols + (long)i * np;
                long o = i * outImage + (long)oc * N;
                if (intOut) Requantize.Row(a, biasEff[oc], multiplier[oc], zy, lo, hi, f.I8(y) + o, N);
                else for (int j = 0; j < N; j++) Write(f, o + j, oc, a[j] + biasEff[oc]);
            }
        if (!intOut && !act.IsClamp) act.Apply(f.Span(y));
    }

    void Write(Frame f, long index, int oc, int acc)
    {
        if (intOut) f.I8(y)[index] = QuantMath.Requantize(acc, multiplier[oc], zy, lo, hi);
        else f.F(y)[index] = act.IsClamp ? Math.Clamp(acc * multiplier[oc], act.ClampMin, act.ClampMax) : acc * multiplier[oc];
    }

    void Reference(sbyte* xi, Frame f, long outBase)
    {
        int cg = g.CinPerGroup, og = g.CoutPerGroup;
        for (int oc = 0; oc < g.OC; oc++)
        {
            int grp = oc / og;
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    int acc = bias[oc];
                    for (int c = 0; c < cg; c++)
                        for (int kh = 0; kh < g.KH; kh++)
                        {
                            int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                            if ((uint)ih >= (uint)g.H) continue;
                            for (int kw = 0; kw < g.KW; kw++)
                            {
                                int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                                if ((uint)iw >= (uint)g.W) continue;
                                acc += (xi[((long)(grp * cg + c) * g.H + ih) * g.W + iw] - zx) * w[((oc * cg + c) * g.KH + kh) * g.KW + kw];
                            }
                        }
                    Write(f, outBase + ((long)oc * g.OH + oh) * g.OW + ow, oc, acc);
                }
        }
    }

    /// <summary>Depthwise with exact integers in fp32: x − z_x and w are small integers, sums stay below 2^24.</summary>
    void DepthwiseFloat(sbyte* xi, Frame f, long outBase)
    {
        float* xf = (float*)f.Scratch, yf = xf + (long)g.C * g.H * g.W, pad = yf + (long)g.OC * N;
        long count = (long)g.C * g.H * g.W;
        ToFloat(xi, zx, xf, count);
        Depthwise.Run(xf, wFloat!.Floats, bFloat!.Floats, yf, g, float.NegativeInfinity, float.PositiveInfinity, pad);
        for (int oc = 0; oc < g.OC; oc++)
        {
            // The sums are exact integers in fp32, so acc·m equals the int32 path's (float)acc·m bit for bit.
            if (intOut) Requantize.RowFromFloat(yf + (long)oc * N, multiplier[oc], zy, lo, hi, f.I8(y) + outBase + (long)oc * N, N);
            else for (int j = 0; j < N; j++) Write(f, outBase + (long)oc * N + j, oc, (int)yf[(long)oc * N + j]);
        }
    }

    /// <summary>dst = x − zp as floats.</summary>
    internal static void ToFloat(sbyte* x, int zp, float* dst, long n)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vz = Vector256.Create(zp);
            for (; i + 8 <= n; i += 8)
            {
                var b = Vector128.CreateScalar(*(long*)(x + i)).AsSByte();
                var w16 = Vector128.WidenLower(b);                                     // 8 × int16
                var w32 = Vector256.Create(Vector128.WidenLower(w16), Vector128.WidenUpper(w16));
                Vector256.ConvertToSingle(w32 - vz).Store(dst + i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)   // arm64: sixteen per step (SXTL/SXTL2, SUB, SCVTF)
        {
            var vz = Vector128.Create(zp);
            for (; i + 16 <= n; i += 16)
            {
                var b = Vector128.Load(x + i);
                Vector128<short> lo = Vector128.WidenLower(b), hi = Vector128.WidenUpper(b);
                Vector128.ConvertToSingle(Vector128.WidenLower(lo) - vz).Store(dst + i);
                Vector128.ConvertToSingle(Vector128.WidenUpper(lo) - vz).Store(dst + i + 4);
                Vector128.ConvertToSingle(Vector128.WidenLower(hi) - vz).Store(dst + i + 8);
                Vector128.ConvertToSingle(Vector128.WidenUpper(hi) - vz).Store(dst + i + 12);
            }
        }
        for (; i < n; i++) dst[i] = x[i] - zp;
    }

    /// <summary>Rows (c, kh, kw) of output pixels, row stride <paramref name="ld"/>; padding holds z_x (the real 0).
    /// At stride 1 a row is one copy of the input row, shifted, with the pads filled at its ends.</summary>
    void Im2Col(sbyte* xg, sbyte* col, int ld)
    {
        sbyte pad = (sbyte)zx;
        for (int c = 0; c < g.CinPerGroup; c++)
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++, col += ld)
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        sbyte* row = col + oh * g.OW;
                        if ((uint)ih >= (uint)g.H) { new Span<sbyte>(row, g.OW).Fill(pad); continue; }
                        sbyte* xr = xg + ((long)c * g.H + ih) * g.W;
                        if (g.StrideW == 1)   // a shifted copy of the input row, pads at its ends (tight loops: rows are short)
                        {
                            int off = kw * g.DilationW - g.PadLeft, ow0 = Math.Clamp(-off, 0, g.OW), ow1 = Math.Clamp(g.W - off, ow0, g.OW);
                            int ow = 0;
                            for (; ow < ow0; ow++) row[ow] = pad;
                            for (; ow < ow1; ow++) row[ow] = xr[ow + off];
                            for (; ow < g.OW; ow++) row[ow] = pad;
                            continue;
                        }
                        for (int ow = 0; ow < g.OW; ow++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                            row[ow] = (uint)iw < (uint)g.W ? xr[iw] : pad;
                        }
                    }
    }

    public void Dispose() { wRows?.Dispose(); wFloat?.Dispose(); bFloat?.Dispose(); }
}
