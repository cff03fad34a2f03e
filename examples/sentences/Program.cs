using System.Diagnostics;
using EdgeNet.Format;
using Microsoft.ML.Tokenizers;

namespace EdgeNet.Examples.Sentences;

/// <summary>
/// sentences MODEL.enet VOCAB.txt "first sentence" "second sentence" [more...]
/// Embeds each sentence with the MiniLM model and prints the cosine similarity of the first to each other one.
/// Exit codes: 0, 2 usage, 3 a bad model or vocabulary file.
/// </summary>
public static class SentencesApp
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length < 4 || args.Any(a => a.StartsWith("--")))
        {
            stderr.WriteLine("usage: sentences MODEL.enet VOCAB.txt \"first sentence\" \"second sentence\" [more sentences]");
            return 2;
        }
        SentenceEncoder encoder;
        try
        {
            var tokenizer = BertTokenizer.Create(args[1], new BertOptions { LowerCaseBeforeTokenization = true });
            encoder = new SentenceEncoder(ModelFile.Load(args[0]), tokenizer);
        }
        catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 3;
        }
        using (encoder)
        {
            var sw = Stopwatch.StartNew();
            var first = encoder.Embed(args[2]);
            double ms = sw.Elapsed.TotalMilliseconds;
            stdout.WriteLine($"\"{args[2]}\": {encoder.Tokenize(args[2]).Length} tokens, {encoder.Dimensions} dimensions ({ms:F1} ms)");
            foreach (var s in args[3..])
            {
                sw.Restart();
                var e = encoder.Embed(s);
                ms = sw.Elapsed.TotalMilliseconds;
                stdout.WriteLine(FormattableString.Invariant($"\"{s}\": {encoder.Tokenize(s).Length} tokens ({ms:F1} ms); cosine similarity to the first: {Pooling.Cosine(first, e):F4}"));
            }
        }
        return 0;
    }
}
