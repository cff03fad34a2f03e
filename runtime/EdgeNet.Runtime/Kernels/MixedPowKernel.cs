using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// Pow whose base and exponent differ in type (ONNX Pow from opset 12: a float base with an integer exponent, an
/// integer base with a float exponent). The result has the base's type; it is computed in double, as ONNX Runtime
/// does, then written back: an integer result truncates toward zero and saturates (NaN → 0). Broadcast; scalar only
/// (these operands are small: exponents, position tables).
/// </summary>
internal sealed unsafe class MixedPowKernel : Kernel
{
    static readonly DataType[] Numbers = [DataType.Float32, DataType.Int64, DataType.Int32, DataType.Int16, DataType.Int8, DataType.UInt8];
    readonly int a, b, y;
    readonly DataType ta, tb;
    readonly BroadcastWalk walk;

    public MixedPowKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        a = node.Inputs[0]; b = node.Inputs[1]; y = node.Outputs[0];
        ta = TypedTensor(m, a, "base", Numbers).Type;
        tb = TypedTensor(m, b, "exponent", Numbers).Type;
        var shape = BroadcastWalk.Shape(m, [a, b]) ?? throw Error($"shapes {Format.Shape.Format(m.Tensors[a].Shape)} and {Format.Shape.Format(m.Tensors[b].Shape)} do not broadcast");
        ExpectOutput(m, y, shape, ta);
        walk = new BroadcastWalk([a, b], y, shape.Length);
    }

    /// <summary>The scalar formula: xʸ in double, in the base's type.</summary>
    internal static double Pow(double x, double e) => Math.Pow(x, e);

    public override void Run(Frame f)
    {
        var body = new Body { A = (void*)f.Address[a], B = (void*)f.Address[b], Y = (void*)f.Address[y], Ta = ta, Tb = tb };
        walk.Run(f, ref body);
    }

    struct Body : IBroadcastBody
    {
        public void* A, B, Y;
        public DataType Ta, Tb;
        public readonly void At(int j, long a, long b, long c)
        {
            double v = Pow(Read(A, Ta, a), Read(B, Tb, b));
            switch (Ta)
            {
                case DataType.Float32: ((float*)Y)[j] = (float)v; break;
                case DataType.Int64: ((long*)Y)[j] = long.CreateSaturating(v); break;
                case DataType.Int32: ((int*)Y)[j] = int.CreateSaturating(v); break;
                case DataType.Int16: ((short*)Y)[j] = short.CreateSaturating(v); break;
                case DataType.Int8: ((sbyte*)Y)[j] = sbyte.CreateSaturating(v); break;
                default: ((byte*)Y)[j] = byte.CreateSaturating(v); break;
            }
        }
    }

    static double Read(void* p, DataType t, long i) => t == DataType.Float32 ? ((float*)p)[i] : TypedReduceKernel.Read(p, t, i);
}
