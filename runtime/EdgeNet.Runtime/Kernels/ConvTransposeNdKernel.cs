using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// ConvTranspose over 3 or more spatial axes (volumetric generators): x [N, C, D1…Ds], w [C, OC/group, K1…Ks], b [OC]
/// → y [N, OC, O1…Os], Oi = Si·(Di − 1) + output_paddingi + (Ki − 1)·Dili + 1 − padsi − pads(s+i), as the 2-D
/// <see cref="ConvTransposeKernel"/> with its attributes given one value per axis (pads begin… then end…, negative
/// ones widen the output: the converter resolves auto_pad and output_shape into them). The scalar reference is the
/// kernel: each input element scatters its weighted kernel into the output. The backward sits beside it.
/// </summary>
internal sealed class ConvTransposeNdKernel : Kernel
{
    readonly int x, w, b = -1, y;
    readonly Geometry g;

    /// <summary>The window of one N-d ConvTranspose: input dims, output dims, kernel, strides, dilations, begin pads.</summary>
    internal sealed record Geometry(int C, int OC, int Group, int[] In, int[] Out, int[] K, int[] Stride, int[] Dilation, int[] PadBegin)
    {
        public int InPlane => In.Aggregate(1, (a, v) => a * v);
        public int OutPlane => Out.Aggregate(1, (a, v) => a * v);
        public int Taps => K.Aggregate(1, (a, v) => a * v);
    }

