using EdgeNet.Tests;

namespace EdgeNet.Bench;

/// <summary>Convnet families no file of ../shared/models stands for (tests/EdgeNet.Tests/ConvnetFamilies.cs: the
/// exporters' graphs with random weights) at 224×224, written once into the models cache (families/).</summary>
public static class FamilyCases
{
    public static IEnumerable<Compare.Case> All()
    {
        string cache = Path.Combine(Environment.GetEnvironmentVariable("EDGENET_MODELS_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "edgenet-models"), "families");
        (string Title, string Family)[] families =
        [
            ("MobileNetV3-small-224 fp32", "mobilenetv3"), ("EfficientNet-lite0-224 fp32", "efficientnet_lite0"),
            ("EfficientNet-B0-224 fp32", "efficientnet_b0"), ("ShuffleNetV2-1.0-224 fp32", "shufflenetv2"),
        ];
        foreach (var (title, family) in families)
        {
            string path = Path.Combine(cache, family + "_224.onnx");
            if (!File.Exists(path))
            {
                Directory.CreateDirectory(cache);
                var net = new OnnxNet(14);
                ConvnetFamilies.Build(family, net, 224);
                string tmp = net.B.Save(cache, $"{family}_224.{Environment.ProcessId}.tmp");
                File.Move(tmp, path, overwrite: true);
            }
            yield return new(title, path, null, null, 1);
        }
    }
}
