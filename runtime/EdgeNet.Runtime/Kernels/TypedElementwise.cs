using System.Numerics;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Kernels;

/// <summary>One output element of a broadcast: <c>y</c> and its operands' element offsets.</summary>
internal interface IBroadcastBody
{
    void At(int y, long a, long b, long c);
}

/// <summary>
/// Broadcasting over integer and bool tensors (ids, masks, indices): the scalar formula per element, walked with an
/// odometer over up to three operands. These tensors are token- or shape-sized; the fp32 paths keep their vector forms.
/// </summary>
internal sealed class BroadcastWalk
{
    readonly int[] operands;
    readonly int y;
    readonly long[][] strides;
    readonly int[] index;

    public BroadcastWalk(int[] operands, int y, int rank)
    {
        this.operands = operands; this.y = y;
        strides = [new long[rank], new long[rank], new long[rank]];
        index = new int[rank];
    }

    /// <summary>The broadcast shape of the operands' templates, or null.</summary>
    public static int[]? Shape(Model m, int[] operands)
    {
        int[]? s = m.Tensors[operands[0]].Shape;
        for (int k = 1; k < operands.Length && s is not null; k++) s = BinaryKernel.Broadcast(s, m.Tensors[operands[k]].Shape);
        return s;
    }

    public void Run<TBody>(Frame f, ref TBody body) where TBody : struct, IBroadcastBody
    {
        var so = f.Shape(y);
        int r = so.Length, count = checked((int)f.Size(y));
        for (int k = 0; k < 3; k++)
            if (k < operands.Length) BinaryKernel.Strides(f.Shape(operands[k]), so, strides[k]);
            else Array.Clear(strides[k]);
        long[] sa = strides[0], sb = strides[1], sc = strides[2];
        Array.Clear(index);
        long a = 0, b = 0, c = 0;
        for (int j = 0; j < count; j++)
        {
            body.At(j, a, b, c);
            for (int d = r - 1; d >= 0; d--)   // odometer
            {
                a += sa[d]; b += sb[d]; c += sc[d];
                if (++index[d] < so[d]) break;
                a -= sa[d] * so[d]; b -= sb[d] * so[d]; c -= sc[d] * so[d];
                index[d] = 0;
            }
        }
    }
}

/// <summary>A binary op (<see cref="IBinaryOp"/>) on integer tensors: its <see cref="IBinaryOp.Integer"/> formula, A and B
/// of one integer type, broadcast. Mod with fmod = 0 (ONNX's default for integers) takes the divisor's sign.</summary>
internal sealed unsafe class IntegerBinaryKernel<TOp> : Kernel where TOp : struct, IBinaryOp
{
    static readonly DataType[] Integers = [DataType.Int64, DataType.Int32, DataType.Int16, DataType.Int8, DataType.UInt8];
    readonly int a, b, y;
    readonly DataType type;
    readonly bool floorMod;
    readonly BroadcastWalk walk;

    public IntegerBinaryKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        a = node.Inputs[0]; b = node.Inputs[1]; y = node.Outputs[0];
        if (!TOp.HasInteger) throw Error("this op has no integer form");
        var at = TypedTensor(m, a, "input A", Integers);
        TypedTensor(m, b, "input B", at.Type);
        type = at.Type;
        floorMod = node.Op == OpType.Mod && node.Attributes.Int("fmod", 1) == 0;
        var shape = BroadcastWalk.Shape(m, [a, b]) ?? throw Error($"shapes {Format.Shape.Format(at.Shape)} and {Format.Shape.Format(m.Tensors[b].Shape)} do not broadcast");
        ExpectOutput(m, y, shape, type);
        walk = new BroadcastWalk([a, b], y, shape.Length);
    }

    public override void Run(Frame f)
    {
        switch (type)
        {
            case DataType.Int64: Go<long>(f); break;
            case DataType.Int32: Go<int>(f); break;
            case DataType.Int16: Go<short>(f); break;
            case DataType.Int8: Go<sbyte>(f); break;
            default: Go<byte>(f); break;
        }
    }

    void Go<T>(Frame f) where T : unmanaged, IBinaryInteger<T>
    {
        var body = new Body<T> { A = (T*)f.Address[a], B = (T*)f.Address[b], Y = (T*)f.Address[y], FloorMod = floorMod };
        walk.Run(f, ref body);
    }

    struct Body<T> : IBroadcastBody where T : unmanaged, IBinaryInteger<T>
    {
        public T* A, B, Y;
        public bool FloorMod;
        public readonly void At(int j, long a, long b, long c) => Y[j] = FloorMod ? IntegerMath.FloorMod(A[a], B[b]) : TOp.Integer(A[a], B[b]);
    }
}

/// <summary>Integer arithmetic that never traps: x/0 and x%0 are 0 (ONNX leaves them undefined), MIN/-1 wraps.</summary>
internal static class IntegerMath
{
    public static T Div<T>(T a, T b) where T : IBinaryInteger<T> =>
        b == T.Zero ? T.Zero : T.IsNegative(b) && b == T.Zero - T.One ? T.Zero - a : a / b;

