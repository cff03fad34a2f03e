using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>Reshape (and Flatten, Squeeze, Unsqueeze): the same elements under the output's declared shape.</summary>
internal sealed class ReshapeKernel : Kernel
{
    readonly int x, y, elementSize;

    public ReshapeKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        TensorDesc xt = m.Tensors[x], yt = m.Tensors[y];
        if (xt.Type != yt.Type) throw Error($"type changes from {xt.Type} to {yt.Type}");
        if (xt.Type == DataType.Int8 && (xt.Quant is null || yt.Quant is null || xt.Quant.Scale[0] != yt.Quant.Scale[0] || xt.Quant.ZeroPoint[0] != yt.Quant.ZeroPoint[0]))
            throw Error("an int8 reshape keeps its scale and zero point");
        elementSize = DataTypes.SizeOf(xt.Type);
        if (xt.Elements(1) != yt.Elements(1) || xt.Elements(2) != yt.Elements(2))
            throw Error($"cannot reshape {Format.Shape.Format(xt.Shape)} to {Format.Shape.Format(yt.Shape)}: element counts differ");
    }

    public override unsafe void Run(Frame f)
    {
        if (f.Address[x] == f.Address[y]) return;
        long bytes = f.Size(x) * elementSize;
        Buffer.MemoryCopy((void*)f.Address[x], (void*)f.Address[y], bytes, bytes);
    }
}

/// <summary>Transpose by a permutation; runs of the unchanged innermost dimension are copied whole, a swap of the last
/// two axes is a batch of 2-D transposes.</summary>
internal sealed class TransposeKernel : Kernel, IWritesRows
{
    readonly int x, y;
    readonly int[] perm, index;
    readonly long[] srcStride;
    int ldd;   // NCHW ↔ NHWC into a Concat's wider rows (TryWriteRows): floats from one output row to the next; 0: packed

    /// <summary>A float NCHW ↔ NHWC change writes its output rows (NCHW: a channel's H·W; NHWC: a pixel's C) any
    /// distance apart: YOLOv8's head, each level's NCHW [N, 144, H·W] into the Concat of [N, 144, 2100].</summary>
    public bool TryWriteRows(Model m, int output, long width, long stride)
    {
        var s = m.Tensors[x].Shape;
        if (output != y || bytes || s.Length != 4 || !IsLayoutChange(perm) || stride < width || stride > int.MaxValue) return false;
        for (int d = 1; d < 4; d++) if (s[d] <= 0) return false;
        long row = perm[1] == 2 ? s[1] : (long)s[1] * s[2];   // NCHW → NHWC: C; NHWC → NCHW: H·W
        if (row != width) return false;
        ldd = (int)stride;
        return true;
    }

