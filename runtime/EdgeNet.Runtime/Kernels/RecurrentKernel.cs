using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.InteropServices;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Kernels;

/// <summary>
/// LSTM, GRU and RNN with ONNX semantics: forward, reverse, bidirectional; layout 0 ([S,B,I]) or 1 ([B,S,I]);
/// optional initial states and LSTM peepholes; GRU linear_before_reset; clip; ONNX gate orders (LSTM i,o,f,c;
/// GRU z,r,h). The input projection of all steps is one GEMM; each step adds H·Rᵀ and applies the gates.
/// </summary>
internal sealed unsafe class RecurrentKernel : Kernel, IDisposable
{
    readonly OpType op;
    readonly int x, initH = -1, initC = -1, yOut, yh = -1, yc = -1;
    readonly int S, I, H, D, G, layout;
    readonly bool lbr, reference;
    readonly float clip;
    readonly Func<float, float>[] fns;        // gate activations, ONNX order (f, g[, h])
    readonly int perDir;                      // activation functions per direction
    readonly float[][] w, r, wb, rb, peep;    // per direction: W [G*H, I], R [G*H, H], biases [G*H], P [3H]
    readonly float[][] rzr, rh;               // GRU without linear_before_reset: R split into [z;r] rows and h rows
    readonly NativeBuffer?[] wPacked, rPacked, rzrPacked, rhPacked;
    readonly NativeBuffer?[] rNeon, rhNeon;   // arm64: R (GRU: its z, r rows; rhNeon its h rows) packed for RecurrentNeon.Gemv
    readonly NativeBuffer?[] biasSum;         // arm64: the biases the input projection's GEMM adds (Wb + Rb; GRU lbr: not Rb_h)

    public RecurrentKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        op = node.Op;
        G = op switch { OpType.Lstm => 4, OpType.Gru => 3, _ => 1 };
        var a = node.Attributes;
        x = node.Inputs[0];
        var xt = FloatTensor(m, x, "X");
        if (xt.Shape.Length != 3) throw Error($"X must have rank 3, got {Format.Shape.Format(xt.Shape)}");
        layout = (int)a.Int("layout", 0);
        if (layout is not (0 or 1)) throw Error($"layout {layout} is not 0 or 1");
        S = xt.Shape[layout == 0 ? 0 : 1]; I = xt.Shape[2];
        int batchDim = xt.Shape[layout == 0 ? 1 : 0];
        batchTemplate = batchDim;
        if (S < 1 || I < 1) throw Error("the sequence length and input size must be fixed and positive");
        string direction = a.String("direction", "forward");
        D = direction == "bidirectional" ? 2 : 1;
        if (direction is not ("forward" or "reverse" or "bidirectional")) throw Error($"unknown direction '{direction}'");
        Reverse0 = direction == "reverse";
        H = (int)a.Int("hidden_size", 0);
        if (H < 1 || H > 1 << 16) throw Error($"hidden_size {H} is out of range");
        lbr = a.Int("linear_before_reset", 0) != 0;
        clip = a.Float("clip", 0f);
        if (clip < 0 || float.IsNaN(clip)) throw Error($"clip {clip} must be positive");
        if (a.Int("input_forget", 0) != 0) throw Error("input_forget is not supported");
        string defaults = op switch { OpType.Lstm => "Sigmoid,Tanh,Tanh", OpType.Gru => "Sigmoid,Tanh", _ => "Tanh" };
        var names = a.String("activations", defaults).Split(',');
        perDir = op == OpType.Lstm ? 3 : op == OpType.Gru ? 2 : 1;
        if (names.Length != perDir && names.Length != perDir * D) throw Error($"activations '{string.Join(",", names)}' do not match {perDir} per direction");
        fns = names.Select(n => n is "Sigmoid" or "Tanh" or "Relu"
            ? (Func<float, float>)new Activation(Engine.OpTable.FindOnnx(n)!.Unary).Scalar
            : throw Error($"activation '{n}' is not supported (Sigmoid, Tanh, Relu)")).ToArray();

