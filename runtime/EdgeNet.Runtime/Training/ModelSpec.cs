using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Training;

/// <summary>
/// Builds a model on the device from a short spec, e.g. "dense:512,relu,dense:10" or
/// "conv:8:3,relu,maxpool:2,flatten,dense:10" or "lstm:32,dense:10", with PyTorch's default initialization
/// (U(±1/√fan_in) for weights and biases) or Xavier/Kaiming, from a seed. The result is the same kind of graph the
/// converter writes, so the runtime, quantizer and trainer treat it like any converted model.
/// </summary>
public static class ModelSpec
{
    /// <summary>How initial weights are drawn.</summary>
    public enum Init
    {
        /// <summary>PyTorch's default for Linear/Conv: uniform ±1/√fan_in.</summary>
        Torch,
        /// <summary>Glorot uniform: ±√(6/(fan_in + fan_out)).</summary>
        Xavier,
        /// <summary>He uniform: ±√(6/fan_in).</summary>
        Kaiming,
    }

    /// <summary>A model from a layer spec ("conv:8:3,relu,maxpool:2,dense:10") for samples of <paramref name="sampleShape"/>,
    /// weights drawn with <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">The spec names an unknown layer or does not fit the shape (the message says which).</exception>
    public static Model Build(string spec, int[] sampleShape, int seed = 0, Init init = Init.Torch)
    {
        var rng = new Random(seed);
        var g = new GraphBuilder();
        int x = g.Input("input", [-1, .. sampleShape]);
        int cur = x, idx = 0;
        foreach (var raw in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = raw.Split(':');
            string name = $"l{idx++}";
            int[] shape = g.Model.Tensors[cur].Shape;
            int P(int i, int fallback) => parts.Length > i ? int.TryParse(parts[i], out var v) && v > 0 ? v : throw new ArgumentException($"'{raw}': '{parts[i]}' is not a positive number") : fallback;
            switch (parts[0].ToLowerInvariant())
            {
                case "dense":
                    {
                        if (shape.Length != 2) cur = g.Reshape(cur, [-1, (int)(g.Model.Tensors[cur].Elements(1))], name + "_flatten");
                        int ic = g.Model.Tensors[cur].Shape[1], oc = P(1, 0);
                        if (oc == 0) throw new ArgumentException($"'{raw}': dense needs a width, e.g. dense:128");
                        Limit(raw, (double)oc * ic);
                        cur = g.Add(OpType.Dense, [cur, g.Constant(name + ".weight", Weights(rng, init, oc * ic, ic, oc), oc, ic), g.Constant(name + ".bias", Uniform(rng, oc, 1 / MathF.Sqrt(ic)), oc)], name: name);
                        break;
                    }
                case "conv":
                    {
                        if (shape.Length != 4) throw new ArgumentException($"'{raw}': conv needs an NCHW input, got {Shape.Format(shape)}");
                        int oc = P(1, 0), k = P(2, 3), c = shape[1];
                        if (oc == 0) throw new ArgumentException($"'{raw}': conv needs channels, e.g. conv:8:3");
                        Limit(raw, (double)oc * c * k * k);
                        int fanIn = c * k * k;
                        var a = new Attributes().Set("pads", new long[] { k / 2, k / 2, (k - 1) / 2, (k - 1) / 2 });
                        cur = g.Add(OpType.Conv, [cur, g.Constant(name + ".weight", Weights(rng, init, oc * fanIn, fanIn, oc * k * k), oc, c, k, k), g.Constant(name + ".bias", Uniform(rng, oc, 1 / MathF.Sqrt(fanIn)), oc)], a, name);
                        break;
                    }
                case "maxpool" or "avgpool":
                    {
                        int k = P(1, 2);
                        var a = new Attributes().Set("kernel_shape", new long[] { k, k }).Set("strides", new long[] { k, k });
                        cur = g.Add(parts[0] == "maxpool" ? OpType.MaxPool : OpType.AveragePool, [cur], a, name);
                        break;
                    }
                case "gap": cur = g.Add(OpType.GlobalAveragePool, [cur], name: name); cur = g.Reshape(cur, [-1, g.Model.Tensors[cur].Shape[1]]); break;
                case "flatten": cur = g.Reshape(cur, [-1, (int)g.Model.Tensors[cur].Elements(1)], name); break;
                case var act when OpTable.FusableActivation(act) is { } op:
                    {
                        var a = new Attributes();
                        op.Write(a, "", op.Read(a, "", name));   // the op's defaults, written out
                        cur = g.Add(op.Op, [cur], a, name);
                        break;
                    }
                case "lstm" or "gru" or "rnn":
                    {
                        if (shape.Length != 3) throw new ArgumentException($"'{raw}': {parts[0]} needs an [N, T, features] input, got {Shape.Format(shape)}");
                        var op = parts[0] switch { "lstm" => OpType.Lstm, "gru" => OpType.Gru, _ => OpType.Rnn };
                        int G = op switch { OpType.Lstm => 4, OpType.Gru => 3, _ => 1 }, h = P(1, 0), i = shape[2], t = shape[1];
                        if (h == 0) throw new ArgumentException($"'{raw}': {parts[0]} needs a hidden size, e.g. lstm:32");
                        Limit(raw, (double)G * h * Math.Max(i, h));
                        float bound = 1 / MathF.Sqrt(h);   // PyTorch's recurrent init: U(±1/√hidden) for everything
                        var a = new Attributes().Set("hidden_size", (long)h).Set("layout", 1L);
                        if (op == OpType.Gru) a.Set("linear_before_reset", 1L);
                        int y = g.Add(op, [cur, g.Constant(name + ".W", Uniform(rng, G * h * i, bound), 1, G * h, i), g.Constant(name + ".R", Uniform(rng, G * h * h, bound), 1, G * h, h),
                            g.Constant(name + ".B", Uniform(rng, 2 * G * h, bound), 1, 2 * G * h)], a, name, outputs: op == OpType.Lstm ? 3 : 2);
                        int last = g.Add(OpType.Gather, [y], new Attributes().Set("axis", 1L).Set("indices", new long[] { t - 1 }).Set("scalar", 1L), name + "_last");
                        cur = g.Reshape(last, [-1, h], name + "_squeeze");
                        break;
                    }
                default: throw new ArgumentException($"unknown layer '{raw}' (dense:N, conv:C:K, maxpool:K, avgpool:K, gap, flatten, {string.Join(", ", OpTable.All.Where(e => e.Fusable).Select(e => e.Unary!.Name))}, lstm:H, gru:H, rnn:H)");
            }
        }
        if (!g.Model.Tensors.Any(t => t.IsConstant)) throw new ArgumentException($"'{spec}' has no layer with weights to train (dense:N, conv:C:K, lstm:H, gru:H, rnn:H)");
        var m = g.Build(cur);
        m.Metadata.Name = "edgenet-" + spec.Replace(',', '-').Replace(':', '_');
        m.Metadata.InputLayout = sampleShape.Length switch { 3 => "NCHW", 2 => "NTC", _ => "NC" };
        m.Metadata.Properties["spec"] = spec;
        m.Metadata.Properties["seed"] = seed.ToString();
        return m;
    }

    /// <summary>Weights per tensor that a spec may ask for (64 MiB of float32), checked before anything is allocated.</summary>
    public const int MaxLayerWeights = 1 << 24;

    static void Limit(string layer, double weights)
    {
        if (weights > MaxLayerWeights) throw new ArgumentException($"'{layer}' needs {weights:G4} weights for this input; the limit is {MaxLayerWeights} per layer");
    }

    static float[] Uniform(Random rng, int n, float bound)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * bound;
        return a;
    }

    static float[] Weights(Random rng, Init init, int n, int fanIn, int fanOut) => init switch
    {
        Init.Xavier => Uniform(rng, n, MathF.Sqrt(6f / (fanIn + fanOut))),
        Init.Kaiming => Uniform(rng, n, MathF.Sqrt(6f / fanIn)),
        _ => Uniform(rng, n, 1 / MathF.Sqrt(fanIn)),
    };
}
