using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// The channels-last depthwise kernel (<see cref="DepthwiseNhwc"/>: the 3×3 register paths, the 5×5 strips of
/// <see cref="DepthwiseNhwc5x5"/> and the any-size <see cref="DepthwiseNhwcStrips"/>) against the NCHW scalar reference, on kernel sizes 1–7, strides 1–3, dilations,
/// paddings of none to more than the kernel, maps narrower than one strip, maps past 1 MB (run in bands inside), and
/// channel counts below, at and past each vector width (the overlapping last block; below it, pixels side by side in
/// <see cref="DepthwiseNhwcNarrow"/> or the scalar map). Split into row
/// bands, the output is bit-identical to one call (the threaded kernel's promise).
/// </summary>
public unsafe class DepthwiseNhwcTwinTests
{
    [Theory]
    [InlineData(24, 17, 19, 5, 1, 2, 1)]   // BlazeFace: 5×5, stride 1, pad 2
    [InlineData(24, 16, 16, 5, 2, 1, 1)]   // 5×5 stride 2 (TF SAME: pad 1 top-left)
    [InlineData(28, 9, 11, 5, 2, 2, 1)]
    [InlineData(42, 12, 13, 5, 1, 2, 1)]   // 42 = 2·16 + 10: an overlapping last block
    [InlineData(3, 10, 9, 5, 1, 2, 1)]     // fewer channels than a vector
    [InlineData(40, 7, 7, 5, 1, 2, 1)]     // 5×5 on a 7×7 map (EfficientNet's last stage): strips of four, overlapping
    [InlineData(32, 14, 14, 5, 1, 2, 1)]   // strips of eight, the last overlapping
    [InlineData(17, 9, 10, 5, 2, 2, 1)]    // 5×5 stride 2, five output columns: strips of four
    [InlineData(48, 15, 15, 5, 2, 0, 1)]   // 5×5 stride 2 without padding
    [InlineData(16, 3, 3, 5, 1, 2, 1)]     // three output columns: the any-size path
    [InlineData(16, 10, 12, 5, 1, 4, 1)]   // padding 4: a corner pixel sees one tap
    [InlineData(24, 6, 9, 5, 1, 6, 1)]     // padding past the kernel: rows and strips with no tap inside
    [InlineData(13, 21, 23, 3, 1, 1, 1)]   // 3×3 with an odd channel count
    [InlineData(17, 14, 9, 3, 2, 1, 1)]
    [InlineData(9, 20, 20, 3, 1, 2, 2)]    // dilated 3×3
    [InlineData(32, 9, 21, 3, 1, 1, 1)]    // 3×3 stride 1, AVX-512: four pixels at a time, then two, then one
    [InlineData(48, 11, 24, 3, 2, 1, 1)]   // 3×3 stride 2 (MobileNet's): four pixels at a time
    [InlineData(16, 7, 19, 3, 2, 0, 1)]    // stride 2 without padding
    [InlineData(19, 15, 31, 7, 1, 3, 1)]
    [InlineData(8, 6, 7, 7, 1, 3, 1)]      // a map no wider than the kernel: border pixels only
    [InlineData(16, 13, 29, 5, 3, 0, 1)]
    [InlineData(5, 11, 12, 1, 1, 0, 1)]
    [InlineData(33, 10, 40, 2, 2, 0, 1)]
    [InlineData(20, 8, 8, 5, 1, 6, 2)]     // padding wider than the kernel's reach
    [InlineData(67, 67, 61, 3, 1, 1, 1)]   // a map past 1 MB: bands of rows, the last one short
    [InlineData(99, 57, 53, 5, 2, 2, 1)]   // banded 5×5 stride 2, an overlapping last block
    [InlineData(7, 199, 201, 3, 2, 1, 1)]  // banded, fewer channels than a vector
    [InlineData(4, 40, 40, 3, 1, 1, 1)]    // YuNet's box head: fewer channels than a vector, a row's pixels side by side
    [InlineData(1, 20, 23, 3, 1, 1, 1)]    // one channel (a score head)
    [InlineData(3, 19, 37, 5, 1, 2, 2)]    // side by side, dilated 5×5
    [InlineData(5, 9, 4, 7, 1, 3, 1)]      // side by side, a map narrower than the kernel: per element only
    [InlineData(6, 11, 13, 3, 1, 4, 1)]    // side by side, padding past the kernel: rows with no tap inside
    [InlineData(2, 17, 33, 1, 1, 0, 1)]    // side by side, 1×1
    [InlineData(7, 97, 200, 3, 1, 1, 1)]   // side by side, banded
    public void Depthwise_nhwc_matches_reference(int c, int h, int w, int k, int stride, int pad, int dil)
    {
        int oh = (h + 2 * pad - dil * (k - 1) - 1) / stride + 1, ow = (w + 2 * pad - dil * (k - 1) - 1) / stride + 1;
        var g = new ConvGeometry(c, h, w, c, oh, ow, k, k, stride, stride, pad, pad, dil, dil, c);
        var x = TestData.Uniform(h * w * c, 1); var wt = TestData.Uniform(c * k * k, 2); var b = TestData.Uniform(c, 3);
        const float lo = -0.8f, hi = 0.9f;

        // Reference: NCHW.
        var xc = new float[c * h * w];
        for (int i = 0; i < h * w; i++) for (int ch = 0; ch < c; ch++) xc[ch * h * w + i] = x[i * c + ch];
        var yref = new float[c * oh * ow];
        Conv.Run(xc, wt, b, yref, 1, g, Activation.None);

        var packed = DepthwiseNhwc.PackWeights(wt, c, k * k);
        var whole = new float[oh * ow * c]; var banded = new float[oh * ow * c];
        fixed (float* px = x, pw = packed, pb = b, py = whole, pz = banded)
        {
            DepthwiseNhwc.Run(px, pw, pb, py, g, lo, hi, 0, oh);
            for (int r = 0; r < oh; r += 3) DepthwiseNhwc.Run(px, pw, pb, pz, g, lo, hi, r, Math.Min(oh, r + 3));
        }
        for (int i = 0; i < oh * ow; i++)
            for (int ch = 0; ch < c; ch++)
            {
                float want = Math.Clamp(yref[ch * oh * ow + i], lo, hi), got = whole[i * c + ch];
                Assert.True(Math.Abs(want - got) <= 1e-5f * (1 + k * k), $"pixel {i} channel {ch}: {got} vs {want}");
            }
        Assert.Equal(whole, banded);
    }

