using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// Trilu: input [..., R, C] → the same shape with the elements off one triangle zeroed. "upper" = 1 keeps column
/// j ≥ i + k of row i, "upper" = 0 keeps j ≤ i + k (attribute "k", the diagonal's offset). Copies bytes (zero bytes
/// are zero in every element type). Its gradient is the same mask applied to dy.
/// </summary>
internal sealed class TriluKernel : Kernel
{
    readonly int x, y, elementSize;
    readonly bool upper;
    readonly long k;

    public TriluKernel(Model m, Node node) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = m.Tensors[x];
        elementSize = DataMovement.ElementSize(this, m, x);
        if (xt.Shape.Length < 2) throw Error($"the input has rank {xt.Shape.Length}; Trilu needs at least 2");
        RequireFixed(xt, xt.Shape.Length - 1, "the column axis");
        RequireFixed(xt, xt.Shape.Length - 2, "the row axis");
        upper = node.Attributes.Int("upper", 1) != 0;
        k = Math.Clamp(node.Attributes.Int("k", 0), -(long)int.MaxValue, int.MaxValue);   // beyond the matrix all is kept or all dropped
        ExpectOutput(m, y, xt.Shape, xt.Type);
    }

    /// <summary>The kept columns [from, to) of row i of an R×C matrix.</summary>
    static (int From, int To) Kept(long i, int cols, bool upper, long k) => upper
        ? ((int)Math.Clamp(i + k, 0, cols), cols)
        : (0, (int)Math.Clamp(i + k + 1, 0, cols));

    public override unsafe void Run(Frame f)
    {
        var s = f.Shape(x);
        int rows = s[^2], cols = s[^1];
        long matrices = rows * cols == 0 ? 0 : f.Size(x) / ((long)rows * cols);
        byte* src = (byte*)f.Address[x], dst = (byte*)f.Address[y];
        long rowBytes = (long)cols * elementSize;
        for (long mtx = 0; mtx < matrices; mtx++)
            for (int i = 0; i < rows; i++, src += rowBytes, dst += rowBytes)
            {
                var (from, to) = Kept(i, cols, upper, k);
                if (to <= from) { new Span<byte>(dst, (int)rowBytes).Clear(); continue; }
                new Span<byte>(dst, from * elementSize).Clear();
                Buffer.MemoryCopy(src + from * elementSize, dst + from * elementSize, (to - from) * elementSize, (to - from) * elementSize);
                new Span<byte>(dst + to * elementSize, (cols - to) * elementSize).Clear();
            }
    }

    /// <summary>dx += dy on the kept triangle.</summary>
    internal void Backward(Span<float> dy, Span<float> dx, int[] shape)
    {
        if (dx.IsEmpty) return;
        int rows = shape[^2], cols = shape[^1];
        if (rows * cols == 0) return;
        for (int start = 0; start < dy.Length; start += rows * cols)
            for (int i = 0; i < rows; i++)
            {
                var (from, to) = Kept(i, cols, upper, k);
                for (int j = from; j < to; j++) dx[start + i * cols + j] += dy[start + i * cols + j];
            }
    }
}
