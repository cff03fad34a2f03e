using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// The channels-last pools (Simd.PoolNhwc: the window's tap offsets shared by the pixels inside the image, two vector
/// chains per pixel, 16 or Vector<float> wide, the last run of channels overlapping the one before) against Reference.Pool on the same data in NCHW, bit for bit: channel counts 1..64 (below one vector, one
/// and a half, odd tails), 3×3/2 with pads (ShuffleNet's and ResNet's MaxPool), 2×2/2, dilation, ceil_mode, and
/// count_include_pad; zeros of both signs, infinities and NaN in the input.
/// </summary>
public unsafe class PoolNhwcTwinTests
{
    [Theory]
    [InlineData(3, 3, 2, 2, 1, 1, 1, false)]
    [InlineData(2, 2, 2, 2, 0, 0, 1, false)]
    [InlineData(3, 3, 1, 1, 1, 1, 1, false)]
    [InlineData(3, 2, 2, 1, 0, 1, 2, false)]
    [InlineData(3, 3, 2, 2, 1, 0, 1, true)]
    [InlineData(5, 5, 3, 3, 2, 2, 1, true)]
    public void Matches_the_reference(int kh, int kw, int sh, int sw, int padTop, int padLeft, int dil, bool ceil)
    {
        int H = 11, W = 13, padBottom = padTop + (ceil ? 1 : 0), padRight = padLeft;
        int Out(int size, int k, int s, int p0, int p1)
        {
            int span = (k - 1) * dil + 1, total = size + p0 + p1 - span;
            int o = (ceil ? (total + s - 1) / s : total / s) + 1;
            return ceil && (o - 1) * s >= size + p0 ? o - 1 : o;
        }
        int OH = Out(H, kh, sh, padTop, padBottom), OW = Out(W, kw, sw, padLeft, padRight);
        foreach (int C in new[] { 1, 3, 4, 7, 8, 12, 16, 17, 24, 31, 32, 33, 41, 48, 64 })
        {
            var g = new ConvGeometry(C, H, W, C, OH, OW, kh, kw, sh, sw, padTop, padLeft, dil, dil, C);
            var rng = new Random(C);
            var x = new float[C * H * W];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            x[5] = -0f; x[6] = 0f; x[7] = float.NaN; x[^1] = float.PositiveInfinity; x[^2] = float.NegativeInfinity; x[x.Length / 2] = 0f;
            var taps = new int[PoolNhwc.ScratchBytes(g) / 4];
            var xl = new float[x.Length];   // NCHW → NHWC
            for (int c = 0; c < C; c++) for (int p = 0; p < H * W; p++) xl[p * C + c] = x[c * H * W + p];
            foreach (bool max in new[] { true, false })
                foreach (bool includePad in max ? new[] { false } : new[] { false, true })
                {
                    var want = new float[C * OH * OW];
                    if (max) Pool.Max(x, want, 1, g); else Pool.Average(x, want, 1, g, includePad, padBottom, padRight);
                    var got = new float[want.Length + 1]; got[^1] = 42f;
                    fixed (float* px = xl, py = got) fixed (int* pt = taps)
                    {
                        if (max) PoolNhwc.Max(px, py, g, pt); else PoolNhwc.Average(px, py, g, pt, includePad, padBottom, padRight);
                    }
                    Assert.Equal(42f, got[^1]);
                    for (int c = 0; c < C; c++)
                        for (int p = 0; p < OH * OW; p++)
                            if (BitConverter.SingleToInt32Bits(got[p * C + c]) != BitConverter.SingleToInt32Bits(want[c * OH * OW + p]) && !(float.IsNaN(got[p * C + c]) && float.IsNaN(want[c * OH * OW + p])))
                                Assert.Fail($"{(max ? "max" : "average")} C={C} channel {c} pixel {p}: {got[p * C + c]}, reference {want[c * OH * OW + p]}");
                }
        }
    }
}
