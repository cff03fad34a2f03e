using System.Numerics.Tensors;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// Resize (and Upsample) of any rank, as ONNX's reference defines it: for each axis, output index x maps to a
/// coordinate x_ori of the input (coordinate_transformation_mode), whose neighbours (edge-clamped) are weighted by
/// the mode: nearest (nearest_mode), linear, cubic (cubic_coeff_a, exclude_outside), the latter two stretched by
/// antialias when downsampling; tf_crop_and_resize reads roi and writes extrapolation_value outside it. The output
/// shape comes from "scales" (floor(scale·in)) or "sizes" (keep_aspect_ratio_policy over "axes").
/// The weights of each axis are a table made here; the product of the axes' weights is the N-D interpolation.
/// The reference sums that product per output element; the fast path applies the axes one after another
/// (separable), each a weighted sum of whole input rows.
/// </summary>
internal sealed unsafe class ResizeKernel : Kernel
{
    /// <summary>One axis: output index j reads Index[j·Taps + t] with Weight[j·Taps + t]; Outside[j]: extrapolation_value.</summary>
    sealed record AxisTable(int Taps, int[] Index, float[] Weight, bool[]? Outside);

    readonly int x, y;
    readonly int[] inShape, outShape;
    readonly AxisTable?[] tables;   // null: the axis is copied unchanged
    readonly int[] order;           // the axes with a table, in the order the fast path applies them
    readonly float extrapolation;
    readonly bool reference;

