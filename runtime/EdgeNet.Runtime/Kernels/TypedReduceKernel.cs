using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>
/// A reduction over integer or bool data (token counts, masks: "any"/"all" are ReduceMax/ReduceMin of a bool):
/// ReduceSum, ReduceMean (truncated toward zero, as numpy's mean cast back), ReduceMax, ReduceMin, ReduceProd,
/// ReduceL1, ReduceSumSquare, folded exactly in int64 and written back in the input's type (sums wrap as the type's
/// own arithmetic does). Bool takes only Max and Min. ReduceL2 and ReduceLogSumExp of integers are refused (their
/// results are not integers). Scalar only: these tensors are shape- or token-sized. Same attributes as
/// <see cref="ReduceKernel{T}"/>.
/// </summary>
internal sealed unsafe class TypedReduceKernel : Kernel
{
    static readonly DataType[] Held = [DataType.Int64, DataType.Int32, DataType.Int16, DataType.Int8, DataType.UInt8, DataType.Bool];
    readonly int x, y;
    readonly DataType type;
    readonly bool[] reduced;
    readonly long[] outStride;
    readonly int[] index;
    readonly long outPerItem;   // output elements per batch item (the batch axis is never reduced)

    public TypedReduceKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = TypedTensor(m, x, "input", Held);
        type = xt.Type;
        if (node.Op is OpType.ReduceL2 or OpType.ReduceLogSumExp)
            throw Error($"{node.Op} of {type} data is not supported (its result is not an integer; Cast to float first)");
        if (type == DataType.Bool && node.Op is not (OpType.ReduceMax or OpType.ReduceMin))
            throw Error($"{node.Op} of bool data is not supported (only ReduceMax/ReduceMin, \"any\" and \"all\")");
        var xs = xt.Shape;
        var shape = ReduceAxes.OutputShape(node, xs, out reduced, Error);
        ExpectOutput(m, y, shape, type);
        outStride = new long[xs.Length]; index = new int[xs.Length];
        outPerItem = 1;
        foreach (var d in shape) outPerItem *= Math.Max(d, 1);
    }

    /// <summary>An int64 accumulator per output element (a mean's sum must not wrap in a narrow type).</summary>
    public override long ScratchBytes(int batch) => 8 * outPerItem * Math.Max(batch, 1);

    public override void Run(Frame f)
    {
        var xs = f.Shape(x);
        ReduceKernel<SumReduction>.OutputStrides(xs, reduced, outStride, out int count);
        long n = f.Size(x), outs = f.Size(y);
        var a = new Span<long>(f.Scratch, checked((int)outs));
        a.Fill(Init(Node.Op));
        Array.Clear(index);
        long o = 0;
        int r = xs.Length;
        var p = (void*)f.Address[x];
        for (long i = 0; i < n; i++)
        {
            a[(int)o] = Step(Node.Op, a[(int)o], Read(p, type, i));
            for (int d = r - 1; d >= 0; d--)   // odometer, as ReduceKernel
            {
                o += outStride[d];
                if (++index[d] < xs[d]) break;
                o -= outStride[d] * xs[d];
                index[d] = 0;
            }
        }
        var q = (void*)f.Address[y];
        for (int i = 0; i < a.Length; i++) Write(q, type, i, Node.Op == OpType.ReduceMean ? (count == 0 ? 0 : a[i] / count) : a[i]);
    }

    /// <summary>The fold's start: the identity of its step.</summary>
    internal static long Init(OpType op) => op switch
    {
        OpType.ReduceMax => long.MinValue,
        OpType.ReduceMin => long.MaxValue,
        OpType.ReduceProd => 1,
        _ => 0,
    };

    /// <summary>One element folded into the accumulator (wrapping, as the type's own arithmetic).</summary>
    internal static long Step(OpType op, long acc, long v) => op switch
    {
        OpType.ReduceMax => Math.Max(acc, v),
        OpType.ReduceMin => Math.Min(acc, v),
        OpType.ReduceProd => unchecked(acc * v),
        OpType.ReduceL1 => unchecked(acc + Math.Abs(v)),
        OpType.ReduceSumSquare => unchecked(acc + v * v),
        _ => unchecked(acc + v),   // ReduceSum, ReduceMean
    };

    internal static long Read(void* p, DataType t, long i) => t switch
    {
        DataType.Int64 => ((long*)p)[i],
        DataType.Int32 => ((int*)p)[i],
        DataType.Int16 => ((short*)p)[i],
        DataType.Int8 => ((sbyte*)p)[i],
        _ => ((byte*)p)[i],   // UInt8, Bool
    };

    /// <summary>Writes <paramref name="v"/> in type <paramref name="t"/>, wrapping (the type's arithmetic).</summary>
    internal static void Write(void* p, DataType t, long i, long v)
    {
        switch (t)
        {
            case DataType.Int64: ((long*)p)[i] = v; break;
            case DataType.Int32: ((int*)p)[i] = unchecked((int)v); break;
            case DataType.Int16: ((short*)p)[i] = unchecked((short)v); break;
            case DataType.Int8: ((sbyte*)p)[i] = unchecked((sbyte)v); break;
            default: ((byte*)p)[i] = unchecked((byte)v); break;
        }
    }
}
