using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// Winograd F(2×2, 3×3): the scalar specification (Reference/Winograd) against the direct conv (Reference/Conv), and
/// the channels-last kernel (WinogradNhwc, chosen by ConvNhwcKernel for 3×3 stride 1 on AVX-512, AVX2 and NEON) against the reference
/// conv through a session: odd output sizes (a tile's second row or column past the edge), asymmetric and
/// zero and wide padding, channel counts that leave a scalar tail of the 16-wide vectors, several blocks of tiles, and
/// 1 to 4 threads, which must give the same bits; F(2×2, 3×3) and, where channels are multiples of 16 and the map
/// has at least 36 4×4 tiles, F(4×4, 3×3). Tolerance, for inputs and weights in [−1, 1]: |Δ| ≤ 3e-6·√(9C) + 2e-5·|y|
/// (√(9C) the scale of a sum of 9C such products; the transforms add up to 9 of the 16 per-position sums, whose
/// rounding grows with that scale as the direct conv's does); F(4×4, 3×3) 3e-5·√(9C): its transforms' coefficients
/// (up to 8 and 1/24) cost about 10× F(2×2)'s error (measured: 3.0e-4 at C = 64, against 2.4e-5 at C = 120 for F(2×2);
/// ResNet-18 against ONNX Runtime: max |Δ| 8.1e-6 of max |y| 10.4 where RealModelTests allows 1e-4 of it).
/// </summary>
public class WinogradTests
{
    const float Rtol = 2e-5f;
    static float Atol(int c, int size = 2) => (size == 2 ? 3e-6f : 3e-5f) * MathF.Sqrt(9 * c);

    [Theory]
    [InlineData(3, 5, 7, 9, 1, 1, 1, 1)]
    [InlineData(4, 6, 8, 8, 1, 1, 1, 1)]
    [InlineData(2, 3, 1, 1, 1, 1, 1, 1)]     // 1×1 map: one tile, three of its four outputs outside
    [InlineData(5, 4, 6, 11, 1, 1, 1, 0)]    // asymmetric padding (ONNX's SAME_UPPER-like right/bottom)
    [InlineData(3, 7, 9, 6, 0, 0, 0, 0)]     // no padding: 7×4 outputs
    [InlineData(2, 2, 5, 5, 2, 2, 2, 2)]     // wide padding: tiles entirely in the padding
    [InlineData(3, 5, 7, 9, 1, 1, 1, 1, 4)]  // F(4×4, 3×3)
    [InlineData(5, 4, 10, 11, 1, 1, 1, 0, 4)]
    [InlineData(16, 8, 13, 6, 0, 0, 0, 0, 4)]
    [InlineData(2, 3, 1, 1, 1, 1, 1, 1, 4)]
    public void Reference_matches_the_direct_conv(int C, int OC, int H, int W, int padTop, int padLeft, int padBottom, int padRight, int size = 2)
    {
        int OH = H + padTop + padBottom - 2, OW = W + padLeft + padRight - 2;
        var g = new ConvGeometry(C, H, W, OC, OH, OW, 3, 3, 1, 1, padTop, padLeft, 1, 1, 1);
        var x = TestData.Uniform(C * H * W, 1); var w = TestData.Uniform(OC * C * 9, 2); var b = TestData.Uniform(OC, 3);
        var direct = new float[OC * OH * OW];
        Conv.Run(x, w, b, direct, 1, g, Activation.None);
        var nhwc = new float[H * W * C];
        for (int c = 0; c < C; c++) for (int i = 0; i < H * W; i++) nhwc[i * C + c] = x[c * H * W + i];
        var y = new float[OH * OW * OC];
        Winograd.Run(nhwc, w, b, y, g, float.NegativeInfinity, float.PositiveInfinity, size);
        var back = new float[y.Length];
        for (int o = 0; o < OC; o++) for (int i = 0; i < OH * OW; i++) back[o * OH * OW + i] = y[i * OC + o];
        Golden.Close(direct, back, Atol(C, size), Rtol, "Winograd reference");
    }

    [Theory]
    [InlineData(16, 32, 10, 8, 1, 1)]
    [InlineData(17, 40, 9, 13, 1, 1)]      // channel tails of the input and output transforms; odd output sizes
    [InlineData(64, 64, 9, 9, 1, 1)]       // 5×5 tiles for 9×9 outputs
    [InlineData(120, 136, 19, 17, 1, 1)]   // more tiles than a block (several blocks a thread takes in turn)
    [InlineData(24, 48, 9, 10, 1, 1)]      // 8-wide channel steps after the 16-wide ones
    [InlineData(31, 47, 12, 7, 1, 1)]      // 16 + 8 + 7 channels in, 32 + 8 + 7 out
    [InlineData(32, 33, 8, 10, 1, 0)]      // asymmetric padding; 33 output channels (a partial GEMM panel)
    [InlineData(20, 32, 11, 9, 0, 0)]
    [InlineData(16, 32, 24, 22, 1, 1)]     // F(4×4, 3×3) from here: 6×6 tiles, the last column's tiles 2 wide
    [InlineData(32, 48, 27, 25, 1, 0)]     // 7×6 tiles, the last row's 2 high
    [InlineData(64, 64, 30, 29, 0, 0)]     // 7×7 tiles, the last row's and column's 0 and 3
    [InlineData(16, 32, 35, 37, 1, 1)]     // 9×10 tiles: two blocks
    [InlineData(16, 16, 26, 23, 1, 1)]     // narrow outputs (U-Net's, YOLO's): one 16-wide vector
    [InlineData(32, 8, 13, 11, 1, 1)]      // 8 outputs: F(2×2) on AVX-512, a half vector
    [InlineData(16, 24, 10, 9, 0, 1)]
    public void Kernel_matches_the_reference_conv_on_any_thread_count(int C, int OC, int H, int W, int pad, int padEnd)
    {
        var g = new GraphBuilder();
        int x = g.Input("x", -1, C, H, W);
        var attrs = new Attributes().Set("pads", new long[] { pad, pad, padEnd, padEnd }).Set("activation", "clip").Set("act_min", -0.5f).Set("act_max", 6f);
        var m = g.Build(g.Add(OpType.Conv, [x, g.Constant("w", TestData.Uniform(OC * C * 9, 3), OC, C, 3, 3), g.Constant("b", TestData.Uniform(OC, 4), OC)], attrs));
        int OH = H + pad + padEnd - 2, OW = W + pad + padEnd - 2;
        var geometry = new ConvGeometry(C, H, W, OC, OH, OW, 3, 3, 1, 1, pad, pad, 1, 1, 1);
        if (!WinogradNhwc.Supports(geometry)) Assert.Skip("SSE alone or no SIMD: the kernel is not chosen");
        const int batch = 2;
        var input = TestData.Uniform(batch * C * H * W, 7);
        using var slow = new Session(m, batch, KernelOptions.Default with { Reference = true });
        input.CopyTo(slow.Input(0, batch));
        slow.Run(batch);
        var expected = slow.Output().ToArray();
        float[]? first = null;
        for (int threads = 1; threads <= 4; threads++)
        {
            using var fast = new Session(m, batch, KernelOptions.Default with { Threads = threads });
            Assert.Contains(fast.Kernels, k => k is EdgeNet.Kernels.ConvNhwcKernel);
            input.CopyTo(fast.Input(0, batch));
            fast.Run(batch);
            var y = fast.Output().ToArray();
            Golden.Close(expected, y, Atol(C, WinogradNhwc.Size(geometry)), Rtol, $"Winograd, {threads} threads");
            if (first is null) first = y;
            else Assert.Equal(first, y);   // bit-identical
        }
    }
}
