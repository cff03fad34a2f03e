using EdgeNet.Format;
using EdgeNet.Io;

namespace EdgeNet.Engine;

/// <summary>
/// Data files for every graph input of a model, and runs over all their rows. An input with a batch takes
/// [N, ...sample] (or flat [N, features]) rows; an input without one takes its exact shape, used for every run, or
/// k of them stacked along the first axis for k runs (a fixed-batch model over many samples). Files of another dtype
/// convert only where no value can change (float64 → float32, integer widths), with a note.
/// </summary>
public static class ModelFeeds
{
    /// <summary>One input's data: its raw bytes in the input's type, and how it is laid over the runs;
    /// <see cref="Rows"/>: batches of the input's batch factor, or runs for an input without a batch.</summary>
    public sealed record Feed(int Input, string File, byte[] Bytes, int Rows, bool Batched);

    /// <summary>Reads "[NAME=]path" specs, one per graph input (without NAME=, the first input); with
    /// <paramref name="every"/> false, inputs may be left out (--verify feeds those itself) and only the given are returned.</summary>
    public static Feed[] Read(Model m, IReadOnlyList<string> specs, string what, Action<string> note, bool every = true)
    {
        var byInput = new string?[m.Inputs.Count];
        foreach (var spec in specs)
        {
            var (index, path) = Split(m, spec);
            if (index < 0)
            {
                if (byInput[0] is not null) throw new UsageException($"{what} '{spec}' names no input and the first input '{m.Input(0).Name}' is given already; write NAME=FILE ({Names(m)})");
                index = 0;
            }
            else if (byInput[index] is not null) throw new UsageException($"{what} gives input '{m.Input(index).Name}' twice");
            byInput[index] = path;
        }
        var missing = Enumerable.Range(0, m.Inputs.Count).Where(i => byInput[i] is null).Select(i => $"'{m.Input(i).Name}' ({m.Input(i).Type} {Shape.Format(m.Input(i).Shape)})").ToArray();
        if (every && missing.Length > 0) throw new UsageException($"no {what} for {string.Join(", ", missing)}; give each graph input as {what} NAME=X.npy");
        return Enumerable.Range(0, m.Inputs.Count).Where(i => byInput[i] is not null).Select(i => Load(m, i, byInput[i]!, what, note)).ToArray();
    }

    /// <summary>"NAME=path" where NAME is an input of the model (names may hold '=' or ':'), else the whole text is a path.</summary>
    static (int index, string path) Split(Model m, string spec)
    {
        for (int i = 0; i < m.Inputs.Count; i++)
        {
            string name = m.Input(i).Name;
            if (spec.Length > name.Length + 1 && spec.StartsWith(name, StringComparison.Ordinal) && spec[name.Length] == '=') return (i, spec[(name.Length + 1)..]);
        }
        return (-1, spec);
    }

    static string Names(Model m) => "inputs: " + string.Join(", ", m.Inputs.Select(t => $"'{m.Tensors[t].Name}'"));

