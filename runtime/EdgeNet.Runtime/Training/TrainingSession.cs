using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Training;

/// <summary>Which parameters train: all, the last parameterized layer ("head"), or named layers/tensors.</summary>
public sealed record TrainSelection(string Mode = "all", string[]? Names = null)
{
    public static TrainSelection Parse(string spec) => spec switch
    {
        "all" or "head" => new(spec),
        _ => new("names", spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
    };
}

/// <summary>
/// Forward with every activation kept, backward in reverse node order, over one model at a batch up to
/// <see cref="MaxBatch"/>. Buffers are made once; Dense, Conv and recurrent layers run from the fp32 parameter
/// values (which the optimizer updates), every other op runs its inference kernel.
/// BatchNorm is whatever the graph holds: folded into Conv/Dense by the converter (then trained as that layer's
/// weights, as PyTorch's eval-mode fine-tuning does), or a frozen ChannelAffine. Dropout is absent (eval mode).
/// </summary>
public sealed unsafe class TrainingSession
{
    readonly Model model;
    readonly Frame frame;
    readonly float[][] act, grad;
    readonly bool[] needGrad;
    readonly Kernel?[] kernels;
    readonly RecurrentTraining?[] recurrent;
    readonly Dictionary<int, Parameter> paramOf = [];
    readonly float[] dzScratch;
    readonly ConvGeometry[] geometry;      // per node: Conv and pool windows, resolved once
    readonly Activation[] activation;      // per node: fused (Dense/Conv) or standalone activation
    readonly long[][] longAttr;            // per node: perm (Transpose), indices (Gather), starts (Slice)
    readonly long[][] steps;               // per node: Slice steps
    readonly ConvTrainingGemm?[] convGemm;   // per Conv node: the GEMM forward and backward and their buffers
    /// <summary>Run the scalar reference passes of Conv and recurrent layers, forward and backward (tests compare them with the GEMM/SIMD twins).</summary>
    public bool ReferenceBackward { get; set; }
    public Parameter[] Parameters { get; }
    public int MaxBatch { get; }
    public Model Model => model;
    int batch;

