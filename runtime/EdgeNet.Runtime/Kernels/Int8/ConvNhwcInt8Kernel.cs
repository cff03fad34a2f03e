using System.Runtime.Intrinsics;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;
using EdgeNet.Quant;

namespace EdgeNet.Kernels.Int8;

/// <summary>
/// int8 pointwise and depthwise Conv2D on channels-last tensors (x [N, H, W, C] → y [N, OH, OW, OC]), the twin of
/// <see cref="ConvInt8Kernel"/> under the <see cref="ChannelsLast"/> plan. Pointwise: the pixels are GEMM rows and
/// the weights are packed once, as in <see cref="DenseInt8Kernel"/>, with the requantization per output column
/// (fused into the VNNI tile store). Depthwise: exact integers in fp32 through <see cref="DepthwiseNhwc"/>, then the
/// same requantization; on AVX-512 and AVX2 a 3×3 depthwise goes straight from int8 to int8 (<see cref="DepthwiseInt8Nhwc"/>);
/// a layer whose sums could pass 2^24 runs the exact integer loop instead.
/// </summary>
internal sealed unsafe class ConvNhwcInt8Kernel : Kernel, IDisposable, IParallelWork
{
    readonly int x, y, zx, zy, lo, hi, kp;
    readonly ConvGeometry g;
    readonly bool depthwise, intOut, exactFloat;
    readonly bool direct;   // a stem conv: reads NCHW, writes NHWC, exact integers through Simd.DirectConvNhwc
    readonly bool vnniStem; // the stem as an implicit int8 GEMM on AVX-VNNI without AVX-512 (Simd.DirectConvInt8Nhwc)
    readonly bool wideStem; // the stem on AVX-512BW: VPMADDWD over int16 pairs (Simd.DirectConvInt8NhwcAvx512)
    readonly bool gemmStem; // the stem on arm64 and AVX2 (and odd AVX-512 shapes): packed input cut into GEMM rows, then the fused pointwise GEMM
    readonly bool saturationOnly;   // the VNNI epilogue may skip its float clamp (GemmInt8.SaturationClamps)
    readonly bool native;   // 3×3 depthwise straight from int8 to int8 (Simd.DepthwiseInt8Nhwc, AVX-512 and AVX2)
    readonly bool native512; // native in 16-channel AVX-512 blocks first (else AVX2's 8s)
    readonly short[]? neonWeights;   // the same on arm64 NEON (Simd.DepthwiseInt8NhwcNeon): int16 weights [9, C]
    readonly sbyte[]? neonWeights8;  // arm64 NEON with no weight −128: int8 weights [9, C], the zero point in biasEff
    readonly NativeBuffer? foldedBias;   // native: b − z_x·Σw as floats
    readonly DepthwiseInt8Nhwc.Body body512, body256;   // native x64: the depthwise blocks' loop bodies for this map
    readonly Activation act;
    readonly sbyte[] w;
    readonly bool noMinWeight;   // no weight is −128 (GemmInt8.Epilogue.NoMinWeight)
    readonly bool mlal;          // pointwise and stem on A72: weights in GemmInt8.PackMlal's layout, GemmInt8.RunMlal
    readonly int[] bias, biasEff;
    readonly float[] multiplier;
    readonly NativeBuffer weights, floatBias;   // pointwise: packed int8 panels; depthwise: float weights [taps, C]
    readonly NativeBuffer? splitWeights;   // pointwise on AVX-512BW without VNNI: the panels as int16 pairs (GemmInt8.SplitPanels)
    readonly GemmInt8.Isa isa;   // KernelOptions.Int8Isa: the GEMM's, and which depthwise and stem paths run
    readonly int[] xTemplate;