        var W = m.Tensors[node.Inputs[1]]; var R = m.Tensors[node.Inputs[2]];
        quantized = W.Type == DataType.Int8;
        if (quantized) { if (R.Type != DataType.Int8 || !W.IsConstant || !R.IsConstant) throw Error("int8 W needs int8 R, both constant"); }
        else { ConstantFloat(m, node.Inputs[1], "W"); ConstantFloat(m, node.Inputs[2], "R"); }
        if (!W.Shape.SequenceEqual([D, G * H, I])) throw Error($"W is {Format.Shape.Format(W.Shape)}, expected [{D},{G * H},{I}]");
        if (!R.Shape.SequenceEqual([D, G * H, H])) throw Error($"R is {Format.Shape.Format(R.Shape)}, expected [{D},{G * H},{H}]");
        float[]? B = Input(node, 3) is int bi ? ConstantFloat(m, bi, "B").Floats().ToArray() : null;
        if (B != null && B.Length != D * 2 * G * H) throw Error($"B has {B.Length} values, expected {D * 2 * G * H}");
        if (Input(node, 4) is not null) throw Error("sequence_lens is not supported (all sequences must be full length)");
        if (Input(node, 5) is int hi) { initH = hi; CheckState(m, hi, batchDim, "initial_h"); }
        if (op == OpType.Lstm && Input(node, 6) is int ci) { initC = ci; CheckState(m, ci, batchDim, "initial_c"); }
        float[]? P = op == OpType.Lstm && Input(node, 7) is int pi ? ConstantFloat(m, pi, "P").Floats().ToArray() : null;
        if (P != null && P.Length != D * 3 * H) throw Error($"P has {P.Length} values, expected {D * 3 * H}");

        if (quantized && op == OpType.Gru && !lbr) throw Error("int8 GRU needs linear_before_reset = 1 (keep this layer in fp32)");
        ReadOnlySpan<float> wAll = quantized ? Dequantized(W) : W.Floats(), rAll = quantized ? Dequantized(R) : R.Floats();
        w = new float[D][]; r = new float[D][]; wb = new float[D][]; rb = new float[D][]; peep = new float[D][];
        rzr = new float[D][]; rh = new float[D][];
        qw = new QMatrix?[D]; qr = new QMatrix?[D];
        wPacked = new NativeBuffer?[D]; rPacked = new NativeBuffer?[D]; rzrPacked = new NativeBuffer?[D]; rhPacked = new NativeBuffer?[D];
        reference = o.Reference;
        for (int d = 0; d < D; d++)
        {
            w[d] = wAll.Slice(d * G * H * I, G * H * I).ToArray();
            r[d] = rAll.Slice(d * G * H * H, G * H * H).ToArray();
            wb[d] = B == null ? new float[G * H] : B.AsSpan(d * 2 * G * H, G * H).ToArray();
            rb[d] = B == null ? new float[G * H] : B.AsSpan(d * 2 * G * H + G * H, G * H).ToArray();
            peep[d] = P == null ? new float[3 * H] : P.AsSpan(d * 3 * H, 3 * H).ToArray();
            rzr[d] = op == OpType.Gru ? r[d].AsSpan(0, 2 * H * H).ToArray() : [];
            rh[d] = op == OpType.Gru ? r[d].AsSpan(2 * H * H).ToArray() : [];
            if (quantized)
            {
                qw[d] = QMatrix.Slice(W, d, G * H, I, reference, o.Int8Isa);
                qr[d] = QMatrix.Slice(R, d, G * H, H, reference, o.Int8Isa, gemv: o.Int8Isa is GemmInt8.Isa.ArmDp or GemmInt8.Isa.ArmNeon);
                continue;
            }
            if (reference) continue;
            wPacked[d] = Pack(w[d], G * H, I);
            rPacked[d] = Pack(r[d], G * H, H);
            if (op == OpType.Gru && !lbr) { rzrPacked[d] = Pack(rzr[d], 2 * H, H); rhPacked[d] = Pack(rh[d], H, H); }
        }

