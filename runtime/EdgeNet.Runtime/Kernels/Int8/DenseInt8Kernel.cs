using System.Runtime.InteropServices;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Simd;
using EdgeNet.Quant;

namespace EdgeNet.Kernels.Int8;

/// <summary>
/// int8 Dense, the twin of <see cref="DenseKernel"/>: X int8 [.., IC] (s_x, z_x), W int8 [OC, IC] per-channel symmetric,
/// B int32 at s_x·s_w; acc = B + Σ (x − z_x)·w in int32; the output is int8 (requantized, Relu/Clip as the clamp range)
/// or fp32 (dequantized, then any activation).
/// </summary>
internal sealed unsafe class DenseInt8Kernel : Kernel, IDisposable
{
    readonly int x, y, ic, oc, kp, zx;
    readonly sbyte[] w;
    readonly bool noMinWeight;   // no weight is −128 (GemmInt8.Epilogue.NoMinWeight)
    readonly int[] bias, biasEff;           // biasEff folds −(z_x + shift)·Σw into the bias for the vector path
    readonly float[] multiplier;            // s_x·s_w / s_y (int8 out) or s_x·s_w (fp32 out)
    readonly bool intOut, reference;
    readonly int zy, lo, hi;
    readonly Activation act;
    readonly NativeBuffer? packed;
    readonly GemmInt8.Isa isa;

    public DenseInt8Kernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var (sx, zxv) = Int8Tensor.PerTensor(this, m, x, "input"); zx = zxv;
        var wt = m.Tensors[node.Inputs[1]];
        if (wt.Shape.Length != 2) throw Error($"weight must be [OC, IC], got {Format.Shape.Format(wt.Shape)}");
        (oc, ic) = (wt.Shape[0], wt.Shape[1]);
        if (m.Tensors[x].Shape[^1] != ic) throw Error($"input {Format.Shape.Format(m.Tensors[x].Shape)} does not end in IC = {ic}");
        float[] sw;
        (w, sw) = Int8Tensor.Weights(this, m, node.Inputs[1], oc);
        noMinWeight = Array.IndexOf(w, (sbyte)-128) < 0;
        bias = Int8Tensor.Bias(this, m, node, 2, oc);
        act = Activation.FromAttributes(node.Attributes, node.Name);
        ExpectShape(m, y, [.. m.Tensors[x].Shape[..^1], oc]);
        var scale = Int8Tensor.Output(this, m, y, act, sx, sw);
        (intOut, multiplier, zy, lo, hi) = (scale.IntOut, scale.Multiplier, scale.Zp, scale.Lo, scale.Hi);
        reference = o.Reference; isa = o.Int8Isa;
        xTemplate = m.Tensors[x].Shape;
        kp = GemmInt8.KPad(ic);
        int shift = GemmInt8.ShiftsActivations(isa) ? 128 : 0;
        biasEff = Int8Tensor.FoldZeroPoint(w, bias, ic, zx + shift, out _);
        if (!reference)
        {
            packed = new NativeBuffer(GemmInt8.PackedBytes(ic, oc));
            fixed (sbyte* pw = w) GemmInt8.Pack(pw, 1, ic, ic, oc, (sbyte*)packed.Pointer, shift: false);   // B[k, j] = W[j, k]
        }
    }

    readonly int[] xTemplate;
    public override long ScratchBytes(int batch)
    {
        long rows = Format.Shape.Elements(xTemplate, batch) / Math.Max(1, ic);
        return reference ? 0 : rows * (kp + 4L * oc) + 128;
    }

    public override void Run(Frame f)
    {
        int rows = (int)(f.Size(x) / Math.Max(ic, 1));
        sbyte* xs = f.I8(x);
        if (reference)
        {
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < oc; o++)
                {
                    int acc = bias[o];
                    for (int k = 0; k < ic; k++) acc += (xs[r * ic + k] - zx) * w[o * ic + k];
                    Write(f, r, o, acc);
                }
            if (!intOut && !act.IsClamp) act.ApplyScalar(f.Span(y));
            return;
        }
        sbyte* a = (sbyte*)f.Scratch;
        int* acc32 = (int*)(a + ((long)rows * kp + 63) / 64 * 64);
        if (intOut && isa is not GemmInt8.Isa.Scalar && kp == ic && rows >= 4)
        {
            // Batches (every ISA but scalar): x read in place (shifted as it is broadcast on VNNI), requantized in registers.
            fixed (int* pb = biasEff) fixed (float* pm = multiplier)
            {
                var e = new GemmInt8.Epilogue { Out = f.I8(y), Ldo = oc, ColBias = pb, ColMult = pm, Zp = zy, Lo = lo, Hi = hi, ShiftA = true, NoMinWeight = noMinWeight };
                GemmInt8.Run(xs, ic, (sbyte*)packed!.Pointer, acc32, oc, rows, oc, ic, isa, activationsInA: true, ref e);
            }
            return;
        }
        // Rows padded to a multiple of 4 bytes (and shifted to u8 for VNNI), then the int32 GEMM, then the epilogue.
        byte flip = GemmInt8.ShiftsActivations(isa) ? (byte)0x80 : (byte)0;
        for (int r = 0; r < rows; r++)
        {
            GemmInt8.CopyShifted(xs + (long)r * ic, a + (long)r * kp, ic, flip);
            for (int k = ic; k < kp; k++) a[(long)r * kp + k] = 0;
        }
        GemmInt8.Run(a, kp, (sbyte*)packed!.Pointer, acc32, oc, rows, oc, ic, isa, activationsInA: true);
        fixed (int* pb = biasEff) fixed (float* pm = multiplier)
            for (int r = 0; r < rows; r++)
            {
                if (intOut) Requantize.Columns(acc32 + (long)r * oc, pb, pm, zy, lo, hi, f.I8(y) + (long)r * oc, oc);
                else for (int o = 0; o < oc; o++) Write(f, r, o, acc32[(long)r * oc + o] + biasEff[o]);
            }
        if (!intOut && !act.IsClamp) act.Apply(f.Span(y));
    }

    void Write(Frame f, int r, int o, int acc)
    {
        long i = (long)r * oc + o;
        if (intOut) f.I8(y)[i] = QuantMath.Requantize(acc, multiplier[o], zy, lo, hi);
        else f.F(y)[i] = act.IsClamp ? Math.Clamp(acc * multiplier[o], act.ClampMin, act.ClampMax) : acc * multiplier[o];
    }

    public void Dispose() => packed?.Dispose();
}
