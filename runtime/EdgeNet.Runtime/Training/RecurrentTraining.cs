using System.Numerics.Tensors;
using EdgeNet.Format;

namespace EdgeNet.Training;

/// <summary>
/// LSTM, GRU and RNN forward with the caches backpropagation through time needs, and the backward pass, with ONNX
/// semantics (gate orders, directions, layouts, initial states); peepholes, clip and non-default activations other
/// than RNN's Relu are refused for training. Every dot product and rank-1 update goes through <see cref="Dot"/> and
/// <see cref="Axpy"/>: SIMD (TensorPrimitives) by default, plain loops when <see cref="Vectorized"/> is off (the
/// reference the twin tests compare with).
/// </summary>
internal sealed class RecurrentTraining
{
    readonly OpType op;
    readonly int S, I, H, D, G, layout;
    readonly bool lbr, relu, reverseOnly;
    public readonly int X, W, R, B, InitH, InitC, Y, Yh, Yc;
    /// <summary>The axis of X that holds the batch (ONNX layout 0: [S, N, I]; 1: [N, S, I]).</summary>
    public int BatchAxis => layout == 0 ? 1 : 0;
    float[] gates = [], states = [], cells = [], extra = [];   // caches, [D, S, batch, ...]
    int cachedBatch;
    readonly float[] pre, hr, h, c, hNew, dh, dc, dhPrev, dan, dhr, zeros;   // per-step work vectors, made once

    public RecurrentTraining(Model m, Node node)
    {
        op = node.Op;
        G = op switch { OpType.Lstm => 4, OpType.Gru => 3, _ => 1 };
        var a = node.Attributes;
        layout = (int)a.Int("layout", 0);
        var xs = m.Tensors[node.Inputs[0]].Shape;
        S = xs[layout == 0 ? 0 : 1]; I = xs[2];
        H = (int)a.Int("hidden_size", 0);
        string dir = a.String("direction", "forward");
        D = dir == "bidirectional" ? 2 : 1; reverseOnly = dir == "reverse";
        lbr = a.Int("linear_before_reset", 0) != 0;
        string acts = a.String("activations", "");
        relu = op == OpType.Rnn && acts.StartsWith("Relu", StringComparison.Ordinal);
        if (a.Float("clip", 0) > 0) throw new ModelFormatException($"node '{node.Name}': training a recurrent layer with clip is not supported");
        if (acts.Length > 0 && !(op == OpType.Rnn && acts.Split(',').All(s => s is "Relu" or "Tanh") && acts.Split(',').Distinct().Count() == 1)
            && acts != (op == OpType.Lstm ? "Sigmoid,Tanh,Tanh" : op == OpType.Gru ? "Sigmoid,Tanh" : "Tanh"))
            throw new ModelFormatException($"node '{node.Name}': training with activations '{acts}' is not supported");
        int In(int i) => node.Inputs.Length > i ? node.Inputs[i] : -1;
        if (In(7) >= 0) throw new ModelFormatException($"node '{node.Name}': training LSTM peepholes is not supported");
        X = In(0); W = In(1); R = In(2); B = In(3); InitH = In(5); InitC = op == OpType.Lstm ? In(6) : -1;
        int Out(int i) => node.Outputs.Length > i ? node.Outputs[i] : -1;
        Y = Out(0); Yh = Out(1); Yc = Out(2);
        pre = new float[G * H]; hr = new float[G * H]; h = new float[H]; c = new float[H]; hNew = new float[H];
        dh = new float[H]; dc = new float[H]; dhPrev = new float[H]; dan = new float[H]; dhr = new float[H]; zeros = new float[H];
        daBuf = new float[G * H];
    }
    readonly float[] daBuf;

    long Row(int t, int b, int batch) => layout == 0 ? (long)t * batch + b : (long)b * S + t;
    long YOff(int t, int d, int b, int batch) => layout == 0 ? (((long)t * D + d) * batch + b) * H : (((long)b * S + t) * D + d) * H;
    long StateOff(int d, int b, int batch) => layout == 0 ? ((long)d * batch + b) * H : ((long)b * D + d) * H;
    long Cache(int d, int t, int b, int batch, int width) => (((long)d * S + t) * batch + b) * width;