        vectorCells = !reference && clip == 0 && P == null && a.String("activations", defaults) == defaults;
        neonStep = vectorCells && AdvSimd.Arm64.IsSupported;
        rNeon = new NativeBuffer?[D]; rhNeon = new NativeBuffer?[D]; biasSum = new NativeBuffer?[D];
        if (neonStep && !quantized)
            for (int d = 0; d < D; d++)
            {
                rNeon[d] = op == OpType.Gru ? RecurrentNeon.Pack(rzr[d], 2 * H, H) : RecurrentNeon.Pack(r[d], G * H, H);
                if (op == OpType.Gru) rhNeon[d] = RecurrentNeon.Pack(rh[d], H, H);
                var sum = new float[G * H];
                TensorPrimitives.Add(wb[d], rb[d], sum);
                if (op == OpType.Gru && lbr) wb[d].AsSpan(2 * H).CopyTo(sum.AsSpan(2 * H));   // Rb_h is multiplied by r
                biasSum[d] = NativeBuffer.Of(sum);
            }
        yOut = node.Outputs[0];
        int[] yShape = layout == 0 ? [S, D, batchDim, H] : [batchDim, S, D, H];
        int[] stateShape = layout == 0 ? [D, batchDim, H] : [batchDim, D, H];
        if (yOut >= 0) ExpectShape(m, yOut, yShape);
        if (node.Outputs.Length > 1 && node.Outputs[1] >= 0) { yh = node.Outputs[1]; ExpectShape(m, yh, stateShape); }
        if (node.Outputs.Length > 2 && node.Outputs[2] >= 0) { yc = node.Outputs[2]; ExpectShape(m, yc, stateShape); }
    }

    readonly bool Reverse0;
    readonly bool vectorCells;   // default activations, no clip, no peepholes: whole-vector gate math
    readonly bool neonStep;      // arm64 + vectorCells: RecurrentNeon's GEMV and gates (batch ≤ 2: one row at a time)
    readonly bool quantized;     // int8 W and R: dynamic int8 activations, int32 GEMMs, fp32 gates and state
    readonly QMatrix?[] qw, qr;

    static float[] Dequantized(TensorDesc t)
    {
        var q = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(t.Data!.Value.Span);
        var scales = t.Quant!.Scale; int per = q.Length / scales.Length;
        var f = new float[q.Length];
        for (int i = 0; i < q.Length; i++) f[i] = q[i] * scales[scales.Length == 1 ? 0 : i / per];
        return f;
    }
    readonly int batchTemplate;   // X's batch dimension as a template (fixed, or a multiple of N)

    static int? Input(Node n, int i) => n.Inputs.Length > i && n.Inputs[i] >= 0 ? n.Inputs[i] : null;

    void CheckState(Model m, int t, int batchDim, string what)
    {
        var s = FloatTensor(m, t, what).Shape;
        int[] expect = layout == 0 ? [D, batchDim, H] : [batchDim, D, H];
        if (!s.SequenceEqual(expect)) throw Error($"{what} is {Format.Shape.Format(s)}, expected {Format.Shape.Format(expect)}");
    }

    static NativeBuffer Pack(float[] wt, int n, int k)
    {
        var p = new NativeBuffer(Gemm.PackedSize(k, n) * 4);
        fixed (float* s = wt) Gemm.Pack(s, 1, k, k, n, p.Floats);   // B[k, j] = W[j, k]
        return p;
    }

    // Scratch: XW [S·B, G·H], HR [B, G·H], h [B, H], c [B, H], r⊙h [B, H], (r⊙h)·Rhᵀ [B, H]
    public override long ScratchBytes(int batch)
    {
        long b = Format.Shape.Resolve(batchTemplate, batch);
        long q = quantized ? S * b * (GemmInt8.KPad(Math.Max(I, H)) + 4L * G * H) + 256 : 0;   // int8 rows and int32 sums
        return 4L * (S * b * G * H + b * G * H + 4L * b * H + 64) + q;
    }

    public override void Run(Frame f)
    {
        int Bn = f.Shape(x)[layout == 0 ? 1 : 0];
        int GH = G * H;
        float* xw = (float*)f.Scratch, hr = xw + (long)S * Bn * GH, h = hr + (long)Bn * GH, c = h + Bn * H, rhv = c + Bn * H, hr2 = rhv + Bn * H;
        float* X = f.F(x);
        for (int d = 0; d < D; d++)
        {
            bool reverse = d == 1 || Reverse0;
            // Input projection of every step at once (rows in X's memory order), with the biases that do not depend on r.
            bool neon = neonStep && Bn <= 2 && !quantized;   // int8 R keeps its int8 arithmetic (and the biases added below)
            bool int8Step = neonStep && Bn <= 2 && quantized && qr[d]!.HasGemv;
            if (quantized) qw[d]!.Multiply(X, S * Bn, xw, GH, (byte*)(hr2 + Bn * H + 16));
            else if (neon) Gemm.Run(X, I, wPacked[d]!.Floats, xw, GH, S * Bn, GH, I, null, biasSum[d]!.Floats, float.NegativeInfinity, float.PositiveInfinity);
            else MatMul(X, S * Bn, I, w[d], wPacked[d], GH, xw, GH);
            if (!neon)
                for (long row = 0; row < (long)S * Bn; row++)
                {
                    var dst = new Span<float>(xw + row * GH, GH);
                    TensorPrimitives.Add(dst, wb[d], dst);
                    if (op == OpType.Gru && lbr) TensorPrimitives.Add(dst[..(2 * H)], rb[d].AsSpan(0, 2 * H), dst[..(2 * H)]);
                    else TensorPrimitives.Add(dst, rb[d], dst);
                }
            for (int b = 0; b < Bn; b++)
            {
                LoadState(f, initH, d, b, Bn, h + b * H);
                if (op == OpType.Lstm) LoadState(f, initC, d, b, Bn, c + b * H);
            }
            if (carried != null && carriedBatch == Bn)
            {
                long n = (long)Bn * H, at = 2 * d * n;
                carried.AsSpan((int)at, (int)n).CopyTo(new Span<float>(h, (int)n));
                if (op == OpType.Lstm) carried.AsSpan((int)(at + n), (int)n).CopyTo(new Span<float>(c, (int)n));
            }
            for (int step = 0; step < S; step++)
            {
                int t = reverse ? S - 1 - step : step;
                if (neon)   // h·Rᵀ onto the step's projection row in place, then the gates: NEON passes per row
                    for (int b = 0; b < Bn; b++)
                    {
                        float* g = xw + (layout == 0 ? (long)t * Bn + b : (long)b * S + t) * GH, hb = h + b * H;
                        NeonStep(g, hb, c + b * H, hr + (long)b * GH, rhv + b * H, d);
                    }
                else if (int8Step)   // the same passes with int8 R: quantize h, GEMV + dequantize onto g (GRU: onto hr), gates
                {
                    long rowStride = layout == 0 ? GH : (long)S * GH;
                    float* g0 = xw + (layout == 0 ? (long)t * Bn : t) * GH;
                    byte* qs = (byte*)(hr2 + Bn * H + 16);
                    if (op == OpType.Gru) { new Span<float>(hr, Bn * GH).Clear(); qr[d]!.MultiplyAdd(h, Bn, hr, GH, qs); }
                    else qr[d]!.MultiplyAdd(h, Bn, g0, rowStride, qs);
                    for (int b = 0; b < Bn; b++)
                    {
                        float* g = g0 + b * rowStride, hb = h + b * H;
                        if (op == OpType.Lstm) RecurrentNeon.LstmGates(g, null, c + b * H, hb, H);
                        else if (op == OpType.Rnn) RecurrentNeon.RnnGates(g, null, hb, H);
                        else fixed (float* rbh = rb[d].AsSpan(2 * H)) { float* q = hr + (long)b * GH; RecurrentNeon.GruGates(g, q, q + 2 * H, rbh, hb, H); }
                    }
                }
                else
                {
                    if (quantized) qr[d]!.Multiply(h, Bn, hr, GH, (byte*)(hr2 + Bn * H + 16));
                    else if (op == OpType.Gru && !lbr) MatMul(h, Bn, H, rzr[d], rzrPacked[d], 2 * H, hr, GH);
                    else MatMul(h, Bn, H, r[d], rPacked[d], GH, hr, GH);
                    for (int b = 0; b < Bn; b++)
                    {
                        long row = layout == 0 ? (long)t * Bn + b : (long)b * S + t;
                        float* g = xw + row * GH, q = hr + (long)b * GH, hb = h + b * H;
                        if (vectorCells) VectorCell(g, q, hb, c + b * H, rhv + b * H, d);
                        else if (op == OpType.Lstm) LstmCell(g, q, hb, c + b * H, d);
                        else if (op == OpType.Rnn) RnnCell(g, q, hb, d);
                        else GruGates(g, q, hb, rhv + b * H, d);
                    }
                    if (op == OpType.Gru && !lbr) MatMul(rhv, Bn, H, rh[d], rhPacked[d], H, hr2, H);   // (r⊙h)·R_hᵀ
                    if (op == OpType.Gru && (!vectorCells || !lbr))
                        for (int b = 0; b < Bn; b++)
                        {
                            long row = layout == 0 ? (long)t * Bn + b : (long)b * S + t;
                            if (vectorCells) RecurrentNeon.GruUpdate(xw + row * GH + 2 * H, hr2 + b * H, xw + row * GH, h + b * H, H);
                            else GruOutput(xw + row * GH, hr + (long)b * GH, hr2 + b * H, h + b * H, d);
                        }
                }
                if (yOut >= 0)
                    for (int b = 0; b < Bn; b++)
                    {
                        long off = layout == 0 ? (((long)t * D + d) * Bn + b) * H : (((long)b * S + t) * D + d) * H;
                        new ReadOnlySpan<float>(h + b * H, H).CopyTo(new Span<float>(f.F(yOut) + off, H));
                    }
            }
            for (int b = 0; b < Bn; b++)
            {
                long off = layout == 0 ? ((long)d * Bn + b) * H : ((long)b * D + d) * H;
                if (yh >= 0) new ReadOnlySpan<float>(h + b * H, H).CopyTo(new Span<float>(f.F(yh) + off, H));
                if (yc >= 0) new ReadOnlySpan<float>(c + b * H, H).CopyTo(new Span<float>(f.F(yc) + off, H));
            }
            if (carried != null)
            {
                int n = Bn * H, at = 2 * d * n;
                new ReadOnlySpan<float>(h, n).CopyTo(carried.AsSpan(at, n));
                if (op == OpType.Lstm) new ReadOnlySpan<float>(c, n).CopyTo(carried.AsSpan(at + n, n));
            }
        }
        if (carried != null) carriedBatch = Bn;
    }

    // Streaming: the final h (and c) of the last run, per direction [h B×H, c B×H], become the next run's initial state.
    float[]? carried;
    int carriedBatch = -1;
    public bool IsBidirectional => D == 2;

    /// <summary>From now on each run starts from the state the previous run ended in (same batch), not from zero.</summary>
    public void CarryState(int maxBatch)
    {
        carried = new float[2 * D * Format.Shape.Resolve(batchTemplate, maxBatch) * H];
        carriedBatch = -1;
    }

    /// <summary>The next run starts from the model's initial state again (a gap in the stream).</summary>
    public void ResetState() => carriedBatch = -1;

    void LoadState(Frame f, int tensor, int d, int b, int Bn, float* dst)
    {
        var s = new Span<float>(dst, H);
        if (tensor < 0) { s.Clear(); return; }
        long off = layout == 0 ? ((long)d * Bn + b) * H : ((long)b * D + d) * H;
        new ReadOnlySpan<float>(f.F(tensor) + off, H).CopyTo(s);
    }

    /// <summary>c[rows, n] = a[rows, k] · wᵀ (w [n, k]); the fast path uses the packed copy.</summary>
    void MatMul(float* a, int rows, int k, float[] wt, NativeBuffer? packed, int n, float* c, int ldc)
    {
        if (!reference) { Gemm.Run(a, k, packed!.Floats, c, ldc, rows, n, k, null, null, float.NegativeInfinity, float.PositiveInfinity); return; }
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int q = 0; q < k; q++) s += a[(long)i * k + q] * wt[(long)j * k + q];
                c[(long)i * ldc + j] = s;
            }
    }

    float F(int which, int d, float v)
    {
        if (clip > 0) v = Math.Clamp(v, -clip, clip);
        return fns[(fns.Length > perDir ? d * perDir : 0) + which](v);
    }

    void LstmCell(float* g, float* q, float* h, float* c, int d)
    {
        float[] p = peep[d];
        for (int j = 0; j < H; j++)
        {
            float ct = c[j];
            float i = F(0, d, g[j] + q[j] + p[j] * ct);
            float fg = F(0, d, g[2 * H + j] + q[2 * H + j] + p[2 * H + j] * ct);
            float cc = F(1, d, g[3 * H + j] + q[3 * H + j]);
            ct = fg * ct + i * cc;
            float o = F(0, d, g[H + j] + q[H + j] + p[H + j] * ct);
            c[j] = ct;
            h[j] = o * F(2, d, ct);
        }
    }

    // Vector forms of the cells: one pass with the rational σ and tanh on every ISA (RecurrentNeon's Vector128 gates;
    // the LSTM's AVX2/AVX-512 on x64; their scalar twins), so an int8 model's results agree across ISAs.
    void VectorCell(float* g, float* q, float* h, float* c, float* rh, int d)
    {
        if (op == OpType.Lstm)
        {
            if (AdvSimd.Arm64.IsSupported) RecurrentNeon.LstmGates(g, q, c, h, H);
            else RecurrentX86.LstmGates(g, q, c, h, H);
        }
        else if (op == OpType.Rnn) RecurrentNeon.RnnGates(g, q, h, H);
        else if (!lbr) RecurrentNeon.GruReset(g, q, h, rh, H);   // the candidate follows the (r⊙h)·R_hᵀ GEMM
        else fixed (float* rbh = rb[d].AsSpan(2 * H)) RecurrentNeon.GruGates(g, q, q + 2 * H, rbh, h, H);
    }

    /// <summary>
    /// One step of one row on arm64 (fp32): R's GEMV onto the projection row g in place, then the gates. GRU with
    /// linear_before_reset: h·R_hᵀ + Rb_h into t (r multiplies it); without: the second GEMV on r⊙h (in rh) onto g's h-block.
    /// </summary>
    void NeonStep(float* g, float* h, float* c, float* t, float* rh, int d)
    {
        switch (op)
        {
            case OpType.Lstm:
                RecurrentNeon.Gemv(h, H, rNeon[d]!.Floats, 4 * H, g);
                RecurrentNeon.LstmGates(g, null, c, h, H);
                break;
            case OpType.Rnn:
                RecurrentNeon.Gemv(h, H, rNeon[d]!.Floats, H, g);
                RecurrentNeon.RnnGates(g, null, h, H);
                break;
            default:
                RecurrentNeon.Gemv(h, H, rNeon[d]!.Floats, 2 * H, g);
                if (lbr)
                {
                    rb[d].AsSpan(2 * H).CopyTo(new Span<float>(t, H));
                    RecurrentNeon.Gemv(h, H, rhNeon[d]!.Floats, H, t);
                    RecurrentNeon.GruGates(g, null, t, null, h, H);
                }
                else
                {
                    RecurrentNeon.GruReset(g, null, h, rh, H);
                    RecurrentNeon.Gemv(rh, H, rhNeon[d]!.Floats, H, g + 2 * H);
                    RecurrentNeon.GruUpdate(g + 2 * H, null, g, h, H);
                }
                break;
        }
    }

    void RnnCell(float* g, float* q, float* h, int d)
    {
        for (int j = 0; j < H; j++) h[j] = F(0, d, g[j] + q[j]);
    }

    // GRU in two halves: gates z, r (and r ⊙ h for linear_before_reset = 0), then the candidate and the new state.
    void GruGates(float* g, float* q, float* h, float* rh, int d)
    {
        for (int j = 0; j < H; j++)
        {
            g[j] = F(0, d, g[j] + q[j]);                     // z, kept in place
            g[H + j] = F(0, d, g[H + j] + q[H + j]);         // r
            rh[j] = g[H + j] * h[j];
        }
    }

    void GruOutput(float* g, float* q, float* rhR, float* h, int d)
    {
        float[] rbh = rb[d];
        for (int j = 0; j < H; j++)
        {
            float z = g[j], rr = g[H + j];
            float pre = lbr ? g[2 * H + j] + rr * (q[2 * H + j] + rbh[2 * H + j]) : g[2 * H + j] + rhR[j];   // lbr = 0: Rb_h is in g
            float hh = F(1, d, pre);
            h[j] = (1 - z) * hh + z * h[j];
        }
    }

    public void Dispose()
    {
        foreach (var arr in new[] { wPacked, rPacked, rzrPacked, rhPacked, rNeon, rhNeon, biasSum })
            foreach (var p in arr) p?.Dispose();
        foreach (var q in qw.Concat(qr)) q?.Dispose();
    }
}

