using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// The stem conv (NCHW in, channels-last out: DirectConvNhwc, and its NEON tiles on arm64) against a scalar loop with
/// the same sums in the same order, on odd widths (tile tails of 8 and 4 and single pixels), asymmetric padding, 3×3,
/// 5×5 and 7×7, strides 1 and 2, dilated rows, and output rows taken in parts; on x86 also from the zero-padded copy
/// the kernel reads there (every pixel tiled: 16, 8, 4 and single-pixel tails), which must give the same bits.
/// </summary>
public unsafe class DirectConvNhwcTests
{
    [Theory]
    [InlineData(3, 9, 13, 8, 3, 3, 2, 1, 1, 1)]
    [InlineData(3, 17, 31, 16, 3, 3, 2, 1, 1, 1)]
    [InlineData(3, 20, 41, 24, 5, 5, 2, 1, 2, 1)]     // BlazeFace's stem: 5×5, stride 2, padding 1 then 2
    [InlineData(3, 12, 29, 24, 5, 5, 1, 2, 2, 1)]
    [InlineData(1, 7, 5, 8, 3, 3, 1, 1, 1, 1)]
    [InlineData(2, 11, 23, 32, 7, 7, 2, 3, 3, 1)]
    [InlineData(3, 15, 37, 8, 3, 3, 1, 0, 0, 1)]
    [InlineData(3, 14, 26, 16, 3, 3, 2, 2, 1, 2)]     // dilated rows
    [InlineData(3, 10, 64, 8, 3, 3, 2, 1, 1, 1)]
    [InlineData(3, 23, 45, 64, 7, 7, 2, 3, 3, 1)]     // ResNet's stem: 7×7, stride 2, 64 channels (8-pixel tiles and tails)
    [InlineData(3, 9, 29, 32, 3, 3, 1, 1, 1, 1)]
    [InlineData(3, 13, 27, 40, 3, 3, 2, 1, 1, 1)]     // 32 + a last 8: AVX-512's one-vector slice, its lower half stored
    [InlineData(3, 11, 35, 48, 3, 3, 2, 1, 1, 1)]     // 32 + 16
    [InlineData(3, 10, 21, 12, 3, 3, 1, 1, 1, 1)]     // a multiple of 4 only (arm64's one-vector slice)
    [InlineData(3, 14, 75, 16, 6, 6, 2, 2, 2, 1)]     // YOLOv5's stem: 6×6, stride 2, padding 2 (16-pixel tiles, then 8, 4, 1)
    [InlineData(2, 6, 53, 16, 3, 3, 1, 1, 1, 1)]      // 16 channels at stride 1: 16-pixel tiles and tails
    [InlineData(3, 8, 70, 8, 3, 3, 2, 1, 1, 1)]       // 3×3 stride 2, 8 channels (lower half): 16-pixel row-reuse tiles and tails
    [InlineData(3, 9, 70, 40, 3, 3, 2, 1, 2, 1)]      // 32 + a last 8 through the 3×3 stride-2 row-reuse tiles
    [InlineData(1, 12, 80, 8, 6, 6, 2, 2, 2, 2)]      // 6×6 stride 2 with dilated rows, one plane, 8 channels
    [InlineData(2, 10, 101, 16, 6, 6, 2, 1, 3, 1)]    // 6×6 stride 2, asymmetric padding, 16-pixel tiles then tails
    [InlineData(3, 9, 45, 64, 3, 3, 2, 0, 0, 1)]      // SqueezeNet's stem, unpadded: 22 pixels a row, the last 8 overlap the second tile
    [InlineData(3, 7, 29, 40, 3, 3, 1, 0, 0, 1)]      // stride 1, 32 + 8: 27 pixels, the last tiles (both slices) overlap
    [InlineData(2, 6, 31, 16, 5, 5, 3, 0, 0, 1)]      // stride 3, one vector: 9 pixels, an overlapping last tile
    public void Matches_a_scalar_loop(int C, int H, int W, int OC, int KH, int KW, int stride, int padTop, int padLeft, int dilH)
    {
        if (!DirectConvNhwc.Supports(OC)) Assert.Skip($"{OC} output channels: not a multiple of the vector here (the kernel is not chosen)");
        int padBottom = padTop + 1, padRight = padLeft;
        int OH = (H + padTop + padBottom - ((KH - 1) * dilH + 1)) / stride + 1, OW = (W + padLeft + padRight - KW) / stride + 1;
        var g = new ConvGeometry(C, H, W, OC, OH, OW, KH, KW, stride, stride, padTop, padLeft, dilH, 1, 1);
        var x = TestData.Uniform(C * H * W, 1); var wt = TestData.Uniform(OC * C * KH * KW, 2); var b = TestData.Uniform(OC, 3);
        var packed = DirectConvNhwc.PackWeights(wt, OC, C * KH * KW);
        var y = new float[OH * OW * OC + 1]; y[^1] = 42f;
        var yp = new float[y.Length];
        var gp = DirectConvNhwc.Padded(g);
        var xp = new float[gp.C * gp.H * gp.W];
        Array.Fill(xp, float.NaN);   // Pad writes every float of the copy: its border as zeros
        var taps = new int[C * KH * KW];
        float lo = -1.5f, hi = 2.5f;
        fixed (float* px = x, pw = packed, pb = b, py = y, pxp = xp, pyp = yp) fixed (int* pt = taps)
        {
            DirectConvNhwc.PrepareTaps(g, pt);
            int half = OH / 2;   // two parts, as the intra-op threads split rows
            DirectConvNhwc.Run(px, pw, pb, py, g, lo, hi, pt, 0, half);
            DirectConvNhwc.Run(px, pw, pb, py, g, lo, hi, pt, half, OH);
            if (DirectConvNhwc.Pads(g))
            {
                DirectConvNhwc.Pad(px, g, pxp);
                DirectConvNhwc.PrepareTaps(gp, pt);
                DirectConvNhwc.Run(pxp, pw, pb, pyp, gp, lo, hi, pt, 0, OH);
                for (int i = 0; i < y.Length - 1; i++)
                    if (BitConverter.SingleToInt32Bits(y[i]) != BitConverter.SingleToInt32Bits(yp[i])) Assert.Fail($"padded y[{i}] = {yp[i]}, unpadded {y[i]}");
            }
        }
        Assert.Equal(42f, y[^1]);
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++)
                for (int o = 0; o < OC; o++)
                {
                    float s = b[o];
                    for (int c = 0; c < C; c++)
                        for (int kh = 0; kh < KH; kh++)
                            for (int kw = 0; kw < KW; kw++)
                            {
                                int ih = oh * stride - padTop + kh * dilH, iw = ow * stride - padLeft + kw;
                                if ((uint)ih >= (uint)H || (uint)iw >= (uint)W) continue;
                                s = MathF.FusedMultiplyAdd(x[(c * H + ih) * W + iw], wt[((o * C + c) * KH + kh) * KW + kw], s);
                            }
                    float e = Math.Clamp(s, lo, hi), got = y[(oh * OW + ow) * OC + o];
                    if (BitConverter.SingleToInt32Bits(e) != BitConverter.SingleToInt32Bits(got))
                        Assert.Fail($"y[{oh},{ow},{o}] = {got}, expected {e}");
                }
    }
}
