using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Quant;

namespace EdgeNet.Kernels.Int8;

/// <summary>Quantize (fp32 → int8, the output's scale and zero point) and Dequantize (int8 → fp32).</summary>
internal sealed unsafe class QuantizeKernel : Kernel
{
    readonly int x, y, zp;
    readonly float scale;
    readonly bool toInt8, reference;

    public QuantizeKernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        reference = o.Reference;
        toInt8 = node.Op == OpType.Quantize;
        if (toInt8) { FloatTensor(m, x, "input"); (scale, zp) = Int8Tensor.PerTensor(this, m, y, "output"); }
        else { (scale, zp) = Int8Tensor.PerTensor(this, m, x, "input"); FloatTensor(m, y, "output"); }
        ExpectShape(m, y, m.Tensors[x].Shape);
    }

    /// <summary>Vector form of <see cref="QuantMath.Quantize"/>: the same division and rounding, NaN to 127.</summary>
    static void QuantizeRow(float* s, float scale, int zp, sbyte* d, long n)
    {
        long i = 0;
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            var q = new Requantize.Bounds512(zp, -128, 127); var vs = Vector512.Create(scale);
            for (; i + 16 <= n; i += 16) Requantize.Bounds512.Store(q.Round(Vector512.Load(s + i) / vs), d + i);
        }
        else if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            var q = new Requantize.Bounds256(zp, -128, 127); var vs = Vector256.Create(scale);
            for (; i + 8 <= n; i += 8) Requantize.Store8(q.Round(Vector256.Load(s + i) / vs), d + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var q = new Requantize.Bounds128(zp, -128, 127); var vs = Vector128.Create(scale);
            for (; i + 16 <= n; i += 16)
                Requantize.Bounds128.Store16(q.Round(Vector128.Load(s + i) / vs), q.Round(Vector128.Load(s + i + 4) / vs),
                                             q.Round(Vector128.Load(s + i + 8) / vs), q.Round(Vector128.Load(s + i + 12) / vs), d + i);
        }
        for (; i < n; i++) d[i] = QuantMath.Quantize(s[i], scale, zp);
    }

    public override void Run(Frame f)
    {
        long n = f.Size(x);
        if (toInt8 && reference) { float* s = f.F(x); sbyte* d = f.I8(y); for (long i = 0; i < n; i++) d[i] = QuantMath.Quantize(s[i], scale, zp); }
        else if (toInt8) QuantizeRow(f.F(x), scale, zp, f.I8(y), n);
        else { sbyte* s = f.I8(x); float* d = f.F(y); for (long i = 0; i < n; i++) d[i] = QuantMath.Dequantize(s[i], scale, zp); }
    }
}

/// <summary>
/// Element-wise int8 ops: Add (same shapes, or B a single value) computed on the real values and requantized;
/// every elementwise op of the op table (Relu, Clip, Sigmoid, ...) by a 256-entry table of its formula built at load.
/// </summary>
internal sealed unsafe class ElementwiseInt8Kernel : Kernel
{
    readonly int a, b = -1, y, za, zb, zy;
    readonly float ma, mb;             // s_a / s_y, s_b / s_y
    readonly sbyte[]? table;
    readonly Activation fn;   // the formula the table holds; Reference applies it element by element
    readonly bool floatOut, reference;
    readonly float sa, sy;

    public ElementwiseInt8Kernel(Model m, Node node, KernelOptions o) : base(node)
    {
        a = node.Inputs[0]; y = node.Outputs[0];
        reference = o.Reference;
        (sa, za) = Int8Tensor.PerTensor(this, m, a, "input");
        floatOut = m.Tensors[y].Type == DataType.Float32;
        (sy, zy) = floatOut ? (1f, 0) : Int8Tensor.PerTensor(this, m, y, "output");
        ma = sa / sy;
        if (node.Op == OpType.Add)
        {
            b = node.Inputs[1];
            var (sb, zbv) = Int8Tensor.PerTensor(this, m, b, "input B"); zb = zbv;
            mb = sb / sy;
            var shape = BinaryKernel.Broadcast(m.Tensors[a].Shape, m.Tensors[b].Shape) ?? throw Error("shapes do not broadcast");
            if (!m.Tensors[a].Shape.SequenceEqual(m.Tensors[b].Shape) && m.Tensors[b].Elements(1) != 1) throw Error("int8 Add needs equal shapes or a single-value B");
            ExpectShape(m, y, shape);
            return;
        }
        if (floatOut) throw Error("int8 activations produce int8");
        ExpectShape(m, y, m.Tensors[a].Shape);
        fn = Activation.Of(node, Engine.OpTable.Get(node.Op).Unary ?? throw Error("no int8 kernel"));
        table = new sbyte[256];
        for (int q = -128; q < 128; q++) table[q + 128] = Activate(q);
    }