    public ConvNhwcInt8Kernel(Model m, Node node, KernelOptions o) : base(node)
    {
        isa = o.Int8Isa;
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = m.Tensors[x]; var wt = m.Tensors[node.Inputs[1]];
        if (xt.Shape.Length != 4 || wt.Shape.Length != 4) throw Error("channels-last int8 Conv needs an NHWC input and [OC, C/group, KH, KW] weights");
        for (int d = 1; d < 4; d++) RequireFixed(xt, d, $"dimension {d}");
        var (sx, zxv) = Int8Tensor.PerTensor(this, m, x, "input"); zx = zxv;
        int group = (int)node.Attributes.Int("group", 1);
        direct = node.Attributes.Int(ChannelsLast.Attribute, 1) == 2;
        int[] nchw = direct ? xt.Shape : [xt.Shape[0], xt.Shape[3], xt.Shape[1], xt.Shape[2]];
        g = Window.Geometry(this, node.Attributes, nchw, wt.Shape[0], [wt.Shape[2], wt.Shape[3]], group, ceil: false);
        if (wt.Shape[1] * group != g.C || g.OC % group != 0) throw Error($"weight {Format.Shape.Format(wt.Shape)} does not fit {g.C} channels in {group} groups");
        depthwise = g.IsDepthwise;
        bool pointwise = group == 1 && g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadTop == 0 && g.PadLeft == 0 && g.OH == g.H && g.OW == g.W;
        if (direct && (group != 1 || !DirectConvNhwc.Supports(g.OC))) throw Error($"a direct channels-last int8 Conv needs group 1 and output channels a multiple of {System.Numerics.Vector<float>.Count}");
        if (!direct && !depthwise && !pointwise) throw Error("channels-last int8 Conv is pointwise (1×1, stride 1, no padding) or depthwise");
        float[] sw;
        (w, sw) = Int8Tensor.Weights(this, m, node.Inputs[1], g.OC);
        noMinWeight = Array.IndexOf(w, (sbyte)-128) < 0;
        bias = Int8Tensor.Bias(this, m, node, 2, g.OC);
        act = Activation.FromAttributes(node.Attributes, node.Name);
        ExpectShape(m, y, [xt.Shape[0], g.OH, g.OW, g.OC]);
        var scale = Int8Tensor.Output(this, m, y, act, sx, sw);
        (intOut, multiplier, zy, lo, hi) = (scale.IntOut, scale.Multiplier, scale.Zp, scale.Lo, scale.Hi);
        xTemplate = xt.Shape;
        int taps = g.KH * g.KW, K = depthwise ? taps : direct ? g.C * taps : g.C;
        kp = GemmInt8.KPad(g.C);
        // The AVX-512BW stem (VPMADDWD on int16 pairs: no k padding, no lane gathering) also beats VNNI's implicit GEMM
        wideStem = direct && intOut && isa is GemmInt8.Isa.Avx512 or GemmInt8.Isa.AvxVnni && DirectConvInt8NhwcAvx512.Supports(g);
        int shift = GemmInt8.ShiftsActivations(isa) && !wideStem ? 128 : 0;   // it reads the signed codes
        biasEff = Int8Tensor.FoldZeroPoint(w, bias, K, zx + shift, out long maxAcc);
        long sumBound = maxAcc;   // |acc| of the path that runs (the native depthwise sums raw codes)
        vnniStem = direct && intOut && !wideStem && isa == GemmInt8.Isa.AvxVnni && g.OC % GemmInt8.NR == 0;
        gemmStem = direct && intOut && !wideStem && isa is GemmInt8.Isa.ArmDp or GemmInt8.Isa.ArmNeon or GemmInt8.Isa.Avx512 or GemmInt8.Isa.Avx2;
        if (wideStem)
        {
            weights = new NativeBuffer(DirectConvInt8NhwcAvx512.PackedWeightBytes(g));
            DirectConvInt8NhwcAvx512.PackWeights(w, g, (short*)weights.Pointer);
            floatBias = NativeBuffer.Of(new float[1]);
        }
        else if (vnniStem || gemmStem)
        {
            mlal = gemmStem && GemmInt8.UsesMlal(isa);
            weights = new NativeBuffer(DirectConvInt8Nhwc.PackedWeightBytes(g, mlal));
            DirectConvInt8Nhwc.PackWeights(w, g, (sbyte*)weights.Pointer, mlal);
            floatBias = NativeBuffer.Of(new float[1]);
        }
        else if (direct)
        {
            if (maxAcc >= 1 << 24) throw Error("a direct channels-last int8 Conv needs sums below 2^24 (see ExactInFloat)");
            exactFloat = true;
            weights = NativeBuffer.Of(DirectConvNhwc.PackWeights(w.Select(v => (float)v).ToArray(), g.OC, K));
            floatBias = NativeBuffer.Of(bias.Select(v => (float)v).ToArray());
        }
        else if (depthwise)
        {
            exactFloat = maxAcc < 1 << 24;
            // Raw codes (|x| ≤ 128) against the folded bias: every sum stays an exact integer in fp32.
            long nativeMax = 0;
            var folded = new float[g.C];
            for (int c = 0; c < g.C; c++)
            {
                long sum = 0, abs = 0;
                for (int k = 0; k < taps; k++) { sum += w[c * taps + k]; abs += Math.Abs((int)w[c * taps + k]); }
                long fb = bias[c] - (long)zx * sum;
                folded[c] = fb;
                nativeMax = Math.Max(nativeMax, Math.Abs(fb) + 128 * abs);
            }
            // AVX-512 in 16-channel blocks, then AVX2 in 8s; other channel counts: the float path (a scalar tail costs more)
            native = DepthwiseInt8Nhwc.Runs256(isa) && intOut && g.KH == 3 && g.KW == 3 && g.DilationH == 1 && g.DilationW == 1 && nativeMax < 1 << 24 && g.C % 8 == 0;
            if (native)
            {
                foldedBias = NativeBuffer.Of(folded); sumBound = nativeMax; native512 = DepthwiseInt8Nhwc.Runs512(isa);
                body512 = DepthwiseInt8Nhwc.Choose(g, wide: true); body256 = DepthwiseInt8Nhwc.Choose(g, wide: false);
            }
            else if (isa is GemmInt8.Isa.ArmDp or GemmInt8.Isa.ArmNeon && DepthwiseInt8NhwcNeon.Supported && intOut && g.KH == 3 && g.KW == 3 && g.DilationH == 1 && g.DilationW == 1 && g.C % DepthwiseInt8NhwcNeon.Lanes == 0)
            {
                if (noMinWeight && g.C <= DepthwiseInt8NhwcNeon.MaxFoldedChannels) neonWeights8 = DepthwiseInt8NhwcNeon.PackWeights8(w, g.C);
                else neonWeights = DepthwiseInt8NhwcNeon.PackWeights(w, g.C);
                native = true;
            }
            weights = NativeBuffer.Of(DepthwiseNhwc.PackWeights(w.Select(v => (float)v).ToArray(), g.C, taps));
            floatBias = NativeBuffer.Of(bias.Select(v => (float)v).ToArray());
        }
        else if (intOut && GemmInt8.UsesMlal(isa))
        {
            mlal = true;
            weights = new NativeBuffer(GemmInt8.PackedBytesMlal(g.C, g.OC));
            fixed (sbyte* pw = w) GemmInt8.PackMlal(pw, 1, g.C, g.C, g.OC, (sbyte*)weights.Pointer);   // B[k, j] = W[j, k]
            floatBias = NativeBuffer.Of(new float[1]);
        }
        else
        {
            weights = new NativeBuffer(GemmInt8.PackedBytes(g.C, g.OC));
            fixed (sbyte* pw = w) GemmInt8.Pack(pw, 1, g.C, g.C, g.OC, (sbyte*)weights.Pointer, shift: false);   // B[k, j] = W[j, k]
            floatBias = NativeBuffer.Of(new float[1]);
            if (Fused && isa == GemmInt8.Isa.Avx512 && GemmInt8.ReadsSplitWeights(g.C, g.OC))   // split once here, not in every 12-row tile (twice the packed bytes)
            {
                splitWeights = new NativeBuffer(GemmInt8.SplitShorts(g.C, g.OC) * sizeof(short));
                GemmInt8.SplitPanels((sbyte*)weights.Pointer, g.C, g.OC, (short*)splitWeights.Pointer);
            }
        }
        saturationOnly = intOut && GemmInt8.SaturationClamps(lo, hi, sumBound, multiplier);
    }

