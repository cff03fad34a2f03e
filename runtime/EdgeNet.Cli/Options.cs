using System.CommandLine;
using System.CommandLine.Parsing;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Cli;

/// <summary>Arguments and helpers the subcommands share.</summary>
internal static class Options
{
    public static Argument<FileInfo> Model() => InputFile(new Argument<FileInfo>("model") { Description = "EdgeNet model (.enet)" });
    public static Option<int> Batch() => new("--batch") { Description = "rows per inference call", DefaultValueFactory = _ => 64 };
    public static Option<bool> Reference() => new("--reference") { Description = "use the scalar reference kernels" };
    public static Option<int> Threads() => new("--threads") { Description = $"intra-op threads (this machine allows {IntraOpPool.Available})", DefaultValueFactory = _ => 1 };

    /// <summary>A file to read: a folder in its place is a usage error at parse time.</summary>
    public static Argument<FileInfo> InputFile(Argument<FileInfo> a) { a.Validators.Add(r => Check(r, PathCheck.Input)); return a; }
    public static Option<T> InputFile<T>(Option<T> o) where T : FileSystemInfo? { o.Validators.Add(r => Check(r, PathCheck.Input)); return o; }
    /// <summary>A file to write: its folder must exist and it must not be a folder.</summary>
    public static Option<T> OutputFile<T>(Option<T> o) where T : FileSystemInfo? { o.Validators.Add(r => Check(r, PathCheck.Output)); return o; }

    static void Check(SymbolResult r, Func<string, string?> check)
    {
        foreach (var t in r.Tokens) if (check(t.Value) is { } error) r.AddError(error);
    }

    /// <summary>The parser's errors, one message each. A value its option's type cannot take is said as the option, the
    /// value and what it must be ("--iters abc: not a whole number"): System.CommandLine's own message names the CLR
    /// type ("as expected type 'System.Nullable`1[System.Int32]'").</summary>
    public static IEnumerable<string> ErrorMessages(ParseResult r) => r.Errors.Select(e => NotOfType(e) ?? e.Message);

    static string? NotOfType(ParseError e)
    {
        var o = e.SymbolResult as OptionResult ?? e.SymbolResult?.Parent as OptionResult;
        if (o is null || o.Tokens.Count != 1) return null;
        var type = o.Option.ValueType;
        if (!e.Message.Contains(type.ToString(), StringComparison.Ordinal)) return null;   // only the type-naming conversion error
        type = Nullable.GetUnderlyingType(type) ?? type;
        string t = o.Tokens[0].Value;
        string digits = t.StartsWith('-') || t.StartsWith('+') ? t[1..] : t;
        bool whole = digits.Length > 0 && digits.All(char.IsAsciiDigit);   // a whole number, too large for the type
        string what = type == typeof(int) ? (whole ? $"outside {int.MinValue}..{int.MaxValue}" : "not a whole number")
            : type == typeof(long) ? (whole ? $"outside {long.MinValue}..{long.MaxValue}" : "not a whole number")
            : type == typeof(float) || type == typeof(double) ? "not a number"
            : "not a value this option takes";
        return $"{o.Option.Name} {t}: {what}";
    }

    /// <summary>"edgenet run", for pointing at the right --help.</summary>
    public static string CommandPath(ParseResult r)
    {
        var names = new List<string>();
        for (SymbolResult? c = r.CommandResult; c is CommandResult cr; c = c.Parent) names.Insert(0, cr.Command.Name);
        if (names.Count > 0) names[0] = "edgenet";
        return string.Join(" ", names);
    }

    /// <summary>Loads an .enet model; an ONNX file is pointed to the converter.</summary>
    public static Model Load(FileInfo file)
    {
        if (Directory.Exists(file.FullName)) throw new UsageException($"'{file.FullName}' is a folder; give a model file");
        if (file.Extension.Equals(".onnx", StringComparison.OrdinalIgnoreCase) && File.Exists(file.FullName) && !StartsWithMagic(file.FullName))
            throw new UsageException($"'{file.Name}' is an ONNX model; convert it first: edgenet-convert {file.Name} -o {Path.GetFileNameWithoutExtension(file.Name)}.enet");
        return ModelFile.Load(file.FullName);
    }

    static bool StartsWithMagic(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var f = File.OpenRead(path);
        return f.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4 && head.SequenceEqual(ModelFile.Magic);
    }

    public static Session Open(FileInfo file, int batch, bool reference, int threads = 1) => Open(Load(file), batch, reference, threads);

    /// <summary>A session for inference; with <paramref name="data"/>, the batch is clamped to its rows (a larger
    /// batch only sizes buffers for rows that do not exist).</summary>
    public static Session Open(Model model, int batch, bool reference, int threads = 1, float[]? data = null, int rows = 0)
    {
        if (batch < 1 || batch > ModelValidator.MaxBatchFactor) throw new UsageException($"--batch {batch} is outside 1..{ModelValidator.MaxBatchFactor}");
        if (threads < 1 || threads > IntraOpPool.Available) throw new UsageException($"--threads must be within 1..{IntraOpPool.Available} (the CPUs this process may use)");
        if (data is not null) batch = (int)Math.Clamp(data.Length / Math.Max(1, model.Input().Elements(1)), 1, batch);
        if (rows > 0) batch = Math.Min(batch, rows);
        return new Session(model, batch, KernelOptions.Default with { Reference = reference, Threads = threads });
    }

    /// <summary>Values in one sample that `train --input-shape` accepts (4 MiB of float32; a 3x512x512 image fits).</summary>
    public const int MaxSampleValues = 1 << 20;

    /// <summary>`--input-shape` such as 64, 1x8x8 or 8x8: positive dims whose product is at most <see cref="MaxSampleValues"/>.</summary>
    public static int[] SampleShape(string? text)
    {
        var parts = (text ?? "").Split('x', ',');
        if (parts.Length > Shape.MaxRank - 1) throw new UsageException($"--input-shape '{text}' has more than {Shape.MaxRank - 1} dimensions");
        long values = 1;
        var dims = new int[parts.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out dims[i]) || dims[i] < 1)
                throw new UsageException($"--input-shape '{text}' is not like 64 or 1x8x8");
            values *= dims[i];
            if (values > MaxSampleValues) throw new UsageException($"--input-shape '{text}' has more than {MaxSampleValues} values per sample");
        }
        return dims;
    }

    /// <summary>Float32 rows for the model's input, in its exact shape or flat (<see cref="ModelData"/>).</summary>
    public static (float[] x, int rows) ReadSamples(FileInfo file, TensorDesc input, string what) => ModelData.ReadSamples(file.FullName, input, what);

    public static long[] ReadLabels(FileInfo file, int rows, string what = "labels") => ModelData.ReadLabels(file.FullName, rows, what);
}