    public TransposeKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = m.Tensors[x];
        int r = xt.Shape.Length;
        perm = node.Attributes.Ints("perm", Enumerable.Range(0, r).Reverse().Select(i => (long)i).ToArray()).Select(p => (int)p).ToArray();
        if (perm.Length != r || perm.Distinct().Count() != r || perm.Any(p => p < 0 || p >= r)) throw Error($"perm [{string.Join(",", perm)}] is not a permutation of {r} axes");
        bytes = xt.Type == DataType.Int8;   // int8: the NCHW ↔ NHWC perms only (the channels-last plan's)
        if (bytes && !(r == 4 && IsLayoutChange(perm))) throw Error("an int8 Transpose must be NCHW ↔ NHWC");
        if (!bytes) FloatTensor(m, x, "input");
        else if (m.Tensors[y].Type != DataType.Int8) throw Error("an int8 Transpose writes int8");
        ExpectShape(m, y, perm.Select(p => xt.Shape[p]).ToArray());
        index = new int[Math.Max(1, r)]; srcStride = new long[Math.Max(1, r)];
    }

    readonly bool bytes;
    static bool SwapsLastTwo(int[] p)
    {
        int r = p.Length;
        for (int d = 0; d < r - 2; d++) if (p[d] != d) return false;
        return p[r - 2] == r - 1 && p[r - 1] == r - 2;
    }
    static bool IsLayoutChange(int[] p) => p[0] == 0 && ((p[1] == 2 && p[2] == 3 && p[3] == 1) || (p[1] == 3 && p[2] == 1 && p[3] == 2));

    /// <summary>dst, front to back: n0 × n1 × n2 runs of <paramref name="inner"/> floats, the run at (i0, i1, i2) from
    /// src + i0·s0 + i1·s1 + i2·s2. A short run (a head's 32-64 floats) by <see cref="DataMovement.CopySmall"/>, a long
    /// one by a copy call: in functions of their own, so the short runs' loop counters stay in registers (no call in
    /// that loop).</summary>
    static unsafe void Runs(float* src, float* dst, int n0, int n1, int n2, long s0, long s1, long s2, int inner)
    {
        long n = (long)inner * sizeof(float);
        if (n > DataMovement.SmallBlock) { LongRuns(src, dst, n0, n1, n2, s0, s1, s2, inner); return; }
        for (int i0 = 0; i0 < n0; i0++)
            for (int i1 = 0; i1 < n1; i1++)
            {
                float* s = src + i0 * s0 + i1 * s1;
                for (int i2 = 0; i2 < n2; i2++, s += s2, dst += inner) DataMovement.CopySmall((byte*)s, (byte*)dst, n);
            }
    }

    static unsafe void LongRuns(float* src, float* dst, int n0, int n1, int n2, long s0, long s1, long s2, int inner)
    {
        for (int i0 = 0; i0 < n0; i0++)
            for (int i1 = 0; i1 < n1; i1++)
            {
                float* s = src + i0 * s0 + i1 * s1;
                for (int i2 = 0; i2 < n2; i2++, s += s2, dst += inner) Unsafe.CopyBlockUnaligned(dst, s, (uint)inner * sizeof(float));
            }
    }

    public override unsafe void Run(Frame f)
    {
        var s = f.Shape(x);
        if (s.Length == 4 && IsLayoutChange(perm))
        {
            // NCHW ↔ NHWC: per image a 2-D transpose [C, HW] ↔ [HW, C], in cache-friendly blocks.
            bool toNhwc = perm[1] == 2;
            int rows = toNhwc ? s[1] : s[1] * s[2], cols = toNhwc ? s[2] * s[3] : s[3];
            long image = (long)rows * cols;
            for (int i = 0; i < s[0]; i++)
                if (bytes) Simd.Transpose2D.Run(f.I8(x) + i * image, rows, cols, f.I8(y) + i * image);
                else if (ldd > 0) Simd.Transpose2D.Run(f.F(x) + i * image, rows, cols, f.F(y) + i * (long)cols * ldd, ldd);
                else Simd.Transpose2D.Run(f.F(x) + i * image, rows, cols, f.F(y) + i * image);
            return;
        }
        int r = s.Length;
        if (!bytes && r >= 2 && SwapsLastTwo(perm))
        {
            // A batch of 2-D transposes: ShuffleNet's channel shuffle on channels-last data, [N·H·W, g, C/g] → [N·H·W, C/g, g].
            int rows = s[r - 2], cols = s[r - 1];
            long block = (long)rows * cols, batches = 1;
            for (int d = 0; d < r - 2; d++) batches *= s[d];
            float* src = f.F(x), dst = f.F(y);
            for (long b = 0; b < batches; b++, src += block, dst += block) Simd.Transpose2D.Run(src, rows, cols, dst);
            return;
        }
        var xs = f.Span(x); var ys = f.Span(y);
        var so = f.Shape(y);
        if (r == 0) { ys[0] = xs[0]; return; }
        long st = 1;
        Span<long> inStride = stackalloc long[Shape.MaxRank];
        for (int d = r - 1; d >= 0; d--) { inStride[d] = st; st *= s[d]; }
        for (int d = 0; d < r; d++) srcStride[d] = inStride[perm[d]];
        int inner = so[r - 1];
        bool contiguous = srcStride[r - 1] == 1;
        if (contiguous && r >= 2 && r <= 4)
        {
            // Runs of the innermost axis, at most three axes around them (a transformer's heads, [N, S, H, D] ↔
            // [N, H, S, D]): pointers stepped by the strides, no index array (MiniLM's 4032 runs of 32 an inference were
            // ~100 arm64 instructions each, 58 of them the index update and the rest a Memmove call).
            int n0 = r == 4 ? so[0] : 1, n1 = r >= 3 ? so[r - 3] : 1, n2 = so[r - 2];
            long s0 = r == 4 ? srcStride[0] : 0, s1 = r >= 3 ? srcStride[r - 3] : 0, s2 = srcStride[r - 2];
            Runs(f.F(x), f.F(y), n0, n1, n2, s0, s1, s2, inner);
            return;
        }
        Array.Clear(index);
        long off = 0;
        for (int start = 0; start < ys.Length; start += inner)
        {
            if (contiguous) xs.Slice((int)off, inner).CopyTo(ys.Slice(start, inner));
            else for (int j = 0; j < inner; j++) ys[start + j] = xs[(int)(off + j * srcStride[r - 1])];
            for (int d = r - 2; d >= 0; d--)
            {
                off += srcStride[d];
                if (++index[d] < so[d]) break;
                off -= srcStride[d] * so[d]; index[d] = 0;
            }
        }
    }
}