    public override long ScratchBytes(int batch)
    {
        long n = Format.Shape.Resolve(xTemplate[0], batch), pixels = n * g.H * g.W;
        var (hp, wp) = DirectConvInt8Nhwc.PaddedSize(g);
        if (vnniStem) return (long)hp * wp * DirectConvInt8Nhwc.C4(g.C) + 64;
        if (wideStem) return DirectConvInt8NhwcAvx512.PackedInputBytes(g);
        if (gemmStem) return StemRows + (long)g.OH * g.OW * DirectConvInt8Nhwc.Im2ColStride(g);
        return depthwise || direct ? 4L * ((long)g.H * g.W * g.C + (long)g.OH * g.OW * g.OC + g.C * g.KH * g.KW) + 192
                         : pixels * kp + 4L * pixels * g.OC + 256;
    }

    public override void Run(Frame f)
    {
        int n = f.Shape(x)[0];
        frame = f;
        if (direct) { for (int i = 0; i < n; i++) Direct(f, i); }
        else if (depthwise) { for (int i = 0; i < n; i++) Depthwise(f, i); }
        else Pointwise(f, n * g.H * g.W);
        frame = null;
        if (!intOut && !act.IsClamp) act.Apply(f.Span(y));
    }

    // The call in flight, for the intra-op parts (Execute): rows of the pointwise GEMM, or bands of output rows.
    Frame? frame;
    /// <summary>Input bytes of a band of the x64 int8 depthwise's output rows (in L2 across its channel blocks).</summary>
    const long DepthwiseBandBytes = 128 * 1024;
    /// <summary>x64 int8 depthwise input maps up to this many bytes (H·W·C) run one pass a channel block over all rows:
    /// they stay in L2 (1 MiB a core on Zen 4/5, 1.25-2 MiB on Intel's) from one block to the next.</summary>
    const long DepthwiseL2MapBytes = 1 << 20;