    /// <summary>The remainder with the dividend's sign (C's %, ONNX Mod fmod = 1).</summary>
    public static T Rem<T>(T a, T b) where T : IBinaryInteger<T> =>
        b == T.Zero || (T.IsNegative(b) && b == T.Zero - T.One) ? T.Zero : a % b;

    /// <summary>The remainder with the divisor's sign (Python's %, ONNX Mod fmod = 0).</summary>
    public static T FloorMod<T>(T a, T b) where T : IBinaryInteger<T>
    {
        T r = Rem(a, b);
        return r != T.Zero && T.IsNegative(r) != T.IsNegative(b) ? r + b : r;
    }

    /// <summary>aᵇ by squaring, wrapping; a negative exponent gives 1/aᵇ truncated (1, ±1 or 0).</summary>
    public static T Pow<T>(T a, T b) where T : IBinaryInteger<T>
    {
        if (T.IsNegative(b)) return a == T.One ? T.One : a == T.Zero - T.One ? (T.IsEvenInteger(b) ? T.One : a) : T.Zero;
        T result = T.One;
        while (b != T.Zero)
        {
            if (T.IsOddInteger(b)) result *= a;
            a *= a;
            b >>>= 1;
        }
        return result;
    }
}

/// <summary>A comparison or logical op: one formula over any number type, the result a bool (0/1 byte).</summary>
internal interface IPredicate
{
    static abstract bool Invoke<T>(T a, T b) where T : INumber<T>;
    /// <summary>And, Or, Xor: bool operands only.</summary>
    static virtual bool Logical => false;
}

internal struct EqualOp : IPredicate { public static bool Invoke<T>(T a, T b) where T : INumber<T> => a == b; }
internal struct GreaterOp : IPredicate { public static bool Invoke<T>(T a, T b) where T : INumber<T> => a > b; }
internal struct GreaterOrEqualOp : IPredicate { public static bool Invoke<T>(T a, T b) where T : INumber<T> => a >= b; }
internal struct LessOp : IPredicate { public static bool Invoke<T>(T a, T b) where T : INumber<T> => a < b; }
internal struct LessOrEqualOp : IPredicate { public static bool Invoke<T>(T a, T b) where T : INumber<T> => a <= b; }
internal struct AndOp : IPredicate { public static bool Invoke<T>(T a, T b) where T : INumber<T> => a != T.Zero && b != T.Zero; public static bool Logical => true; }
internal struct OrOp : IPredicate { public static bool Invoke<T>(T a, T b) where T : INumber<T> => a != T.Zero || b != T.Zero; public static bool Logical => true; }
internal struct XorOp : IPredicate { public static bool Invoke<T>(T a, T b) where T : INumber<T> => (a != T.Zero) != (b != T.Zero); public static bool Logical => true; }

/// <summary>A broadcasting comparison (Equal, Greater, ...; float, integer or bool operands of one type) or logical op
/// (And, Or, Xor; bool operands); the output is bool.</summary>
internal sealed unsafe class PredicateKernel<TOp> : Kernel where TOp : struct, IPredicate
{
    static readonly DataType[] Numbers = [DataType.Float32, DataType.Int64, DataType.Int32, DataType.Int16, DataType.Int8, DataType.UInt8, DataType.Bool];
    readonly int a, b, y;
    readonly DataType type;
    readonly BroadcastWalk walk;

    public PredicateKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        a = node.Inputs[0]; b = node.Inputs[1]; y = node.Outputs[0];
        var at = TypedTensor(m, a, "input A", TOp.Logical ? [DataType.Bool] : Numbers);
        TypedTensor(m, b, "input B", at.Type);
        type = at.Type;
        var shape = BroadcastWalk.Shape(m, [a, b]) ?? throw Error($"shapes {Format.Shape.Format(at.Shape)} and {Format.Shape.Format(m.Tensors[b].Shape)} do not broadcast");
        ExpectOutput(m, y, shape, DataType.Bool);
        walk = new BroadcastWalk([a, b], y, shape.Length);
    }

    public override void Run(Frame f)
    {
        switch (type)
        {
            case DataType.Float32: Go<float>(f); break;
            case DataType.Int64: Go<long>(f); break;
            case DataType.Int32: Go<int>(f); break;
            case DataType.Int16: Go<short>(f); break;
            case DataType.Int8: Go<sbyte>(f); break;
            default: Go<byte>(f); break;   // UInt8, Bool
        }
    }

    void Go<T>(Frame f) where T : unmanaged, INumber<T>
    {
        var body = new Body<T> { A = (T*)f.Address[a], B = (T*)f.Address[b], Y = (byte*)f.Address[y] };
        walk.Run(f, ref body);
    }

    struct Body<T> : IBroadcastBody where T : unmanaged, INumber<T>
    {
        public T* A, B;
        public byte* Y;
        public readonly void At(int j, long a, long b, long c) => Y[j] = TOp.Invoke(A[a], B[b]) ? (byte)1 : (byte)0;
    }
}

