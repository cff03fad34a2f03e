using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Kernels;

/// <summary>
/// An inverted residual's expand (1×1 Conv + clamp) and the depthwise Conv that alone reads it, as one channels-last
/// kernel (planned by <see cref="ExpandDepthwiseFusion"/>): the expanded map (6× the block's channels: MobileNetV2's
/// 112×112×96, 56×56×144) never goes to memory. Output rows go in bands; a band's expanded input rows are computed by
/// <see cref="Gemm.Run"/> into a per-thread buffer of about <see cref="BandBytes"/>, the rows the previous band already
/// computed moved to its front instead of recomputed, and <see cref="DepthwiseNhwc.Run"/> reads them there as if they
/// were the map (its geometry keeps the full height for the padding).
/// Bits: those of the two nodes. A GEMM element is one FMA chain over K in every register tile; only the row kernel
/// (a tile's last one or two rows) sums in two chains. So the buffer's pixels are computed in GEMM calls that start
/// and end at multiples of <see cref="Align"/> pixels of the whole batch (a multiple of every tile height: 6, 8),
/// or at its end: the same tiles over the same pixels as the expand's one GEMM over all pixels.
/// Inputs: x [N, H, W, Cin], the depthwise's weight and bias, -1, the expand's weight [Cexp, Cin, 1, 1] and bias;
/// attributes: the depthwise's, with the expand's clamp as expand_min, expand_max.
/// </summary>
internal sealed unsafe class ExpandDepthwiseKernel : Kernel, IDisposable, IParallelWork
{
    public const int ExpandWeight = 4, ExpandBias = 5;
    /// <summary>Expanded rows per thread: in L2 while the depthwise reads them.</summary>
    const long BandBytes = 256 * 1024;
    /// <summary>GEMM calls start at multiples of this many pixels: a multiple of every register tile's height.</summary>
    const int Align = 24;

    readonly int x, y, cin, bandRows, slotFloats;
    readonly ConvGeometry g;   // the depthwise's: C = the expanded channels
    readonly float expandLo, expandHi, lo, hi;
    readonly NativeBuffer expandWeights, expandBias, weights, bias;

