using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// The channels-last planner on binary ops whose first operand is a constant (PaddleOCR's learnable affine
/// `scale · x + bias` after each conv, exported as Mul(scale, x)): they stay channels-last, so the trunk converts
/// only at its boundaries, and the output matches the NCHW reference.
/// </summary>
public class ChannelsLastOperandTests
{
    [Theory]
    [InlineData(8, 11)]
    [InlineData(5, 9)]
    public void Constant_first_operand_stays_channels_last(int c, int size)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, c, size, size + 2);
        var pw = new Attributes().Set("activation", "relu");
        int h = g.Add(OpType.Conv, [x, g.Constant("w1", TestData.Uniform(2 * c * c, 1), 2 * c, c, 1, 1), g.Constant("b1", TestData.Uniform(2 * c, 2), 2 * c)], pw);
        h = g.Add(OpType.Mul, [g.Constant("scale", [0.75f], 1), h]);
        h = g.Add(OpType.Add, [g.Constant("shift", [0.25f], 1), h]);
        h = g.Add(OpType.Sub, [g.Constant("one", [1f], 1, 1, 1, 1), h]);
        var dw = new Attributes().Set("group", (long)(2 * c)).Set("pads", new long[] { 1, 1, 1, 1 });
        h = g.Add(OpType.Conv, [h, g.Constant("wd", TestData.Uniform(2 * c * 9, 3), 2 * c, 1, 3, 3), g.Constant("bd", TestData.Uniform(2 * c, 4), 2 * c)], dw);
        var m = g.Build(h);

        using (var s = new Session(m, 2))
        {
            var transposes = s.Kernels.Where(k => k.Node.Op == OpType.Transpose).Select(k => k.Node).ToArray();
            Assert.Equal(2, transposes.Length);   // the graph's input and output only
            Assert.Contains(transposes, n => n.Inputs[0] == m.Inputs[0]);
            Assert.Contains(transposes, n => n.Outputs[0] == m.Outputs[0]);
        }
        using var fast = new Session(m, 2);
        using var slow = new Session(m, 2, KernelOptions.Default with { Reference = true });
        var xs = TestData.Uniform((int)m.Input().Elements(2), 21);
        xs.CopyTo(fast.Input(0, 2)); xs.CopyTo(slow.Input(0, 2));
        fast.Run(2); slow.Run(2);
        Golden.Close(slow.Output().ToArray(), fast.Output().ToArray(), 1e-4f, 1e-4f, "affine");
    }

}