    public TrainingSession(Model model, int maxBatch, TrainSelection? selection = null)
    {
        this.model = model;
        MaxBatch = maxBatch;
        int T = model.Tensors.Count;
        if (!model.Inputs.All(i => Shape.HasBatch(model.Tensors[i].Shape))) throw new ModelFormatException("training needs a model with a batch dimension");

        // Parameters: the weights and biases of Dense, Conv and recurrent layers.
        var ps = new List<Parameter>();
        foreach (var n in model.Nodes)
        {
            int[] slots = n.Op switch { OpType.Dense or OpType.Conv => [1, 2], OpType.Lstm or OpType.Gru or OpType.Rnn => [1, 2, 3], _ => [] };
            foreach (var s in slots)
            {
                if (n.Inputs.Length <= s || n.Inputs[s] < 0 || paramOf.ContainsKey(n.Inputs[s])) continue;
                var t = model.Tensors[n.Inputs[s]];
                if (!t.IsConstant || t.Type != DataType.Float32) throw new ModelFormatException($"node '{n.Name}': parameter '{t.Name}' is not an fp32 constant; cannot train it");
                var value = GC.AllocateArray<float>(t.Floats().Length, pinned: true);
                t.Floats().CopyTo(value);
                var p = new Parameter(t.Name, n.Inputs[s], value, t.Shape);
                paramOf[n.Inputs[s]] = p; ps.Add(p);
            }
        }
        Parameters = ps.ToArray();
        Select(selection ?? new TrainSelection());

        frame = new Frame(model);
        act = new float[T][]; grad = new float[T][];
        needGrad = new bool[T];
        foreach (var (t, p) in paramOf) needGrad[t] = p.Trainable;
        foreach (var n in model.Nodes)
            if (n.Inputs.Any(i => i >= 0 && needGrad[i])) foreach (var o in n.Outputs) if (o >= 0) needGrad[o] = true;
        for (int t = 0; t < T; t++)
        {
            var d = model.Tensors[t];
            if (paramOf.TryGetValue(t, out var p)) act[t] = p.Value;
            else if (d.IsConstant) { act[t] = GC.AllocateArray<float>(d.Floats().Length, pinned: true); d.Floats().CopyTo(act[t]); }
            else act[t] = GC.AllocateArray<float>(checked((int)d.Elements(maxBatch)), pinned: true);
            if (!d.IsConstant || paramOf.ContainsKey(t)) grad[t] = paramOf.TryGetValue(t, out var pp) ? pp.Grad : new float[act[t].Length];
            frame.Address[t] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(act[t]));
        }
        kernels = new Kernel?[model.Nodes.Count];
        recurrent = new RecurrentTraining?[model.Nodes.Count];
        int maxDz = 1;
        for (int i = 0; i < model.Nodes.Count; i++)
        {
            var n = model.Nodes[i];
            if (n.Op is OpType.Lstm or OpType.Gru or OpType.Rnn) recurrent[i] = new RecurrentTraining(model, n);
            else if (n.Op is not (OpType.Dense or OpType.Conv)) kernels[i] = KernelRegistry.Create(model, n, KernelOptions.Default);
            else kernels[i] = KernelRegistry.Create(model, n, KernelOptions.Default with { Reference = true });
            if (n.Outputs[0] >= 0) maxDz = Math.Max(maxDz, act[n.Outputs[0]].Length);
        }
        dzScratch = new float[maxDz];
        geometry = new ConvGeometry[model.Nodes.Count];
        activation = new Activation[model.Nodes.Count];
        longAttr = new long[model.Nodes.Count][]; steps = new long[model.Nodes.Count][];
        convGemm = new ConvTrainingGemm?[model.Nodes.Count];
        for (int i = 0; i < model.Nodes.Count; i++)
        {
            var n = model.Nodes[i];
            int rank = n.Inputs.Length > 0 && n.Inputs[0] >= 0 ? model.Tensors[n.Inputs[0]].Shape.Length : 0;
            if (n.Op == OpType.Conv) { geometry[i] = ConvGeom(n); convGemm[i] = new ConvTrainingGemm(geometry[i]); }
            if (n.Op is OpType.MaxPool or OpType.AveragePool or OpType.GlobalAveragePool) geometry[i] = PoolGeom(n);
            if (n.Op is OpType.Dense or OpType.Conv) activation[i] = Activation.FromAttributes(n.Attributes, n.Name);
            if (n.Op is OpType.Relu or OpType.Clip or OpType.LeakyRelu or OpType.Sigmoid or OpType.Tanh) activation[i] = Unary(n);
            longAttr[i] = n.Op switch
            {
                OpType.Transpose => n.Attributes.Ints("perm", Enumerable.Range(0, rank).Reverse().Select(v => (long)v).ToArray()),
                OpType.Gather => n.Attributes.Ints("indices", []),
                OpType.Slice => n.Attributes.Ints("starts", new long[rank]),
                _ => [],
            };
            steps[i] = n.Op == OpType.Slice ? n.Attributes.Ints("steps", Enumerable.Repeat(1L, rank).ToArray()) : [];
        }
        var scratch = kernels.Max(k => k?.ScratchBytes(maxBatch) ?? 0);
        scratchBuf = new NativeBuffer(scratch);
        frame.Scratch = scratchBuf.Pointer;
    }

    readonly NativeBuffer scratchBuf;

