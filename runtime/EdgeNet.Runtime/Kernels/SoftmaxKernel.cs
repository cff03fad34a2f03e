using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>Softmax along one axis (ONNX opset ≥ 13 semantics), max-subtracted so large logits cannot overflow.</summary>
internal sealed class SoftmaxKernel : Kernel
{
    readonly int x, y, axis;
    readonly bool reference;

    public SoftmaxKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        axis = Axis(this, node, xt.Shape.Length);
        ExpectShape(m, y, xt.Shape);
        reference = o.Reference;
    }

    /// <summary>The "axis" attribute, negative from the end, checked against the rank.</summary>
    internal static int Axis(Kernel k, Node node, int rank) => k.AxisAttribute(rank, -1);

    public override void Run(Frame f)
    {
        var s = f.Shape(x);
        int len = s[axis], inner = 1;
        for (int d = axis + 1; d < s.Length; d++) inner *= s[d];
        var xs = f.Span(x); var ys = f.Span(y);
        if (inner == 1 && len < ShortRow && !reference) { ShortRows(xs, ys, len); return; }
        if (inner > 1 && !reference) { Columns(xs, ys, len, inner); return; }
        if (inner == 1 && !reference && !VectorExp.Wide) { RowsVector(xs, ys, len, VectorExp.Terms.Load()); return; }
        for (int start = 0; start < xs.Length; start += len * inner)
            for (int j = 0; j < inner; j++)
            {
                if (inner == 1 && !reference) { Row512(xs.Slice(start, len), ys.Slice(start, len)); continue; }
                float m = float.NegativeInfinity, sum = 0;
                for (int k = 0; k < len; k++) m = Math.Max(m, xs[start + k * inner + j]);
                for (int k = 0; k < len; k++) sum += ys[start + k * inner + j] = MathF.Exp(xs[start + k * inner + j] - m);
                for (int k = 0; k < len; k++) ys[start + k * inner + j] /= sum;
            }
    }

    /// <summary>One row on AVX-512: the max, then e = exp(x − max) stored and summed in one pass, then e·(1/sum), the
    /// last partial vector by masked loads (−∞ in the other lanes) and stores. No call a row, where the general path
    /// makes five TensorPrimitives calls, each a call per row under NativeAOT (SSD-lite's 3234 rows of 21: AOT 1.11× the JIT).</summary>
    static unsafe void Row512(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, i = 0;
        var tail = VectorExp.Tail(n % 16 == 0 ? 16 : n % 16);
        var ninf = Vector512.Create(float.NegativeInfinity);
        fixed (float* px = x, py = y)
        {
            // IEEE maximum (NaN wins), as the reference's Math.Max
            var mx = ninf;
            for (; i <= n - 16; i += 16) mx = Vector512.Max(mx, Vector512.Load(px + i));
            if (i < n) mx = Vector512.Max(mx, Avx512F.MaskLoad(px + i, tail, ninf));
            var h = Vector256.Max(mx.GetLower(), mx.GetUpper());
            var q = Vector128.Max(h.GetLower(), h.GetUpper());
            var m = Vector512.Create(MathF.Max(MathF.Max(q[0], q[1]), MathF.Max(q[2], q[3])));
            var acc = Vector512<float>.Zero;
            i = 0;
            for (; i <= n - 16; i += 16)
            {
                var e = VectorExp.Exp(Vector512.Load(px + i) - m);
                e.Store(py + i);
                acc += e;
            }
            if (i < n)
            {
                var e = VectorExp.Exp(Avx512F.MaskLoad(px + i, tail, ninf) - m);
                Avx512F.MaskStore(py + i, tail, e);
                acc += e;
            }
            var r = Vector512.Create(1f / Vector512.Sum(acc));
            for (i = 0; i <= n - 16; i += 16) (Vector512.Load(py + i) * r).Store(py + i);
            if (i < n) Avx512F.MaskStore(py + i, tail, Avx512F.MaskLoad(py + i, tail, Vector512<float>.Zero) * r);
        }
    }

    /// <summary>Rows of <paramref name="len"/> without AVX-512 (AVX2, NEON): <see cref="Row512"/>'s passes in
    /// Vector&lt;float&gt;, where five TensorPrimitives calls a row were each a call under NativeAOT (SSD-lite's 3234
    /// rows of 21). Not inlined and without calls, so that on arm64 the exp's constants stay in registers over all rows
    /// (<see cref="VectorExp.Terms"/>: the exp pass 37 instructions a vector; x64 takes them as memory operands).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static unsafe void RowsVector(ReadOnlySpan<float> xs, Span<float> ys, int len, in VectorExp.Terms terms)
    {
        var t = terms;
        int w = Vector<float>.Count;
        fixed (float* px0 = xs, py0 = ys)
            for (int start = 0; start < xs.Length; start += len)
            {
                float* px = px0 + start, py = py0 + start;
                int i = 0;
                // IEEE maximum (NaN wins), as the reference's Math.Max
                var mx = new Vector<float>(float.NegativeInfinity);
                for (; i <= len - w; i += w) mx = Vector.Max(mx, Vector.Load(px + i));
                float m = float.NegativeInfinity;
                for (int l = 0; l < w; l++) m = Math.Max(m, mx[l]);
                for (; i < len; i++) m = Math.Max(m, px[i]);
                var mv = new Vector<float>(m);
                var acc = Vector<float>.Zero;
                for (i = 0; i <= len - w; i += w)
                {
                    var e = AdvSimd.Arm64.IsSupported ? t.Exp(Vector.Load(px + i) - mv) : VectorExp.Exp(Vector.Load(px + i) - mv);
                    e.Store(py + i);
                    acc += e;
                }
                float sum = Vector.Sum(acc);
                if (i < len)
                {
                    // the last len − i floats from the vector ending at the row's end (len ≥ 16 here): the scalar
                    // exp's bits without a call, which would make the loops above reload the constants
                    int last = len - w;
                    var e = AdvSimd.Arm64.IsSupported ? t.Exp(Vector.Load(px + last) - mv) : VectorExp.Exp(Vector.Load(px + last) - mv);
                    for (int l = i - last; l < w; l++) sum += py[last + l] = e[l];
                }
                float r = 1f / sum;
                var rv = new Vector<float>(r);
                for (i = 0; i <= len - w; i += w) (Vector.Load(py + i) * rv).Store(py + i);
                for (; i < len; i++) py[i] *= r;
            }
    }

    /// <summary>Softmax over an axis before the last (YOLOv8's DFL: [1, 16, 4, A] over its 16 bins), which the scalar
    /// loop walked with a stride of `inner` floats, one MathF.Exp at a time: the k-th slices of the axis are rows of
    /// `inner` contiguous floats, so max, exp, sum and division run along the rows in vector ops, a block of columns at
    /// a time (the block's max and sum on the stack). The same order of max and of the sum over k as the scalar loop.</summary>
    static void Columns(ReadOnlySpan<float> xs, Span<float> ys, int len, int inner)
    {
        Span<float> m = stackalloc float[ColumnBlock], sum = stackalloc float[ColumnBlock];
        for (int start = 0; start < xs.Length; start += len * inner)
            for (int j0 = 0; j0 < inner; j0 += ColumnBlock)
            {
                int w = Math.Min(ColumnBlock, inner - j0);
                Span<float> mw = m[..w], sw = sum[..w];
                xs.Slice(start + j0, w).CopyTo(mw);
                for (int k = 1; k < len; k++) TensorPrimitives.Max(mw, xs.Slice(start + k * inner + j0, w), mw);
                sw.Clear();
                for (int k = 0; k < len; k++)
                {
                    var dst = ys.Slice(start + k * inner + j0, w);
                    TensorPrimitives.Subtract(xs.Slice(start + k * inner + j0, w), mw, dst);
                    VectorExp.Exp(dst, dst);
                    TensorPrimitives.Add(sw, dst, sw);
                }
                for (int k = 0; k < len; k++)
                {
                    var dst = ys.Slice(start + k * inner + j0, w);
                    TensorPrimitives.Divide(dst, sw, dst);
                }
            }
    }

    /// <summary>Columns per block of <see cref="Columns"/>: 2 KiB of max and sum on the stack.</summary>
    const int ColumnBlock = 256;

    /// <summary>Rows shorter than one 512-bit vector go through <see cref="ShortRows"/>.</summary>
    const int ShortRow = 16;

    /// <summary>Many short rows (a detector's class scores: UltraFace's 4420 rows of 2): five TensorPrimitives calls a
    /// row cost more than the row's arithmetic, and NativeAOT, without the JIT's profile-guided inlining, paid 1.6× the
    /// JIT's time for them. Max, subtraction, sum and division in plain loops per row, exp over the whole tensor in one
    /// vectorized call.</summary>
    static unsafe void ShortRows(ReadOnlySpan<float> xs, Span<float> ys, int len)
    {
        // Pointer loops: a span's bounds checks and index arithmetic were a third of each row's instructions (MiniLM's
        // 1008 attention rows of 14: 515 arm64 instructions a row, now 371); the same operations in the same order.
        int n = xs.Length;
        if (AdvSimd.Arm64.IsSupported && len >= 4) { ShortRowsNeon(xs, ys, len); return; }
        fixed (float* px = xs, py = ys)
        {
            for (float* x = px, y = py, end = px + n; x < end; x += len, y += len)
            {
                float m = float.NegativeInfinity;
                for (int k = 0; k < len; k++) m = Math.Max(m, x[k]);
                for (int k = 0; k < len; k++) y[k] = x[k] - m;
            }
            VectorExp.Exp(ys, ys);
            for (float* y = py, end = py + n; y < end; y += len)
            {
                float sum = 0;
                for (int k = 0; k < len; k++) sum += y[k];
                for (int k = 0; k < len; k++) y[k] /= sum;
            }
        }
    }

    /// <summary><see cref="ShortRows"/> on arm64 for rows of 4-15 (MiniLM's attention: 1008 rows of 14): each row as
    /// vectors at 0, 4, … and one ending at the row's end, which may overlap the one before it. Max (FMAXV) and the
    /// subtraction, the exp over the whole tensor, then the sum (the last vector's lanes already counted masked out) and
    /// the division, all in vectors: the scalar loops were ~250 instructions a row of 14, these ~115 with the loop (armprof
    /// A72, MiniLM: 374K -> 116K in all). The same max, x − m,
    /// exp and division as <see cref="ShortRows"/>; the sum in 4 lanes, then across them (not one chain).</summary>
    static unsafe void ShortRowsNeon(ReadOnlySpan<float> xs, Span<float> ys, int len)
    {
        int n = xs.Length, lastAt = len - 4;
        fixed (float* px = xs, py = ys)
        fixed (uint* pm = Overlap.Masks)
        {
            for (float* x = px, y = py, end = px + n; x < end; x += len, y += len)
            {
                var last = Vector128.Load(x + lastAt);
                var mx = last;
                for (int k = 0; k < lastAt; k += 4) mx = AdvSimd.Max(mx, Vector128.Load(x + k));
                var m = Vector128.Create(AdvSimd.Arm64.MaxAcross(mx).ToScalar());
                last -= m;   // before the stores: y may be x, and the last vector may overlap the one before it
                for (int k = 0; k < lastAt; k += 4) (Vector128.Load(x + k) - m).Store(y + k);
                last.Store(y + lastAt);
            }
            VectorExp.Exp(ys, ys);
            // lanes of the last vector the loop's vectors hold: (4 − len % 4) % 4 of them
            var mask = Vector128.Load(pm + 4 * ((4 - len % 4) % 4)).AsSingle();
            for (float* y = py, end = py + n; y < end; y += len)
            {
                var last = Vector128.Load(y + lastAt);
                var acc = last & mask;
                for (int k = 0; k < lastAt; k += 4) acc += Vector128.Load(y + k);
                var sv = Vector128.Create(Vector128.Sum(acc));
                last /= sv;
                for (int k = 0; k < lastAt; k += 4) (Vector128.Load(y + k) / sv).Store(y + k);
                last.Store(y + lastAt);
            }
        }
    }
}

