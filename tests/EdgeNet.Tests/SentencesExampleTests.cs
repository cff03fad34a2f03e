using EdgeNet.Converter;
using EdgeNet.Engine;
using EdgeNet.Examples.Sentences;
using EdgeNet.Format;
using EdgeNet.Io;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Tokenizers;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>examples/sentences: pooling and cosine on their own, the BERT tokenizer against the ids ../shared/models
/// was made with, and the two sentences' embeddings and similarity against ONNX Runtime's on the same padded ids.
/// The model and vocabulary are downloaded (examples/sentences/fetch-model.sh); without them the tests say so and skip.</summary>
public class SentencesExampleTests(ITestOutputHelper output)
{
    const int Length = 32;
    const string Fetch = "examples/sentences/fetch-model.sh";
    internal const string First = "A small computer runs the model on the edge in real time.", Second = "An embedded board executes the network locally without the cloud.";

    [Fact]
    public void Mean_pooling_counts_only_the_real_tokens_and_cosine_is_scale_free()
    {
        float[] states = [1, 2, 3, 4, 100, 100];   // three tokens of two values; the last is padding
        var r = new float[2];
        Pooling.Mean(states, 2, 2, r);
        Assert.Equal([2f, 3f], r);
        Assert.Equal(1f, Pooling.Cosine([1, 2, 3], [2, 4, 6]), 6);
        Assert.Equal(-1f, Pooling.Cosine([1, 0], [-3, 0]), 6);
        Assert.Equal(0f, Pooling.Cosine([1, 0], [0, 5]), 6);
        Assert.Equal(0f, Pooling.Cosine([0, 0], [1, 1]));
        long[] ids = new long[5], mask = new long[5], types = [9, 9, 9, 9, 9];
        SentenceEncoder.Fill([101, 7, 102], ids, mask, types);
        Assert.Equal([101L, 7, 102, 0, 0], ids); Assert.Equal([1L, 1, 1, 0, 0], mask); Assert.Equal(new long[5], types);
    }

    static BertTokenizer Tokenizer() =>
        BertTokenizer.Create(ExampleModels.PathOrSkip("all_minilm_l6_v2.vocab.txt", Fetch), new BertOptions { LowerCaseBeforeTokenization = true });

    [Fact]
    public void Tokenizer_gives_the_ids_the_reference_inputs_were_made_with()
    {
        string ids = Path.Combine(ExampleRoot.Dir, "..", "..", "shared", "models", "all_minilm_l6_v2.input.input_ids.npy");
        if (!File.Exists(ids)) Assert.Skip($"{ids} is not here (../shared is beside the repository on the project's machines)");
        var expected = Npy.Read(ids).Longs!;
        var ours = Tokenizer().EncodeToIds("a small computer runs the model on the edge in real time", addSpecialTokens: true);
        Assert.Equal(expected, ours.Select(i => (long)i));
    }

    [Trait("Needs", "OnnxRuntime")]
    [Fact]
    public void Two_sentences_embed_and_compare_as_with_ONNX_Runtime()
    {
        string onnx = ExampleModels.PathOrSkip("all_minilm_l6_v2.onnx", Fetch);
        var shapes = new Dictionary<string, int[]> { ["input_ids"] = [1, Length], ["attention_mask"] = [1, Length], ["token_type_ids"] = [1, Length] };
        Model model;
        try { model = OnnxImporter.Convert(onnx, new ConvertOptions { InputShapes = shapes }); }
        catch (Exception e) when (e is ModelFormatException or NotSupportedException or InvalidOperationException)
        {
            Assert.Skip($"all_minilm_l6_v2 does not convert yet: {e.Message}");
            throw;
        }
        using var encoder = new SentenceEncoder(model, Tokenizer());
        using var o = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var ort = new InferenceSession(onnx, o);
        float[] Reference(string text)
        {
            var tokens = encoder.Tokenize(text);
            long[] ids = new long[Length], mask = new long[Length], types = new long[Length];
            SentenceEncoder.Fill(tokens, ids, mask, types);
            using var r = ort.Run([
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [1, Length])),
                NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, [1, Length])),
                NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(types, [1, Length]))]);
            var states = r.First(v => v.Name == ort.OutputMetadata.Keys.First()).AsTensor<float>().ToArray();
            var e = new float[encoder.Dimensions];
            Pooling.Mean(states, tokens.Length, encoder.Dimensions, e);
            return e;
        }
        var (a, b) = (encoder.Embed(First), encoder.Embed(Second));
        var (ra, rb) = (Reference(First), Reference(Second));
        float diff = 0, max = 0;
        for (int i = 0; i < a.Length; i++) { diff = Math.Max(diff, Math.Max(Math.Abs(a[i] - ra[i]), Math.Abs(b[i] - rb[i]))); max = Math.Max(max, Math.Abs(ra[i])); }
        float cos = Pooling.Cosine(a, b), refCos = Pooling.Cosine(ra, rb);
        output.WriteLine($"cosine EdgeNet {cos:F5}, ONNX Runtime {refCos:F5}; max |embedding Δ| {diff:E2} (largest |value| {max:G3})");
        Assert.True(diff <= 1e-4f * Math.Max(1, max), $"{diff}");
        Assert.Equal(refCos, cos, 4);
        Assert.Equal(1f, Pooling.Cosine(a, encoder.Embed(First)), 5);   // the session is reusable and deterministic
    }
}