    int parts, rowsPerPart, image;
    float* xf, yf;

    /// <summary>Splits <paramref name="units"/> into parts for the session's threads, or runs them inline.</summary>
    void Split(Frame f, int units)
    {
        long work = depthwise ? (long)g.OH * g.OW * g.C * g.KH * g.KW
                  : direct ? (long)g.OH * g.OW * g.OC * g.C * g.KH * g.KW
                  : (long)f.Shape(x)[0] * g.H * g.W * g.C * g.OC;
        parts = f.Pool is null || work < IntraOpPool.MinWork ? 1 : Math.Min(units, 2 * f.Pool.Threads);
        rowsPerPart = (units + parts - 1) / parts;
        if (parts == 1) Execute(0);
        else f.Pool!.Run(this, parts);
    }

    public void Execute(int part)
    {
        var f = frame!;
        if (!depthwise && !direct)
        {
            int rows = f.Shape(x)[0] * g.H * g.W, r0 = part * rowsPerPart * 4, r1 = Math.Min(rows, r0 + rowsPerPart * 4);
            if (r0 < r1) PointwiseRows(f, r0, r1);
            return;
        }
        int oh0 = Math.Min(g.OH, part * rowsPerPart), oh1 = Math.Min(g.OH, oh0 + rowsPerPart);
        if (oh0 >= oh1) return;
        if (native)
        {
            sbyte* xi = f.I8(x) + (long)image * g.H * g.W * g.C, yi = f.I8(y) + (long)image * g.OH * g.OW * g.C;
            int c0 = 0;
            if (neonWeights8 is not null)
            {
                fixed (sbyte* pw = neonWeights8) fixed (int* pb = biasEff) fixed (float* pm = multiplier)
                    DepthwiseInt8NhwcNeon.Block3x3Folded(xi, pw, pb, pm, yi, g, 0, g.C, zx, zy, lo, hi, oh0, oh1, !saturationOnly);
                return;
            }
            if (neonWeights is not null)
            {
                fixed (short* pw = neonWeights) fixed (int* pb = bias) fixed (float* pm = multiplier)
                    for (; c0 < g.C; c0 += DepthwiseInt8NhwcNeon.Lanes)
                        DepthwiseInt8NhwcNeon.Block3x3(xi, pw, pb, pm, yi, g, c0, zx, zy, lo, hi, oh0, oh1, !saturationOnly);
                return;
            }
            fixed (float* pm = multiplier)
            {
                // A map past L2 in bands of output rows, every channel block in each: a block reads part of every
                // cache line of its rows, so the band's input rows (about DepthwiseBandBytes) stay in L2 for the next
                // block. By blocks alone, over all rows, MobileNetV2's 1.2 MB 112×112×96 map came from L3 once per
                // block (70.2 -> 64.5 µs); maps within L2 ran 0-8% slower in bands, so they keep one pass a block.
                // Even bands: stride 1 pairs rows inside a band.
                long rowBytes = (long)g.StrideH * g.W * g.C;
                int band = (long)g.H * g.W * g.C <= DepthwiseL2MapBytes ? oh1 - oh0 : (int)Math.Clamp(DepthwiseBandBytes / rowBytes / 2 * 2, 2, Math.Max(2, oh1 - oh0));
                int c1 = 0;
                for (int b0 = oh0; b0 < oh1; b0 += band)
                {
                    int b1 = Math.Min(oh1, b0 + band);
                    c1 = 0;
                    if (native512)
                        for (; c1 + 16 <= g.C; c1 += 16)
                            DepthwiseInt8Nhwc.Block3x3V512(xi, weights.Floats, foldedBias!.Floats, pm, yi, g, c1, zx, zy, lo, hi, b0, b1, !saturationOnly, body512);
                    for (; c1 + 8 <= g.C; c1 += 8)
                        DepthwiseInt8Nhwc.Block3x3V256(xi, weights.Floats, foldedBias!.Floats, pm, yi, g, c1, zx, zy, lo, hi, b0, b1, !saturationOnly, body256);
                }
                c0 = c1;
            }
            if (c0 < g.C) Exact(xi, f, (long)image * g.OH * g.OW * g.C, c0, oh0, oh1);
            return;
        }
        if (gemmStem)
        {
            sbyte* a = (sbyte*)f.Scratch + StemRows + (long)oh0 * g.OW * DirectConvInt8Nhwc.Im2ColStride(g);
            DirectConvInt8Nhwc.Im2Col((byte*)f.Scratch, g, oh0, oh1, a);
            fixed (int* pb = biasEff) fixed (float* pm = multiplier)
            {
                var e = new GemmInt8.Epilogue { Out = f.I8(y) + ((long)image * g.OH + oh0) * g.OW * g.OC, Ldo = g.OC, ColBias = pb, ColMult = pm, Zp = zy, Lo = lo, Hi = hi, SaturationOnly = saturationOnly, NoMinWeight = noMinWeight };
                int k = DirectConvInt8Nhwc.K(g);
                if (mlal) GemmInt8.RunMlal(a, DirectConvInt8Nhwc.Im2ColStride(g), (sbyte*)weights.Pointer, (oh1 - oh0) * g.OW, g.OC, k, ref e);
                else GemmInt8.Run(a, DirectConvInt8Nhwc.Im2ColStride(g), (sbyte*)weights.Pointer, null, g.OC, (oh1 - oh0) * g.OW, g.OC, k, isa, activationsInA: true, ref e);
            }
            return;
        }
        if (wideStem)
        {
            fixed (int* pb = biasEff) fixed (float* pm = multiplier)
                DirectConvInt8NhwcAvx512.Run((short*)f.Scratch, (short*)weights.Pointer, pb, pm, f.I8(y) + (long)image * g.OH * g.OW * g.OC, g, zy, lo, hi, oh0, oh1, !saturationOnly);
            return;
        }
        if (vnniStem)
        {
            fixed (int* pb = biasEff) fixed (float* pm = multiplier)
                DirectConvInt8Nhwc.Run((byte*)f.Scratch, (sbyte*)weights.Pointer, pb, pm, f.I8(y) + (long)image * g.OH * g.OW * g.OC, g, zy, lo, hi, oh0, oh1, !saturationOnly);
            return;
        }
        int* taps = (int*)(yf + (long)g.OH * g.OW * g.OC);
        if (direct) DirectConvNhwc.Run(xf, weights.Floats, floatBias.Floats, yf, g, float.NegativeInfinity, float.PositiveInfinity, taps, oh0, oh1);
        else DepthwiseNhwc.Run(xf, weights.Floats, floatBias.Floats, yf, g, float.NegativeInfinity, float.PositiveInfinity, oh0, oh1);
        // The sums are exact integers in fp32, so acc·m equals the int32 path's (float)acc·m bit for bit.
        long p0 = (long)oh0 * g.OW, p1 = (long)oh1 * g.OW, outBase = (long)image * g.OH * g.OW * g.OC;
        if (intOut) fixed (float* pm = multiplier) Requantize.PixelsFromFloat(yf + p0 * g.OC, pm, zy, lo, hi, f.I8(y) + outBase + p0 * g.OC, (int)(p1 - p0), g.OC);
        else
            for (long p = p0; p < p1; p++)
                for (int c = 0; c < g.OC; c++) WriteFloat(f, outBase + p * g.OC + c, c, (int)yf[p * g.OC + c]);
    }

