using System.Globalization;
using System.Runtime.InteropServices;
using EdgeNet.Engine;
using EdgeNet.Format;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeNet.Converter;

/// <summary>--verify: runs ONNX Runtime and EdgeNet on the same inputs and reports the largest difference per output.
/// Every graph input is fed: the ones given with --verify-input from their files, other float inputs random values in
/// [-1, 1], other integer and bool inputs their --input-value (the value the converter folded) or zeros.</summary>
public static class Verifier
{
    public sealed record Result(string Output, float MaxAbsDiff, int Values);

    public static IReadOnlyList<Result> Compare(string onnxPath, Model model, IReadOnlyList<ModelFeeds.Feed> given, int batch)
    {
        var rng = new Random(1234);
        using var s = new Session(model, batch);
        var feed = new List<NamedOnnxValue>();
        for (int i = 0; i < model.Inputs.Count; i++)
        {
            var t = model.Input(i);
            var shape = t.Shape.Select(d => Shape.Resolve(d, batch)).ToArray();
            int count = checked((int)shape.Aggregate(1L, (a, d) => a * d));
            var bytes = s.InputBytes(i, batch);
            if (given.FirstOrDefault(f => f.Input == i) is { } file)
            {
                if (file.Bytes.Length != bytes.Length)
                    throw new InvalidDataException($"--verify-input '{t.Name}' ('{Path.GetFileName(file.File)}') holds {file.Bytes.Length / DataTypes.SizeOf(t.Type)} values; {count} expected for {Shape.Format(shape)}");
                file.Bytes.CopyTo(bytes);
                feed.Add(Tensor(t.Name, t.Type, shape, file.Bytes));
                continue;
            }
            if (t.Type == DataType.Float32)
            {
                var x = new float[count];
                for (int k = 0; k < count; k++) x[k] = (float)(rng.NextDouble() * 2 - 1);
                MemoryMarshal.AsBytes(x.AsSpan()).CopyTo(bytes);
                feed.Add(NamedOnnxValue.CreateFromTensor(t.Name, new DenseTensor<float>(x, shape)));
                continue;
            }
            var v = new long[count];
            if (model.Metadata.Properties.TryGetValue($"input.{t.Name}.value", out var fixedValue))
            {
                var fixedValues = fixedValue.Split(',').Select(p => (long)double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
                for (int k = 0; k < count; k++) v[k] = fixedValues[k % fixedValues.Length];
            }
            feed.Add(t.Type switch
            {
                DataType.Int64 => Fill(t.Name, shape, v, bytes, x => x),
                DataType.Int32 => Fill(t.Name, shape, v, bytes, x => (int)x),
                DataType.Bool => Fill(t.Name, shape, v, bytes, x => x != 0),
                DataType.UInt8 => Fill(t.Name, shape, v, bytes, x => (byte)x),
                DataType.Int8 => Fill(t.Name, shape, v, bytes, x => (sbyte)x),
                _ => throw new NotSupportedException($"--verify cannot feed input '{t.Name}' of type {t.Type}"),
            });
        }
        using var opts = new SessionOptions { IntraOpNumThreads = 1 };
        using var ort = new InferenceSession(onnxPath, opts);
        IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results;
        try { results = ort.Run(feed); }
        catch (OnnxRuntimeException e) { throw new InvalidDataException($"--verify: ONNX Runtime cannot run the model on these inputs: {e.Message}"); }
        using var _ = results;
        s.Run(batch);
        var list = new List<Result>();
        for (int o = 0; o < model.Outputs.Count; o++)
        {
            var t = model.Output(o);
            var r = results.First(x => x.Name == t.Name);
            double[] expected = t.Type switch
            {
                DataType.Float32 => r.AsEnumerable<float>().Select(x => (double)x).ToArray(),
                DataType.Int64 => r.AsEnumerable<long>().Select(x => (double)x).ToArray(),
                DataType.Int32 => r.AsEnumerable<int>().Select(x => (double)x).ToArray(),
                DataType.Bool => r.AsEnumerable<bool>().Select(x => x ? 1.0 : 0.0).ToArray(),
                _ => throw new NotSupportedException($"--verify cannot compare output '{t.Name}' of type {t.Type}"),
            };
            var b = s.OutputBytes(o);
            double[] actual = t.Type switch
            {
                DataType.Float32 => MemoryMarshal.Cast<byte, float>(b).ToArray().Select(x => (double)x).ToArray(),
                DataType.Int64 => MemoryMarshal.Cast<byte, long>(b).ToArray().Select(x => (double)x).ToArray(),
                DataType.Int32 => MemoryMarshal.Cast<byte, int>(b).ToArray().Select(x => (double)x).ToArray(),
                _ => b.ToArray().Select(x => (double)x).ToArray(),
            };
            if (expected.Length != actual.Length) throw new InvalidOperationException($"output {o}: ONNX Runtime gives {expected.Length} values, EdgeNet {actual.Length}");
            double max = 0;
            for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs(expected[i] - actual[i]));
            list.Add(new Result(t.Name, (float)max, expected.Length));
        }
        return list;
    }

    /// <summary>An input given as bytes in its own type, as ORT's tensor.</summary>
    static NamedOnnxValue Tensor(string name, DataType type, int[] shape, byte[] b) => type switch
    {
        DataType.Float32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(MemoryMarshal.Cast<byte, float>(b).ToArray(), shape)),
        DataType.Int64 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(MemoryMarshal.Cast<byte, long>(b).ToArray(), shape)),
        DataType.Int32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(MemoryMarshal.Cast<byte, int>(b).ToArray(), shape)),
        DataType.Bool => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<bool>(b.Select(v => v != 0).ToArray(), shape)),
        DataType.UInt8 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<byte>(b, shape)),
        DataType.Int8 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<sbyte>(MemoryMarshal.Cast<byte, sbyte>(b).ToArray(), shape)),
        _ => throw new NotSupportedException($"--verify cannot feed input '{name}' of type {type}"),
    };

    /// <summary>One non-float input: the same values to EdgeNet's buffer and to ORT's tensor.</summary>
    static NamedOnnxValue Fill<T>(string name, int[] shape, long[] values, Span<byte> edgenet, Func<long, T> cast) where T : unmanaged
    {
        var x = values.Select(cast).ToArray();
        MemoryMarshal.AsBytes(x.AsSpan()).CopyTo(edgenet);
        return NamedOnnxValue.CreateFromTensor(name, new DenseTensor<T>(x, shape));
    }
}
