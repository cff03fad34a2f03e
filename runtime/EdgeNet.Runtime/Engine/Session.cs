using System.Runtime.InteropServices;
using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>
/// A model ready to run: kernels prepared, weights packed, one arena planned for batches up to <see cref="MaxBatch"/>.
/// Run allocates nothing. One session serves one thread at a time; make one per thread.
/// </summary>
public sealed unsafe class Session : IDisposable
{
    readonly Kernel[] kernels;
    readonly Frame frame;
    readonly NativeBuffer arenaBuf, constantsBuf;
    readonly IntraOpPool? pool;
    bool disposed;
    /// <summary>The model this session runs (its graph inputs and outputs are the session's).</summary>
    public Model Model { get; }
    /// <summary>The largest batch a Run may take (1 for a model whose input has a fixed batch).</summary>
    public int MaxBatch { get; }
    /// <summary>Native bytes planned at load for activations and scratch (allocated once, freed by Dispose).</summary>
    public long ArenaBytes { get; }
    /// <summary>The part of <see cref="ArenaBytes"/> the kernels share as scratch.</summary>
    public long ScratchBytes { get; }
    /// <summary>False when the model's input has a fixed batch (such models run one sample per call).</summary>
    public bool HasBatchDimension { get; }
    /// <summary>Threads a Run uses (the caller and the intra-op workers).</summary>
    public int Threads => pool?.Threads ?? 1;
    internal IReadOnlyList<Kernel> Kernels => kernels;
    /// <summary>The graph the kernels run: <see cref="Model"/> itself or its channels-last plan (its nodes run in order).</summary>
    public Model Plan { get; }

    /// <summary>Prepares every kernel (validating attributes and shapes, packing weights) and plans one arena for
    /// batches up to <paramref name="maxBatch"/>.</summary>
    /// <exception cref="ModelFormatException">The model cannot run (an unsupported attribute, inconsistent shapes, a tensor past 2^31 elements).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatch"/> or the thread count is out of range.</exception>
    public Session(Model model, int maxBatch = 1, KernelOptions? options = null)
    {
        if (maxBatch < 1 || maxBatch > ModelValidator.MaxBatchFactor) throw new ArgumentOutOfRangeException(nameof(maxBatch));
        Model = model;
        HasBatchDimension = model.Inputs.All(i => Format.Shape.HasBatch(model.Tensors[i].Shape));
        MaxBatch = HasBatchDimension ? maxBatch : 1;
        options ??= KernelOptions.Default;
        // The graph the kernels run: the model's own, or a channels-last plan of it (same inputs and outputs) with residual
        // Adds fused into the Convs before them, inverted residuals' expands into their depthwise Convs and attention's
        // Transposes into its MatMuls' strides.
        try { model = options.ChannelsLast && !options.Reference ? TransposeMatMulFusion.Run(ExpandDepthwiseFusion.Run(ConvSumFusion.Run(ChannelsLast.Rewrite(model)))) : model; }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException or InvalidCastException)
        {
            throw new ModelFormatException($"inconsistent graph while planning it channels-last ({e.Message})");
        }
        Plan = model;
        frame = new Frame(model);
        if (options.Threads < 1 || options.Threads > 256) throw new ArgumentOutOfRangeException(nameof(options), $"threads {options.Threads} is outside 1..256");
        if (options.Threads > 1 && !options.Reference) frame.Pool = pool = new IntraOpPool(options.Threads);

        // Constants: one aligned, pinned copy so every kernel can address them; packed weights are the kernels' own.
        long constBytes = 0;
        foreach (var t in model.Tensors) if (t.Data is { } d) constBytes += Align(d.Length);
        constantsBuf = new NativeBuffer(constBytes);
        byte* constants = constantsBuf.Pointer;
        long co = 0;
        for (int t = 0; t < model.Tensors.Count; t++)
        {
            if (model.Tensors[t].Data is not { } d) continue;
            d.Span.CopyTo(new Span<byte>(constants + co, d.Length));
            frame.Address[t] = (nint)(constants + co);
            co += Align(d.Length);
        }

