using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>Ops on integer and bool tensors against values worked by hand (ONNX's node tests cover the rest).</summary>
public class TypedOpTests
{
    static Session Two(OpType op, DataType type, int[] sa, int[] sb, Attributes? attrs = null)
    {
        var g = new GraphBuilder();
        int a = g.Input("a", type, sa), b = g.Input("b", type, sb);
        return new Session(g.Build(g.Add(op, [a, b], attrs)), 1);
    }

    [Fact]
    public void Integer_arithmetic_wraps_and_never_traps()
    {
        long[] a = [7, -7, long.MinValue, 5, 3, long.MaxValue], b = [2, 2, -1, 0, -2, 1];
        (OpType op, long[] want)[] cases =
        [
            (OpType.Add, [9, -5, long.MaxValue, 5, 1, long.MinValue]),
            (OpType.Div, [3, -3, long.MinValue, 0, -1, long.MaxValue]),      // truncation; MIN/-1 wraps; x/0 = 0
            (OpType.Mod, [1, 1, 0, 0, -1, 0]),                               // fmod = 0: the divisor's sign
            (OpType.Pow, [49, 49, 0, 1, 0, long.MaxValue]),                  // a negative exponent truncates to 0 (but for ±1)
            (OpType.Max, [7, 2, -1, 5, 3, long.MaxValue]),
        ];
        foreach (var (op, want) in cases)
        {
            using var s = Two(op, DataType.Int64, [6], [6], op == OpType.Mod ? new Attributes().Set("fmod", 0L) : null);
            a.CopyTo(s.Input<long>(0, 1)); b.CopyTo(s.Input<long>(1, 1));
            s.Run(1);
            Assert.Equal(want, s.Output<long>(0).ToArray());
        }
        Assert.Equal(-1, IntegerMath.Rem(-7, 2));       // fmod = 1: the dividend's sign
        Assert.Equal((byte)250, IntegerMath.Div<byte>(250, 1));
    }

    [Fact]
    public void Comparisons_broadcast_to_bool()
    {
        using var s = Two(OpType.Greater, DataType.Int32, [2, 3], [3]);
        new[] { 1, 5, 3, 9, -1, 4 }.CopyTo(s.Input<int>(0, 1));
        new[] { 2, 2, 3 }.CopyTo(s.Input<int>(1, 1));
        s.Run(1);
        Assert.Equal(DataType.Bool, s.OutputType(0));
        Assert.Equal(new byte[] { 0, 1, 0, 1, 0, 1 }, s.Output<byte>(0).ToArray());
        var e = Assert.Throws<ModelFormatException>(() => Two(OpType.And, DataType.Int32, [2], [2]));
        Assert.Contains("Int32; this op takes Bool", e.Message);
    }

    [Fact]
    public void Where_selects_any_type_and_Cast_converts()
    {
        var g = new GraphBuilder();
        int c = g.Input("c", DataType.Bool, 3), x = g.Input("x", DataType.Int64, 3);
        int y = g.Constant<long>("y", [-1], 1);
        int w = g.Add(OpType.Where, [c, x, y]);
        int f = g.Add(OpType.Cast, [w], new Attributes().Set("to", (long)DataType.Float32));
        int back = g.Add(OpType.Cast, [f], new Attributes().Set("to", (long)DataType.UInt8));
        using var s = new Session(g.Build(w, f, back), 1);
        new byte[] { 1, 0, 1 }.CopyTo(s.Input<byte>(0, 1));
        new long[] { 10, 20, 300 }.CopyTo(s.Input<long>(1, 1));
        s.Run(1);
        Assert.Equal([10L, -1, 300], s.Output<long>(0).ToArray());
        Assert.Equal([10f, -1f, 300f], s.Output<float>(1).ToArray());
        Assert.Equal(new byte[] { 10, 0, 255 }, s.Output<byte>(2).ToArray());   // float → uint8 saturates
    }

    [Fact]
    public void ArgMax_and_TopK_give_int64_indices_first_on_ties()
    {
        var g = new GraphBuilder();
        int x = g.Input("x", 2, 4);
        int am = g.Add(OpType.ArgMax, [x], new Attributes().Set("axis", 1L).Set("keepdims", 0L));
        int last = g.Add(OpType.ArgMin, [x], new Attributes().Set("axis", -1L).Set("select_last_index", 1L));
        int v = g.Add(OpType.TopK, [x], new Attributes().Set("k", 3L), outputs: 2);
        var m = g.Model;
        int idx = m.Nodes[^1].Outputs[1];
        using var s = new Session(g.Build(am, last, v, idx), 1);
        new[] { 1f, 5f, 5f, -2f, 0f, 0f, 0f, 7f }.CopyTo(s.Input(0, 1));
        s.Run(1);
        Assert.Equal([1L, 3], s.Output<long>(0).ToArray());
        Assert.Equal([3L, 2], s.Output<long>(1).ToArray());
        Assert.Equal([5f, 5f, 1f, 7f, 0f, 0f], s.Output<float>(2).ToArray());
        Assert.Equal([1L, 2, 0, 3, 0, 1], s.Output<long>(3).ToArray());
    }
}