    void Select(TrainSelection s)
    {
        if (s.Mode == "all") return;
        if (s.Mode == "head")
        {
            var last = model.Nodes.Last(n => n.Inputs.Skip(1).Any(paramOf.ContainsKey));
            foreach (var (t, p) in paramOf) p.Trainable = last.Inputs.Contains(t);
            return;
        }
        var names = s.Names ?? [];
        foreach (var (t, p) in paramOf)
        {
            var owner = model.Nodes.First(n => n.Inputs.Contains(t));
            p.Trainable = names.Any(nm => owner.Name == nm || p.Name == nm || p.Name.StartsWith(nm + ".", StringComparison.Ordinal));
        }
        foreach (var nm in names)
            if (!paramOf.Values.Any(p => p.Trainable && (p.Name == nm || p.Name.StartsWith(nm + ".", StringComparison.Ordinal) || model.Nodes.Any(n => n.Name == nm && n.Inputs.Contains(p.Tensor)))))
                throw new ArgumentException($"--train '{nm}' names no layer or parameter; layers with parameters: {string.Join(", ", model.Nodes.Where(n => n.Inputs.Skip(1).Any(paramOf.ContainsKey)).Select(n => n.Name))}");
    }

    /// <summary>Bytes of every buffer training holds: activations, gradients, parameters and optimizer state.</summary>
    public long MemoryBytes() => 4L * (act.Sum(a => (long)(a?.Length ?? 0)) + grad.Sum(g => (long)(g?.Length ?? 0))
        + Parameters.Sum(p => (long)(p.State1?.Length ?? 0) + (p.State2?.Length ?? 0)) + dzScratch.Length) + scratchBuf.Bytes;

    /// <summary>Room for per-batch loss targets (one-hot rows for MSE), made once.</summary>
    public float[] TargetScratch => targetScratch ??= new float[act[model.Outputs[0]].Length];
    float[]? targetScratch;

    public Span<float> Input(int rows) { batch = rows; frame.SetBatch(rows); return act[model.Inputs[0]].AsSpan(0, (int)frame.Size(model.Inputs[0])); }
    public ReadOnlySpan<float> Output() => act[model.Outputs[0]].AsSpan(0, (int)frame.Size(model.Outputs[0]));
    public Span<float> OutputGrad() => grad[model.Outputs[0]].AsSpan(0, (int)frame.Size(model.Outputs[0]));

    Span<float> A(int t) => t < 0 ? default : act[t].AsSpan(0, model.Tensors[t].IsConstant ? act[t].Length : (int)frame.Size(t));
    Span<float> Gr(int t) => t < 0 || !needGrad[t] || grad[t] is null ? default : grad[t].AsSpan(0, model.Tensors[t].IsConstant ? grad[t].Length : (int)frame.Size(t));

    public void Forward()
    {
        for (int i = 0; i < model.Nodes.Count; i++)
        {
            var n = model.Nodes[i];
            switch (n.Op)
            {
                case OpType.Dense:
                    {
                        int ic = model.Tensors[n.Inputs[1]].Shape[1], oc = model.Tensors[n.Inputs[1]].Shape[0];
                        var x = A(n.Inputs[0]); var w = A(n.Inputs[1]); var b = Bias(n); var y = A(n.Outputs[0]);
                        var a = activation[i];
                        int rows = x.Length / ic;
                        for (int r = 0; r < rows; r++)
                            for (int o = 0; o < oc; o++)
                                y[r * oc + o] = TensorPrimitives.Dot(x.Slice(r * ic, ic), w.Slice(o * ic, ic)) + (b.IsEmpty ? 0 : b[o]);
                        a.Apply(y);
                        break;
                    }
                case OpType.Conv:
                    {
                        if (ReferenceBackward) Conv.Run(A(n.Inputs[0]), A(n.Inputs[1]), Bias(n), A(n.Outputs[0]), frame.Shape(n.Inputs[0])[0], geometry[i], activation[i]);
                        else convGemm[i]!.Forward(A(n.Inputs[0]), A(n.Inputs[1]), Bias(n), A(n.Outputs[0]), frame.Shape(n.Inputs[0])[0], activation[i]);
                        break;
                    }
                case OpType.Lstm or OpType.Gru or OpType.Rnn:
                    {
                        var rt = recurrent[i]!;
                        rt.Vectorized = !ReferenceBackward;
                        rt.Forward(A(rt.X), A(rt.W), A(rt.R), A(rt.B), A(rt.InitH), A(rt.InitC), A(rt.Y), A(rt.Yh), A(rt.Yc), frame.Shape(rt.X)[model.Nodes[i].Attributes.Int("layout", 0) == 0 ? 1 : 0]);
                        break;
                    }
                default: kernels[i]!.Run(frame); break;
            }
        }
    }