/// <summary>Concat along one axis: for each outer index, each input's block is copied in turn.</summary>
internal sealed class ConcatKernel : Kernel
{
    readonly int y, axis;
    readonly int[] inputs;

    public ConcatKernel(Model m, Node node) : base(node)
    {
        inputs = node.Inputs; y = node.Outputs[0];
        foreach (var i in inputs) FloatTensor(m, i, "input");
        int[] shape;
        (shape, axis) = OutputShape(this, m);
        ExpectShape(m, y, shape);
    }

    /// <summary>The inputs' shapes joined along the node's axis (normalized), checked; shared with the int8 twin.</summary>
    internal static (int[] shape, int axis) OutputShape(Kernel k, Model m)
    {
        ModelFormatException Bad(string why) => new($"node '{k.Node.Name}' ({k.Node.Op}): {why}");
        var inputs = k.Node.Inputs;
        var first = m.Tensors[inputs[0]];
        int r = first.Shape.Length, axis = k.AxisAttribute(r, 0);
        var shape = (int[])first.Shape.Clone();
        shape[axis] = 0;
        foreach (var i in inputs)
        {
            var t = m.Tensors[i];
            if (t.Shape.Length != r) throw Bad("inputs differ in rank");
            for (int d = 0; d < r; d++) if (d != axis && t.Shape[d] != first.Shape[d]) throw Bad($"inputs differ in dimension {d}");
            if (t.Shape[axis] < 0 && inputs.Length > 1) throw Bad("cannot concatenate along the batch dimension");
            shape[axis] = checked(shape[axis] + t.Shape[axis]);
        }
        if (inputs.Length == 1) shape[axis] = first.Shape[axis];
        return (shape, axis);
    }

    /// <summary>Axis of the concatenation (normalized).</summary>
    internal int Axis => axis;

    /// <summary>Set by <see cref="ConcatInPlace"/>: per input, whether its producer writes it straight into the output
    /// (then this kernel skips its blocks); null: none does.</summary>
    internal bool[]? InPlace
    {
        get => inPlace;
        set { inPlace = value; allInPlace = value is not null && Array.TrueForAll(value, b => b); }
    }
    bool[]? inPlace;
    bool allInPlace;

    public override unsafe void Run(Frame f)
    {
        if (allInPlace) return;
        var s = f.Shape(y);
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= s[d];
        for (int d = axis + 1; d < s.Length; d++) inner *= s[d];
        // Outer index by outer index, each input's block in turn: the output is written once, front to back. (Input
        // by input wrote every line of an output larger than the cache once per input, for YOLOv5's head, [4800, 85]
        // from blocks of 2, 2 and 81, three times; and the fire modules' pixels of 2 × 64..256 channels twice.)
        // Only the inputs to copy, each with its place in an output row (the others' producers wrote them in place):
        // the loop tests nothing per block.
        int k = 0, row = 0;
        float** src = stackalloc float*[inputs.Length];
        int* block = stackalloc int[inputs.Length], at = stackalloc int[inputs.Length];
        for (int j = 0; j < inputs.Length; j++)
        {
            int b = f.Shape(inputs[j])[axis] * inner;
            if (inPlace?[j] != true) { src[k] = f.F(inputs[j]); block[k] = b; at[k] = row; k++; }
            row += b;
        }
        float* dst = f.F(y);
        for (int o = 0; o < outer; o++, dst += row)
            for (int c = 0; c < k; c++)
            {
                int b = block[c];
                if (b <= DataMovement.SmallBlock / 4) DataMovement.CopySmall((byte*)(src[c] + (long)o * b), (byte*)(dst + at[c]), b * 4L);
                else new ReadOnlySpan<float>(src[c] + (long)o * b, b).CopyTo(new Span<float>(dst + at[c], b));
            }
    }
}

/// <summary>
/// Gather along one axis: data [..., L, ...], indices of shape I → [..., I..., ...]. The indices are constant
/// (attribute "indices", of shape "indices_shape"; or "scalar" = 1: one index, the axis dropped) or a second input
/// of int64/int32 (token ids into an embedding table), read at run time, negative from the end; an index outside the
/// axis stops the run with one error. Copies bytes, so the data may be any type.
/// </summary>
internal sealed class GatherKernel : Kernel
{
    readonly int x, y, axis, elementSize, indexTensor = -1;
    readonly int[] indices;
    readonly bool index64;