    sbyte Activate(int q) => QuantMath.Quantize(fn.Scalar(QuantMath.Dequantize(q, sa, za)), sy, zy);

    public override void Run(Frame f)
    {
        long n = f.Size(y);
        sbyte* xa = f.I8(a);
        if (table is not null)
        {
            sbyte* d = f.I8(y);
            if (reference) for (long i = 0; i < n; i++) d[i] = Activate(xa[i]);
            else fixed (sbyte* t = table) for (long i = 0; i < n; i++) d[i] = t[xa[i] + 128];
            return;
        }
        sbyte* xb = f.I8(b);
        bool single = f.Size(b) == 1;
        long i0 = 0;
        if (reference) { }
        else if (!floatOut && !single && System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            // Same float operations as the loop below (two products, then their sum: no FMA), sixteen at a time.
            var vza = Vector512.Create(za); var vzb = Vector512.Create(zb); var vma = Vector512.Create(ma); var vmb = Vector512.Create(mb);
            var q = new Requantize.Bounds512(zy, -128, 127);
            for (; i0 + 16 <= n; i0 += 16)
            {
                var qa = System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(Vector128.Load(xa + i0)) - vza;
                var qb = System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(Vector128.Load(xb + i0)) - vzb;
                Requantize.Bounds512.Store(q.Round(Vector512.ConvertToSingle(qa) * vma + Vector512.ConvertToSingle(qb) * vmb), f.I8(y) + i0);
            }
        }
        else if (!floatOut && !single && System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            var vza = Vector256.Create(za); var vzb = Vector256.Create(zb); var vma = Vector256.Create(ma); var vmb = Vector256.Create(mb);
            var q = new Requantize.Bounds256(zy, -128, 127);
            for (; i0 + 8 <= n; i0 += 8)
            {
                var qa = System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(xa + i0) - vza;
                var qb = System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(xb + i0) - vzb;
                Requantize.Store8(q.Round(Vector256.ConvertToSingle(qa) * vma + Vector256.ConvertToSingle(qb) * vmb), f.I8(y) + i0);
            }
        }
        else if (!floatOut && AdvSimd.Arm64.IsSupported)
            i0 = AddNeon(xa, xb, f.I8(y), n, single, za, zb, ma, mb, zy);
        else if (!floatOut && Vector128.IsHardwareAccelerated && !System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            // NEON (and SSE): sixteen at a time; a single-value B is the same product, broadcast.
            var vza = Vector128.Create(za); var vzb = Vector128.Create(zb); var vma = Vector128.Create(ma); var vmb = Vector128.Create(mb);
            var bs = Vector128.Create((float)(xb[0] - zb) * mb);
            var q = new Requantize.Bounds128(zy, -128, 127);
            for (; i0 + 16 <= n; i0 += 16)
            {
                var (a0, a1, a2, a3) = Widen4(Vector128.Load(xa + i0));
                Vector128<float> b0 = bs, b1 = bs, b2 = bs, b3 = bs;
                if (!single)
                {
                    var (q0, q1, q2, q3) = Widen4(Vector128.Load(xb + i0));
                    (b0, b1, b2, b3) = (Vector128.ConvertToSingle(q0 - vzb) * vmb, Vector128.ConvertToSingle(q1 - vzb) * vmb, Vector128.ConvertToSingle(q2 - vzb) * vmb, Vector128.ConvertToSingle(q3 - vzb) * vmb);
                }
                Requantize.Bounds128.Store16(q.Round(Vector128.ConvertToSingle(a0 - vza) * vma + b0), q.Round(Vector128.ConvertToSingle(a1 - vza) * vma + b1),
                                             q.Round(Vector128.ConvertToSingle(a2 - vza) * vma + b2), q.Round(Vector128.ConvertToSingle(a3 - vza) * vma + b3), f.I8(y) + i0);
            }
        }
        for (long i = i0; i < n; i++)
        {
            float v = (xa[i] - za) * ma + (xb[single ? 0 : i] - zb) * mb;
            if (floatOut) f.F(y)[i] = v;
            else { float r = MathF.Round(v) + zy; f.I8(y)[i] = (sbyte)(r <= -128 ? -128 : r >= 127 ? 127 : (int)r); }
        }
    }

