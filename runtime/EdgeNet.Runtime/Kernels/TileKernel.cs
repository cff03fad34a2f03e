using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// Tile: input [d0, ..., dr-1] → [d0·r0, ..., dr-1·rr-1] (attribute "repeats"), output element i the input element
/// at i mod d on every axis. ONNX's Expand arrives here too: the converter reshapes to the target rank and repeats
/// every axis of size 1 to the target's size. Copies bytes, so it serves every element type; the batch axis repeats once.
/// </summary>
internal sealed class TileKernel : Kernel
{
    readonly int x, y, elementSize;
    readonly int[] repeats, index;

    public TileKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = m.Tensors[x];
        elementSize = DataMovement.ElementSize(this, m, x);
        int r = xt.Shape.Length;
        repeats = node.Attributes.Ints("repeats", []).Select(v => v is >= 0 and <= int.MaxValue ? (int)v : throw Error($"repeat {v} is out of range")).ToArray();
        if (repeats.Length != r) throw Error($"{repeats.Length} repeats for rank {r}");
        var shape = new int[r];
        for (int d = 0; d < r; d++)
        {
            if (xt.Shape[d] < 0 && repeats[d] != 1) throw Error("the batch axis cannot be repeated");
            shape[d] = xt.Shape[d] < 0 ? xt.Shape[d] : checked(xt.Shape[d] * repeats[d]);
        }
        ExpectOutput(m, y, shape, xt.Type);
        index = new int[Math.Max(1, r)];
    }

    // Reference: for each output row (all axes but the last), the input row it reads, copied repeats[^1] times.
    public override unsafe void Run(Frame f)
    {
        var s = f.Shape(x); var so = f.Shape(y);
        int r = s.Length;
        byte* src = (byte*)f.Address[x], dst = (byte*)f.Address[y];
        if (r == 0) { Buffer.MemoryCopy(src, dst, elementSize, elementSize); return; }
        if (f.Size(y) == 0) return;
        long row = (long)s[r - 1] * elementSize;
        long rows = f.Size(y) / so[r - 1];
        Array.Clear(index);
        for (long k = 0; k < rows; k++)
        {
            long off = 0;   // the input row of output row index[0..r-2]
            for (int d = 0; d < r - 1; d++) off = off * s[d] + index[d] % s[d];
            byte* from = src + off * row;
            for (int t = 0; t < repeats[r - 1]; t++, dst += row) Buffer.MemoryCopy(from, dst, row, row);
            for (int d = r - 2; d >= 0; d--) { if (++index[d] < so[d]) break; index[d] = 0; }
        }
    }

    /// <summary>dx[i] += Σ dy over every output element that copies input element i.</summary>
    internal void Backward(Span<float> dy, Span<float> dx, int[] xs, int[] ys)
    {
        if (dx.IsEmpty) return;
        int r = xs.Length;
        Span<int> idx = stackalloc int[Math.Max(1, r)];
        idx.Clear();
        for (int k = 0; k < dy.Length; k++)
        {
            long off = 0;
            for (int d = 0; d < r; d++) off = off * xs[d] + idx[d] % xs[d];
            dx[(int)off] += dy[k];
            for (int d = r - 1; d >= 0; d--) { if (++idx[d] < ys[d]) break; idx[d] = 0; }
        }
    }
}
