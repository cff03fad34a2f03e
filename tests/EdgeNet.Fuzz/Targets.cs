using EdgeNet.Converter;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Fuzz;

/// <summary>
/// What is fuzzed: loading an .enet file (parse, validate, prepare every kernel, run once) and importing an ONNX file.
/// The only acceptable failure is the typed format error; anything else is a crash.
/// </summary>
public static class Targets
{
    /// <summary>How far inputs got: parsed and validated, prepared, ran; and the commonest rejections.</summary>
    public static long Parsed, Ran;
    public static readonly Dictionary<string, long> Rejections = [];

    public static void Enet(ReadOnlySpan<byte> data)
    {
        try
        {
            var m = ModelFile.Read(data.ToArray());
            Parsed++;
            using var s = new Session(m, 2);
            s.Input(0, s.HasBatchDimension ? 2 : 1).Fill(0.5f);
            s.Run(s.HasBatchDimension ? 2 : 1);
            Ran++;
        }
        catch (ModelFormatException e)
        {
            string key = string.Join(' ', e.Message.Split(' ').Take(3));
            Rejections[key] = Rejections.GetValueOrDefault(key) + 1;
        }
    }

    public static void Onnx(ReadOnlySpan<byte> data, string scratchDir)
    {
        HostileSeeds.Neighbours(scratchDir);
        string path = Path.Combine(scratchDir, "fuzz.onnx");
        File.WriteAllBytes(path, data.ToArray());
        try
        {
            var m = OnnxImporter.Convert(path);
            using var s = new Session(m, 2);
            s.Run(s.HasBatchDimension ? 2 : 1);
        }
        catch (ModelFormatException) { }
    }
}
