using EdgeNet.Converter.Onnx;
using EdgeNet.Io;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Net = EdgeNet.Tests.OnnxNet;

namespace EdgeNet.Tests;

/// <summary>
/// Detector families users bring that no model of ../shared/models stands for (no YOLO, SSD or YuNet ONNX file is
/// in a package we can fetch): their graphs as the exporters write them, with random weights at realistic widths
/// — YOLOv5 (SiLU as Sigmoid·Mul, C3, SPPF's 5×5 MaxPools, nearest Resize ×2 by scales or by sizes from a Shape
/// chain, the Detect head's Shape→Gather→Unsqueeze→Concat→Reshape, Split and grid/anchor arithmetic), YOLOv8 (C2f's
/// Split, the DFL head: Reshape→Transpose→Softmax→1×1 Conv of fixed weights 0..15, anchors and strides), SSD
/// (loc/conf heads Transpose→Reshape(0,-1,k)→Concat→Softmax, prior-box decoding with Slice and Exp) and YuNet
/// (depthwise+pointwise units, BatchNorm, upsampling by Resize or ConvTranspose, twelve outputs, symbolic H and W),
/// and an M-LSD-style line detector (NHWC input, Relu6 as Clip, Pad, the Equal/MaxPool peak mask) — at opsets 11 to 17. Each is converted and run through the CLI (`edgenet-convert --input-shape`, `edgenet run
/// --output-dir`) and every output compared with ONNX Runtime's within 1e-4 of its largest |value|.
/// </summary>
public class DetectorFamilyTests(ITestOutputHelper output)
{
    public static TheoryData<string> Graphs =>
    [
        "yolov5_opset11_scales", "yolov5_opset13_sizes", "yolov8_opset17", "ssd_opset11", "ssd_opset12",
        "yunet_opset11_resize", "yunet_opset13_convtranspose", "mlsd_opset13_nhwc",
    ];

    [Trait("Needs", "OnnxRuntime")]
    [Theory]
    [MemberData(nameof(Graphs))]
    public void Converts_runs_and_matches_onnx_runtime_through_the_cli(string graph)
    {
        var parts = graph.Split('_');
        long opset = long.Parse(parts[1]["opset".Length..]);
        var net = new Net(opset);
        int[] shape = parts[0] switch
        {
            "yolov5" => DetectorFamilies.YoloV5(net, sizes: parts[2] == "sizes"),
            "yolov8" => DetectorFamilies.YoloV8(net),
            "ssd" => DetectorFamilies.Ssd(net),
            "yunet" => DetectorFamilies.YuNet(net, transposed: parts[2] == "convtranspose"),
            "mlsd" => DetectorFamilies.Mlsd(net),
            _ => throw new ArgumentException(graph),
        };
        string dir = Fixtures.TempDir(), onnx = net.B.Save(dir, graph + ".onnx"), enet = Path.Combine(dir, graph + ".enet");
        string xFile = Path.Combine(dir, "x.npy"), outDir = Path.Combine(dir, "out");
        var x = OnnxBuilder.Random(new Random(5), shape.Aggregate(1, (a, b) => a * b), -1, 1);
        Npy.Write(xFile, x, shape);

        var c = CliTests.Run("edgenet-convert.dll", onnx, "-o", enet, "--input-shape", $"images={string.Join(",", shape)}");
        Assert.True(c.code == 0, $"edgenet-convert {graph}: {c.stderr}");
        var r = CliTests.Run("edgenet.dll", "run", enet, "--input", $"images={xFile}", "--output-dir", outDir);
        Assert.True(r.code == 0, $"edgenet run {graph}: {r.stderr}");

        using var opts = new SessionOptions { IntraOpNumThreads = 1 };
        using var ort = new InferenceSession(onnx, opts);
        using var want = ort.Run([NamedOnnxValue.CreateFromTensor("images", new DenseTensor<float>(x, shape))]);
        var written = Directory.GetFiles(outDir, "*.npy").Select(Path.GetFileName).ToArray();
        Assert.Equal(net.B.Graph.Output.Count, written.Length);
        for (int k = 0; k < net.B.Graph.Output.Count; k++)
        {
            var name = net.B.Graph.Output[k].Name;
            var expected = want.First(v => v.Name == name).AsTensor<float>();
            var got = Npy.Read(Path.Combine(outDir, written.Single(f => f!.StartsWith($"{k}_", StringComparison.Ordinal))!));
            Assert.Equal(expected.Dimensions.ToArray(), got.Shape);
            var w = expected.ToArray();
            var g = got.Floats!;
            double scale = Math.Max(w.Max(v => Math.Abs((double)v)), 1e-30), worst = 0;
            for (int i = 0; i < w.Length; i++) worst = Math.Max(worst, Math.Abs((double)w[i] - g[i]));
            output.WriteLine($"{graph} output {k} '{name}' {string.Join("x", got.Shape)}: max |Δ| {worst:G3}, {worst / scale:G3} of max |ORT| {scale:G3}");
            Assert.True(worst <= 1e-4 * scale, $"{graph} output {k} '{name}': max |EdgeNet - ORT| = {worst:G3}, more than 1e-4 × {scale:G3}");
        }
    }
}