    /// <summary>SiLU fused into the store (AVX-512, whole 16-channel blocks; EfficientNet-B0's depthwise layers): the
    /// reference conv and x/(1 + e^−x) in double, within the conv's bound plus 2e-6 relative; banded, the same bits; and
    /// the bits the conv kernel's separate Swish pass gives (the same 16-lane form).</summary>
    [Theory]
    [InlineData(32, 21, 23, 3, 1, 1)]   // 3×3 stride 1: four, two and one pixels at a time
    [InlineData(96, 22, 24, 3, 2, 1)]   // 3×3 stride 2
    [InlineData(144, 13, 13, 5, 1, 2)]  // 5×5 strips
    [InlineData(240, 14, 15, 5, 2, 2)]  // 5×5 stride 2
    [InlineData(16, 9, 11, 7, 1, 3)]    // the any-size strips
    [InlineData(64, 67, 61, 3, 1, 1)]   // a map past 1 MB: bands of rows
    public void Depthwise_nhwc_with_fused_swish_matches_reference(int c, int h, int w, int k, int stride, int pad)
    {
        int oh = (h + 2 * pad - (k - 1) - 1) / stride + 1, ow = (w + 2 * pad - (k - 1) - 1) / stride + 1;
        var g = new ConvGeometry(c, h, w, c, oh, ow, k, k, stride, stride, pad, pad, 1, 1, c);
        if (!DepthwiseNhwc.FusesSwish(g)) Assert.Skip("not AVX-512: SiLU is not fused");
        var x = TestData.Uniform(h * w * c, 1, 2f); var wt = TestData.Uniform(c * k * k, 2); var b = TestData.Uniform(c, 3);
        var xc = new float[c * h * w];
        for (int i = 0; i < h * w; i++) for (int ch = 0; ch < c; ch++) xc[ch * h * w + i] = x[i * c + ch];
        var yref = new float[c * oh * ow];
        Conv.Run(xc, wt, b, yref, 1, g, Activation.None);

        var packed = DepthwiseNhwc.PackWeights(wt, c, k * k);
        var plain = new float[oh * ow * c]; var whole = new float[oh * ow * c]; var banded = new float[oh * ow * c];
        fixed (float* px = x, pw = packed, pb = b, pp = plain, py = whole, pz = banded)
        {
            DepthwiseNhwc.Run(px, pw, pb, pp, g, float.NegativeInfinity, float.PositiveInfinity, 0, oh);
            DepthwiseNhwc.Run(px, pw, pb, py, g, float.NegativeInfinity, float.PositiveInfinity, 0, oh, swish: true);
            for (int r = 0; r < oh; r += 3) DepthwiseNhwc.Run(px, pw, pb, pz, g, float.NegativeInfinity, float.PositiveInfinity, r, Math.Min(oh, r + 3), swish: true);
        }
        for (int i = 0; i < oh * ow; i++)
            for (int ch = 0; ch < c; ch++)
            {
                double v = yref[ch * oh * ow + i], want = v / (1 + Math.Exp(-v));
                float got = whole[i * c + ch];
                Assert.True(Math.Abs(want - got) <= 1e-5 * (1 + k * k) * (1 + Math.Abs(v)) + 2e-6 * Math.Abs(want), $"pixel {i} channel {ch}: {got} vs {want}");
            }
        Assert.Equal(whole, banded);
        var swish = OpTable.Get(OpType.Swish).Unary!;
        new Activation(swish, swish.Read(new Attributes(), "", "test")).Apply(plain);
        Assert.Equal(plain, whole);
    }
}