    public ConvTransposeNdKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; w = node.Inputs[1]; y = node.Outputs[0];
        if (node.Inputs.Length > 2 && node.Inputs[2] >= 0) b = node.Inputs[2];
        var xt = FloatTensor(m, x, "input");
        var wt = ConstantFloat(m, w, "weight");
        int s = xt.Shape.Length - 2;
        if (s < 3) throw Error($"input must have 3 or more spatial axes, got {Format.Shape.Format(xt.Shape)}");
        if (wt.Shape.Length != s + 2) throw Error($"weight must be [C, OC/group, K1..K{s}], got {Format.Shape.Format(wt.Shape)}");
        for (int d = 1; d < s + 2; d++) RequireFixed(xt, d, $"dimension {d}");
        var a = node.Attributes;
        long group = a.Int("group", 1);
        var strides = a.Ints("strides", Ones(s)); var dil = a.Ints("dilations", Ones(s));
        var pads = a.Ints("pads", new long[2 * s]); var outPad = a.Ints("output_padding", new long[s]);
        if (strides.Length != s || dil.Length != s || pads.Length != 2 * s || outPad.Length != s)
            throw Error($"strides/dilations/pads/output_padding must have {s}/{s}/{2 * s}/{s} values");
        int C = xt.Shape[1];
        if (group < 1 || C % group != 0) throw Error($"group {group} does not divide {C} channels");
        if (wt.Shape[0] != C) throw Error($"weight {Format.Shape.Format(wt.Shape)} has {wt.Shape[0]} input channels, the input {C}");
        var outDims = new int[s]; var k = new int[s];
        long outPlane = 1;
        for (int i = 0; i < s; i++)
        {
            k[i] = wt.Shape[2 + i];
            if (k[i] < 1 || k[i] > 1024) throw Error($"kernel size {k[i]} is out of range");
            if (strides[i] < 1 || strides[i] > 1024) throw Error($"stride {strides[i]} is out of range 1..1024");
            if (dil[i] < 1 || dil[i] > 1024) throw Error($"dilation {dil[i]} is out of range 1..1024");
            if (pads[i] < -4096 || pads[i] > 4096 || pads[s + i] < -4096 || pads[s + i] > 4096) throw Error("pads are out of range -4096..4096");
            if (outPad[i] < 0 || outPad[i] >= Math.Max(strides[i], dil[i])) throw Error($"output_padding {outPad[i]} must be below the stride or dilation");
            long od = strides[i] * (xt.Shape[2 + i] - 1) + outPad[i] + (k[i] - 1) * dil[i] + 1 - pads[i] - pads[s + i];
            if (od < 1 || od > 1 << 20) throw Error($"output size {od} is out of range");
            outDims[i] = (int)od;
            outPlane *= od;
        }
        int oc = checked(wt.Shape[1] * (int)group);
        if (checked(outPlane * oc) > int.MaxValue) throw Error("the output is too large");
        if (b >= 0 && ConstantFloat(m, b, "bias").Elements(1) != oc) throw Error($"bias has {m.Tensors[b].Elements(1)} values for {oc} output channels");
        g = new Geometry(C, oc, (int)group, xt.Shape[2..], outDims, k, strides.Select(v => (int)v).ToArray(), dil.Select(v => (int)v).ToArray(), pads[..s].Select(v => (int)v).ToArray());
        ExpectShape(m, y, [xt.Shape[0], oc, .. outDims]);
    }

    static long[] Ones(int s) => Enumerable.Repeat(1L, s).ToArray();

    public Geometry Window => g;

    public override void Run(Frame f) => Forward(f.Span(x), f.Span(w), b >= 0 ? f.Span(b) : default, f.Span(y), f.Shape(x)[0], g);

    /// <summary>The output offset (in the plane) that input position <paramref name="p"/> reaches through kernel tap
    /// <paramref name="ti"/>, or −1 outside the output.</summary>
    static int Target(Geometry g, ReadOnlySpan<int> p, int ti)
    {
        int yo = 0, stride = 1;
        for (int i = g.In.Length - 1; i >= 0; i--)
        {
            int t = ti % g.K[i]; ti /= g.K[i];
            int q = p[i] * g.Stride[i] - g.PadBegin[i] + t * g.Dilation[i];
            if ((uint)q >= (uint)g.Out[i]) return -1;
            yo += q * stride; stride *= g.Out[i];
        }
        return yo;
    }

    static void Decode(int xi, int[] dims, Span<int> p)
    {
        for (int i = dims.Length - 1; i >= 0; i--) { p[i] = xi % dims[i]; xi /= dims[i]; }
    }

    /// <summary>The reference: y = b, then y[n, grp·og + o, q(p, t)] += x[n, c, p] · w[c, o, t].</summary>
    internal static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int n, Geometry g)
    {
        int cg = g.C / g.Group, og = g.OC / g.Group, inPlane = g.InPlane, outPlane = g.OutPlane, taps = g.Taps;
        for (int i = 0; i < n * g.OC; i++) y.Slice(i * outPlane, outPlane).Fill(b.IsEmpty ? 0f : b[i % g.OC]);
        Span<int> p = stackalloc int[g.In.Length];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < g.C; c++)
            {
                int grp = c / cg, xBase = (i * g.C + c) * inPlane;
                for (int xi = 0; xi < inPlane; xi++)
                {
                    Decode(xi, g.In, p);
                    float v = x[xBase + xi];
                    for (int o = 0; o < og; o++)
                    {
                        int yBase = (i * g.OC + grp * og + o) * outPlane, wBase = (c * og + o) * taps;
                        for (int ti = 0; ti < taps; ti++)
                            if (Target(g, p, ti) is var yo and >= 0) y[yBase + yo] += v * w[wBase + ti];
                    }
                }
            }
    }

    /// <summary>dx += Σ dy·w, dw += Σ x·dy, db += Σ dy; empty spans are skipped.</summary>
    internal static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dw, Span<float> db, int n, Geometry g)
    {
        int cg = g.C / g.Group, og = g.OC / g.Group, inPlane = g.InPlane, outPlane = g.OutPlane, taps = g.Taps;
        if (!db.IsEmpty)
            for (int i = 0; i < n * g.OC; i++)
            {
                float sum = 0;
                foreach (var v in dy.Slice(i * outPlane, outPlane)) sum += v;
                db[i % g.OC] += sum;
            }
        if (dx.IsEmpty && dw.IsEmpty) return;
        Span<int> p = stackalloc int[g.In.Length];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < g.C; c++)
            {
                int grp = c / cg, xBase = (i * g.C + c) * inPlane;
                for (int xi = 0; xi < inPlane; xi++)
                {
                    Decode(xi, g.In, p);
                    float xv = x[xBase + xi], sx = 0;
                    for (int o = 0; o < og; o++)
                    {
                        int yBase = (i * g.OC + grp * og + o) * outPlane, wBase = (c * og + o) * taps;
                        for (int ti = 0; ti < taps; ti++)
                        {
                            if (Target(g, p, ti) is not (var yo and >= 0)) continue;
                            float d = dy[yBase + yo];
                            sx += d * w[wBase + ti];
                            if (!dw.IsEmpty) dw[wBase + ti] += xv * d;
                        }
                    }
                    if (!dx.IsEmpty) dx[xBase + xi] += sx;
                }
            }
    }
}