/// <summary>Not: bool → bool.</summary>
internal sealed unsafe class NotKernel : Kernel
{
    readonly int x, y;

    public NotKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = TypedTensor(m, x, "input", DataType.Bool);
        ExpectOutput(m, y, xt.Shape, DataType.Bool);
    }

    public override void Run(Frame f)
    {
        var src = f.Span<byte>(x); var dst = f.Span<byte>(y);
        for (int i = 0; i < dst.Length; i++) dst[i] = src[i] == 0 ? (byte)1 : (byte)0;
    }
}

/// <summary>Where(condition, X, Y): X where the bool condition holds, else Y; all three broadcast; X and Y of one
/// (any) type, moved as raw elements of its size.</summary>
internal sealed unsafe class WhereKernel : Kernel
{
    readonly int c, a, b, y, size;
    readonly BroadcastWalk walk;

    public WhereKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        c = node.Inputs[0]; a = node.Inputs[1]; b = node.Inputs[2]; y = node.Outputs[0];
        TypedTensor(m, c, "condition", DataType.Bool);
        var at = m.Tensors[a];
        TypedTensor(m, b, "input Y", at.Type);
        size = DataTypes.SizeOf(at.Type);
        var shape = BroadcastWalk.Shape(m, [c, a, b]) ?? throw Error("condition, X and Y do not broadcast");
        ExpectOutput(m, y, shape, at.Type);
        walk = new BroadcastWalk([c, a, b], y, shape.Length);
    }

    public override void Run(Frame f)
    {
        switch (size)
        {
            case 8: Go<long>(f); break;
            case 4: Go<int>(f); break;
            case 2: Go<short>(f); break;
            default: Go<byte>(f); break;
        }
    }

    void Go<T>(Frame f) where T : unmanaged
    {
        var body = new Body<T> { C = (byte*)f.Address[c], X = (T*)f.Address[a], Y = (T*)f.Address[b], Out = (T*)f.Address[y] };
        walk.Run(f, ref body);
    }

    struct Body<T> : IBroadcastBody where T : unmanaged
    {
        public byte* C;
        public T* X, Y, Out;
        public readonly void At(int j, long c, long a, long b) => Out[j] = C[c] != 0 ? X[a] : Y[b];
    }
}

/// <summary>Cast between float32, int64, int32, int16, int8, uint8 and bool (attribute "to": the target's
/// <see cref="DataType"/> code). Floats to integers truncate toward zero (NaN → 0, saturating); integers narrow by
/// wrapping; anything to bool is "≠ 0".</summary>
internal sealed unsafe class CastKernel : Kernel
{
    readonly int x, y;
    readonly Action<Frame> run;

    public CastKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var to = (DataType)node.Attributes.Int("to", 0);
        if (!DataTypes.IsValid(to)) throw Error($"target type code {(int)to} is not one EdgeNet holds");
        var xt = m.Tensors[x];
        if (xt.Quant is not null) throw Error($"input '{xt.Name}' is quantized; Dequantize it instead");
        ExpectOutput(m, y, xt.Shape, to);
        run = From(xt.Type, to);
    }

    public override void Run(Frame f) => run(f);

    Action<Frame> From(DataType from, DataType to) => from switch
    {
        DataType.Float32 => To<float>(to),
        DataType.Int64 => To<long>(to),
        DataType.Int32 => To<int>(to),
        DataType.Int16 => To<short>(to),
        DataType.Int8 => To<sbyte>(to),
        _ => To<byte>(to),   // UInt8, Bool (0/1)
    };

    Action<Frame> To<TFrom>(DataType to) where TFrom : unmanaged, INumberBase<TFrom> => to switch
    {
        DataType.Float32 => Go<TFrom, float>,
        DataType.Int64 => Go<TFrom, long>,
        DataType.Int32 => Go<TFrom, int>,
        DataType.Int16 => Go<TFrom, short>,
        DataType.Int8 => Go<TFrom, sbyte>,
        DataType.UInt8 => Go<TFrom, byte>,
        _ => ToBool<TFrom>,
    };

    void Go<TFrom, TTo>(Frame f) where TFrom : unmanaged, INumberBase<TFrom> where TTo : unmanaged, INumberBase<TTo>
    {
        var src = f.Span<TFrom>(x); var dst = f.Span<TTo>(y);
        // Floats → integers: truncate toward zero, saturating (CreateSaturating); integers → narrower: wrap (CreateTruncating).
        bool floatSource = typeof(TFrom) == typeof(float);
        for (int i = 0; i < dst.Length; i++) dst[i] = floatSource ? TTo.CreateSaturating(src[i]) : TTo.CreateTruncating(src[i]);
    }

    void ToBool<TFrom>(Frame f) where TFrom : unmanaged, INumberBase<TFrom>
    {
        var src = f.Span<TFrom>(x); var dst = f.Span<byte>(y);
        for (int i = 0; i < dst.Length; i++) dst[i] = TFrom.IsZero(src[i]) ? (byte)0 : (byte)1;
    }
}