    Span<float> Bias(Node n) => n.Inputs.Length > 2 && n.Inputs[2] >= 0 ? A(n.Inputs[2]) : default;
    Span<float> BiasGrad(Node n) => n.Inputs.Length > 2 && n.Inputs[2] >= 0 ? Gr(n.Inputs[2]) : default;

    ConvGeometry ConvGeom(Node n)
    {
        var xs = model.Tensors[n.Inputs[0]].Shape; var ws = model.Tensors[n.Inputs[1]].Shape;
        var a = n.Attributes; var s = a.Ints("strides", [1, 1]); var p = a.Ints("pads", [0, 0, 0, 0]); var d = a.Ints("dilations", [1, 1]);
        var ys = model.Tensors[n.Outputs[0]].Shape;
        return new ConvGeometry(xs[1], xs[2], xs[3], ws[0], ys[2], ys[3], ws[2], ws[3], (int)s[0], (int)s[1], (int)p[0], (int)p[1], (int)d[0], (int)d[1], (int)a.Int("group", 1));
    }

    ConvGeometry PoolGeom(Node n)
    {
        var xs = model.Tensors[n.Inputs[0]].Shape; var ys = model.Tensors[n.Outputs[0]].Shape; var a = n.Attributes;
        if (n.Op == OpType.GlobalAveragePool) return new ConvGeometry(xs[1], xs[2], xs[3], xs[1], 1, 1, xs[2], xs[3], 1, 1, 0, 0, 1, 1, xs[1]);
        var k = a.Ints("kernel_shape", [1, 1]); var s = a.Ints("strides", [1, 1]); var p = a.Ints("pads", [0, 0, 0, 0]); var d = a.Ints("dilations", [1, 1]);
        return new ConvGeometry(xs[1], xs[2], xs[3], xs[1], ys[2], ys[3], (int)k[0], (int)k[1], (int)s[0], (int)s[1], (int)p[0], (int)p[1], (int)d[0], (int)d[1], xs[1]);
    }

    /// <summary>Zeroes every gradient, then propagates d(loss)/d(output) (written to <see cref="OutputGrad"/> first) back to the parameters.</summary>
    public void ZeroGrad(bool keepOutput)
    {
        for (int t = 0; t < grad.Length; t++)
            if (grad[t] is not null && !(keepOutput && model.Outputs.Contains(t))) Array.Clear(grad[t]);
    }