    /// <summary>The int8 Add on arm64, sixteen at a time: the same float operations as the scalar loop (x − z as an
    /// integer, two products, then their sum: no FMA). x − z by SSUBL (int8 − int8 into int16, exact) and SXTL into
    /// int32; the rounding FCVTNS (to nearest even, as MathF.Round), then + z_y and the clamp to −128..127 on the
    /// integers by saturating narrows (SQXTN, SQADD, SQXTN), which give the clamped float's bits: a value past the
    /// bounds stays past them. Pointers and the single-B test outside the loop: in Run it was ~91 instructions a 16
    /// (MobileNetV2's residual Adds, 216K elements: 1.23M on a Cortex-A72), the B row reloaded through the frame, moves
    /// between the widening steps. Returns how many it did (a multiple of 16).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static long AddNeon(sbyte* xa, sbyte* xb, sbyte* d, long n, bool single, int za, int zb, float ma, float mb, int zy)
    {
        if (za is < -128 or > 127 || zb is < -128 or > 127 || zy is < -128 or > 127) return 0;
        var vza = Vector64.Create((sbyte)za); var vzb = Vector64.Create((sbyte)zb);
        var wza = Vector128.Create((sbyte)za); var wzb = Vector128.Create((sbyte)zb);
        var vma = Vector128.Create(ma); var vmb = Vector128.Create(mb); var vzy = Vector128.Create((short)zy);
        long i = 0;
        if (single)
        {
            var bs = Vector128.Create((float)(xb[0] - zb) * mb);
            for (; i + 16 <= n; i += 16)
            {
                var a = Vector128.Load(xa + i);
                var (a0, a1, a2, a3) = Widen(AdvSimd.SubtractWideningLower(a.GetLower(), vza), AdvSimd.SubtractWideningUpper(a, wza));
                Store(AdvSimd.ConvertToSingle(a0) * vma + bs, AdvSimd.ConvertToSingle(a1) * vma + bs,
                      AdvSimd.ConvertToSingle(a2) * vma + bs, AdvSimd.ConvertToSingle(a3) * vma + bs, vzy, d + i);
            }
            return i;
        }
        for (; i + 16 <= n; i += 16)
        {
            var a = Vector128.Load(xa + i); var b = Vector128.Load(xb + i);
            var (a0, a1, a2, a3) = Widen(AdvSimd.SubtractWideningLower(a.GetLower(), vza), AdvSimd.SubtractWideningUpper(a, wza));
            var (b0, b1, b2, b3) = Widen(AdvSimd.SubtractWideningLower(b.GetLower(), vzb), AdvSimd.SubtractWideningUpper(b, wzb));
            Store(AdvSimd.ConvertToSingle(a0) * vma + AdvSimd.ConvertToSingle(b0) * vmb, AdvSimd.ConvertToSingle(a1) * vma + AdvSimd.ConvertToSingle(b1) * vmb,
                  AdvSimd.ConvertToSingle(a2) * vma + AdvSimd.ConvertToSingle(b2) * vmb, AdvSimd.ConvertToSingle(a3) * vma + AdvSimd.ConvertToSingle(b3) * vmb, vzy, d + i);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector128<int>, Vector128<int>, Vector128<int>, Vector128<int>) Widen(Vector128<short> lo, Vector128<short> hi) =>
        (AdvSimd.SignExtendWideningLower(lo.GetLower()), AdvSimd.SignExtendWideningUpper(lo), AdvSimd.SignExtendWideningLower(hi.GetLower()), AdvSimd.SignExtendWideningUpper(hi));

    /// <summary>round(v) + z_y clamped to −128..127, as bytes: FCVTNS, SQXTN to int16 (a value past ±32767 is past the
    /// bounds either way), SQADD z_y, SQXTN to int8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector128<float> v0, Vector128<float> v1, Vector128<float> v2, Vector128<float> v3, Vector128<short> zy, sbyte* d)
    {
        var lo = AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(AdvSimd.ConvertToInt32RoundToEven(v0)), AdvSimd.ConvertToInt32RoundToEven(v1));
        var hi = AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(AdvSimd.ConvertToInt32RoundToEven(v2)), AdvSimd.ConvertToInt32RoundToEven(v3));
        lo = AdvSimd.AddSaturate(lo, zy); hi = AdvSimd.AddSaturate(hi, zy);
        AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(lo), hi).Store(d);
    }

    /// <summary>Sixteen int8 as four int32 vectors (SXTL, SXTL2 twice on arm64).</summary>
    static (Vector128<int>, Vector128<int>, Vector128<int>, Vector128<int>) Widen4(Vector128<sbyte> v)
    {
        var lo = Vector128.WidenLower(v); var hi = Vector128.WidenUpper(v);
        return (Vector128.WidenLower(lo), Vector128.WidenUpper(lo), Vector128.WidenLower(hi), Vector128.WidenUpper(hi));
    }
}

