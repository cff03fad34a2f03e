using Google.Protobuf;
using EdgeNet.Io;
using EdgeNet.Tests;

namespace EdgeNet.Bench;

/// <summary>Convnet families no file of ../shared/models stands for (tests/EdgeNet.Tests/ConvnetFamilies.cs and
/// DetectorFamilies.cs: the exporters' graphs with random weights) at deployed sizes, written once into the models
/// cache (families/).</summary>
public static class FamilyCases
{
    public static IEnumerable<Compare.Case> All()
    {
        string cache = Path.Combine(Environment.GetEnvironmentVariable("EDGENET_MODELS_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "edgenet-models"), "families");
        (string Title, string File, long Opset, Func<OnnxNet, int[]> Build, bool Symbolic)[] families =
        [
            ("MobileNetV3-small-224 fp32", "mobilenetv3_224", 14, n => ConvnetFamilies.MobileNetV3(n, 224).Item1, false),
            ("EfficientNet-lite0-224 fp32", "efficientnet_lite0_224", 14, n => ConvnetFamilies.EfficientNet(n, lite: true, 224).Item1, false),
            ("EfficientNet-B0-224 fp32", "efficientnet_b0_224", 14, n => ConvnetFamilies.EfficientNet(n, lite: false, 224).Item1, false),
            ("ShuffleNetV2-1.0-224 fp32", "shufflenetv2_224", 14, n => ConvnetFamilies.ShuffleNetV2(n, 224).Item1, false),
            ("SqueezeNet-1.1-224 fp32", "squeezenet11_224", 14, n => ConvnetFamilies.SqueezeNet11(n, 224).Item1, false),
            ("DenseNet-121-224 fp32", "densenet121_224", 14, n => ConvnetFamilies.DenseNet(n, 224, 32, 64, [6, 12, 24, 16], imageNetStem: true, 1000).Item1, false),
            ("ResNet-26-224 fp32", "resnet26_224", 14, n => ConvnetFamilies.ResNetBottleneck(n, 224, [2, 2, 2, 2]).Item1, false),   // ResNet-50's stages, 2 bottlenecks each
            ("U-Net-256 fp32", "unet_256_c16", 14, n => ConvnetFamilies.UNet(n, 256, 16).Item1, false),
            ("YOLOv5n-320 fp32", "yolov5n_320", 13, n => DetectorFamilies.YoloV5(n, sizes: true, 320, [16, 32, 64, 128, 256]), false),
            ("YOLOv8n-320 fp32", "yolov8n_320", 17, n => DetectorFamilies.YoloV8(n, 320, [16, 32, 64, 128, 256]), false),
            ("SSD-lite-320 fp32", "ssdlite_320_m2", 12, n => DetectorFamilies.Ssd(n, 320, 2), false),
            ("YuNet-320 fp32", "yunet_320", 11, n => DetectorFamilies.YuNet(n, transposed: false, 320, 320), true),
        ];
        foreach (var (title, file, opset, build, symbolic) in families)
        {
            string path = Path.Combine(cache, file + ".onnx"), input = Path.Combine(cache, file + ".input.npy");
            // Built every time (a second or so for all) and written only when the bytes differ: a builder's change reaches
            // the cached file instead of compare timing the old graph.
            var net = new OnnxNet(opset);
            var shape = build(net);
            byte[] model = net.B.Model().ToByteArray();
            bool stale = !File.Exists(path) || !File.ReadAllBytes(path).AsSpan().SequenceEqual(model);
            if (stale)
            {
                Directory.CreateDirectory(cache);
                string tmp = Path.Combine(cache, $"{file}.{Environment.ProcessId}.tmp");
                File.WriteAllBytes(tmp, model);
                File.Move(tmp, path, overwrite: true);
            }
            if (symbolic && (stale || !File.Exists(input)))   // symbolic H and W: converted with the shape of an input file
                Npy.Write(input, OnnxBuilder.Random(new Random(5), shape.Aggregate(1, (a, b) => a * b), -1, 1), shape);
            yield return symbolic ? new(title, path, null, input, 1) { FixInputShape = true } : new(title, path, null, null, 1);
        }
    }
}
