using EdgeNet.Engine;
using EdgeNet.Format;
using Microsoft.ML.Tokenizers;

namespace EdgeNet.Examples.Sentences;

/// <summary>
/// Sentence embeddings with a BERT-style encoder converted with a fixed sequence length (all-MiniLM-L6-v2:
/// `--input-shape input_ids=1,L` and the same for attention_mask and token_type_ids): the BERT tokenizer with the
/// model's vocabulary, the ids padded to L with an attention mask of 0s, then the last hidden state mean-pooled over
/// the real tokens (sentence-transformers' pooling for this model).
/// </summary>
public sealed class SentenceEncoder : IDisposable
{
    readonly Session session;
    readonly BertTokenizer tokenizer;
    readonly int length, hidden, ids, mask, types, output;

    public SentenceEncoder(Model model, BertTokenizer tokenizer)
    {
        session = new Session(model);
        this.tokenizer = tokenizer;
        ids = session.InputIndex("input_ids"); mask = session.InputIndex("attention_mask");
        types = model.Inputs.Any(i => model.Tensors[i].Name == "token_type_ids") ? session.InputIndex("token_type_ids") : -1;
        output = model.Outputs.Any(o => model.Tensors[o].Name == "last_hidden_state") ? session.OutputIndex("last_hidden_state") : 0;
        var shape = model.Tensors[model.Inputs[ids]].Shape;
        length = shape[^1];
        if (length <= 2) throw new ArgumentException($"input_ids is [{string.Join(",", shape)}]: convert the model with --input-shape input_ids=1,L (L = the longest sentence in tokens, e.g. 64)");
        hidden = (int)(session.OutputSampleSize(output) / length);
    }

    /// <summary>The sequence length the model was converted for (longer sentences are cut to it).</summary>
    public int Length => length;
    public int Dimensions => hidden;

    /// <summary>The token ids of <paramref name="text"/> with [CLS] and [SEP], cut to the model's length.</summary>
    public int[] Tokenize(string text)
    {
        var t = tokenizer.EncodeToIds(text, addSpecialTokens: true).ToArray();
        if (t.Length > length) t = [.. t[..(length - 1)], t[^1]];   // keep [SEP] last
        return t;
    }

    /// <summary>The model's inputs for <paramref name="tokens"/>: ids padded with 0, mask 1 for each token, token types 0.</summary>
    public static void Fill(ReadOnlySpan<int> tokens, Span<long> ids, Span<long> mask, Span<long> types)
    {
        ids.Clear(); mask.Clear(); types.Clear();
        for (int i = 0; i < tokens.Length; i++) { ids[i] = tokens[i]; mask[i] = 1; }
    }

    /// <summary>The mean-pooled embedding of <paramref name="text"/> (<see cref="Dimensions"/> values).</summary>
    public float[] Embed(string text)
    {
        var tokens = Tokenize(text);
        Fill(tokens, session.Input<long>(ids, 1), session.Input<long>(mask, 1), types >= 0 ? session.Input<long>(types, 1) : new long[length]);
        session.Run(1);
        var e = new float[hidden];
        Pooling.Mean(session.Output<float>(output), tokens.Length, hidden, e);
        return e;
    }

    public void Dispose() => session.Dispose();
}

/// <summary>Sentence-embedding arithmetic: pooling over tokens and cosine similarity.</summary>
public static class Pooling
{
    /// <summary>Mean of the first <paramref name="tokens"/> rows of <paramref name="states"/> [L, hidden] (the real
    /// tokens; padding rows are masked out, as sentence-transformers' mean pooling does with the attention mask).</summary>
    public static void Mean(ReadOnlySpan<float> states, int tokens, int hidden, Span<float> result)
    {
        result[..hidden].Clear();
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < hidden; h++) result[h] += states[t * hidden + h];
        for (int h = 0; h < hidden; h++) result[h] /= Math.Max(tokens, 1);
    }

    /// <summary>Cosine similarity of two vectors (0 when either is all zeros).</summary>
    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * (double)b[i]; na += a[i] * (double)a[i]; nb += b[i] * (double)b[i]; }
        return na == 0 || nb == 0 ? 0 : (float)(dot / Math.Sqrt(na * nb));
    }
}
