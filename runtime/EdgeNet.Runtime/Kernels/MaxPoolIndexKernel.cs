using System.Numerics;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels;

/// <summary>
/// MaxPool over NCHW with ONNX's optional second output, Indices (int64: each maximum's position in the flattened
/// input, batch and channel included; storage_order 1 counts H fastest), and on plain int8/uint8 data (ONNX MaxPool's
/// integer types). The first maximum in scan order wins, as in ONNX Runtime. Same window attributes as
/// <see cref="PoolKernel"/> (kernel_shape, strides, pads, dilations, ceil_mode). The float MaxPool without Indices
/// keeps <see cref="PoolKernel"/>; this scalar loop serves the rarer forms.
/// </summary>
internal sealed unsafe class MaxPoolIndexKernel : Kernel
{
    readonly int x, y, indices;
    readonly DataType type;
    readonly ConvGeometry g;
    readonly bool columnMajor;

    public MaxPoolIndexKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        indices = node.Outputs.Length > 1 ? node.Outputs[1] : -1;
        var xt = TypedTensor(m, x, "input", DataType.Float32, DataType.Int8, DataType.UInt8);
        if (xt.Quant is not null) throw Error($"input '{xt.Name}' is quantized; this kernel takes plain values");
        type = xt.Type;
        if (xt.Shape.Length != 4) throw Error($"input must be NCHW, got {Format.Shape.Format(xt.Shape)}");
        for (int d = 1; d < 4; d++) RequireFixed(xt, d, $"dimension {d}");
        var a = node.Attributes;
        var k = a.Ints("kernel_shape", []);
        if (k.Length != 2) throw Error("kernel_shape must have 2 values");
        g = Window.Geometry(this, a, xt.Shape, xt.Shape[1], [(int)k[0], (int)k[1]], xt.Shape[1], ceil: a.Int("ceil_mode", 0) != 0);
        long order = a.Int("storage_order", 0);
        if (order is not (0 or 1)) throw Error($"storage_order {order} must be 0 or 1");
        columnMajor = order == 1;
        int[] shape = [xt.Shape[0], g.C, g.OH, g.OW];
        ExpectOutput(m, y, shape, type);
        if (indices >= 0) ExpectOutput(m, indices, shape, DataType.Int64);
    }

    public override void Run(Frame f)
    {
        int n = f.Shape(x)[0];
        long* ind = indices >= 0 ? (long*)f.Address[indices] : null;
        switch (type)
        {
            case DataType.Float32: Max((float*)f.Address[x], (float*)f.Address[y], ind, n, g, columnMajor); break;
            case DataType.Int8: Max((sbyte*)f.Address[x], (sbyte*)f.Address[y], ind, n, g, columnMajor); break;
            default: Max((byte*)f.Address[x], (byte*)f.Address[y], ind, n, g, columnMajor); break;
        }
    }

    /// <summary>The reference: y[nc, oh, ow] = the window's maximum, ind (if not null) its flat input position.</summary>
    internal static void Max<T>(T* x, T* y, long* ind, int n, in ConvGeometry g, bool columnMajor) where T : unmanaged, INumber<T>
    {
        long plane = (long)g.H * g.W;
        for (int nc = 0; nc < n * g.C; nc++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    T best = default; long at = -1;
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                            if ((uint)iw >= (uint)g.W) continue;
                            T v = x[nc * plane + (long)ih * g.W + iw];
                            if (at < 0 || v > best || (T.IsNaN(v) && !T.IsNaN(best)))
                            {
                                best = v;
                                at = nc * plane + (columnMajor ? ih + (long)iw * g.H : (long)ih * g.W + iw);
                            }
                        }
                    }
                    long o = ((long)nc * g.OH + oh) * g.OW + ow;
                    // A window wholly in the padding (not possible with pads < kernel) would have no element: -∞ / the type's minimum.
                    y[o] = at >= 0 ? best : Lowest<T>();
                    if (ind is not null) ind[o] = Math.Max(at, 0);
                }
    }

    static T Lowest<T>() where T : INumber<T> =>
        typeof(T) == typeof(float) ? T.CreateTruncating(float.NegativeInfinity) : typeof(T) == typeof(sbyte) ? T.CreateTruncating(sbyte.MinValue) : T.Zero;
}
