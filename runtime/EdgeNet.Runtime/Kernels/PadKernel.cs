using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// Pad: x [d0, ..., dr-1] -> y [d0 + b0 + e0, ...] with "pads" [b0..br-1, e0..er-1] (negative ones crop) and
/// "mode" constant ("value"), reflect (mirror without repeating the edge), edge (repeat it) or wrap (periodic).
/// Each axis is a map from output index to input index (−1: the constant); a row of the last axis is read through
/// its map. Pad moves data, so this one loop is both the reference and the kernel, for any element type (the
/// constant converted to it).
/// </summary>
internal sealed unsafe class PadKernel : Kernel
{
    readonly int x, y, elementSize;
    readonly int[][] map;   // per axis (batch axis: null, identity)
    readonly byte[] fill;   // the constant as one element of the tensor's type
    readonly int[] inShape;

    public PadKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = m.Tensors[x];
        inShape = xt.Shape;
        elementSize = DataMovement.ElementSize(this, m, x);
        int r = inShape.Length;
        if (r < 1) throw Error("a scalar cannot be padded");
        var a = node.Attributes;
        var pads = a.Ints("pads", []);
        if (pads.Length != 2 * r) throw Error($"pads has {pads.Length} values for rank {r}");
        string mode = a.String("mode", "constant");
        if (mode is not ("constant" or "reflect" or "edge" or "wrap")) throw Error($"mode '{mode}' is not supported");
        float value = a.Float("value", 0f);
        fill = xt.Type switch
        {
            DataType.Int32 => BitConverter.GetBytes((int)value),
            DataType.Int64 => BitConverter.GetBytes((long)value),
            DataType.Int8 => [(byte)(sbyte)value],
            DataType.UInt8 or DataType.Bool => [(byte)value],
            _ => BitConverter.GetBytes(value),
        };
        if (fill.Length != elementSize) throw Error($"{xt.Type} tensors cannot be padded");
        map = new int[r][];
        var outShape = new int[r];
        for (int d = 0; d < r; d++)
        {
            long b = pads[d], e = pads[r + d], n = inShape[d];
            if (n < 0)
            {
                if (b != 0 || e != 0) throw Error("the batch axis cannot be padded");
                outShape[d] = -1; continue;
            }
            if (Math.Abs(b) > 1 << 20 || Math.Abs(e) > 1 << 20) throw Error($"pads {b}, {e} of axis {d} are out of range");
            long len = n + b + e;
            if (len < 1) throw Error($"axis {d} of size {n} padded by {b}, {e} leaves nothing");
            if (mode == "reflect" && n == 1 && (b > 0 || e > 0)) throw Error($"reflect needs at least 2 values on axis {d}");
            var mp = new int[len];
            for (long j = 0; j < len; j++)
            {
                long p = j - b;
                mp[j] = p >= 0 && p < n ? (int)p : mode switch
                {
                    "edge" => (int)Math.Clamp(p, 0, n - 1),
                    "wrap" => (int)(((p % n) + n) % n),
                    "reflect" => Reflect(p, n),
                    _ => -1,
                };
            }
            map[d] = mp; outShape[d] = (int)len;
        }
        ExpectOutput(m, y, outShape, xt.Type);
    }

    static int Reflect(long p, long n)
    {
        long period = 2 * (n - 1), q = ((p % period) + period) % period;
        return (int)(q < n ? q : period - q);
    }

    public override void Run(Frame f)
    {
        int r = inShape.Length;
        int[] ins = f.Shape(x), os = f.Shape(y);
        int lastLen = os[r - 1];
        int[]? lastMap = map[r - 1];   // null: the batch axis of a 1-D tensor, unchanged
        long rows = f.Size(y) / lastLen;
        byte* src = (byte*)f.Address[x], dst = (byte*)f.Address[y];
        Span<int> pos = stackalloc int[r];
        pos.Clear();
        for (long row = 0; row < rows; row++, dst += (long)lastLen * elementSize)
        {
            long at = 0; bool constant = false;
            for (int d = 0; d < r - 1; d++)
            {
                int s = map[d] is { } mp ? mp[pos[d]] : pos[d];
                if (s < 0) constant = true;
                at = at * ins[d] + s;
            }
            byte* from = src + at * ins[r - 1] * elementSize;
            for (int j = 0; j < lastLen; j++)
            {
                int s = constant ? -1 : lastMap is null ? j : lastMap[j];
                byte* to = dst + (long)j * elementSize;
                if (s < 0) for (int b = 0; b < elementSize; b++) to[b] = fill[b];
                else Buffer.MemoryCopy(from + (long)s * elementSize, to, elementSize, elementSize);
            }
            for (int d = r - 2; d >= 0; d--) { if (++pos[d] < os[d]) break; pos[d] = 0; }
        }
    }

    /// <summary>dx[map(j)] += dy[j] over the outputs that read an input.</summary>
    internal void Backward(ReadOnlySpan<float> ys, Span<float> xs, int batch)
    {
        int r = inShape.Length;
        Span<int> os = stackalloc int[r], ins = stackalloc int[r], pos = stackalloc int[r];
        for (int d = 0; d < r; d++) { ins[d] = inShape[d] < 0 ? batch : inShape[d]; os[d] = map[d]?.Length ?? batch; }
        int lastLen = os[r - 1];
        int[]? lastMap = map[r - 1];   // null: the batch axis of a 1-D tensor, unchanged
        long rows = ys.Length / lastLen;
        pos.Clear();
        for (long row = 0; row < rows; row++)
        {
            long src = 0; bool constant = false;
            for (int d = 0; d < r - 1; d++)
            {
                int s = map[d] is { } mp ? mp[pos[d]] : pos[d];
                if (s < 0) constant = true;
                src = src * ins[d] + s;
            }
            src *= ins[r - 1];
            var yrow = ys.Slice((int)(row * lastLen), lastLen);
            if (!constant) for (int j = 0; j < lastLen; j++) { int s = lastMap is null ? j : lastMap[j]; if (s >= 0) xs[(int)src + s] += yrow[j]; }
            for (int d = r - 2; d >= 0; d--) { if (++pos[d] < os[d]) break; pos[d] = 0; }
        }
    }
}
