using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Kernels;

/// <summary>
/// Pointwise and depthwise Conv2D on channels-last tensors (x [N, H, W, C] → y [N, OH, OW, OC]), as planned by
/// <see cref="ChannelsLast"/>. Pointwise: Y[N·HW, OC] = X[N·HW, C] · Wᵀ, one GEMM with Wᵀ packed at load and bias
/// and clamp in its epilogue. Depthwise: <see cref="DepthwiseNhwc"/>.
/// </summary>
internal sealed unsafe class ConvNhwcKernel : Kernel, IDisposable, IParallelWork
{
    readonly int x, y;
    readonly ConvGeometry g;
    readonly Activation act;
    readonly bool depthwise, direct;   // direct: NCHW input, few channels (Simd.DirectConvNhwc)
    readonly NativeBuffer weights, bias;   // pointwise: packed Wᵀ panels; depthwise: [KH·KW, C]

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
        bool pointwise = group == 1 && g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadTop == 0 && g.PadLeft == 0 && g.OH == g.H && g.OW == g.W;
        if (direct && (group != 1 || !DirectConvNhwc.Supports(g.OC))) throw Error($"a direct channels-last Conv needs group 1 and output channels a multiple of {2 * System.Numerics.Vector<float>.Count}");
        if (!direct && !depthwise && !pointwise) throw Error("channels-last Conv is pointwise (1×1, stride 1, no padding) or depthwise");
        var b = node.Inputs.Length > 2 && node.Inputs[2] >= 0 ? ConstantFloat(m, node.Inputs[2], "bias").Floats() : new float[g.OC];
        if (b.Length != g.OC) throw Error($"bias has {b.Length} values for {g.OC} output channels");
        act = Activation.FromAttributes(node.Attributes, node.Name);
        ExpectShape(m, y, [xt.Shape[0], g.OH, g.OW, g.OC]);
        bias = NativeBuffer.Of(b);
        if (direct) weights = NativeBuffer.Of(DirectConvNhwc.PackWeights(wt.Floats(), g.OC, g.C * g.KH * g.KW));
        else if (depthwise) weights = NativeBuffer.Of(DepthwiseNhwc.PackWeights(wt.Floats(), g.C, g.KH * g.KW));
        else
        {
            weights = new NativeBuffer(Gemm.PackedSize(g.C, g.OC) * 4);
            using var w = NativeBuffer.Of(wt.Floats());
            Gemm.Pack(w.Floats, 1, g.C, g.C, g.OC, weights.Floats);   // B[k, j] = W[j, k]
        }
    }

    public override long ScratchBytes(int batch) => direct ? 4L * g.C * g.KH * g.KW + 64 : 0;

    public override void Run(Frame f)
    {
        int n = f.Shape(x)[0];
        float* xs = f.F(x), ys = f.F(y);
        long outImage = (long)g.OH * g.OW * g.OC;
        if (direct || depthwise)
        {
            if (direct) DirectConvNhwc.PrepareTaps(g, (int*)f.Scratch);
            cx = xs; cy = ys; taps = (int*)f.Scratch;
            // Parts are (image, band of output rows): independent outputs, shared read-only inputs.
            long work = (long)g.OH * g.OW * g.OC * (direct ? g.C : 1) * g.KH * g.KW;
            bands = f.Pool is null || work < IntraOpPool.MinWork ? 1 : Math.Min(g.OH, 2 * f.Pool.Threads);
            if (bands == 1) for (int i = 0; i < n; i++) Execute(i);
            else f.Pool!.Run(this, n * bands);
        }
        else gemm.Run(f.Pool, xs, g.C, weights.Floats, ys, g.OC, n * g.H * g.W, g.OC, g.C, null, bias.Floats, act.ClampMin, act.ClampMax);
        if (!act.IsClamp) act.Apply(new Span<float>(ys, checked((int)(n * outImage))));
    }

    readonly ParallelGemm gemm = new();
    float* cx, cy; int* taps; int bands = 1;

    /// <summary>Part <paramref name="index"/>: image index / bands, rows band index % bands.</summary>
    public void Execute(int index)
    {
        int image = index / bands, band = index % bands;
        int oh0 = (int)((long)g.OH * band / bands), oh1 = (int)((long)g.OH * (band + 1) / bands);
        float* xi = cx + image * (long)g.H * g.W * g.C, yi = cy + image * (long)g.OH * g.OW * g.OC;
        if (direct) DirectConvNhwc.Run(xi, weights.Floats, bias.Floats, yi, g, act.ClampMin, act.ClampMax, taps, oh0, oh1);
        else DepthwiseNhwc.Run(xi, weights.Floats, bias.Floats, yi, g, act.ClampMin, act.ClampMax, oh0, oh1);
    }

    public void Dispose() { weights.Dispose(); bias.Dispose(); }
}