    public void Backward()
    {
        for (int i = model.Nodes.Count - 1; i >= 0; i--)
        {
            var n = model.Nodes[i];
            int y = n.Outputs[0];
            if (!needGrad[y]) continue;
            var dy = Gr(y);
            switch (n.Op)
            {
                case OpType.Dense:
                    {
                        var ws = model.Tensors[n.Inputs[1]].Shape;
                        var dz = dzScratch.AsSpan(0, dy.Length);
                        Training.Backward.Activation(activation[i], A(y), dy, dz);
                        Training.Backward.Dense(A(n.Inputs[0]), A(n.Inputs[1]), dz, Gr(n.Inputs[0]), Gr(n.Inputs[1]), BiasGrad(n), dy.Length / ws[0], ws[1], ws[0]);
                        break;
                    }
                case OpType.Conv:
                    {
                        var dz = dzScratch.AsSpan(0, dy.Length);
                        Training.Backward.Activation(activation[i], A(y), dy, dz);
                        if (ReferenceBackward) Training.Backward.Conv(A(n.Inputs[0]), A(n.Inputs[1]), dz, Gr(n.Inputs[0]), Gr(n.Inputs[1]), BiasGrad(n), frame.Shape(n.Inputs[0])[0], geometry[i]);
                        else convGemm[i]!.Run(A(n.Inputs[0]), A(n.Inputs[1]), dz, Gr(n.Inputs[0]), Gr(n.Inputs[1]), BiasGrad(n), frame.Shape(n.Inputs[0])[0]);
                        break;
                    }
                case OpType.Lstm or OpType.Gru or OpType.Rnn:
                    {
                        var rt = recurrent[i]!;
                        rt.Vectorized = !ReferenceBackward;
                        rt.Backward(A(rt.X), A(rt.W), A(rt.R), A(rt.B), A(rt.InitH), A(rt.InitC), Gr(rt.Y), Gr(rt.Yh), Gr(rt.Yc),
                            Gr(rt.X), Gr(rt.W), Gr(rt.R), Gr(rt.B), Gr(rt.InitH), Gr(rt.InitC), frame.Shape(rt.X)[n.Attributes.Int("layout", 0) == 0 ? 1 : 0]);
                        break;
                    }
                case OpType.Relu or OpType.Clip or OpType.LeakyRelu or OpType.Sigmoid or OpType.Tanh:
                    {
                        var dx = Gr(n.Inputs[0]);
                        if (dx.IsEmpty) break;
                        var dz = dzScratch.AsSpan(0, dy.Length);
                        Training.Backward.Activation(activation[i], A(y), dy, dz);
                        TensorPrimitives.Add(dx, dz, dx);
                        break;
                    }
                case OpType.Softmax:
                    {
                        int axis = (int)n.Attributes.Int("axis", -1); var s = frame.Shape(y); if (axis < 0) axis += s.Length;
                        if (!Gr(n.Inputs[0]).IsEmpty) Training.Backward.Softmax(A(y), dy, Gr(n.Inputs[0]), s, axis);
                        break;
                    }
                case OpType.MaxPool:
                    Training.Backward.MaxPool(A(n.Inputs[0]), dy, Gr(n.Inputs[0]), frame.Shape(y)[0], geometry[i]); break;
                case OpType.AveragePool:
                    {
                        var g = geometry[i];
                        int padBottom = (g.OH - 1) * g.StrideH + g.KH - g.H - g.PadTop, padRight = (g.OW - 1) * g.StrideW + g.KW - g.W - g.PadLeft;
                        var p = n.Attributes.Ints("pads", Array.Empty<long>());
                        if (p.Length == 4) { padBottom = (int)p[2]; padRight = (int)p[3]; }
                        Training.Backward.AveragePool(dy, Gr(n.Inputs[0]), frame.Shape(y)[0], g, n.Attributes.Int("count_include_pad", 0) != 0, padBottom, padRight);
                        break;
                    }
                case OpType.GlobalAveragePool:
                    {
                        var dx = Gr(n.Inputs[0]); int hw = dx.Length / dy.Length;
                        for (int c = 0; c < dy.Length; c++) { var blk = dx.Slice(c * hw, hw); TensorPrimitives.Add(blk, dy[c] / hw, blk); }
                        break;
                    }
                case OpType.ChannelAffine:
                    {
                        var dx = Gr(n.Inputs[0]); var sc = A(n.Inputs[1]); int ch = sc.Length;
                        int inner = dx.Length / (frame.Shape(y)[0] * ch);
                        for (int j = 0; j < dx.Length; j++) dx[j] += dy[j] * sc[j / inner % ch];
                        break;
                    }
                case OpType.Add or OpType.Sub or OpType.Mul or OpType.Div:
                    Training.Backward.Binary(n.Op, A(n.Inputs[0]), frame.Shape(n.Inputs[0]), A(n.Inputs[1]), frame.Shape(n.Inputs[1]), dy, frame.Shape(y), Gr(n.Inputs[0]), Gr(n.Inputs[1]));
                    break;
                case OpType.Reshape:
                    { var dx = Gr(n.Inputs[0]); if (!dx.IsEmpty) TensorPrimitives.Add(dx, dy, dx); break; }
                case OpType.Transpose:
                    Training.Backward.Transpose(dy, Gr(n.Inputs[0]), frame.Shape(n.Inputs[0]), longAttr[i]);
                    break;
                case OpType.Concat:
                    {
                        var s = frame.Shape(y); int axis = (int)n.Attributes.Int("axis", 0); if (axis < 0) axis += s.Length;
                        int outer = 1, inner = 1;
                        for (int d = 0; d < axis; d++) outer *= s[d];
                        for (int d = axis + 1; d < s.Length; d++) inner *= s[d];
                        int pos = 0;
                        for (int o = 0; o < outer; o++)
                            foreach (var inp in n.Inputs)
                            {
                                int blk = frame.Shape(inp)[axis] * inner;
                                var dx = Gr(inp);
                                if (!dx.IsEmpty) { var d = dx.Slice(o * blk, blk); TensorPrimitives.Add(d, dy.Slice(pos, blk), d); }
                                pos += blk;
                            }
                        break;
                    }
                case OpType.Gather:
                    {
                        var s = frame.Shape(n.Inputs[0]); int axis = (int)n.Attributes.Int("axis", 0); if (axis < 0) axis += s.Length;
                        var idx = longAttr[i];
                        int outer = 1, inner = 1;
                        for (int d = 0; d < axis; d++) outer *= s[d];
                        for (int d = axis + 1; d < s.Length; d++) inner *= s[d];
                        var dx = Gr(n.Inputs[0]); int pos = 0;
                        for (int o = 0; o < outer; o++)
                            foreach (var raw in idx)
                            {
                                long k = raw < 0 ? raw + s[axis] : raw;
                                var d = dx.Slice((int)((o * s[axis] + k) * inner), inner);
                                TensorPrimitives.Add(d, dy.Slice(pos, inner), d); pos += inner;
                            }
                        break;
                    }
                case OpType.Slice:
                    {
                        var s = frame.Shape(n.Inputs[0]); var so = frame.Shape(y); int r = s.Length;
                        var starts = longAttr[i]; var step = steps[i];
                        var dx = Gr(n.Inputs[0]);
                        Span<long> stride = stackalloc long[Shape.MaxRank];
                        long st = 1;
                        for (int d = r - 1; d >= 0; d--) { stride[d] = st; st *= s[d]; }
                        for (int i2 = 0; i2 < dy.Length; i2++)
                        {
                            long rem = i2, src = 0;
                            for (int d = r - 1; d >= 0; d--) { long k = rem % so[d]; rem /= so[d]; src += (starts[d] + k * step[d]) * stride[d]; }
                            dx[(int)src] += dy[i2];
                        }
                        break;
                    }
                default: throw new NotSupportedException($"no backward pass for {n.Op}");
            }
        }
    }

