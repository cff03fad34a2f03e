using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// The SE block's small ops in their own vector loops (no TensorPrimitives call per pixel): a broadcast row op
/// [P, C] ∘ [C] and the channels-last GlobalAveragePool's sums, bit for bit against the scalar formula in the same order,
/// over every channel count 0..67 (the 16-lane, 4×16-lane and Vector&lt;T&gt; blocks and their tails) and a wide one.
/// </summary>
public class BroadcastRowTests
{
    static IEnumerable<int> Channels => Enumerable.Range(0, 68).Append(130).Append(263);

    [Theory]
    [InlineData(OpType.Add)]
    [InlineData(OpType.Sub)]
    [InlineData(OpType.Mul)]
    [InlineData(OpType.Div)]
    public void Broadcast_rows_are_the_scalar_formula(OpType op)
    {
        foreach (int c in Channels.Where(c => c > 0))
            foreach (bool gateFirst in new[] { false, true })
            {
                var g = new GraphBuilder();
                int x = g.Input("x", -1, 5, c);
                var s = TestData.Uniform(c, 11);
                for (int i = 0; i < c; i++) s[i] = 1.5f + Math.Abs(s[i]);   // Div: no zero divisor
                int k = g.Constant("s", s, c);
                var m = g.Build(g.Add(op, gateFirst ? [k, x] : [x, k]));
                using var fast = new Session(m, 3);
                using var slow = new Session(m, 3, KernelOptions.Default with { Reference = true });
                var xs = TestData.Uniform(3 * 5 * c, 12, 3f);
                xs.CopyTo(fast.Input(0, 3)); xs.CopyTo(slow.Input(0, 3));
                fast.Run(3); slow.Run(3);
                Assert.Equal(slow.Output().ToArray(), fast.Output().ToArray());
            }
    }

    [Fact]
    public unsafe void Global_average_pool_sums_are_row_sums_in_pixel_order()
    {
        foreach (int c in Channels)
            foreach (int hw in new[] { 1, 3, 36 })
            {
                var x = TestData.Uniform(hw * c, c + hw, 4f);
                var expected = new float[c];
                for (int j = 0; j < c; j++)
                {
                    float sum = 0;
                    for (int p = 0; p < hw; p++) sum += x[p * c + j];
                    expected[j] = sum * (1f / hw);
                }
                var y = new float[c];
                fixed (float* xp = x, yp = y) GlobalAveragePoolNhwcKernel.Mean(xp, yp, hw, c, 1f / hw);
                Assert.Equal(expected, y);
            }
    }
}
