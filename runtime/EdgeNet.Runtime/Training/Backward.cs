using System.Numerics.Tensors;
using EdgeNet.Format;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Training;

/// <summary>
/// Backward passes of the non-recurrent ops. Each takes the forward input(s) and output and the output's gradient,
/// and accumulates (+=) into the input and parameter gradients that are wanted (empty spans are skipped).
/// </summary>
internal static class Backward
{
    /// <summary>Dense: x [rows, IC], w [OC, IC], dz [rows, OC] (after the activation's derivative).</summary>
    public static void Dense(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> dz, Span<float> dx, Span<float> dw, Span<float> db, int rows, int ic, int oc)
    {
        for (int r = 0; r < rows; r++)
        {
            var dzr = dz.Slice(r * oc, oc); var xr = x.Slice(r * ic, ic);
            for (int o = 0; o < oc; o++)
            {
                float g = dzr[o];
                if (g == 0) continue;
                if (!dw.IsEmpty) { var dwo = dw.Slice(o * ic, ic); TensorPrimitives.MultiplyAdd(xr, g, dwo, dwo); }
                if (!db.IsEmpty) db[o] += g;
                if (!dx.IsEmpty) { var dxr = dx.Slice(r * ic, ic); TensorPrimitives.MultiplyAdd(w.Slice(o * ic, ic), g, dxr, dxr); }
            }
        }
    }