    void Pointwise(Frame f, int rows)
    {
        int C = g.C, OC = g.OC;
        sbyte* xs = f.I8(x), a = (sbyte*)f.Scratch;
        byte flip = GemmInt8.ShiftsActivations(isa) ? (byte)0x80 : (byte)0;   // VNNI multiplies unsigned by signed
        if (!ShiftInPanels)   // otherwise the VNNI panels read x itself and shift as they broadcast
        {
            if (kp == C) GemmInt8.CopyShifted(xs, a, (long)rows * C, flip);
            else
                for (long r = 0; r < rows; r++)
                {
                    GemmInt8.CopyShifted(xs + r * C, a + r * kp, C, flip);
                    for (int k = C; k < kp; k++) a[r * kp + k] = 0;
                }
        }
        Split(f, (rows + 3) / 4);   // parts of whole 4-row tiles
    }

    /// <summary>The fused epilogue (every ISA but scalar) requantizes in the GEMM's registers.</summary>
    bool Fused => intOut && isa is not GemmInt8.Isa.Scalar;

    /// <summary>The fused paths with K a multiple of 4 need no shifted, padded copy of x: the VNNI panels shift as they
    /// broadcast, the others read the signed codes as they are.</summary>
    bool ShiftInPanels => Fused && kp == g.C;