    static float Sig(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>False: the scalar reference loops.</summary>
    public bool Vectorized { get; set; } = true;

    float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (Vectorized) return TensorPrimitives.Dot(a, b);
        float v = 0;
        for (int k = 0; k < a.Length; k++) v += a[k] * b[k];
        return v;
    }

    /// <summary>y += v·x</summary>
    void Axpy(float v, ReadOnlySpan<float> x, Span<float> y)
    {
        if (Vectorized) { TensorPrimitives.MultiplyAdd(x, v, y, y); return; }
        for (int k = 0; k < x.Length; k++) y[k] += v * x[k];
    }

    /// <summary>x [.., I]; w [D, G·H, I]; r [D, G·H, H]; bias [D, 2·G·H] or empty; h0/c0 or empty; writes y, yh, yc (any may be empty).</summary>
    public void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> r, ReadOnlySpan<float> bias,
                        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> y, Span<float> yh, Span<float> yc, int batch)
    {
        int GH = G * H;
        long need = (long)D * S * batch;
        var a = pre;
        if (cachedBatch < batch) { gates = new float[need * GH]; states = new float[need * H]; cells = new float[need * H]; extra = new float[need * H]; cachedBatch = batch; }
        for (int d = 0; d < D; d++)
        {
            bool rev = d == 1 || reverseOnly;
            var wd = w.Slice(d * GH * I, GH * I); var rd = r.Slice(d * GH * H, GH * H);
            for (int b = 0; b < batch; b++)
            {
                Array.Clear(h); Array.Clear(c);
                if (!h0.IsEmpty) h0.Slice((int)StateOff(d, b, batch), H).CopyTo(h);
                if (!c0.IsEmpty) c0.Slice((int)StateOff(d, b, batch), H).CopyTo(c);
                for (int s = 0; s < S; s++)
                {
                    int t = rev ? S - 1 - s : s;
                    var xt = x.Slice((int)(Row(t, b, batch) * I), I);
                    for (int j = 0; j < GH; j++) a[j] = Dot(wd.Slice(j * I, I), xt) + (bias.IsEmpty ? 0 : bias[d * 2 * GH + j]);
                    var cache = gates.AsSpan((int)Cache(d, t, b, batch, GH), GH);
                    for (int j = 0; j < GH; j++) hr[j] = Dot(rd.Slice(j * H, H), h) + (bias.IsEmpty ? 0 : bias[d * 2 * GH + GH + j]);
                    if (op == OpType.Lstm)
                        for (int j = 0; j < H; j++)
                        {
                            float i = Sig(a[j] + hr[j]), o = Sig(a[H + j] + hr[H + j]), f = Sig(a[2 * H + j] + hr[2 * H + j]), g = MathF.Tanh(a[3 * H + j] + hr[3 * H + j]);
                            cache[j] = i; cache[H + j] = o; cache[2 * H + j] = f; cache[3 * H + j] = g;
                            c[j] = f * c[j] + i * g;
                            hNew[j] = o * MathF.Tanh(c[j]);
                        }
                    else if (op == OpType.Gru)
                    {
                        var ex = extra.AsSpan((int)Cache(d, t, b, batch, H), H);
                        for (int j = 0; j < H; j++) { cache[j] = Sig(a[j] + hr[j]); cache[H + j] = Sig(a[H + j] + hr[H + j]); }
                        if (!lbr) for (int k = 0; k < H; k++) dhr[k] = cache[H + k] * h[k];   // r ⊙ h (dhr is free during the forward pass)
                        for (int j = 0; j < H; j++)
                        {
                            float n;
                            if (lbr) { ex[j] = hr[2 * H + j]; n = MathF.Tanh(a[2 * H + j] + cache[H + j] * hr[2 * H + j]); }
                            else
                            {
                                float u = Dot(rd.Slice((2 * H + j) * H, H), dhr);   // (r ⊙ h) · Rhᵀ
                                n = MathF.Tanh(a[2 * H + j] + u + (bias.IsEmpty ? 0 : bias[d * 2 * GH + GH + 2 * H + j]));
                            }
                            cache[2 * H + j] = n;
                            hNew[j] = (1 - cache[j]) * n + cache[j] * h[j];
                        }
                    }
                    else
                        for (int j = 0; j < H; j++) { float v = a[j] + hr[j]; hNew[j] = relu ? Math.Max(0, v) : MathF.Tanh(v); }
                    hNew.CopyTo(h);
                    h.CopyTo(states.AsSpan((int)Cache(d, t, b, batch, H), H));
                    c.CopyTo(cells.AsSpan((int)Cache(d, t, b, batch, H), H));
                    if (!y.IsEmpty) h.CopyTo(y.Slice((int)YOff(t, d, b, batch), H));
                }
                if (!yh.IsEmpty) h.CopyTo(yh.Slice((int)StateOff(d, b, batch), H));
                if (!yc.IsEmpty) c.CopyTo(yc.Slice((int)StateOff(d, b, batch), H));
            }
        }
    }

    /// <summary>Accumulates dW, dR, dB (when not empty), dx, dh0, dc0 from dy, dyh, dyc (any may be empty).</summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> r, ReadOnlySpan<float> bias,
                         ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, ReadOnlySpan<float> dy, ReadOnlySpan<float> dyh, ReadOnlySpan<float> dyc,
                         Span<float> dx, Span<float> dw, Span<float> dr, Span<float> db, Span<float> dh0, Span<float> dc0, int batch)
    {
        int GH = G * H;
        var da = daBuf;
        for (int d = 0; d < D; d++)
        {
            bool rev = d == 1 || reverseOnly;
            var wd = w.Slice(d * GH * I, GH * I); var rd = r.Slice(d * GH * H, GH * H);
            for (int b = 0; b < batch; b++)
            {
                Array.Clear(dh); Array.Clear(dc);
                if (!dyh.IsEmpty) dyh.Slice((int)StateOff(d, b, batch), H).CopyTo(dh);
                if (!dyc.IsEmpty) dyc.Slice((int)StateOff(d, b, batch), H).CopyTo(dc);
                for (int s = S - 1; s >= 0; s--)
                {
                    int t = rev ? S - 1 - s : s;
                    int tPrev = rev ? t + 1 : t - 1;
                    bool first = s == 0;
                    ReadOnlySpan<float> hPrev = first ? (h0.IsEmpty ? zeros : h0.Slice((int)StateOff(d, b, batch), H)) : states.AsSpan((int)Cache(d, tPrev, b, batch, H), H);
                    ReadOnlySpan<float> cPrev = first ? (c0.IsEmpty ? zeros : c0.Slice((int)StateOff(d, b, batch), H)) : cells.AsSpan((int)Cache(d, tPrev, b, batch, H), H);
                    var hCur = states.AsSpan((int)Cache(d, t, b, batch, H), H);
                    var cCur = cells.AsSpan((int)Cache(d, t, b, batch, H), H);
                    var g = gates.AsSpan((int)Cache(d, t, b, batch, GH), GH);
                    if (!dy.IsEmpty) for (int j = 0; j < H; j++) dh[j] += dy[(int)YOff(t, d, b, batch) + j];
                    Array.Clear(dhPrev);
                    Array.Clear(da);
                    if (op == OpType.Lstm)
                    {
                        for (int j = 0; j < H; j++)
                        {
                            float i = g[j], o = g[H + j], f = g[2 * H + j], gg = g[3 * H + j], tc = MathF.Tanh(cCur[j]);
                            float dC = dh[j] * o * (1 - tc * tc) + dc[j];
                            da[j] = dC * gg * i * (1 - i);
                            da[H + j] = dh[j] * tc * o * (1 - o);
                            da[2 * H + j] = dC * cPrev[j] * f * (1 - f);
                            da[3 * H + j] = dC * i * (1 - gg * gg);
                            dc[j] = dC * f;
                        }
                        AccumulateGates(da, GH, d, wd, rd, x.Slice((int)(Row(t, b, batch) * I), I), hPrev, dx.IsEmpty ? default : dx.Slice((int)(Row(t, b, batch) * I), I), dw, dr, db, dhPrev, recurrentRows: GH);
                    }
                    else if (op == OpType.Gru)
                    {
                        var ex = extra.AsSpan((int)Cache(d, t, b, batch, H), H);
                        for (int j = 0; j < H; j++)
                        {
                            float z = g[j], n = g[2 * H + j];
                            float dn = dh[j] * (1 - z);
                            da[j] = dh[j] * (hPrev[j] - n) * z * (1 - z);
                            dan[j] = dn * (1 - n * n);
                            da[2 * H + j] = dan[j];
                            dhPrev[j] += dh[j] * z;
                        }
                        // dhr: gradient of the h-part recurrent product (lbr = 1) or of r ⊙ h (lbr = 0)
                        if (lbr)
                        {
                            for (int j = 0; j < H; j++)
                            {
                                float rr = g[H + j];
                                da[H + j] = dan[j] * ex[j] * rr * (1 - rr);
                                dhr[j] = dan[j] * rr;   // d(h·Rhᵀ + Rbh)
                            }
                            for (int j = 0; j < H; j++)
                            {
                                if (!dr.IsEmpty) Axpy(dhr[j], hPrev, dr.Slice(d * GH * H + (2 * H + j) * H, H));
                                if (!db.IsEmpty) db[d * 2 * GH + GH + 2 * H + j] += dhr[j];
                                Axpy(dhr[j], rd.Slice((2 * H + j) * H, H), dhPrev);
                            }
                        }
                        else
                        {
                            Array.Clear(dhr);   // du = Rhᵀ·dan, the gradient of r ⊙ h
                            for (int j = 0; j < H; j++) Axpy(dan[j], rd.Slice((2 * H + j) * H, H), dhr);
                            for (int k = 0; k < H; k++)
                            {
                                float rr = g[H + k], du = dhr[k];
                                da[H + k] = du * hPrev[k] * rr * (1 - rr);
                                dhPrev[k] += du * rr;
                            }
                            for (int k = 0; k < H; k++) dhr[k] = g[H + k] * hPrev[k];   // r ⊙ h, for dRh
                            for (int j = 0; j < H; j++)
                            {
                                if (!dr.IsEmpty) Axpy(dan[j], dhr, dr.Slice(d * GH * H + (2 * H + j) * H, H));
                                if (!db.IsEmpty) db[d * 2 * GH + GH + 2 * H + j] += dan[j];
                            }
                        }
                        // z and r through W, R, both biases; the h part through W and Wb only (its recurrent part is above).
                        AccumulateGates(da, GH, d, wd, rd, x.Slice((int)(Row(t, b, batch) * I), I), hPrev, dx.IsEmpty ? default : dx.Slice((int)(Row(t, b, batch) * I), I), dw, dr, db, dhPrev, recurrentRows: 2 * H);
                    }
                    else
                    {
                        for (int j = 0; j < H; j++) da[j] = dh[j] * (relu ? (hCur[j] > 0 ? 1 : 0) : 1 - hCur[j] * hCur[j]);
                        AccumulateGates(da, GH, d, wd, rd, x.Slice((int)(Row(t, b, batch) * I), I), hPrev, dx.IsEmpty ? default : dx.Slice((int)(Row(t, b, batch) * I), I), dw, dr, db, dhPrev, recurrentRows: GH);
                    }
                    dhPrev.CopyTo(dh, 0);
                }
                if (!dh0.IsEmpty) for (int j = 0; j < H; j++) dh0[(int)StateOff(d, b, batch) + j] += dh[j];
                if (!dc0.IsEmpty) for (int j = 0; j < H; j++) dc0[(int)StateOff(d, b, batch) + j] += dc[j];
            }
        }
    }

    /// <summary>From pre-activation gradients da [G·H]: dW += da·xᵀ, dWb += da, dx += da·W; for the first
    /// <paramref name="recurrentRows"/> rows also dR += da·hᵀ, dRb += da, dh += da·R.</summary>
    void AccumulateGates(float[] da, int GH, int d, ReadOnlySpan<float> wd, ReadOnlySpan<float> rd, ReadOnlySpan<float> xt, ReadOnlySpan<float> hPrev,
                         Span<float> dxt, Span<float> dw, Span<float> dr, Span<float> db, float[] dhPrev, int recurrentRows)
    {
        for (int j = 0; j < GH; j++)
        {
            float v = da[j];
            if (v == 0) continue;
            if (!dw.IsEmpty) Axpy(v, xt, dw.Slice(d * GH * I + j * I, I));
            if (!db.IsEmpty) db[d * 2 * GH + j] += v;
            if (!dxt.IsEmpty) Axpy(v, wd.Slice(j * I, I), dxt);
            if (j >= recurrentRows) continue;
            if (!dr.IsEmpty) Axpy(v, hPrev, dr.Slice(d * GH * H + j * H, H));
            if (!db.IsEmpty) db[d * 2 * GH + GH + j] += v;
            Axpy(v, rd.Slice(j * H, H), dhPrev);
        }
    }
}