    /// <summary>Conv2D: x [N,C,H,W], w [OC, C/g, KH, KW], dz [N,OC,OH,OW].</summary>
    public static void Conv(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> dz, Span<float> dx, Span<float> dw, Span<float> db, int n, in ConvGeometry g)
    {
        int cg = g.CinPerGroup, og = g.CoutPerGroup;
        for (int i = 0; i < n; i++)
            for (int oc = 0; oc < g.OC; oc++)
            {
                int group = oc / og;
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        float d = dz[((i * g.OC + oc) * g.OH + oh) * g.OW + ow];
                        if (d == 0) continue;
                        if (!db.IsEmpty) db[oc] += d;
                        for (int c = 0; c < cg; c++)
                            for (int kh = 0; kh < g.KH; kh++)
                            {
                                int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                                if ((uint)ih >= (uint)g.H) continue;
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                                    if ((uint)iw >= (uint)g.W) continue;
                                    int xi = ((i * g.C + group * cg + c) * g.H + ih) * g.W + iw, wi = ((oc * cg + c) * g.KH + kh) * g.KW + kw;
                                    if (!dw.IsEmpty) dw[wi] += d * x[xi];
                                    if (!dx.IsEmpty) dx[xi] += d * w[wi];
                                }
                            }
                    }
            }
    }

    public static void MaxPool(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int n, in ConvGeometry g)
    {
        for (int nc = 0; nc < n * g.C; nc++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    int best = -1; float m = float.NegativeInfinity;
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                            if ((uint)iw >= (uint)g.W) continue;
                            int xi = (nc * g.H + ih) * g.W + iw;
                            if (x[xi] > m || best < 0) { m = x[xi]; best = xi; }
                        }
                    }
                    if (best >= 0) dx[best] += dy[(nc * g.OH + oh) * g.OW + ow];
                }
    }

    public static void AveragePool(ReadOnlySpan<float> dy, Span<float> dx, int n, in ConvGeometry g, bool countIncludePad, int padBottom, int padRight)
    {
        for (int nc = 0; nc < n * g.C; nc++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    int h0 = oh * g.StrideH - g.PadTop, w0 = ow * g.StrideW - g.PadLeft, valid = 0;
                    int dh = g.DilationH, dw = g.DilationW;
                    for (int kh = 0; kh < g.KH; kh++) for (int kw = 0; kw < g.KW; kw++)
                            if ((uint)(h0 + kh * dh) < (uint)g.H && (uint)(w0 + kw * dw) < (uint)g.W) valid++;
                    int count = countIncludePad ? Kernels.Reference.Pool.IncludedPad(g, h0, w0, padBottom, padRight) : valid;
                    if (count == 0) continue;
                    float d = dy[(nc * g.OH + oh) * g.OW + ow] / count;
                    for (int kh = 0; kh < g.KH; kh++) for (int kw = 0; kw < g.KW; kw++)
                            if ((uint)(h0 + kh * dh) < (uint)g.H && (uint)(w0 + kw * dw) < (uint)g.W) dx[(nc * g.H + h0 + kh * dh) * g.W + w0 + kw * dw] += d;
                }
    }

    public static void Softmax(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int[] shape, int axis)
    {
        int len = shape[axis], inner = 1;
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        for (int start = 0; start < y.Length; start += len * inner)
            for (int j = 0; j < inner; j++)
            {
                float dot = 0;
                for (int k = 0; k < len; k++) dot += dy[start + k * inner + j] * y[start + k * inner + j];
                for (int k = 0; k < len; k++) { int i = start + k * inner + j; dx[i] += y[i] * (dy[i] - dot); }
            }
    }

    /// <summary>LogSoftmax: dx += dy − softmax · Σdy along the axis (softmax = e^y).</summary>
    public static void LogSoftmax(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int[] shape, int axis)
    {
        int len = shape[axis], inner = 1;
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        for (int start = 0; start < y.Length; start += len * inner)
            for (int j = 0; j < inner; j++)
            {
                float sum = 0;
                for (int k = 0; k < len; k++) sum += dy[start + k * inner + j];
                for (int k = 0; k < len; k++) { int i = start + k * inner + j; dx[i] += dy[i] - MathF.Exp(y[i]) * sum; }
            }
    }

    /// <summary>Broadcasting binary op: da += reduce(dy · ∂y/∂a), db likewise, by walking every output element.</summary>
    public static void Binary<T>(ReadOnlySpan<float> a, int[] sa, ReadOnlySpan<float> b, int[] sb, ReadOnlySpan<float> dy, int[] so, Span<float> da, Span<float> db) where T : struct, Kernels.IBinaryOp
    {
        int r = so.Length;
        Span<long> strideA = stackalloc long[Math.Max(1, r)], strideB = stackalloc long[Math.Max(1, r)];
        long pa = 1, pb = 1;
        for (int d = r - 1; d >= 0; d--)
        {
            int dA = d - (r - sa.Length) >= 0 ? sa[d - (r - sa.Length)] : 1, dB = d - (r - sb.Length) >= 0 ? sb[d - (r - sb.Length)] : 1;
            strideA[d] = dA == 1 ? 0 : pa; pa *= dA;
            strideB[d] = dB == 1 ? 0 : pb; pb *= dB;
        }
        for (int i = 0; i < dy.Length; i++)
        {
            long rem = i, ia = 0, ib = 0;
            for (int d = r - 1; d >= 0; d--) { long k = rem % so[d]; rem /= so[d]; ia += k * strideA[d]; ib += k * strideB[d]; }
            var (ga, gb) = T.Gradient(dy[i], a[(int)ia], b[(int)ib]);
            if (!da.IsEmpty) da[(int)ia] += ga;
            if (!db.IsEmpty) db[(int)ib] += gb;
        }
    }

    /// <summary>Transpose: dx[perm⁻¹ position] += dy.</summary>
    public static void Transpose(ReadOnlySpan<float> dy, Span<float> dx, int[] xShape, long[] perm)
    {
        int r = xShape.Length;
        Span<long> inStride = stackalloc long[Math.Max(1, r)];
        long st = 1;
        for (int d = r - 1; d >= 0; d--) { inStride[d] = st; st *= xShape[d]; }
        Span<int> outShape = stackalloc int[Math.Max(1, r)];
        for (int d = 0; d < r; d++) outShape[d] = xShape[perm[d]];
        for (int i = 0; i < dy.Length; i++)
        {
            long rem = i, src = 0;
            for (int d = r - 1; d >= 0; d--) { long k = rem % outShape[d]; rem /= outShape[d]; src += k * inStride[(int)perm[d]]; }
            dx[(int)src] += dy[i];
        }
    }
}