        kernels = new Kernel[model.Nodes.Count];
        try
        {
            for (int n = 0; n < kernels.Length; n++) kernels[n] = KernelRegistry.Create(model, model.Nodes[n], options);
        }
        catch (OverflowException) { Dispose(); throw new ModelFormatException("a tensor size overflows"); }
        catch { Dispose(); throw; }   // buffers free themselves exactly once (NativeBuffer)

        var bytes = new long[model.Tensors.Count];
        // A tensor's span is indexed by int: more elements than that is a model no session can run.
        try
        {
            for (int t = 0; t < bytes.Length; t++)
                if (!model.Tensors[t].IsConstant)
                {
                    if (model.Tensors[t].Elements(MaxBatch) > int.MaxValue) throw new OverflowException();
                    bytes[t] = checked(model.Tensors[t].Bytes(MaxBatch));
                }
        }
        catch (OverflowException) { Dispose(); throw new ModelFormatException($"a tensor holds more than 2^31 elements at batch {MaxBatch}"); }
        var plan = MemoryPlanner.Build(model, bytes, options.Reference ? null : ConcatInPlace.Run(model, kernels, MaxBatch));
        ScratchBytes = kernels.Length == 0 ? 0 : kernels.Max(k => k.ScratchBytes(MaxBatch));
        ArenaBytes = plan.ArenaBytes + Align(ScratchBytes);
        arenaBuf = new NativeBuffer(ArenaBytes);
        byte* arena = arenaBuf.Pointer;
        for (int t = 0; t < bytes.Length; t++) if (plan.Offsets[t] >= 0) frame.Address[t] = (nint)(arena + plan.Offsets[t]);
        frame.Scratch = arena + plan.ArenaBytes;
        frame.SetBatch(MaxBatch);
    }

    static long Align(long n) => (n + 63) / 64 * 64;

    /// <summary>Where the arena (activations and scratch) and the constants' copy begin.</summary>
    internal (nint Arena, nint Constants) Bases => ((nint)arenaBuf.Pointer, (nint)constantsBuf.Pointer);

    /// <summary>True after <see cref="CarryRecurrentState"/>: recurrent layers continue from the last run's final state.</summary>
    public bool CarriesState { get; private set; }

    /// <summary>
    /// Streaming: each Run continues every LSTM/GRU/RNN layer from the state the previous Run ended in, so a stream cut
    /// into consecutive windows gives the same outputs as the whole stream at once. Refused for models without a
    /// recurrent layer or with a bidirectional one (whose backward direction cannot see the future of the stream).
    /// </summary>
    public void CarryRecurrentState()
    {
        var rec = kernels.OfType<Kernels.RecurrentKernel>().ToArray();
        if (rec.Length == 0) throw new ArgumentException("the model has no LSTM, GRU or RNN layer whose state could carry over");
        if (rec.FirstOrDefault(k => k.IsBidirectional) is { } bi) throw new ArgumentException($"layer '{bi.Node.Name}' is bidirectional; its state cannot stream");
        foreach (var k in rec) k.CarryState(MaxBatch);
        CarriesState = true;
    }

    /// <summary>Starts the stream over: the next Run begins from the model's initial state.</summary>
    public void ResetState()
    {
        foreach (var k in kernels) (k as Kernels.RecurrentKernel)?.ResetState();
    }

    /// <summary>Elements of one sample of input <paramref name="i"/> (the input's size at batch 1).</summary>
    public long InputSampleSize(int i = 0) => Model.Tensors[Model.Inputs[i]].Elements(1);
    /// <summary>Elements of one sample of output <paramref name="i"/>.</summary>
    public long OutputSampleSize(int i = 0) => Model.Tensors[Model.Outputs[i]].Elements(1);

    /// <summary>The index of the graph input named <paramref name="name"/>; ArgumentException naming the model's inputs.</summary>
    public int InputIndex(string name) => IndexOf(Model.Inputs, name, "input");
    /// <summary>The index of the graph output named <paramref name="name"/>; ArgumentException naming the model's outputs.</summary>
    public int OutputIndex(string name) => IndexOf(Model.Outputs, name, "output");
    /// <summary>Input <paramref name="i"/>'s element type.</summary>
    public DataType InputType(int i) => Model.Tensors[Model.Inputs[i]].Type;
    /// <summary>Output <paramref name="i"/>'s element type.</summary>
    public DataType OutputType(int i) => Model.Tensors[Model.Outputs[i]].Type;

    int IndexOf(List<int> tensors, string name, string what)
    {
        for (int k = 0; k < tensors.Count; k++) if (Model.Tensors[tensors[k]].Name == name) return k;
        throw new ArgumentException($"the model has no {what} '{name}'; its {what}s: {string.Join(", ", tensors.Select(t => $"'{Model.Tensors[t].Name}' ({Model.Tensors[t].Type} {Format.Shape.Format(Model.Tensors[t].Shape)})"))}", nameof(name));
    }

    /// <summary>Input <paramref name="i"/>'s buffer at batch <paramref name="batch"/>, for float32 inputs: write the input here, then call <see cref="Run(int)"/>.</summary>
    public Span<float> Input(int i, int batch) => Input<float>(i, batch);

    /// <summary>Input <paramref name="i"/>'s buffer at batch <paramref name="batch"/> as its element type: float ↔ Float32,
    /// long ↔ Int64, int ↔ Int32, byte ↔ UInt8 or Bool (0/1), sbyte ↔ Int8; another T is an InvalidOperationException.
    /// <see cref="Run(int)"/> never writes into an input: what was written stays for the next run.</summary>
    public Span<T> Input<T>(int i, int batch) where T : unmanaged
    {
        CheckBatch(batch);
        CheckIndex(i, Model.Inputs.Count, "input");
        int t = Model.Inputs[i];
        CheckType<T>(t, "input");
        frame.SetBatch(batch);
        return frame.Span<T>(t);
    }

    /// <summary>The input named <paramref name="name"/>, as <see cref="Input{T}(int, int)"/>.</summary>
    public Span<T> Input<T>(string name, int batch) where T : unmanaged => Input<T>(InputIndex(name), batch);

    /// <summary>Input <paramref name="i"/>'s buffer at batch <paramref name="batch"/> as raw little-endian bytes of its type.</summary>
    public Span<byte> InputBytes(int i, int batch)
    {
        CheckBatch(batch);
        CheckIndex(i, Model.Inputs.Count, "input");
        frame.SetBatch(batch);
        int t = Model.Inputs[i];
        return new((void*)frame.Address[t], checked((int)(frame.Size(t) * DataTypes.SizeOf(Model.Tensors[t].Type))));
    }

    /// <summary>Output <paramref name="i"/> of the last run, for float32 outputs (others: <see cref="Output{T}(int)"/>, <see cref="OutputBytes"/>).</summary>
    public ReadOnlySpan<float> Output(int i = 0) => Output<float>(i);

    /// <summary>Output <paramref name="i"/> of the last run as its element type (the pairs of <see cref="Input{T}(int, int)"/>).</summary>
    public ReadOnlySpan<T> Output<T>(int i) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        CheckIndex(i, Model.Outputs.Count, "output");
        int t = Model.Outputs[i];
        CheckType<T>(t, "output");
        return frame.Span<T>(t);
    }

    /// <summary>The output named <paramref name="name"/>, as <see cref="Output{T}(int)"/>.</summary>
    public ReadOnlySpan<T> Output<T>(string name) where T : unmanaged => Output<T>(OutputIndex(name));

    /// <summary>Output <paramref name="i"/> of the last run as the raw little-endian bytes of its type.</summary>
    public ReadOnlySpan<byte> OutputBytes(int i = 0)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        CheckIndex(i, Model.Outputs.Count, "output");
        int t = Model.Outputs[i];
        return new((void*)frame.Address[t], checked((int)(frame.Size(t) * DataTypes.SizeOf(Model.Tensors[t].Type))));
    }

    void CheckType<T>(int tensor, string what) where T : unmanaged
    {
        var d = Model.Tensors[tensor];
        if (!DataTypes.Holds<T>(d.Type))
            throw new InvalidOperationException($"{what} '{d.Name}' is {d.Type}; a span of {typeof(T).Name} cannot hold it ({Hint(d.Type)})");
    }

    static string Hint(DataType t) => t switch
    {
        DataType.Float32 => "use float", DataType.Int64 => "use long", DataType.Int32 => "use int", DataType.Int16 => "use short",
        DataType.UInt8 => "use byte", DataType.Bool => "use byte, 0 or 1", DataType.Int8 => "use sbyte", _ => "",
    };

    static void CheckIndex(int i, int count, string what)
    {
        if ((uint)i >= (uint)count) throw new ArgumentOutOfRangeException(nameof(i), $"{what} {i} is outside 0..{count - 1}");
    }

    /// <summary>Output <paramref name="i"/>'s shape at the batch of the last run.</summary>
    public ReadOnlySpan<int> OutputShape(int i = 0) => frame.Shape(Model.Outputs[i]);
    /// <summary>The shape of the output named <paramref name="name"/> at the batch of the last run.</summary>
    public ReadOnlySpan<int> OutputShape(string name) => OutputShape(OutputIndex(name));

    /// <summary>Runs the model on the first <paramref name="batch"/> samples written through <c>Input</c>; the results are
    /// then read through <c>Output</c>. Allocates nothing.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is outside 1..<see cref="MaxBatch"/>.</exception>
    public void Run(int batch)
    {
        CheckBatch(batch);
        frame.SetBatch(batch);
        foreach (var k in kernels) k.Run(frame);
        GC.KeepAlive(this);   // the arena must outlive the kernels' raw pointers into it
    }

    /// <summary>Runs like <see cref="Run(int)"/> and adds each node's elapsed Stopwatch ticks to <paramref name="ticks"/>
    /// (one entry per node of <see cref="Plan"/>, in its order).</summary>
    public void RunProfiled(int batch, long[] ticks)
    {
        CheckBatch(batch);
        frame.SetBatch(batch);
        for (int i = 0; i < kernels.Length; i++)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            kernels[i].Run(frame);
            ticks[i] += System.Diagnostics.Stopwatch.GetTimestamp() - t0;
        }
        GC.KeepAlive(this);
    }

    /// <summary>Single-input, single-output convenience: batch = input length / sample size.</summary>
    public void Run(ReadOnlySpan<float> input, Span<float> output)
    {
        long sample = InputSampleSize();
        if (input.Length == 0 || input.Length % sample != 0)
            throw new ArgumentException($"input has {input.Length} values, not a multiple of the model's {sample} per sample {Format.Shape.Format(Model.Input().Shape)}");
        int batch = (int)(input.Length / sample);
        input.CopyTo(Input(0, batch));
        Run(batch);
        var t = Model.Output();
        if (t.Type == DataType.Int8 && t.Quant is { Scale.Length: 1 } q)
        {
            var b = OutputBytes(0);   // an int8 output (QOperator models may end without Dequantize): its real values
            if (output.Length < b.Length) throw new ArgumentException($"output has room for {output.Length} values; {b.Length} needed");
            for (int i = 0; i < b.Length; i++) output[i] = Quant.QuantMath.Dequantize((sbyte)b[i], q.Scale[0], q.ZeroPoint[0]);
            return;
        }
        var y = Output(0);
        if (output.Length < y.Length) throw new ArgumentException($"output has room for {output.Length} values; {y.Length} needed");
        y.CopyTo(output);
    }

    void CheckBatch(int batch)
    {
        ObjectDisposedException.ThrowIf(disposed, this);   // the arena is freed: writing an input there corrupts the heap
        if (batch < 1 || batch > MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch), $"batch {batch} is outside 1..{MaxBatch} this session was planned for");
    }

    /// <summary>Frees the arena, the pinned constants and the intra-op threads; the session refuses every call after.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        arenaBuf?.Dispose();
        constantsBuf?.Dispose();
        pool?.Dispose();
        if (kernels != null) foreach (var k in kernels) (k as IDisposable)?.Dispose();
    }
}
