namespace EdgeNet.Bench;

/// <summary>The real models of ../shared/models (third-party, see its README): the convnets, audio front ends, wake-word
/// heads, a recurrent VAD and a sentence encoder users bring. The ONNX files fetch.sh downloads (licence or size) are
/// read from the models cache. Each input's shape is fixed at conversion from its .npy, as `edgenet-convert
/// --input-shape` would; a model of several inputs reads NAME.input.&lt;input&gt;.npy for each.</summary>
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
        yield return Make("oww melspectrogram fp32", "oww_melspectrogram");
        yield return Make("oww embedding fp32", "oww_embedding");
        yield return Make("oww alexa fp32", "oww_alexa");
        yield return Make("oww hey_mycroft fp32", "oww_hey_mycroft");
        Compare.Case Named(string title, string name, string[] inputs, string[]? fixedValues = null) =>
            new(title, In(models, name), null, null, 1)
            {
                Inputs = inputs.Select(i => (i, Path.Combine(models, $"{name}.input.{i}.npy"))).ToArray(),
                FixedValues = fixedValues ?? [],
            };
        yield return Named("Silero VAD v5 fp32", "silero_vad_v5", ["input", "state", "sr"], fixedValues: ["sr"]);   // sr selects the 16 kHz If branch
        yield return Named("all-MiniLM-L6-v2 [1,14] fp32", "all_minilm_l6_v2", ["input_ids", "attention_mask", "token_type_ids"]);
    }
}