    public GatherKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = m.Tensors[x];
        elementSize = DataMovement.ElementSize(this, m, x);
        int r = xt.Shape.Length;
        axis = AxisAttribute(r, 0);
        RequireFixed(xt, axis, "the gathered axis");
        int len = xt.Shape[axis];
        int[] ishape;
        if (node.Inputs.Length > 1 && node.Inputs[1] >= 0)
        {
            indexTensor = node.Inputs[1];
            var it = TypedTensor(m, indexTensor, "indices", DataType.Int64, DataType.Int32);
            index64 = it.Type == DataType.Int64;
            ishape = it.Shape;
            indices = [];
        }
        else
        {
            indices = node.Attributes.Ints("indices", []).Select(i => (int)(i < 0 ? i + len : i)).ToArray();
            if (indices.Length == 0 || indices.Any(i => i < 0 || i >= len)) throw Error($"indices out of range 0..{len - 1}");
            // The indices' shape replaces the axis: "indices_shape" (any rank), else "scalar" = 1 (rank 0) or a 1-D list.
            bool scalar = node.Attributes.Int("scalar", 0) != 0;
            var declared = node.Attributes.Ints("indices_shape", scalar ? [] : [indices.Length]);
            if (declared.Any(d => d < 0) || declared.Aggregate(1L, (a, d) => a * d) != indices.Length) throw Error($"{indices.Length} indices for shape [{string.Join(",", declared)}]");
            ishape = declared.Select(d => (int)d).ToArray();
        }
        var shape = xt.Shape.ToList();
        shape.RemoveAt(axis);
        shape.InsertRange(axis, ishape);
        ExpectOutput(m, y, shape.ToArray(), xt.Type);
    }

    public override unsafe void Run(Frame f)
    {
        var s = f.Shape(x);
        long outer = 1, inner = elementSize;
        for (int d = 0; d < axis; d++) outer *= s[d];
        for (int d = axis + 1; d < s.Length; d++) inner *= s[d];
        int len = s[axis];
        long count = indexTensor < 0 ? indices.Length : f.Size(indexTensor);
        byte* src = (byte*)f.Address[x], dst = (byte*)f.Address[y];
        for (long o = 0; o < outer; o++)
            for (long k = 0; k < count; k++, dst += inner)
            {
                long raw = indexTensor < 0 ? indices[k] : index64 ? ((long*)f.Address[indexTensor])[k] : ((int*)f.Address[indexTensor])[k];
                long i = raw < 0 ? raw + len : raw;
                if ((ulong)i >= (ulong)len) throw new InvalidDataException($"node '{Node.Name}' (Gather): index {raw} is outside axis {axis} of size {len}");
                Buffer.MemoryCopy(src + (o * len + i) * inner, dst, inner, inner);
            }
    }
}

/// <summary>Slice with static, normalized starts and steps for every axis (attributes "starts", "steps"; ends are the output shape).</summary>
internal sealed class SliceKernel : Kernel
{
    readonly int x, y;
    readonly long[] starts, steps, stride;
    readonly int[] index;

    public SliceKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = FloatTensor(m, x, "input"); var yt = FloatTensor(m, y, "output");
        int r = xt.Shape.Length;
        starts = node.Attributes.Ints("starts", new long[r]);
        steps = node.Attributes.Ints("steps", Enumerable.Repeat(1L, r).ToArray());
        if (starts.Length != r || steps.Length != r || yt.Shape.Length != r) throw Error("starts/steps must cover every axis");
        for (int d = 0; d < r; d++)
        {
            bool batch = xt.Shape[d] < 0;
            if (batch) { if (starts[d] != 0 || steps[d] != 1 || yt.Shape[d] != xt.Shape[d]) throw Error("the batch axis cannot be sliced"); continue; }
            if (steps[d] == 0 || yt.Shape[d] < 0) throw Error($"axis {d}: step 0 or a batch-sized output");
            long last = starts[d] + (yt.Shape[d] - 1) * steps[d];
            if (yt.Shape[d] > 0 && (starts[d] < 0 || starts[d] >= xt.Shape[d] || last < 0 || last >= xt.Shape[d])) throw Error($"axis {d}: slice leaves the input");
        }
        stride = new long[Math.Max(1, r)]; index = new int[Math.Max(1, r)];
    }

    public override void Run(Frame f)
    {
        var xs = f.Span(x); var ys = f.Span(y);
        var s = f.Shape(x); var so = f.Shape(y);
        int r = s.Length;
        long st = 1, off = 0;
        for (int d = r - 1; d >= 0; d--) { stride[d] = st * steps[d]; off += st * starts[d]; st *= s[d]; }
        if (ys.Length == 0) return;
        int inner = so[r - 1];
        Array.Clear(index);
        for (int start = 0; start < ys.Length; start += inner)
        {
            for (int j = 0; j < inner; j++) ys[start + j] = xs[(int)(off + j * stride[r - 1])];
            for (int d = r - 2; d >= 0; d--)
            {
                off += stride[d];
                if (++index[d] < so[d]) break;
                off -= stride[d] * so[d]; index[d] = 0;
            }
        }
    }
}