    static Feed Load(Model m, int i, string path, string what, Action<string> note)
    {
        var t = m.Input(i);
        string label = $"{what} '{t.Name}' ('{Path.GetFileName(path)}')";
        if (PathCheck.Input(path) is { } bad) throw new UsageException($"{label}: {bad}");
        var npy = Npy.Read(path);
        byte[] bytes;
        try { bytes = npy.ToBytes(t.Type, out var converted); if (converted is not null) note($"note: {label}: {converted}"); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{label}: {e.Message}"); }
        if (m.Metadata.Properties.TryGetValue($"input.{t.Name}.value", out var fixedValue))
        {
            // The converter folded this input's value (--input-value): any other value would compute something else.
            var given = string.Join(",", (npy.Floats?.Select(v => (double)v) ?? npy.Longs!.Select(v => (double)v)).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (given != fixedValue) throw new InvalidDataException($"{label} holds {given}; the model was converted for {fixedValue} only (edgenet-convert --input-value {t.Name}={fixedValue})");
        }
        var f = npy.Shape;
        if (t.Shape.Length == 0)
            return f.Length == 0 ? new Feed(i, path, bytes, 1, false) : throw new InvalidDataException($"{label} has shape {Shape.Format(f)}; the input is a scalar, []");
        // [N, ...sample] or flat rows (ModelData's rule); an input without a batch takes k stacked copies for k runs.
        int count = ModelData.Rows(f, t, label) / Math.Abs(t.Shape[0]);
        bool batched = Shape.HasBatch(t.Shape);
        return new Feed(i, path, bytes, count, batched);
    }

    /// <summary>Every output over all rows: a batched output gathered along its batch axis, a fixed one joined along
    /// its first axis over the runs (one run: its exact shape).</summary>
    public static BatchRunner.Result[] RunAll(Session s, Feed[] feeds, out int rows)
    {
        var m = s.Model;
        var counts = feeds.Where(f => f.Rows > 1 || f.Batched).Select(f => f.Rows).Distinct().ToArray();
        if (counts.Length > 1)
            throw new InvalidDataException($"the inputs hold different numbers of rows ({string.Join(", ", feeds.Select(f => $"'{m.Input(f.Input).Name}': {f.Rows}"))})");
        rows = counts.Length == 1 ? counts[0] : 1;
        int total = rows;
        int step = feeds.All(f => f.Batched) ? s.MaxBatch : 1;   // inputs without a batch: one run per row
        var outs = new (int[] shape, long outer, long inner, byte[] bytes)[m.Outputs.Count];
        for (int o = 0; o < outs.Length; o++)
        {
            var t = m.Output(o);
            long size = DataTypes.SizeOf(t.Type), outer = 1, inner = size;
            int axis = Array.FindIndex(t.Shape, d => d < 0);
            int[] shape;
            if (axis >= 0)
            {
                shape = t.Shape.Select(d => Shape.Resolve(d, total)).ToArray();
                for (int d = 0; d < t.Shape.Length; d++) if (d < axis) outer *= t.Shape[d]; else inner *= Math.Abs(t.Shape[d]);
            }
            else
            {
                shape = total == 1 ? t.Shape : t.Shape.Length == 0 ? [total] : [checked(total * t.Shape[0]), .. t.Shape[1..]];
                inner *= t.Elements(1);
            }
            outs[o] = (shape, outer, inner, new byte[checked(total * outer * inner)]);
        }
        for (int start = 0; start < total; start += step)
        {
            int n = Math.Min(step, total - start);
            foreach (var f in feeds)
            {
                var dst = s.InputBytes(f.Input, n);
                long per = f.Rows > 0 ? f.Bytes.LongLength / f.Rows : f.Bytes.LongLength;
                if (f.Batched || f.Rows > 1) f.Bytes.AsSpan(checked((int)(start * per)), dst.Length).CopyTo(dst);
                else f.Bytes.AsSpan(0, dst.Length).CopyTo(dst);
            }
            s.Run(n);
            for (int o = 0; o < outs.Length; o++)
            {
                var (_, outer, inner, bytes) = outs[o];
                var y = s.OutputBytes(o);
                long chunk = n * inner;
                for (long k = 0; k < outer; k++)
                    y.Slice((int)(k * chunk), (int)chunk).CopyTo(bytes.AsSpan((int)(k * total * inner + start * inner)));
            }
        }
        return outs.Select((x, o) => new BatchRunner.Result(m.Output(o).Type, x.shape, x.bytes)).ToArray();
    }

    /// <summary>DIR/&lt;k&gt;_&lt;name&gt;.npy for output k: characters outside [A-Za-z0-9._-] become '_', and the name is
    /// cut to <see cref="MaxOutputNameChars"/> (a file name holds 255 bytes, and the atomic write adds a temporary
    /// suffix; a TensorFlow export names a tensor after every op fused into it: M-LSD has 240-character names).
    /// The index k keeps cut names apart.</summary>
    public static string OutputFileName(int k, string name)
    {
        var safe = string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_'));
        return $"{k}_{(safe.Length > MaxOutputNameChars ? safe[..MaxOutputNameChars] : safe)}.npy";
    }

    /// <summary>The most characters of an output's name that <see cref="OutputFileName"/> keeps.</summary>
    public const int MaxOutputNameChars = 120;
}