/// <summary>
/// An int8 weight matrix [N, K] (per-row scales) multiplied by fp32 activations quantized on the fly: one symmetric
/// scale per call (max|a| / 127), int32 sums by <see cref="GemmInt8"/>, dequantized as acc·s_a·s_w. The reference
/// path does the same integer arithmetic with loops, so the two agree exactly.
/// </summary>
internal sealed unsafe class QMatrix : IDisposable
{
    readonly int n, k, kp;
    readonly sbyte[] w;
    readonly float[] scale;
    readonly int[] comp;               // −shift·Σw per row (VNNI stores activations + 128)
    readonly NativeBuffer? packed;
    readonly bool reference;
    readonly GemmInt8.Isa isa;

    QMatrix(sbyte[] w, float[] scale, int n, int k, bool reference, GemmInt8.Isa isa, bool gemv)
    {
        this.w = w; this.scale = scale; this.n = n; this.k = k; this.reference = reference; this.isa = isa;
        gemvDot = isa == GemmInt8.Isa.ArmDp;
        kp = GemmInt8.KPad(k);
        rowScale = new float[n];
        int shift = GemmInt8.ShiftsActivations(isa) ? 128 : 0;
        comp = new int[n];
        for (int j = 0; j < n; j++) { int sum = 0; for (int i = 0; i < k; i++) sum += w[j * k + i]; comp[j] = -shift * sum; }
        if (reference) return;
        packed = new NativeBuffer(GemmInt8.PackedBytes(k, n));
        fixed (sbyte* pw = w) GemmInt8.Pack(pw, 1, k, k, n, (sbyte*)packed.Pointer, shift: false);
        if (gemv) gemvPacked = RecurrentInt8Neon.Pack(w, n, k, gemvDot);
    }

