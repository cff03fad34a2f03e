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

    [Fact]
    public void Integer_and_bool_reductions_fold_exactly_in_their_type()
    {
        var g = new GraphBuilder();
        int b = g.Input("b", DataType.Bool, 2, 3), i = g.Input("i", DataType.Int8, 2, 3);
        var axis1 = new Attributes().Set("axes", new long[] { 1 }).Set("keepdims", 0L);
        int any = g.Add(OpType.ReduceMax, [b], axis1), all = g.Add(OpType.ReduceMin, [b], axis1);
        int sum = g.Add(OpType.ReduceSum, [i], axis1), mean = g.Add(OpType.ReduceMean, [i], axis1);
        int prod = g.Add(OpType.ReduceProd, [i], new Attributes().Set("axes", new long[] { 0 }));
        using var s = new Session(g.Build(any, all, sum, mean, prod), 1);
        new byte[] { 0, 1, 0, 1, 1, 1 }.CopyTo(s.Input<byte>(0, 1));
        new sbyte[] { 100, 100, 1, -7, 2, -128 }.CopyTo(s.Input<sbyte>(1, 1));
        s.Run(1);
        Assert.Equal(new byte[] { 1, 1 }, s.Output<byte>(0).ToArray());
        Assert.Equal(new byte[] { 0, 1 }, s.Output<byte>(1).ToArray());
        Assert.Equal(new sbyte[] { unchecked((sbyte)201), 123 }, s.Output<sbyte>(2).ToArray());   // the sum wraps as int8 does
        Assert.Equal(new sbyte[] { 67, -44 }, s.Output<sbyte>(3).ToArray());   // the mean of the exact sum, truncated toward zero
        Assert.Equal(new sbyte[] { unchecked((sbyte)-700), unchecked((sbyte)200), -128 }, s.Output<sbyte>(4).ToArray());
        var e = Assert.Throws<ModelFormatException>(() =>
        {
            var h = new GraphBuilder();
            int x = h.Input("x", DataType.Bool, 4);
            return new Session(h.Build(h.Add(OpType.ReduceSum, [x])), 1);
        });
        Assert.Contains("bool", e.Message);
    }

    [Fact]
    public void Clip_of_plain_integers_rounds_its_bounds_into_the_type()
    {
        var g = new GraphBuilder();
        int x = g.Input("x", DataType.Int8, 5), u = g.Input("u", DataType.UInt8, 3);
        int y = g.Add(OpType.Clip, [x], new Attributes().Set("min", -2.5f).Set("max", 3.7f));
        int z = g.Add(OpType.Clip, [u], new Attributes().Set("min", float.NegativeInfinity).Set("max", 300f));
        using var s = new Session(g.Build(y, z), 1);
        new sbyte[] { -128, -3, 0, 3, 127 }.CopyTo(s.Input<sbyte>(0, 1));
        new byte[] { 0, 200, 255 }.CopyTo(s.Input<byte>(1, 1));
        s.Run(1);
        Assert.Equal(new sbyte[] { -2, -2, 0, 3, 3 }, s.Output<sbyte>(0).ToArray());
        Assert.Equal(new byte[] { 0, 200, 255 }, s.Output<byte>(1).ToArray());
    }

    [Fact]
    public void Pow_of_mixed_types_takes_the_base_type()
    {
        var g = new GraphBuilder();
        int fb = g.Input("fb", DataType.Float32, 3), ie = g.Input("ie", DataType.Int64, 3), ib = g.Input("ib", DataType.Int32, 3), fe = g.Input("fe", 1);
        int y1 = g.Add(OpType.Pow, [fb, ie]), y2 = g.Add(OpType.Pow, [ib, fe]);
        using var s = new Session(g.Build(y1, y2), 1);
        new[] { 2f, -1.5f, 4f }.CopyTo(s.Input<float>(0, 1));
        new long[] { 3, 2, -2 }.CopyTo(s.Input<long>(1, 1));
        new[] { 4, -3, 10 }.CopyTo(s.Input<int>(2, 1));
        new[] { 0.5f }.CopyTo(s.Input<float>(3, 1));
        s.Run(1);
        Assert.Equal([8f, 2.25f, 0.0625f], s.Output<float>(0).ToArray());
        Assert.Equal(DataType.Int32, s.OutputType(1));
        Assert.Equal([2, 0, 3], s.Output<int>(1).ToArray());   // √-3 is NaN → 0; √10 truncates to 3
    }

    /// <summary>MaxPool's Indices (row- and column-major) and uint8 MaxPool against the float kernel's values.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void MaxPool_indices_point_at_the_maxima(long storageOrder)
    {
        var attrs = new Attributes().Set("kernel_shape", new long[] { 3, 2 }).Set("strides", new long[] { 2, 1 }).Set("pads", new long[] { 1, 0, 1, 1 })
            .Set("dilations", new long[] { 1, 2 }).Set("ceil_mode", 1L).Set("storage_order", storageOrder);
        var g = new GraphBuilder();
        int x = g.Input("x", 2, 3, 7, 6), q = g.Input("q", DataType.UInt8, 2, 3, 7, 6);
        int plain = g.Add(OpType.MaxPool, [x], attrs);
        int y = g.Add(OpType.MaxPool, [x], attrs, outputs: 2);
        int idx = g.Model.Nodes[^1].Outputs[1];
        int yq = g.Add(OpType.MaxPool, [q], attrs);
        using var s = new Session(g.Build(plain, y, idx, yq), 1);
        var rng = new Random(2);
        var xv = Enumerable.Range(0, 2 * 3 * 7 * 6).Select(_ => (float)rng.Next(0, 40)).ToArray();   // ties on purpose
        xv.CopyTo(s.Input<float>(0, 1));
        xv.Select(v => (byte)(v * 6)).ToArray().CopyTo(s.Input<byte>(1, 1));
        s.Run(1);
        var want = s.Output<float>(0).ToArray();
        Assert.Equal(want, s.Output<float>(1).ToArray());
        Assert.Equal(want.Select(v => (byte)(v * 6)).ToArray(), s.Output<byte>(3).ToArray());
        var ind = s.Output<long>(2).ToArray();
        for (int o = 0; o < ind.Length; o++)
        {
            long i = ind[o], plane = i / 42, at = i % 42;
            long h = storageOrder == 0 ? at / 6 : at % 7, w = storageOrder == 0 ? at % 6 : at / 7;
            Assert.Equal(o / (4 * 5), (int)plane);   // output [2, 3, 4, 5]: the maximum comes from its own image and channel
            Assert.Equal(want[o], xv[plane * 42 + h * 6 + w]);
        }
    }
}
