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
    /// <summary>"all", "head", or comma-separated layer or tensor names.</summary>
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
    readonly float[]?[] preActivation;      // per Dense/Conv node whose activation's derivative reads its input
    readonly OpInfo[] info;                // per node: its op table entry
    readonly long[][] longAttr;            // per node: perm (Transpose), indices (Gather), starts (Slice)
    readonly long[][] steps;               // per node: Slice steps
    readonly ConvTrainingGemm?[] convGemm;   // per Conv node: the GEMM forward and backward and their buffers
    /// <summary>Run the scalar reference passes of Conv and recurrent layers, forward and backward (tests compare them with the GEMM/SIMD twins).</summary>
    public bool ReferenceBackward { get; set; }
    /// <summary>Weights and biases of the Dense, Conv and recurrent layers, trainable or frozen by the selection.</summary>
    public Parameter[] Parameters { get; }
    /// <summary>The largest batch a step may take.</summary>
    public int MaxBatch { get; }
    /// <summary>The model being trained (its constants are replaced by <see cref="Parameters"/> when saved).</summary>
    public Model Model => model;
    int batch;

    /// <summary>Buffers for a forward and backward pass at batches up to <paramref name="maxBatch"/>; parameters chosen by
    /// <paramref name="selection"/> (default all) train, the rest are frozen.</summary>
    /// <exception cref="ModelFormatException">The model has no batch dimension, or an op that cannot be trained through.</exception>
    public TrainingSession(Model model, int maxBatch, TrainSelection? selection = null)
    {
        this.model = model;
        MaxBatch = maxBatch;
        int T = model.Tensors.Count;
        if (!model.Inputs.All(i => Format.Shape.HasBatch(model.Tensors[i].Shape))) throw new ModelFormatException("training needs a model with a batch dimension");

        // Parameters: the inputs the op table marks trainable (weights and biases of Dense, Conv and recurrent layers).
        info = model.Nodes.Select(n => OpTable.Get(n.Op)).ToArray();
        var ps = new List<Parameter>();
        foreach (var n in model.Nodes)
        {
            foreach (var s in OpTable.Get(n.Op).Parameters)
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
            else kernels[i] = KernelRegistry.Create(model, n, KernelOptions.Default with { Reference = info[i].TrainForward is not null });
            if (n.Outputs[0] >= 0) maxDz = Math.Max(maxDz, act[n.Outputs[0]].Length);
        }
        dzScratch = new float[maxDz];
        geometry = new ConvGeometry[model.Nodes.Count];
        activation = new Activation[model.Nodes.Count];
        preActivation = new float[]?[model.Nodes.Count];
        longAttr = new long[model.Nodes.Count][]; steps = new long[model.Nodes.Count][];
        convGemm = new ConvTrainingGemm?[model.Nodes.Count];
        for (int i = 0; i < model.Nodes.Count; i++)
        {
            var n = model.Nodes[i];
            int rank = n.Inputs.Length > 0 && n.Inputs[0] >= 0 ? model.Tensors[n.Inputs[0]].Shape.Length : 0;
            if (n.Op == OpType.Conv) { geometry[i] = ConvGeom(n); convGemm[i] = new ConvTrainingGemm(geometry[i]); }
            if (n.Op is OpType.MaxPool or OpType.AveragePool or OpType.GlobalAveragePool) geometry[i] = PoolGeom(n);
            if (n.Op is OpType.Dense or OpType.Conv) activation[i] = Activation.FromAttributes(n.Attributes, n.Name);
            if (info[i].Unary is { } u) activation[i] = Activation.Of(n, u);
            if (n.Op is OpType.Dense or OpType.Conv && activation[i].NeedsInput) preActivation[i] = new float[act[n.Outputs[0]].Length];
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

    /// <summary>The first input's buffer for <paramref name="rows"/> samples; sets the batch of the next pass.</summary>
    public Span<float> Input(int rows) { batch = rows; frame.SetBatch(rows); return act[model.Inputs[0]].AsSpan(0, (int)frame.Size(model.Inputs[0])); }
    /// <summary>The first output of the last <see cref="Forward"/>.</summary>
    public ReadOnlySpan<float> Output() => act[model.Outputs[0]].AsSpan(0, (int)frame.Size(model.Outputs[0]));
    /// <summary>Where the loss writes d(loss)/d(output) before <see cref="Backward"/>.</summary>
    public Span<float> OutputGrad() => grad[model.Outputs[0]].AsSpan(0, (int)frame.Size(model.Outputs[0]));

    // What the per-op passes (Gradients, by way of the op table) read.
    internal Span<float> Dz(int length) => dzScratch.AsSpan(0, length);
    internal int[] Shape(int t) => frame.Shape(t);
    internal Activation ActivationOf(int node) => activation[node];
    internal Span<float> PreActivation(int node) => preActivation[node].AsSpan(0, (int)frame.Size(model.Nodes[node].Outputs[0]));
    internal ConvGeometry Geometry(int node) => geometry[node];
    internal ConvTrainingGemm ConvGemm(int node) => convGemm[node]!;
    internal RecurrentTraining Recurrent(int node) => recurrent[node]!;
    internal long[] LongAttr(int node) => longAttr[node];
    internal Kernel KernelOf(int node) => kernels[node]!;
    internal long[] Steps(int node) => steps[node];

    internal Span<float> A(int t) => t < 0 ? default : act[t].AsSpan(0, model.Tensors[t].IsConstant ? act[t].Length : (int)frame.Size(t));
    internal Span<float> Gr(int t) => t < 0 || !needGrad[t] || grad[t] is null ? default : grad[t].AsSpan(0, model.Tensors[t].IsConstant ? grad[t].Length : (int)frame.Size(t));

    /// <summary>The forward pass at the batch set by <see cref="Input"/>, keeping every activation.</summary>
    public void Forward()
    {
        for (int i = 0; i < model.Nodes.Count; i++)
            if (info[i].TrainForward is { } forward) forward(this, i);
            else kernels[i]!.Run(frame);
    }

    internal Span<float> Bias(Node n) => n.Inputs.Length > 2 && n.Inputs[2] >= 0 ? A(n.Inputs[2]) : default;
    internal Span<float> BiasGrad(Node n) => n.Inputs.Length > 2 && n.Inputs[2] >= 0 ? Gr(n.Inputs[2]) : default;

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

    /// <summary>The backward pass from <see cref="OutputGrad"/>: every trainable parameter's <see cref="Parameter.Grad"/>.</summary>
    public void Backward()
    {
        for (int i = model.Nodes.Count - 1; i >= 0; i--)
            if (needGrad[model.Nodes[i].Outputs[0]]) info[i].Backward(this, i);
    }

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