    void PointwiseRows(Frame f, int r0, int r1)
    {
        int C = g.C, OC = g.OC, rows = r1 - r0;
        sbyte* a = (ShiftInPanels ? f.I8(x) : (sbyte*)f.Scratch) + (long)r0 * kp;
        int* acc = (int*)((sbyte*)f.Scratch + ((long)f.Shape(x)[0] * g.H * g.W * kp + 63) / 64 * 64) + (long)r0 * OC;
        sbyte* o = f.I8(y) + (long)r0 * OC;
        fixed (int* pb = biasEff) fixed (float* pm = multiplier)
        {
            if (Fused)
            {
                var e = new GemmInt8.Epilogue { Out = o, Ldo = OC, ColBias = pb, ColMult = pm, Zp = zy, Lo = lo, Hi = hi, ShiftA = ShiftInPanels, SaturationOnly = saturationOnly, NoMinWeight = noMinWeight, SplitB = splitWeights == null ? null : (short*)splitWeights.Pointer };
                if (mlal) { GemmInt8.RunMlal(a, kp, (sbyte*)weights.Pointer, rows, OC, C, ref e); return; }
                GemmInt8.Run(a, kp, (sbyte*)weights.Pointer, acc, OC, rows, OC, C, isa, activationsInA: true, ref e);
                return;
            }
            GemmInt8.Run(a, kp, (sbyte*)weights.Pointer, acc, OC, rows, OC, C, isa, activationsInA: true);
            for (long r = 0; r < rows; r++)
                if (intOut) Requantize.Columns(acc + r * OC, pb, pm, zy, lo, hi, o + r * OC, OC);
                else for (int c = 0; c < OC; c++) WriteFloat(f, (r0 + r) * OC + c, c, acc[r * OC + c] + biasEff[c]);
        }
    }

