using System.Runtime.Intrinsics.X86;
using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;
using EdgeNet.Quant;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>The channels-last int8 3×3 depthwise blocks at every width this machine runs (AVX-512: 16 and 8 channels;
/// AVX2: 8) against the integer reference: borders, strides, column tails, clamped and saturating stores.</summary>
public unsafe class DepthwiseInt8Tests
{
    static IEnumerable<int> Widths()
    {
        if (DepthwiseInt8Nhwc.Supported) yield return 16;
        if (DepthwiseInt8Nhwc.Supported256) yield return 8;
    }

    [Theory]
    [InlineData(9, 11, 1, 1, 1, -100, 90)]    // stride 1: the 4-, 2- and 1-pixel bodies, both borders
    [InlineData(10, 13, 2, 1, 1, -128, 127)]  // stride 2 (MobileNet's downsampling), saturating store
    [InlineData(6, 7, 1, 0, 0, -128, 127)]    // no padding
    [InlineData(3, 2, 1, 1, 1, -5, 127)]      // narrower than the kernel: every pixel a border
    [InlineData(12, 12, 2, 0, 1, -128, 127)]  // padding only at the end (TF "SAME" stride 2)
    [InlineData(10, 15, 1, 1, 1, -128, 127)]  // stride 1: rows paired where every tap row is inside (the first and the last alone), 4-, 2- and 1-pixel bodies
    [InlineData(9, 9, 1, 0, 0, -100, 90)]     // stride 1 without padding: every row pair inside, an odd count of rows
    [InlineData(9, 25, 2, 1, 1, -100, 90)]    // stride 2: the 4-, 2- and 1-pixel bodies (11 interior pixels)
    [InlineData(7, 27, 1, 1, 1, -100, 90)]    // 27 and 28 columns: the 512-bit pairing threshold, odd and even rows
    [InlineData(8, 28, 1, 1, 1, -128, 127)]
    [InlineData(6, 56, 1, 0, 0, -100, 90)]    // 54 and 56 columns: the 256-bit one
    [InlineData(5, 56, 1, 1, 1, -100, 90)]
    [InlineData(7, 28, 2, 1, 1, -128, 127)]   // stride 2, 14 and 13 output columns (even and odd widths): 4-pixel blocks and their tails
    [InlineData(8, 27, 2, 0, 1, -100, 90)]
    public void Blocks_equal_the_integer_reference(int H, int W, int stride, int padBegin, int padEnd, int lo, int hi)
    {
        const int C = 24, zp = -3, zx = 5;
        int OH = (H + padBegin + padEnd - 3) / stride + 1, OW = (W + padBegin + padEnd - 3) / stride + 1;
        var g = new ConvGeometry(C, H, W, C, OH, OW, 3, 3, stride, stride, padBegin, padBegin, 1, 1, C);
        var r = new Random(H * 31 + W);
        var x = Enumerable.Range(0, H * W * C).Select(_ => (sbyte)r.Next(-128, 128)).ToArray();
        var w = Enumerable.Range(0, 9 * C).Select(_ => (float)r.Next(-127, 128)).ToArray();   // [tap, C]
        var b = Enumerable.Range(0, C).Select(_ => (float)r.Next(-5000, 5000)).ToArray();    // folded: b − zx·Σw
        var m = Enumerable.Range(0, C).Select(c => c % 5 == 0 ? 0.5f : 1f / r.Next(20, 300)).ToArray();
        bool saturation = lo == -128 && hi == 127;
        var want = new sbyte[OH * OW * C];
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++)
                for (int c = 0; c < C; c++)
                {
                    int acc = (int)b[c];
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++)
                        {
                            int ih = oh * stride - padBegin + kh, iw = ow * stride - padBegin + kw;
                            int v = (uint)ih < (uint)H && (uint)iw < (uint)W ? x[(ih * W + iw) * C + c] : zx;   // padding holds the zero point
                            acc += v * (int)w[(kh * 3 + kw) * C + c];
                        }
                    want[(oh * OW + ow) * C + c] = QuantMath.Requantize(acc, m[c], zp, lo, hi);
                }
        foreach (int width in Widths())
            foreach (var body in Enum.GetValues<DepthwiseInt8Nhwc.Body>())
            foreach (bool clamp in saturation ? new[] { true, false } : [true])
            {
                var got = new sbyte[want.Length];
                fixed (sbyte* px = x, py = got) fixed (float* pw = w, pb = b, pm = m)
                    for (int c0 = 0; c0 + width <= C; c0 += width)
                        if (width == 16) DepthwiseInt8Nhwc.Block3x3V512(px, pw, pb, pm, py, g, c0, zx, zp, lo, hi, 0, OH, clamp, body);
                        else DepthwiseInt8Nhwc.Block3x3V256(px, pw, pb, pm, py, g, c0, zx, zp, lo, hi, 0, OH, clamp, body);
                for (int i = 0; i < want.Length; i++)
                    if (width == 8 || i % C < 16) Assert.True(want[i] == got[i], $"width {width} {body} clamp {clamp} at {i}: {got[i]} != {want[i]}");
                // In bands of 3 output rows (the parts of a parallel run): stride 1 pairs rows only inside a band.
                var banded = new sbyte[want.Length];
                fixed (sbyte* px = x, py = banded) fixed (float* pw = w, pb = b, pm = m)
                    for (int c0 = 0; c0 + width <= C; c0 += width)
                        for (int oh0 = 0; oh0 < OH; oh0 += 3)
                            if (width == 16) DepthwiseInt8Nhwc.Block3x3V512(px, pw, pb, pm, py, g, c0, zx, zp, lo, hi, oh0, Math.Min(OH, oh0 + 3), clamp, body);
                            else DepthwiseInt8Nhwc.Block3x3V256(px, pw, pb, pm, py, g, c0, zx, zp, lo, hi, oh0, Math.Min(OH, oh0 + 3), clamp, body);
                Assert.Equal(got, banded);
            }
    }

    /// <summary>Each x64 conv picks its loop body once: rows paired from 28 output columns at 512 bits and 56 at 256,
    /// stride 2 always in 4-pixel blocks (every body gives the same bytes: the test above).</summary>
    [Theory]
    [InlineData(1, 27, 27, "Lean", "Lean")]
    [InlineData(1, 28, 28, "RowPairs", "Lean")]
    [InlineData(1, 55, 55, "RowPairs", "Lean")]
    [InlineData(1, 56, 56, "RowPairs", "RowPairs")]
    [InlineData(1, 7, 7, "Lean", "Lean")]
    [InlineData(2, 14, 7, "Quads2", "Quads2")]
    [InlineData(2, 112, 56, "Quads2", "Quads2")]
    public void Body_is_chosen_by_stride_and_output_width(int stride, int W, int OW, string wide, string narrow)
    {
        var g = new ConvGeometry(32, W, W, 32, OW, OW, 3, 3, stride, stride, 1, 1, 1, 1, 32);
        Assert.Equal(wide, DepthwiseInt8Nhwc.Choose(g, wide: true).ToString());
        Assert.Equal(narrow, DepthwiseInt8Nhwc.Choose(g, wide: false).ToString());
    }

    /// <summary>The arm64 folded block (<see cref="DepthwiseInt8NhwcNeon.Block3x3Folded"/>: clamp on the bytes, or the
    /// saturating narrows alone) against the integer reference; with a NaN or infinite multiplier in a block of 8
    /// channels that block clamps in float before rounding (NaN to hi, as QuantMath). Borders: the first and last rows
    /// and columns (their padded taps constants), no padding at the start, maps of 1-2 rows or columns (every tap tested).</summary>
    [Theory]
    [InlineData(7, 9, 1, -100, 90, false)]
    [InlineData(8, 11, 2, -128, 127, false)]
    [InlineData(8, 10, 2, -128, 127, false)]   // MobileNet's stride 2 (112 -> 56): even W, pads 1, 1: no right border pixel
    [InlineData(7, 9, 1, -100, 90, true)]
    [InlineData(6, 5, 2, -128, 127, true)]
    [InlineData(12, 12, 2, -128, 127, false, 0, 1)]   // padding only at the end (TF "SAME" stride 2)
    [InlineData(5, 6, 1, -100, 90, false, 0, 0)]      // no padding
    [InlineData(2, 2, 1, -100, 90, false)]            // every row and column a border of both sides
    [InlineData(1, 4, 1, -100, 90, false)]
    [InlineData(4, 1, 1, -100, 90, false)]
    [InlineData(3, 3, 1, -100, 90, false, 2, 2)]      // padding of 2: taps past one row or column of padding
    public void Neon_folded_block_equals_the_integer_reference(int H, int W, int stride, int lo, int hi, bool nonFinite, int padBegin = 1, int padEnd = 1)
    {
        if (!DepthwiseInt8NhwcNeon.Supported) Assert.Skip("arm64 NEON");
        const int C = 24, zp = 7, zx = -5;
        int OH = (H + padBegin + padEnd - 3) / stride + 1, OW = (W + padBegin + padEnd - 3) / stride + 1;
        var g = new ConvGeometry(C, H, W, C, OH, OW, 3, 3, stride, stride, padBegin, padBegin, 1, 1, C);
        var r = new Random(H * 37 + W + stride);
        var x = Enumerable.Range(0, H * W * C).Select(_ => (sbyte)r.Next(-128, 128)).ToArray();
        var w = Enumerable.Range(0, 9 * C).Select(_ => (sbyte)r.Next(-127, 128)).ToArray();   // [C, 3, 3]
        var b = Enumerable.Range(0, C).Select(c => c == 9 ? 0 : r.Next(-5000, 5000)).ToArray();
        var m = Enumerable.Range(0, C).Select(c => c % 5 == 0 ? 0.5f : 1f / r.Next(20, 300)).ToArray();
        if (nonFinite) { m[1] = float.NaN; m[9] = float.PositiveInfinity; m[10] = float.NegativeInfinity; }
        for (int i = 0; i < W * C; i++) x[i] = (sbyte)(i % C == 9 ? 0 : x[i]);   // row 0 of channel 9: acc 0 at some pixels with bias 0
        var want = new sbyte[OH * OW * C];
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++)
                for (int c = 0; c < C; c++)
                {
                    int acc = b[c];
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++)
                        {
                            int ih = oh * stride - padBegin + kh, iw = ow * stride - padBegin + kw;
                            int v = (uint)ih < (uint)H && (uint)iw < (uint)W ? x[(ih * W + iw) * C + c] : zx;
                            acc += v * w[c * 9 + kh * 3 + kw];
                        }
                    want[(oh * OW + ow) * C + c] = QuantMath.Requantize(acc, m[c], zp, lo, hi);
                }
        var packed = DepthwiseInt8NhwcNeon.PackWeights8(w, C);
        bool saturation = lo == -128 && hi == 127 && !nonFinite;
        foreach (bool clamp in saturation ? new[] { true, false } : [true])
        {
            // a call per 8-channel block, and one call over all (the kernel's: one multiplier not finite sends every
            // block through the float clamp)
            foreach (bool perBlock in new[] { true, false })
            {
                var got = new sbyte[want.Length];
                fixed (sbyte* px = x, pw = packed, py = got) fixed (int* pb = b) fixed (float* pm = m)
                    for (int c0 = 0; c0 < C; c0 += perBlock ? DepthwiseInt8NhwcNeon.Lanes : C)
                        DepthwiseInt8NhwcNeon.Block3x3Folded(px, pw, pb, pm, py, g, c0, perBlock ? c0 + DepthwiseInt8NhwcNeon.Lanes : C, zx, zp, lo, hi, 0, OH, clamp);
                for (int i = 0; i < want.Length; i++) Assert.True(want[i] == got[i], $"clamp {clamp} per block {perBlock} at {i}: {got[i]} != {want[i]}");
            }
        }
    }
}
