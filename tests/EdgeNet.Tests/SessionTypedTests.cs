using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Io;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>The Session's typed inputs and outputs (by name and index), and .npy of every element type.</summary>
public class SessionTypedTests
{
    /// <summary>ids int64 [N, 4] → reshaped [N, 2, 2]; mask bool [N, 3] → reshaped [3N, 1]; x float [N, 2] → Relu.</summary>
    static Model ThreeInputs()
    {
        var g = new GraphBuilder();
        int ids = g.Input("input_ids", DataType.Int64, -1, 4);
        int mask = g.Input("mask", DataType.Bool, -1, 3);
        int x = g.Input("x", -1, 2);
        int a = g.AddWithShape(OpType.Reshape, [ids], [-1, 2, 2], name: "ids2");
        int b = g.AddWithShape(OpType.Reshape, [mask], [-3, 1], name: "mask2");
        int c = g.Add(OpType.Relu, [x], name: "relu");
        return g.Build(a, b, c);
    }

    [Fact]
    public void Run_leaves_the_inputs_as_written_so_a_second_run_gives_the_same_outputs()
    {
        // x is read only by the first node; before, the arena gave its bytes to a later tensor, so Run overwrote the
        // caller's input (MiniLM run twice without refilling read garbage token ids).
        var g = new GraphBuilder();
        int x = g.Input("x", -1, 64);
        int a = g.Add(OpType.Relu, [x], name: "relu");
        int b = g.Add(OpType.Neg, [a], name: "neg");
        int c = g.Add(OpType.Exp, [b], name: "exp");
        using var s = new Session(g.Build(c), 1);
        var input = Enumerable.Range(0, 64).Select(i => (i - 32) / 8f).ToArray();
        input.CopyTo(s.Input(0, 1));
        s.Run(1);
        var first = s.Output(0).ToArray();
        Assert.Equal(input, s.Input(0, 1).ToArray());
        s.Run(1);
        Assert.Equal(first, s.Output(0).ToArray());
        Assert.Equal(MathF.Exp(-1f), first[40], 1e-6f);   // x = 1: exp(-relu(1))
    }

    [Fact]
    public void Inputs_and_outputs_by_name_and_index_with_their_types()
    {
        using var s = new Session(ThreeInputs(), 2);
        Assert.Equal(0, s.InputIndex("input_ids"));
        Assert.Equal(2, s.InputIndex("x"));
        Assert.Equal(DataType.Int64, s.InputType(0));
        Assert.Equal(DataType.Bool, s.InputType(1));
        s.Input<long>("input_ids", 2).CopyFrom(new long[] { 101, 2023, 2003, 102, 101, 7592, -1, long.MaxValue });
        s.Input<byte>(1, 2).CopyFrom(new byte[] { 1, 0, 1, 0, 0, 1 });
        s.Input<float>("x", 2).CopyFrom(new[] { -1f, 2f, 3f, -4f });
        s.Run(2);
        Assert.Equal([101L, 2023, 2003, 102, 101, 7592, -1, long.MaxValue], s.Output<long>("ids2:0").ToArray());
        Assert.Equal([2, 2, 2], s.OutputShape("ids2:0").ToArray());
        Assert.Equal([true, false, true, false, false, true], s.Output<bool>(1).ToArray());
        Assert.Equal([0f, 2f, 3f, 0f], s.Output(2).ToArray());
        Assert.Equal(DataType.Bool, s.OutputType(s.OutputIndex("mask2:0")));
        Assert.Equal(6, s.OutputBytes(1).Length);
        Assert.Equal(32, s.InputBytes(0, 1).Length);   // 4 int64 at batch 1
    }