    void Depthwise(Frame f, int image)
    {
        long inImage = (long)g.H * g.W * g.C;
        sbyte* xi = f.I8(x) + image * inImage;
        this.image = image;
        if (native) { Split(f, g.OH); return; }
        if (!exactFloat) { Exact(xi, f, image * (long)g.OH * g.OW * g.C, 0, 0, g.OH); return; }
        this.image = image;
        xf = (float*)f.Scratch; yf = xf + inImage;
        ConvInt8Kernel.ToFloat(xi, zx, xf, inImage);
        Split(f, g.OH);
    }

    /// <summary>The stem: x − z_x as floats (NCHW), the fp32 direct convolution on exact integers, requantized per channel.</summary>
    void Direct(Frame f, int image)
    {
        long inImage = (long)g.C * g.H * g.W;
        this.image = image;
        if (wideStem)
        {
            DirectConvInt8NhwcAvx512.PackInput(f.I8(x) + image * inImage, g, zx, (short*)f.Scratch);
            Split(f, g.OH);
            return;
        }
        if (vnniStem || gemmStem)
        {
            DirectConvInt8Nhwc.PackInput(f.I8(x) + image * inImage, g, zx, (byte*)f.Scratch, gemmStem ? (byte)0 : (byte)0x80);
            Split(f, g.OH);
            return;
        }
        xf = (float*)f.Scratch; yf = xf + inImage;
        ConvInt8Kernel.ToFloat(f.I8(x) + image * inImage, zx, xf, inImage);
        DirectConvNhwc.PrepareTaps(g, (int*)(yf + (long)g.OH * g.OW * g.OC));
        Split(f, g.OH);
    }

    /// <summary>The arm64 stem's GEMM rows start here in the scratch, after the packed input (64-byte aligned).</summary>
    long StemRows => (DirectConvInt8Nhwc.PackedInputBytes(g) + 63) / 64 * 64;

    /// <summary>True when every output channel's sum |bias| + 255·Σ|w| stays below 2^24, so fp32 carries it exactly.</summary>
    public static bool ExactInFloat(Model m, Node node)
    {
        var wt = m.Tensors[node.Inputs[1]];
        if (wt.Type != DataType.Int8 || !wt.IsConstant || wt.Shape.Length != 4) return false;
        var w = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(wt.Data!.Value.Span);
        int oc = wt.Shape[0], k = w.Length / Math.Max(1, oc);
        int[]? b = node.Inputs.Length > 2 && node.Inputs[2] >= 0 && m.Tensors[node.Inputs[2]].Type == DataType.Int32
            ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(m.Tensors[node.Inputs[2]].Data!.Value.Span).ToArray() : null;
        for (int o = 0; o < oc; o++)
        {
            long abs = b is null || o >= b.Length ? 0 : Math.Abs((long)b[o]);
            for (int i = 0; i < k; i++) abs += 255 * Math.Abs((int)w[o * k + i]);
            if (abs >= 1 << 24) return false;
        }
        return true;
    }

    /// <summary>Integer depthwise for layers whose sums could leave fp32's exact range.</summary>
    void Exact(sbyte* xi, Frame f, long outBase, int cFrom, int oh0, int oh1)
    {
        int C = g.C, taps = g.KH * g.KW;
        for (int oh = oh0; oh < oh1; oh++)
            for (int ow = 0; ow < g.OW; ow++)
                for (int c = cFrom; c < C; c++)
                {
                    int acc = bias[c];
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                            if ((uint)iw >= (uint)g.W) continue;
                            acc += (xi[((long)ih * g.W + iw) * C + c] - zx) * w[c * taps + kh * g.KW + kw];
                        }
                    }
                    long o = outBase + ((long)oh * g.OW + ow) * C + c;
                    if (intOut) f.I8(y)[o] = QuantMath.Requantize(acc, multiplier[c], zy, lo, hi);
                    else WriteFloat(f, o, c, acc);
                }
    }

    void WriteFloat(Frame f, long index, int oc, int acc) =>
        f.F(y)[index] = act.IsClamp ? Math.Clamp(acc * multiplier[oc], act.ClampMin, act.ClampMax) : acc * multiplier[oc];

    public void Dispose() { weights.Dispose(); floatBias.Dispose(); foldedBias?.Dispose(); splitWeights?.Dispose(); }
}
