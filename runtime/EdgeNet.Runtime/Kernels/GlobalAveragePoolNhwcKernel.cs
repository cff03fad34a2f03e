using System.Numerics;
using System.Runtime.Intrinsics;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>GlobalAveragePool of a channels-last x [N, H, W, C] into y [N, C, 1, 1] (the same bytes as [N, 1, 1, C]).</summary>
internal sealed unsafe class GlobalAveragePoolNhwcKernel : Kernel
{
    readonly int x, y, hw, c;

    public GlobalAveragePoolNhwcKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        if (xt.Shape.Length != 4) throw Error("channels-last GlobalAveragePool needs an NHWC input");
        for (int d = 1; d < 4; d++) RequireFixed(xt, d, $"dimension {d}");
        hw = xt.Shape[1] * xt.Shape[2]; c = xt.Shape[3];
        ExpectShape(m, y, [xt.Shape[0], c, 1, 1]);
    }

    public override void Run(Frame f)
    {
        int n = f.Shape(x)[0];
        float* xs = f.F(x), ys = f.F(y);
        for (int i = 0; i < n; i++) Mean(xs + (long)i * hw * c, ys + (long)i * c, hw, c, 1f / hw);
    }

    /// <summary>y[j] = (x[0, j] + x[1, j] + … + x[hw - 1, j]) · scale for x [hw, c]: the sums stay in registers, four
    /// vectors of channels at a time, each channel added in pixel order from 0 (the bits of adding whole rows, without
    /// a call and a store per pixel: an SE block's pool is a few dozen short rows).</summary>
    internal static void Mean(float* x, float* y, int hw, int c, float scale)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j <= c - 64; j += 64)
            {
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (float* p = x + j, e = p + (long)hw * c; p < e; p += c)
                {
                    s0 += Vector512.Load(p); s1 += Vector512.Load(p + 16); s2 += Vector512.Load(p + 32); s3 += Vector512.Load(p + 48);
                }
                (s0 * scale).Store(y + j); (s1 * scale).Store(y + j + 16); (s2 * scale).Store(y + j + 32); (s3 * scale).Store(y + j + 48);
            }
            for (; j <= c - 16; j += 16)
            {
                Vector512<float> s = default;
                for (float* p = x + j, e = p + (long)hw * c; p < e; p += c) s += Vector512.Load(p);
                (s * scale).Store(y + j);
            }
        }
        if (Vector.IsHardwareAccelerated)
        {
            int v = Vector<float>.Count;
            for (; j <= c - 4 * v; j += 4 * v)
            {
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (float* p = x + j, e = p + (long)hw * c; p < e; p += c)
                {
                    s0 += Vector.Load(p); s1 += Vector.Load(p + v); s2 += Vector.Load(p + 2 * v); s3 += Vector.Load(p + 3 * v);
                }
                (s0 * scale).Store(y + j); (s1 * scale).Store(y + j + v); (s2 * scale).Store(y + j + 2 * v); (s3 * scale).Store(y + j + 3 * v);
            }
            for (; j <= c - v; j += v)
            {
                Vector<float> s = default;
                for (float* p = x + j, e = p + (long)hw * c; p < e; p += c) s += Vector.Load(p);
                (s * scale).Store(y + j);
            }
        }
        for (; j < c; j++)
        {
            float s = 0;
            for (float* p = x + j, e = p + (long)hw * c; p < e; p += c) s += *p;
            y[j] = s * scale;
        }
    }
}