    public ExpandDepthwiseKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        var we = ConstantFloat(m, node.Inputs[ExpandWeight], "expand weight");
        var wt = ConstantFloat(m, node.Inputs[1], "weight");
        if (xt.Shape.Length != 4 || we.Shape.Length != 4 || wt.Shape.Length != 4) throw Error("a fused expand and depthwise Conv needs 4-D input and weights");
        for (int d = 1; d < 4; d++) RequireFixed(xt, d, $"dimension {d}");
        cin = xt.Shape[3];
        int cexp = we.Shape[0];
        if (we.Shape[1] != cin || we.Shape[2] != 1 || we.Shape[3] != 1) throw Error($"expand weight {Format.Shape.Format(we.Shape)} is not 1×1 over {cin} channels");
        g = Window.Geometry(this, node.Attributes, [xt.Shape[0], cexp, xt.Shape[1], xt.Shape[2]], wt.Shape[0], [wt.Shape[2], wt.Shape[3]], (int)node.Attributes.Int("group", 1), ceil: false);
        if (!g.IsDepthwise || wt.Shape[1] != 1) throw Error($"weight {Format.Shape.Format(wt.Shape)} is not depthwise over {cexp} channels");
        ExpectShape(m, y, [xt.Shape[0], g.OH, g.OW, g.OC]);
        var act = Activation.FromAttributes(node.Attributes, node.Name);
        if (!act.IsClamp) throw Error("a fused expand and depthwise Conv takes a clamp activation only");
        (lo, hi) = (act.ClampMin, act.ClampMax);
        expandLo = node.Attributes.Float("expand_min", float.NegativeInfinity);
        expandHi = node.Attributes.Float("expand_max", float.PositiveInfinity);
        expandBias = NativeBuffer.Of(Bias(m, node.Inputs.Length > ExpandBias ? node.Inputs[ExpandBias] : -1, cexp));
        bias = NativeBuffer.Of(Bias(m, node.Inputs.Length > 2 ? node.Inputs[2] : -1, cexp));
        weights = NativeBuffer.Of(DepthwiseNhwc.PackWeights(wt.Floats(), cexp, g.KH * g.KW));
        expandWeights = new NativeBuffer(Gemm.PackedSize(cin, cexp) * 4);
        using (var w = NativeBuffer.Of(we.Floats())) Gemm.Pack(w.Floats, 1, cin, cin, cexp, expandWeights.Floats);   // B[k, j] = W[j, k]
        long rowFloats = (long)g.W * cexp;
        int reach = (g.KH - 1) * g.DilationH + 1;
        bandRows = (int)Math.Clamp((BandBytes / 4 / rowFloats - reach) / g.StrideH + 1, 1, g.OH);
        // the band's rows, Align − 1 pixels each side for the alignment, and Align more for a short last call
        slotFloats = (int)((((long)Math.Min(g.H, (bandRows - 1) * g.StrideH + reach) * g.W + 3 * Align) * cexp + 15) / 16 * 16);
    }

    float[] Bias(Model m, int t, int n)
    {
        var b = t >= 0 ? ConstantFloat(m, t, "bias").Floats().ToArray() : new float[n];
        if (b.Length != n) throw Error($"bias has {b.Length} values for {n} channels");
        return b;
    }

    /// <summary>One buffer of expanded rows per thread that can take a part.</summary>
    public override long ScratchBytes(int batch) => (long)IntraOpPool.Available * slotFloats * 4 + 64;

    float* cx, cy, slots; int parts, images, rowsPerPart;

    public override void Run(Frame f)
    {
        images = f.Shape(x)[0];
        cx = f.F(x); cy = f.F(y);
        slots = (float*)(((nint)f.Scratch + 63) & ~(nint)63);
        long work = (long)images * g.H * g.W * g.C * cin;
        int rows = images * g.OH;
        parts = f.Pool is null || f.Pool.Threads == 1 || work < IntraOpPool.MinWork ? 1 : Math.Min(rows, Math.Min(f.Pool.Threads, IntraOpPool.Available));
        rowsPerPart = (rows + parts - 1) / parts;
        if (parts == 1) Execute(0);
        else f.Pool!.Run(this, parts);
    }

    /// <summary>Part <paramref name="index"/>: output rows index·rowsPerPart.. of all images (image-major), band by band
    /// through slot index.</summary>
    public void Execute(int index)
    {
        float* buf = slots + (long)index * slotFloats;
        int C = g.C, reach = (g.KH - 1) * g.DilationH + 1;
        long pixels = (long)g.H * g.W, total = images * pixels;
        long q0 = 0, q1 = 0;   // the buffer holds the expanded pixels q0..q1 of the batch
        int r1 = Math.Min(images * g.OH, (index + 1) * rowsPerPart);
        for (int r = index * rowsPerPart; r < r1;)
        {
            int image = r / g.OH, oh0 = r % g.OH, oh1 = Math.Min(g.OH, Math.Min(oh0 + bandRows, oh0 + r1 - r));
            int ih0 = Math.Max(0, oh0 * g.StrideH - g.PadTop), ih1 = Math.Min(g.H, (oh1 - 1) * g.StrideH - g.PadTop + reach);
            if (ih0 < ih1)
            {
                long a = (image * pixels + (long)ih0 * g.W) / Align * Align, b = Math.Min(total, (image * pixels + (long)ih1 * g.W + Align - 1) / Align * Align);
                if (a >= q0 && a < q1)
                {
                    if (a > q0) Buffer.MemoryCopy(buf + (a - q0) * C, buf, (q1 - a) * C * 4L, (q1 - a) * C * 4L);
                    q0 = a;
                }
                else q0 = q1 = a;
                if (b > q1)
                {
                    // A call of one or two pixels (the batch's last) runs Gemm's row kernel on every panel, where one
                    // GEMM over all pixels ran a tile on the narrow ones: start Align pixels earlier (the same values).
                    long s = q1;
                    if (b - s <= 2 && s > 0) { s -= Align; q0 = Math.Min(q0, s); }
                    Gemm.Run(cx + s * cin, cin, expandWeights.Floats, buf + (s - q0) * C, C, (int)(b - s), C, cin, null, expandBias.Floats, expandLo, expandHi);
                    q1 = b;
                }
            }
            // Rows outside the image are not read: the pointer may point before the buffer.
            DepthwiseNhwc.Run(buf + (image * pixels - q0) * C, weights.Floats, bias.Floats, cy + (long)image * g.OH * g.OW * C, g, lo, hi, oh0, oh1);
            r += oh1 - oh0;
        }
    }

    public void Dispose() { expandWeights.Dispose(); expandBias.Dispose(); weights.Dispose(); bias.Dispose(); }
}
