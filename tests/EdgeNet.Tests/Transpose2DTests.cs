using EdgeNet.Kernels.Simd;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>The blocked transpose (4×4 register blocks inside 8×8 cache blocks) against the definition, on sizes with
/// whole blocks, partial blocks and edges on both sides, and the narrow ones (a side of 1-3; two rows interleaved).</summary>
public unsafe class Transpose2DTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 4)]
    [InlineData(8, 16)]
    [InlineData(3, 29)]
    [InlineData(24, 37)]
    [InlineData(13, 6)]
    [InlineData(14, 384)]    // attention's Kᵀ (14 tokens): rows 12-13 of each block by the two-row zips
    [InlineData(15, 21)]     // a pair of rows past the 4-row blocks and one more, columns past the 4-column blocks
    [InlineData(7, 13)]
    [InlineData(2, 37)]      // two rows: interleaved
    [InlineData(3, 1031)]    // an image's planes → pixels, and back
    [InlineData(1031, 3)]
    [InlineData(16384, 3)]   // a 128×128 RGB image's pixels → planes
    [InlineData(5, 2)]
    [InlineData(1, 9)]
    public void Transposes_floats_and_bytes(int rows, int cols)
    {
        var f = Enumerable.Range(0, rows * cols).Select(i => i * 0.5f - 7).ToArray();
        var b = Enumerable.Range(0, rows * cols).Select(i => (sbyte)(i * 37)).ToArray();
        var ft = new float[rows * cols]; var bt = new sbyte[rows * cols];
        fixed (float* s = f, d = ft) Transpose2D.Run(s, rows, cols, d);
        fixed (sbyte* s = b, d = bt) Transpose2D.Run(s, rows, cols, d);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                Assert.Equal(f[r * cols + c], ft[c * rows + r]);
                Assert.Equal(b[r * cols + c], bt[c * rows + r]);
            }
    }

    /// <summary>An RGB image's pixels into planes: every pixel count 0..40, so 8- and 4-pixel vectors and tails.</summary>
    [Fact]
    public void Deinterleaves_three_channels()
    {
        for (int pixels = 0; pixels < 41; pixels++)
        {
            var f = Enumerable.Range(0, 3 * pixels).Select(i => i * 0.5f - 7).ToArray();
            var ft = new float[3 * pixels + 1]; ft[^1] = 42f;
            fixed (float* s = f, d = ft) Transpose2D.Deinterleave3(s, pixels, d);
            for (int p = 0; p < pixels; p++)
                for (int c = 0; c < 3; c++) Assert.Equal(f[3 * p + c], ft[c * pixels + p]);
            Assert.Equal(42f, ft[^1]);
        }
    }

    /// <summary>Two rows interleaved (the channel shuffle of two groups): every length 0..67, so 8- and 4-wide zips and tails.</summary>
    [Fact]
    public void Interleaves_two_rows()
    {
        for (int cols = 0; cols < 68; cols++)
        {
            var f = Enumerable.Range(0, 2 * cols).Select(i => i * 0.5f - 7).ToArray();
            var ft = new float[2 * cols + 1]; ft[^1] = 42f;
            fixed (float* s = f, d = ft) Transpose2D.Interleave2(s, cols, d);
            for (int c = 0; c < cols; c++) { Assert.Equal(f[c], ft[2 * c]); Assert.Equal(f[cols + c], ft[2 * c + 1]); }
            Assert.Equal(42f, ft[^1]);
        }
    }
}