    readonly NativeBuffer? gemvPacked;   // the recurrent matrix packed for RecurrentInt8Neon (one row at a time)
    readonly bool gemvDot;   // SDOT rows (Pi 5) rather than SMLAL

    /// <summary>Whether <see cref="MultiplyAdd"/> can run (made with gemv: true; the kernel uses it on arm64).</summary>
    public bool HasGemv => gemvPacked != null;

    /// <summary>Direction d's rows of an int8 [D, N, K] tensor with D·N per-row scales (or one).</summary>
    public static QMatrix Slice(TensorDesc t, int d, int n, int k, bool reference, GemmInt8.Isa isa, bool gemv = false)
    {
        var all = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(t.Data!.Value.Span);
        var scales = t.Quant!.Scale;
        var s = scales.Length == 1 ? Enumerable.Repeat(scales[0], n).ToArray() : scales.AsSpan(d * n, n).ToArray();
        return new QMatrix(all.Slice(d * n * k, n * k).ToArray(), s, n, k, reference, isa, gemv);
    }

    /// <summary>The dynamic quantization scale of a[rows, k]: max|a|/127 (1 for all zeros). One place, because
    /// <see cref="Multiply"/> and <see cref="MultiplyAdd"/> must quantize alike to give the same bits.</summary>
    float ActivationScale(float* a, int rows)
    {
        float max = Math.Abs(TensorPrimitives.MaxMagnitude(new ReadOnlySpan<float>(a, checked(rows * k))));
        return max > 0 ? max / 127f : 1f;
    }

