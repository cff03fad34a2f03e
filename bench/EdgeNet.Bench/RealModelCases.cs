namespace EdgeNet.Bench;

/// <summary>The single-input real models of ../shared/models (third-party, see its README): the convnets users bring.
/// Their first input's shape is fixed at conversion from its .npy, as `edgenet-convert --input-shape` would.</summary>
public static class RealModelCases
{
    public static IEnumerable<Compare.Case> All(string shared)
    {
        string models = Path.Combine(shared, "models");
        string cache = Environment.GetEnvironmentVariable("EDGENET_MODELS_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "edgenet-models");
        string In(string dir, string name) => Path.Combine(File.Exists(Path.Combine(dir, name + ".onnx")) ? dir : cache, name + ".onnx");
        Compare.Case Make(string title, string name) =>
            new(title, In(models, name), null, Path.Combine(models, name + ".input.npy"), 1) { FixInputShape = true };
        yield return Make("BlazeFace-128 fp32", "blazeface_front_128");
        yield return Make("UltraFace-slim-320 fp32", "ultraface_slim_320_simplified");
        yield return Make("ResNet-18 fp32", "resnet18_mlnet");
        yield return Make("PP-OCR cls fp32", "ppocr_mobile_v2_cls");
        yield return Make("PP-OCRv4 det fp32", "ppocrv4_det");
    }
}