/// <summary>int8 pools: GlobalAveragePool and AveragePool (mean of x − z_x, requantized), MaxPool (on the codes,
/// which keep their order, then rescaled when the output's parameters differ).</summary>
internal sealed unsafe class PoolInt8Kernel : Kernel
{
    readonly int x, y, zx, zy;
    readonly float mult;
    readonly Reference.ConvGeometry g;
    readonly bool global, floatOut, nhwc, max2x2;

    public PoolInt8Kernel(Model m, Node node, KernelOptions o) : base(node)
    {
        x = node.Inputs[0]; y = node.Outputs[0];
        var xt = m.Tensors[x];
        if (xt.Shape.Length != 4) throw Error("int8 pooling needs NCHW");
        nhwc = node.Attributes.Int(Engine.ChannelsLast.Attribute, 0) == 1;   // GlobalAveragePool of [N, H, W, C] into [N, C, 1, 1]
        if (nhwc && node.Op != OpType.GlobalAveragePool) throw Error("only GlobalAveragePool runs channels-last");
        if (nhwc) xt = new TensorDesc(xt.Name, xt.Type, [xt.Shape[0], xt.Shape[3], xt.Shape[1], xt.Shape[2]]);
        var (sx, zxv) = Int8Tensor.PerTensor(this, m, x, "input"); zx = zxv;
        floatOut = m.Tensors[y].Type == DataType.Float32;
        var (sy, zyv) = floatOut ? (1f, 0) : Int8Tensor.PerTensor(this, m, y, "output"); zy = zyv;
        global = node.Op == OpType.GlobalAveragePool;
        if (global) g = new Reference.ConvGeometry(xt.Shape[1], xt.Shape[2], xt.Shape[3], xt.Shape[1], 1, 1, xt.Shape[2], xt.Shape[3], 1, 1, 0, 0, 1, 1, xt.Shape[1]);
        else
        {
            var k = node.Attributes.Ints("kernel_shape", []);
            if (k.Length != 2) throw Error("kernel_shape must have 2 values");
            if (node.Op == OpType.AveragePool && node.Attributes.Int("count_include_pad", 0) == 0 && node.Attributes.Ints("pads", [0, 0, 0, 0]).Any(p => p != 0))
                throw Error("int8 AveragePool with padding needs count_include_pad = 1");
            g = Window.Geometry(this, node.Attributes, xt.Shape, xt.Shape[1], [(int)k[0], (int)k[1]], xt.Shape[1], node.Attributes.Int("ceil_mode", 0) != 0);
        }
        mult = node.Op == OpType.MaxPool ? sx / sy : sx / (sy * g.KH * g.KW);
        max2x2 = !o.Reference && !floatOut && node.Op == OpType.MaxPool && Simd.MaxPool2x2.Supports(g);
        ExpectShape(m, y, [xt.Shape[0], g.C, g.OH, g.OW]);
    }