    [Fact]
    public void A_wrong_element_type_or_name_is_one_clear_exception()
    {
        using var s = new Session(ThreeInputs(), 1);
        var e = Assert.Throws<InvalidOperationException>(() => s.Input(0, 1));
        Assert.Contains("'input_ids' is Int64", e.Message);
        Assert.Contains("use long", e.Message);
        Assert.Throws<InvalidOperationException>(() => s.Input<int>("input_ids", 1));
        Assert.Throws<InvalidOperationException>(() => s.Input<float>("mask", 1));
        s.Run(1);
        Assert.Throws<InvalidOperationException>(() => s.Output(0).Length);
        Assert.Throws<InvalidOperationException>(() => s.Output<long>("relu:0").Length);
        var n = Assert.Throws<ArgumentException>(() => s.InputIndex("token_ids"));
        Assert.Contains("'input_ids' (Int64 [N,4])", n.Message);
        Assert.Contains("'x' (Float32 [N,2])", n.Message);
        Assert.Throws<ArgumentException>(() => s.OutputIndex("nope"));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Input<float>(3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Output<float>(-1).Length);
    }

    [Fact]
    public void A_float_kernel_refuses_an_integer_input_at_load()
    {
        var g = new GraphBuilder();
        int ids = g.Input("ids", DataType.Int64, 1, 4);
        var e = Assert.Throws<ModelFormatException>(() => g.Add(OpType.Relu, [ids]));
        Assert.Contains("'ids' is Int64", e.Message);
    }

    [Fact]
    public void Typed_models_round_trip_through_the_file_format()
    {
        var m = ThreeInputs();
        var r = ModelFile.Read(ModelFile.Write(m));
        Assert.Equal(m.Tensors.Select(t => t.Type), r.Tensors.Select(t => t.Type));
        using var s = new Session(r, 1);
        Assert.Equal(DataType.Bool, s.OutputType(1));
    }

    [Theory]
    [InlineData(DataType.Float32)]
    [InlineData(DataType.Int64)]
    [InlineData(DataType.Int32)]
    [InlineData(DataType.UInt8)]
    [InlineData(DataType.Int8)]
    [InlineData(DataType.Bool)]
    public void Npy_round_trips_every_element_type(DataType type)
    {
        int size = DataTypes.SizeOf(type);
        var bytes = new byte[6 * size];
        for (int i = 0; i < 6; i++) bytes[i * size] = type == DataType.Bool ? (byte)(i % 2) : (byte)(i * 3);
        if (type == DataType.Float32) System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan()).CopyTo(new float[] { 0.5f, -1, 2, 3, 4, 5 });
        var a = Npy.Parse(Npy.Serialize(bytes, type, [2, 3]));
        Assert.Equal([2, 3], a.Shape);
        Assert.Equal(DataTypes.NumpyDescr(type)[1..], a.Dtype);
        Assert.Equal(bytes, a.ToBytes(type, out var note));
        Assert.Null(note);
    }

    [Fact]
    public void Npy_converts_only_what_keeps_every_value()
    {
        var i32 = Npy.Parse(Npy.Serialize(System.Runtime.InteropServices.MemoryMarshal.AsBytes<int>([1, -2, 300]).ToArray(), DataType.Int32, [3]));
        Assert.Equal(new long[] { 1, -2, 300 }, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(i32.ToBytes(DataType.Int64, out var note)).ToArray());
        Assert.Contains("i4 array converted to Int64", note);
        Assert.Throws<InvalidDataException>(() => i32.ToBytes(DataType.UInt8, out _));      // 300 and -2 do not fit
        Assert.Throws<InvalidDataException>(() => i32.ToBytes(DataType.Float32, out _));    // integers never become floats silently
        var f = Npy.Parse(Npy.Serialize([1.5f], [1]));
        Assert.Throws<InvalidDataException>(() => f.ToBytes(DataType.Int64, out _));
        var bad = Npy.Serialize(new byte[] { 2 }, DataType.Bool, [1]);
        Assert.Throws<InvalidDataException>(() => Npy.Parse(bad));                          // a bool that is neither 0 nor 1
    }
}

static class SpanFill
{
    public static void CopyFrom<T>(this Span<T> dst, T[] src) => src.CopyTo(dst);
}
