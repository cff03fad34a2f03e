using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels;

/// <summary>
/// MaxPool and AveragePool on channels-last x [N, H, W, C] → y [N, OH, OW, C], as planned by <see cref="ChannelsLast"/>:
/// every tap is a run of C channels, combined with the output pixel's run as vectors (<see cref="Simd.PoolNhwc"/>).
/// Per channel the taps are taken in Reference.Pool's order, so the result is the reference's bit for bit.
/// </summary>
internal sealed unsafe class PoolNhwcKernel : Kernel
{
    readonly int x, y;
    readonly ConvGeometry g;
    readonly bool countIncludePad;
    readonly int padBottom, padRight;

    public PoolNhwcKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        if (xt.Shape.Length != 4) throw Error($"channels-last pooling needs an NHWC input, got {Format.Shape.Format(xt.Shape)}");
        for (int d = 1; d < 4; d++) RequireFixed(xt, d, $"dimension {d}");
        var a = node.Attributes;
        var k = a.Ints("kernel_shape", []);
        if (k.Length != 2) throw Error("kernel_shape must have 2 values");
        int c = xt.Shape[3];
        g = Window.Geometry(this, a, [xt.Shape[0], c, xt.Shape[1], xt.Shape[2]], c, [(int)k[0], (int)k[1]], c, ceil: a.Int("ceil_mode", 0) != 0);
        var pads = a.Ints("pads", [0, 0, 0, 0]);
        padBottom = (int)pads[2]; padRight = (int)pads[3];
        countIncludePad = a.Int("count_include_pad", 0) != 0;
        ExpectShape(m, y, [xt.Shape[0], g.OH, g.OW, c]);
    }

    /// <summary>The pools this kernel takes: a 2-D window on one output.</summary>
    public static bool Accepts(Model m, Node n) =>
        n.Outputs.Length == 1 && n.Attributes.Ints("kernel_shape", []).Length == 2 && !n.Attributes.Has("auto_pad");

    public override long ScratchBytes(int batch) => Simd.PoolNhwc.ScratchBytes(g);

    public override void Run(Frame f)
    {
        int n = f.Shape(x)[0];
        long inImage = (long)g.H * g.W * g.C, outImage = (long)g.OH * g.OW * g.C;
        int* taps = (int*)f.Scratch;
        for (int i = 0; i < n; i++)
            if (Node.Op == OpType.MaxPool) Simd.PoolNhwc.Max(f.F(x) + i * inImage, f.F(y) + i * outImage, g, taps);
            else Simd.PoolNhwc.Average(f.F(x) + i * inImage, f.F(y) + i * outImage, g, taps, countIncludePad, padBottom, padRight);
    }
}