    /// <summary>c[rows, n] (stride ldc) = a[rows, k] · Wᵀ; <paramref name="scratch"/> holds rows·(kp + 4n) bytes.</summary>
    public void Multiply(float* a, int rows, float* c, int ldc, byte* scratch)
    {
        float sa = ActivationScale(a, rows);
        sbyte* aq = (sbyte*)scratch;
        int* acc = (int*)(scratch + ((long)rows * kp + 63) / 64 * 64);
        byte flip = !reference && GemmInt8.ShiftsActivations(isa) ? (byte)0x80 : (byte)0;
        for (int r = 0; r < rows; r++) QuantizeRow(a + (long)r * k, aq + (long)r * kp, kp, sa, flip);
        if (reference)
        {
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < n; j++)
                {
                    int s = 0;
                    for (int i = 0; i < k; i++) s += aq[(long)r * kp + i] * w[j * k + i];
                    c[(long)r * ldc + j] = s * (sa * scale[j]);
                }
            return;
        }
        GemmInt8.Run(aq, kp, (sbyte*)packed!.Pointer, acc, n, rows, n, k, isa, activationsInA: true);
        TensorPrimitives.Multiply(scale, sa, rowScale);
        fixed (int* cp = comp) fixed (float* rs = rowScale)
            for (int r = 0; r < rows; r++)
            {
                int* ar = acc + (long)r * n; float* cr = c + (long)r * ldc;
                int j = 0;
                if (Vector256.IsHardwareAccelerated)
                    for (; j + 8 <= n; j += 8)
                        (Vector256.ConvertToSingle(Vector256.Load(ar + j) + Vector256.Load(cp + j)) * Vector256.Load(rs + j)).Store(cr + j);
                else if (Vector128.IsHardwareAccelerated)
                    for (; j + 4 <= n; j += 4)
                        (Vector128.ConvertToSingle(Vector128.Load(ar + j) + Vector128.Load(cp + j)) * Vector128.Load(rs + j)).Store(cr + j);
                for (; j < n; j++) cr[j] = (ar[j] + cp[j]) * rs[j];
            }
    }

    readonly float[] rowScale;   // sa·scale[j] of the current call

    /// <summary>
    /// g_r[j] += (a_r · Wᵀ)[j] for the rows r of a (g_r at g + r·<paramref name="gStride"/>), in one pass per row
    /// (<see cref="RecurrentInt8Neon"/>): the quantization (one scale for all rows) and the dequantized values are
    /// <see cref="Multiply"/>'s, added as the gate pass adds them. <paramref name="scratch"/> holds rows·(k + 15) bytes.
    /// </summary>
    public void MultiplyAdd(float* a, int rows, float* g, long gStride, byte* scratch)
    {
        float sa = ActivationScale(a, rows);
        int k16 = RecurrentInt8Neon.KPad(k);
        TensorPrimitives.Multiply(scale, sa, rowScale);
        fixed (float* rs = rowScale)
            for (int r = 0; r < rows; r++)
            {
                QuantizeRow(a + (long)r * k, (sbyte*)scratch, k16, sa, 0);
                RecurrentInt8Neon.GemvAdd((sbyte*)scratch, k, (sbyte*)gemvPacked!.Pointer, n, rs, g + r * gStride, gemvDot);
            }
    }

    /// <summary>x/sa rounded half to even, clamped to ±127 (QuantMath.Quantize), 8 or 16 at a time; XOR flip for VNNI's
    /// unsigned side. The clamp and rounding are Requantize's single-instruction forms.</summary>
    void QuantizeRow(float* x, sbyte* q, int kPadded, float sa, byte flip)
    {
        int i = 0;
        ulong flip8 = flip * 0x0101010101010101UL;
        if (!reference && System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            var b = new Int8.Requantize.Bounds512(0, -127, 127); var s = Vector512.Create(sa); var f = Vector128.Create(flip);
            for (; i + 16 <= k; i += 16) (System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector128SByte(b.Round(Vector512.Load(x + i) / s)).AsByte() ^ f).Store((byte*)q + i);
        }
        else if (!reference && System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            var b = new Int8.Requantize.Bounds256(0, -127, 127); var s = Vector256.Create(sa);
            for (; i + 8 <= k; i += 8) { Int8.Requantize.Store8(b.Round(Vector256.Load(x + i) / s), q + i); *(ulong*)(q + i) ^= flip8; }
        }
        else if (!reference && Vector128.IsHardwareAccelerated)
        {
            var b = new Int8.Requantize.Bounds128(0, -127, 127); var s = Vector128.Create(sa);
            for (; i + 8 <= k; i += 8) { Int8.Requantize.Bounds128.Store8(b.Round(Vector128.Load(x + i) / s), b.Round(Vector128.Load(x + i + 4) / s), q + i); *(ulong*)(q + i) ^= flip8; }
        }
        for (; i < k; i++) q[i] = (sbyte)((byte)Quant.QuantMath.Quantize(x[i], sa, 0, -127, 127) ^ flip);
        for (; i < kPadded; i++) q[i] = 0;
    }

    public void Dispose() { packed?.Dispose(); gemvPacked?.Dispose(); }
}