/// <summary>Lanes of a row's last vector that the vectors before it already hold (<see cref="SoftmaxKernel"/>'s
/// ShortRowsNeon: a row of 4-15 as vectors at 0, 4, 8 and one ending at the row's end), zeroed out of the sum.</summary>
file static class Overlap
{
    public static readonly uint[] Masks = [~0u, ~0u, ~0u, ~0u, 0, ~0u, ~0u, ~0u, 0, 0, ~0u, ~0u, 0, 0, 0, ~0u];
}

/// <summary>LogSoftmax along one axis: x − max − ln Σ e^(x − max).</summary>
internal sealed class LogSoftmaxKernel : Kernel
{
    readonly int x, y, axis;

    public LogSoftmaxKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        axis = SoftmaxKernel.Axis(this, node, xt.Shape.Length);
        ExpectShape(m, y, xt.Shape);
    }

    public override void Run(Frame f)
    {
        var s = f.Shape(x);
        int len = s[axis], inner = 1;
        for (int d = axis + 1; d < s.Length; d++) inner *= s[d];
        var xs = f.Span(x); var ys = f.Span(y);
        for (int start = 0; start < xs.Length; start += len * inner)
            for (int j = 0; j < inner; j++)
            {
                float m = float.NegativeInfinity, sum = 0;
                for (int k = 0; k < len; k++) m = Math.Max(m, xs[start + k * inner + j]);
                for (int k = 0; k < len; k++) sum += MathF.Exp(xs[start + k * inner + j] - m);
                float lse = m + MathF.Log(sum);
                for (int k = 0; k < len; k++) ys[start + k * inner + j] = xs[start + k * inner + j] - lse;
            }
    }
}

/// <summary>Hardmax along one axis: 1 at the first maximum, 0 elsewhere (not differentiable).</summary>
internal sealed class HardmaxKernel : Kernel
{
    readonly int x, y, axis;

    public HardmaxKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input");
        axis = SoftmaxKernel.Axis(this, node, xt.Shape.Length);
        ExpectShape(m, y, xt.Shape);
    }

    public override void Run(Frame f)
    {
        var s = f.Shape(x);
        int len = s[axis], inner = 1;
        for (int d = axis + 1; d < s.Length; d++) inner *= s[d];
        var xs = f.Span(x); var ys = f.Span(y);
        ys.Clear();
        for (int start = 0; start < xs.Length; start += len * inner)
            for (int j = 0; j < inner; j++)
            {
                int best = 0;
                for (int k = 1; k < len; k++) if (xs[start + k * inner + j] > xs[start + best * inner + j]) best = k;
                if (len > 0) ys[start + best * inner + j] = 1;
            }
    }
}