    public ResizeKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "X");
        inShape = xt.Shape;
        int r = inShape.Length;
        if (r == 0) throw Error("X is a scalar; Resize needs at least one axis");
        var a = node.Attributes;
        string mode = a.String("mode", "nearest"), ctm = a.String("coordinate_transformation_mode", "half_pixel"), nearest = a.String("nearest_mode", "round_prefer_floor");
        if (mode is not ("nearest" or "linear" or "cubic")) throw Error($"mode '{mode}' is not supported");
        if (ctm is not ("half_pixel" or "half_pixel_symmetric" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_crop_and_resize"))
            throw Error($"coordinate_transformation_mode '{ctm}' is not supported");
        if (nearest is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil" or "simple")) throw Error($"nearest_mode '{nearest}' is not supported");
        bool antialias = a.Int("antialias", 0) != 0, exclude = a.Int("exclude_outside", 0) != 0;
        float cubicA = a.Float("cubic_coeff_a", -0.75f);
        extrapolation = a.Float("extrapolation_value", 0f);
        var roi = a.Floats("roi", []);
        if (ctm == "tf_crop_and_resize" && roi.Length != 2 * r) throw Error($"tf_crop_and_resize needs a roi of {2 * r} values, has {roi.Length}");

        var scale = new double[r];
        outShape = new int[r];
        if (a.Has("sizes"))
        {
            var sizes = a.Ints("sizes", []);
            if (sizes.Length != r) throw Error($"sizes has {sizes.Length} values for rank {r}");
            string policy = a.String("keep_aspect_ratio_policy", "stretch");
            if (policy is not ("stretch" or "not_larger" or "not_smaller")) throw Error($"keep_aspect_ratio_policy '{policy}' is not supported");
            var axes = a.Ints("axes", Enumerable.Range(0, r).Select(i => (long)i).ToArray());
            for (int d = 0; d < r; d++)
            {
                if (inShape[d] < 0) { if (sizes[d] != -1) throw Error("the batch axis cannot be resized"); scale[d] = 1; outShape[d] = -1; continue; }
                if (sizes[d] < 1 || sizes[d] > 1 << 24) throw Error($"size {sizes[d]} of axis {d} is out of range");
                scale[d] = (double)sizes[d] / inShape[d]; outShape[d] = (int)sizes[d];
            }
            if (policy != "stretch")
            {
                double s = policy == "not_larger" ? axes.Min(d => scale[d]) : axes.Max(d => scale[d]);
                foreach (var d in axes) { scale[d] = s; outShape[d] = (int)(s * inShape[d] + 0.5); }
            }
        }
        else
        {
            var scales = a.Floats("scales", []);
            if (scales.Length != r) throw Error($"scales has {scales.Length} values for rank {r}");
            for (int d = 0; d < r; d++)
            {
                if (!(scales[d] > 0) || scales[d] > 1 << 16) throw Error($"scale {scales[d]} of axis {d} is out of range");
                scale[d] = scales[d];
                if (inShape[d] < 0) { if (scales[d] != 1) throw Error("the batch axis cannot be resized"); outShape[d] = -1; continue; }
                double size = Math.Floor(scales[d] * (double)inShape[d]);
                if (size < 1 || size > 1 << 24) throw Error($"output size {size} of axis {d} is out of range");
                outShape[d] = (int)size;
            }
        }
        tables = new AxisTable?[r];
        for (int d = 0; d < r; d++)
        {
            if (inShape[d] < 0) continue;
            var t = Table(inShape[d], outShape[d], scale[d], mode, ctm, nearest, cubicA, exclude, antialias, roi.Length > 0 ? roi[d] : 0, roi.Length > 0 ? roi[r + d] : 1);
            if (!IsIdentity(t, inShape[d], outShape[d])) tables[d] = t;
        }
        // An upsampled last axis first: its pass is scalar (one value per output), so it runs on the smallest tensor.
        var passes = Enumerable.Range(0, r).Where(d => tables[d] is not null).ToList();
        if (r > 1 && tables[r - 1] is not null && outShape[r - 1] > inShape[r - 1]) { passes.Remove(r - 1); passes.Insert(0, r - 1); }
        order = passes.ToArray();
        ExpectShape(m, y, outShape);
        reference = o.Reference;
    }

    static AxisTable Table(int inLen, int outLen, double scale, string mode, string ctm, string nearest, float cubicA, bool exclude, bool antialias, double roiStart, double roiEnd)
    {
        double outW = scale * inLen;
        // taps and the offset of the first relative to "base", the input index left of x_ori (x_ori − base in (0, 1])
        int first, taps;
        double s = Math.Min(scale, 1.0);
        if (mode == "nearest") { first = 0; taps = 2; }
        else if (mode == "linear") { first = antialias ? (int)Math.Floor(-1 / s) + 1 : 0; taps = 2 - 2 * first; }
        else { first = antialias ? (int)Math.Floor(-2 / s) + 1 : -1; taps = 2 - 2 * first; }
        var index = new int[outLen * taps]; var weight = new float[outLen * taps];
        bool[]? outside = null;
        var c = new double[taps];
        for (int j = 0; j < outLen; j++)
        {
            double xo = ctm switch
            {
                "align_corners" => outW == 1 ? 0 : j * (inLen - 1.0) / (outW - 1),
                "asymmetric" => j / scale,
                "tf_crop_and_resize" => (outW == 1 ? (roiEnd - roiStart) * (inLen - 1) / 2 : j * (roiEnd - roiStart) * (inLen - 1) / (outW - 1)) + roiStart * (inLen - 1),
                "pytorch_half_pixel" => outW == 1 ? -0.5 : (j + 0.5) / scale - 0.5,
                "half_pixel_symmetric" => inLen / 2.0 * (1 - outLen / outW) + (j + 0.5) / scale - 0.5,
                _ => (j + 0.5) / scale - 0.5,
            };
            if (ctm == "tf_crop_and_resize" && (xo < 0 || xo > inLen - 1)) { (outside ??= new bool[outLen])[j] = true; continue; }
            double fl = Math.Floor(xo), ratio = xo == fl ? 1 : xo - fl;
            long b = (long)(xo - ratio);
            if (mode == "nearest")
            {
                bool up = ratio == 1 || nearest switch
                {
                    "round_prefer_floor" => ratio > 0.5,
                    "round_prefer_ceil" => ratio >= 0.5,
                    "floor" => false,
                    "ceil" => true,
                    _ => scale < 1,   // "simple" (Resize-10, Upsample): ceil when downsampling, else floor
                };
                c[0] = up ? 0 : 1; c[1] = up ? 1 : 0;
            }
            else if (mode == "linear")
            {
                if (!antialias) { c[0] = 1 - ratio; c[1] = ratio; }
                else for (int t = 0; t < taps; t++) c[t] = Math.Clamp(1 - Math.Abs((first + t - ratio) * s), 0, 1);
            }
            else if (!antialias)
            {
                double A = cubicA, r1 = ratio + 1, q = 1 - ratio, q1 = q + 1;
                c[0] = ((A * r1 - 5 * A) * r1 + 8 * A) * r1 - 4 * A;
                c[1] = ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1;
                c[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
                c[3] = ((A * q1 - 5 * A) * q1 + 8 * A) * q1 - 4 * A;
            }
            else for (int t = 0; t < taps; t++) c[t] = Cubic(Math.Abs(s * (first + t - ratio)), cubicA);
            if (mode != "nearest" && (antialias || exclude))
            {
                double sum = 0;
                for (int t = 0; t < taps; t++)
                {
                    long p = b + first + t;
                    if (exclude && (p < 0 || p >= inLen)) c[t] = 0;
                    sum += c[t];
                }
                for (int t = 0; t < taps; t++) c[t] /= sum;
            }
            for (int t = 0; t < taps; t++)
            {
                index[j * taps + t] = (int)Math.Clamp(b + first + t, 0, inLen - 1);
                weight[j * taps + t] = (float)c[t];
            }
        }
        if (mode == "nearest")   // one tap: the neighbour of weight 1
        {
            var one = new int[outLen];
            for (int j = 0; j < outLen; j++) one[j] = weight[2 * j] == 1 ? index[2 * j] : index[2 * j + 1];
            return new AxisTable(1, one, Enumerable.Repeat(1f, outLen).ToArray(), outside);
        }
        return new AxisTable(taps, index, weight, outside);
    }

    /// <summary>The cubic convolution kernel (Keys) with parameter A at distance d ≥ 0.</summary>
    static double Cubic(double d, double A) =>
        d <= 1 ? ((A + 2) * d - (A + 3)) * d * d + 1 : d < 2 ? ((A * d - 5 * A) * d + 8 * A) * d - 4 * A : 0;

    static bool IsIdentity(AxisTable t, int inLen, int outLen)
    {
        if (inLen != outLen || t.Outside is not null) return false;
        for (int j = 0; j < outLen; j++)
            for (int k = 0; k < t.Taps; k++)
            {
                float w = t.Weight[j * t.Taps + k];
                if (w != 0 && (w != 1 || t.Index[j * t.Taps + k] != j)) return false;
            }
        return true;
    }

    static int[] Shape(int[] template, int batch) { var s = new int[template.Length]; Shape(template, batch, s); return s; }
    static void Shape(int[] template, int batch, Span<int> s) { for (int d = 0; d < s.Length; d++) s[d] = template[d] < 0 ? batch : template[d]; }

    /// <summary>Intermediate results of the separable passes, two of the largest.</summary>
    public override long ScratchBytes(int batch) => reference ? 0 : 2 * 4 * LargestPass(batch) + 64;

    /// <summary>Elements of the largest intermediate result (shapes on the stack: Run calls this on every inference).</summary>
    long LargestPass(int batch)
    {
        Span<int> cur = stackalloc int[inShape.Length], o = stackalloc int[outShape.Length];
        Shape(inShape, batch, cur); Shape(outShape, batch, o);
        long most = 0;
        foreach (int d in order)
        {
            cur[d] = o[d];
            long n = 1; foreach (var v in cur) n *= v;
            most = Math.Max(most, n);
        }
        return most;
    }

    public override void Run(Frame f)
    {
        int batch = f.Shape(x)[0];
        var xs = f.Span(x); var ys = f.Span(y);
        if (reference) { Reference(xs, ys, Shape(inShape, batch), Shape(outShape, batch)); return; }
        if (order.Length == 0) { xs.CopyTo(ys); return; }
        Span<int> cur = stackalloc int[inShape.Length], o = stackalloc int[outShape.Length];   // nothing allocated per run
        Shape(inShape, batch, cur); Shape(outShape, batch, o);
        long half = LargestPass(batch);
        float* src = f.F(x), bufA = (float*)f.Scratch, bufB = bufA + half;
        for (int p = 0; p < order.Length; p++)
        {
            int d = order[p];
            long outer = 1, inner = 1;
            for (int k = 0; k < d; k++) outer *= cur[k];
            for (int k = d + 1; k < cur.Length; k++) inner *= cur[k];
            float* dst = p == order.Length - 1 ? f.F(y) : src == bufA ? bufB : bufA;
            Pass(src, dst, outer, cur[d], o[d], inner, tables[d]!);
            cur[d] = o[d]; src = dst;
        }
    }

    /// <summary>One axis over [outer, inLen, inner] -> [outer, outLen, inner]: each output row a weighted sum of input rows.</summary>
    void Pass(float* src, float* dst, long outer, int inLen, int outLen, long inner, AxisTable t)
    {
        int n = (int)inner;
        for (long a = 0; a < outer; a++)
        {
            float* s0 = src + a * inLen * inner;
            if (n == 1 && t.Taps == 1 && t.Outside is null)   // nearest along the last axis: a gather
            {
                float* d0 = dst + a * outLen;
                for (int j = 0; j < outLen; j++) d0[j] = s0[t.Index[j]];
                continue;
            }
            for (int j = 0; j < outLen; j++)
            {
                var d = new Span<float>(dst + (a * outLen + j) * inner, n);
                if (t.Outside is { } out_ && out_[j]) { d.Fill(extrapolation); continue; }
                int k0 = j * t.Taps;
                if (n == 1)
                {
                    float sum = 0;
                    for (int k = 0; k < t.Taps; k++) sum += t.Weight[k0 + k] * s0[t.Index[k0 + k]];
                    d[0] = sum;
                    continue;
                }
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(s0 + t.Index[k0] * inner, n), t.Weight[k0], d);
                for (int k = 1; k < t.Taps; k++)
                    if (t.Weight[k0 + k] != 0) TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(s0 + t.Index[k0 + k] * inner, n), t.Weight[k0 + k], d, d);
            }
        }
    }

    /// <summary>The specification: each output element is Σ over every combination of taps of Π weights · x.</summary>
    void Reference(ReadOnlySpan<float> xs, Span<float> ys, int[] ins, int[] outs)
    {
        int r = ins.Length;
        var pos = new int[r]; var tap = new int[r];
        for (int e = 0; e < ys.Length; e++)
        {
            for (int d = r - 1, rem = e; d >= 0; d--) { pos[d] = rem % outs[d]; rem /= outs[d]; }
            bool outside = false;
            for (int d = 0; d < r; d++) if (tables[d]?.Outside is { } o && o[pos[d]]) outside = true;
            if (outside) { ys[e] = extrapolation; continue; }
            Array.Clear(tap);
            float sum = 0;
            while (true)
            {
                float w = 1; long src = 0;
                for (int d = 0; d < r; d++)
                {
                    int idx = pos[d];
                    if (tables[d] is { } t) { w *= t.Weight[pos[d] * t.Taps + tap[d]]; idx = t.Index[pos[d] * t.Taps + tap[d]]; }
                    src = src * ins[d] + idx;
                }
                sum += w * xs[(int)src];
                int k = r - 1;
                for (; k >= 0; k--)
                {
                    if (tables[k] is { } t && ++tap[k] < t.Taps) break;
                    tap[k] = 0;
                }
                if (k < 0) break;
            }
            ys[e] = sum;
        }
    }

    /// <summary>dx += Rᵀ·dy: every output's gradient flows back to the inputs it read, by their weights.</summary>
    internal void Backward(ReadOnlySpan<float> dy, Span<float> dx, int batch)
    {
        var ins = Shape(inShape, batch); var outs = Shape(outShape, batch);
        int r = ins.Length;
        var pos = new int[r]; var tap = new int[r];
        for (int e = 0; e < dy.Length; e++)
        {
            for (int d = r - 1, rem = e; d >= 0; d--) { pos[d] = rem % outs[d]; rem /= outs[d]; }
            bool outside = false;
            for (int d = 0; d < r; d++) if (tables[d]?.Outside is { } o && o[pos[d]]) outside = true;
            if (outside || dy[e] == 0) continue;
            Array.Clear(tap);
            while (true)
            {
                float w = 1; long src = 0;
                for (int d = 0; d < r; d++)
                {
                    int idx = pos[d];
                    if (tables[d] is { } t) { w *= t.Weight[pos[d] * t.Taps + tap[d]]; idx = t.Index[pos[d] * t.Taps + tap[d]]; }
                    src = src * ins[d] + idx;
                }
                dx[(int)src] += w * dy[e];
                int k = r - 1;
                for (; k >= 0; k--)
                {
                    if (tables[k] is { } t && ++tap[k] < t.Taps) break;
                    tap[k] = 0;
                }
                if (k < 0) break;
            }
        }
    }
}
