using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// Clip of plain integer data (int8/uint8 without quantization parameters, int16, int32, int64): min(max(x, min), max)
/// with the node's float bounds taken to the type (min rounded up, max down, both saturated to the type's range;
/// ±∞ is no bound). Scalar only.
/// </summary>
internal sealed unsafe class TypedClipKernel : Kernel
{
    readonly int x, y;
    readonly DataType type;
    readonly long lo, hi;

    public TypedClipKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = TypedTensor(m, x, "input", DataType.Int64, DataType.Int32, DataType.Int16, DataType.Int8, DataType.UInt8);
        type = xt.Type;
        var (tmin, tmax) = Range(type);
        float min = node.Attributes.Float("min", float.NegativeInfinity), max = node.Attributes.Float("max", float.PositiveInfinity);
        if (float.IsNaN(min) || float.IsNaN(max)) throw Error("min and max must not be NaN");
        lo = Math.Clamp(long.CreateSaturating(Math.Ceiling((double)min)), tmin, tmax);
        hi = Math.Clamp(long.CreateSaturating(Math.Floor((double)max)), tmin, tmax);
        if (lo > hi) lo = hi;   // as the float Clip: every value becomes max
        ExpectOutput(m, y, xt.Shape, type);
    }

    static (long Min, long Max) Range(DataType t) => t switch
    {
        DataType.Int64 => (long.MinValue, long.MaxValue),
        DataType.Int32 => (int.MinValue, int.MaxValue),
        DataType.Int16 => (short.MinValue, short.MaxValue),
        DataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        _ => (byte.MinValue, byte.MaxValue),
    };

    public override void Run(Frame f)
    {
        void* p = (void*)f.Address[x], q = (void*)f.Address[y];
        long n = f.Size(x);
        for (long i = 0; i < n; i++) TypedReduceKernel.Write(q, type, i, Math.Clamp(TypedReduceKernel.Read(p, type, i), lo, hi));
    }
}