    static Activation Unary(Node n) => n.Op switch
    {
        OpType.Relu => new Activation(ActivationKind.Relu),
        OpType.Clip => new Activation(ActivationKind.Clip, Min: n.Attributes.Float("min", float.NegativeInfinity), Max: n.Attributes.Float("max", float.PositiveInfinity)),
        OpType.LeakyRelu => new Activation(ActivationKind.LeakyRelu, Alpha: n.Attributes.Float("alpha", 0.01f)),
        OpType.Sigmoid => new Activation(ActivationKind.Sigmoid),
        _ => new Activation(ActivationKind.Tanh),
    };

    /// <summary>The model with the current parameter values as its weights.</summary>
    public Model Export()
    {
        var m = new Model { Metadata = model.Metadata };
        for (int t = 0; t < model.Tensors.Count; t++)
        {
            var d = model.Tensors[t];
            m.Tensors.Add(paramOf.TryGetValue(t, out var p)
                ? new TensorDesc(d.Name, d.Type, d.Shape) { Quant = d.Quant, Data = MemoryMarshal.AsBytes(p.Value.AsSpan()).ToArray() }
                : d);
        }
        m.Nodes.AddRange(model.Nodes); m.Inputs.AddRange(model.Inputs); m.Outputs.AddRange(model.Outputs);
        return m;
    }
}
