using EdgeNet.Engine;
using EdgeNet.Format;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeNet.Converter;

/// <summary>--verify: runs ONNX Runtime and EdgeNet on the same input and reports the largest difference per output.</summary>
public static class Verifier
{
    public sealed record Result(string Output, float MaxAbsDiff, int Values);

    public static IReadOnlyList<Result> Compare(string onnxPath, Model model, float[]? input, int batch)
    {
        var inShape = model.Input().Shape.Select(d => Shape.Resolve(d, batch)).ToArray();
        long count = inShape.Aggregate(1L, (a, d) => a * d);
        if (input is null)
        {
            var rng = new Random(1234);
            input = new float[count];
            for (int i = 0; i < count; i++) input[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        else if (input.Length != count) throw new ArgumentException($"verification input has {input.Length} values; {count} expected for {string.Join("x", inShape)}");

        using var opts = new SessionOptions { IntraOpNumThreads = 1 };
        using var ort = new InferenceSession(onnxPath, opts);
        var feed = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor(ort.InputMetadata.Keys.First(), new DenseTensor<float>(input, inShape)) };
        using var results = ort.Run(feed);

        using var s = new Session(model, batch);
        input.CopyTo(s.Input(0, batch));
        s.Run(batch);
        var list = new List<Result>();
        for (int o = 0; o < model.Outputs.Count; o++)
        {
            var expected = results.ElementAt(o).AsEnumerable<float>().ToArray();
            var actual = s.Output(o);
            if (expected.Length != actual.Length) throw new InvalidOperationException($"output {o}: ONNX Runtime gives {expected.Length} values, EdgeNet {actual.Length}");
            float max = 0;
            for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs(expected[i] - actual[i]));
            list.Add(new Result(model.Tensors[model.Outputs[o]].Name, max, expected.Length));
        }
        return list;
    }
}