    public override long ScratchBytes(int batch) => nhwc ? 4L * g.C + 64 : 0;

    public override void Run(Frame f)
    {
        int n = f.Shape(x)[0];
        sbyte* xs = f.I8(x);
        if (nhwc) { GlobalNhwc(f, n, xs); return; }
        if (max2x2) { Max2x2(xs, f.I8(y), n * g.C); return; }
        bool max = Node.Op == OpType.MaxPool;
        for (int nc = 0; nc < n * g.C; nc++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    int acc = max ? int.MinValue : 0;
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                            bool inside = (uint)ih < (uint)g.H && (uint)iw < (uint)g.W;
                            int v = inside ? xs[((long)nc * g.H + ih) * g.W + iw] - zx : 0;   // padding is the real zero
                            if (max) { if (inside) acc = Math.Max(acc, v); } else acc += v;
                        }
                    }
                    long o = ((long)nc * g.OH + oh) * g.OW + ow;
                    if (floatOut) f.F(y)[o] = acc * mult;
                    else f.I8(y)[o] = QuantMath.Requantize(acc, mult, zy);
                }
    }

    /// <summary>2×2, stride 2, no padding (small CNNs): the maximum code of each window, rescaled only when the
    /// output's parameters differ from the input's — the reference's result without its per-tap bounds tests.</summary>
    void Max2x2(sbyte* x, sbyte* y, int planes)
    {
        int H = g.H, W = g.W, OH = g.OH, OW = g.OW;
        bool same = mult == 1f && zy == zx;
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < OH; oh++)
            {
                sbyte* r0 = x + ((long)p * H + 2 * oh) * W, r1 = r0 + W, o = y + ((long)p * OH + oh) * OW;
                for (int ow = 0; ow < OW; ow++)
                {
                    int v = Math.Max(Math.Max(r0[2 * ow], r0[2 * ow + 1]), Math.Max(r1[2 * ow], r1[2 * ow + 1]));
                    o[ow] = same ? (sbyte)v : QuantMath.Requantize(v - zx, mult, zy);
                }
            }
    }

    void GlobalNhwc(Frame f, int n, sbyte* xs)
    {
        int hw = g.H * g.W, C = g.C;
        int* acc = (int*)f.Scratch;
        for (int i = 0; i < n; i++)
        {
            new Span<int>(acc, C).Clear();
            for (int p = 0; p < hw; p++)
            {
                sbyte* px = xs + ((long)i * hw + p) * C;
                int c = 0;
                if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
                    for (; c + 16 <= C; c += 16) (Vector512.Load(acc + c) + System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(Vector128.Load(px + c))).Store(acc + c);
                else if (Vector128.IsHardwareAccelerated)
                    for (; c + 8 <= C; c += 8)
                    {
                        var w = Vector128.WidenLower(Vector128.CreateScalar(*(long*)(px + c)).AsSByte());
                        (Vector128.Load(acc + c) + Vector128.WidenLower(w)).Store(acc + c);
                        (Vector128.Load(acc + c + 4) + Vector128.WidenUpper(w)).Store(acc + c + 4);
                    }
                for (; c < C; c++) acc[c] += px[c];
            }
            for (int c = 0; c < C; c++) acc[c] -= hw * zx;   // Σ(x − z) as Σx − hw·z: the same integer
            for (int c = 0; c < C; c++)
            {
                long o = (long)i * C + c;
                if (floatOut) f.F(y)[o] = acc[c] * mult;
                else f.I8(y)[o] = QuantMath.Requantize(acc[c], mult, zy);
            }
        }
    }
}
