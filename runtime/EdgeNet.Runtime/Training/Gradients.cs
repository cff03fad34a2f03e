using System.Numerics.Tensors;
using EdgeNet.Format;


namespace EdgeNet.Training;

/// <summary>
/// The training passes the op table (<see cref="Engine.OpTable"/>) points at, one per op: the forward of ops with
/// parameters (run from the parameters' current values) and every op's backward, which accumulates (+=) into the
/// gradients of its inputs that are wanted (empty spans are skipped). The arithmetic is in <see cref="Backward"/>.
/// </summary>
internal static class Gradients
{
    static Span<float> Dy(TrainingSession s, Node n) => s.Gr(n.Outputs[0]);

    /// <summary>The values an activation's derivative reads as its input: kept before the activation, or its output.</summary>
    static Span<float> ActInput(TrainingSession s, int i, int y) => s.ActivationOf(i).NeedsInput ? s.PreActivation(i) : s.A(y);

    public static void DenseForward(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var wt = s.Model.Tensors[n.Inputs[1]];
        int ic = wt.Shape[1], oc = wt.Shape[0];
        var x = s.A(n.Inputs[0]); var w = s.A(n.Inputs[1]); var b = s.Bias(n); var y = s.A(n.Outputs[0]);
        var a = s.ActivationOf(i);
        var z = a.NeedsInput ? s.PreActivation(i) : y;
        int rows = x.Length / ic;
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < oc; o++)
                z[r * oc + o] = TensorPrimitives.Dot(x.Slice(r * ic, ic), w.Slice(o * ic, ic)) + (b.IsEmpty ? 0 : b[o]);
        a.Apply(z, y);
    }

    public static void Dense(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var ws = s.Model.Tensors[n.Inputs[1]].Shape;
        var dy = Dy(s, n);
        var dz = s.Dz(dy.Length);
        s.ActivationOf(i).Derivative(ActInput(s, i, n.Outputs[0]), s.A(n.Outputs[0]), dy, dz);
        Backward.Dense(s.A(n.Inputs[0]), s.A(n.Inputs[1]), dz, s.Gr(n.Inputs[0]), s.Gr(n.Inputs[1]), s.BiasGrad(n), dy.Length / ws[0], ws[1], ws[0]);
    }

    public static void MatMul(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        ((Kernels.MatMulKernel)s.KernelOf(i)).Backward(s.A(n.Inputs[0]), s.A(n.Inputs[1]), Dy(s, n), s.Gr(n.Inputs[0]), s.Gr(n.Inputs[1]),
            s.Shape(n.Inputs[0]), s.Shape(n.Inputs[1]), s.Shape(n.Outputs[0]));
    }

    /// <summary>LayerNormalization: dX, dScale, dB from Y's gradient (Mean and InvStdDev pass none back).</summary>
    public static void LayerNorm(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        ((Kernels.LayerNormKernel)s.KernelOf(i)).Backward(s.A(n.Inputs[0]), s.A(n.Inputs[1]), Dy(s, n), s.Gr(n.Inputs[0]), s.Gr(n.Inputs[1]), s.BiasGrad(n));
    }

    public static void ConvForward(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var a = s.ActivationOf(i);
        var y = s.A(n.Outputs[0]);
        var z = a.NeedsInput ? s.PreActivation(i) : y;
        var fused = a.NeedsInput ? Kernels.Activation.None : a;
        int batch = s.Shape(n.Inputs[0])[0];
        if (s.ReferenceBackward) Kernels.Reference.Conv.Run(s.A(n.Inputs[0]), s.A(n.Inputs[1]), s.Bias(n), z, batch, s.Geometry(i), fused);
        else s.ConvGemm(i).Forward(s.A(n.Inputs[0]), s.A(n.Inputs[1]), s.Bias(n), z, batch, fused);
        if (a.NeedsInput) a.Apply(z, y);
    }

    public static void Conv(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dy = Dy(s, n);
        var dz = s.Dz(dy.Length);
        s.ActivationOf(i).Derivative(ActInput(s, i, n.Outputs[0]), s.A(n.Outputs[0]), dy, dz);
        int batch = s.Shape(n.Inputs[0])[0];
        if (s.ReferenceBackward) Backward.Conv(s.A(n.Inputs[0]), s.A(n.Inputs[1]), dz, s.Gr(n.Inputs[0]), s.Gr(n.Inputs[1]), s.BiasGrad(n), batch, s.Geometry(i));
        else s.ConvGemm(i).Run(s.A(n.Inputs[0]), s.A(n.Inputs[1]), dz, s.Gr(n.Inputs[0]), s.Gr(n.Inputs[1]), s.BiasGrad(n), batch);
    }

    public static void RecurrentForward(TrainingSession s, int i)
    {
        var rt = s.Recurrent(i);
        rt.Vectorized = !s.ReferenceBackward;
        rt.Forward(s.A(rt.X), s.A(rt.W), s.A(rt.R), s.A(rt.B), s.A(rt.InitH), s.A(rt.InitC), s.A(rt.Y), s.A(rt.Yh), s.A(rt.Yc), s.Shape(rt.X)[rt.BatchAxis]);
    }

    public static void Recurrent(TrainingSession s, int i)
    {
        var rt = s.Recurrent(i);
        rt.Vectorized = !s.ReferenceBackward;
        rt.Backward(s.A(rt.X), s.A(rt.W), s.A(rt.R), s.A(rt.B), s.A(rt.InitH), s.A(rt.InitC), s.Gr(rt.Y), s.Gr(rt.Yh), s.Gr(rt.Yc),
            s.Gr(rt.X), s.Gr(rt.W), s.Gr(rt.R), s.Gr(rt.B), s.Gr(rt.InitH), s.Gr(rt.InitC), s.Shape(rt.X)[rt.BatchAxis]);
    }

    /// <summary>Every elementwise op: dx += dy ⊙ f'(x, y), the derivative beside the formula (Kernels/UnaryOps.cs).</summary>
    public static void Unary(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dx = s.Gr(n.Inputs[0]);
        if (dx.IsEmpty) return;
        var dy = Dy(s, n);
        var dz = s.Dz(dy.Length);
        s.ActivationOf(i).Derivative(s.A(n.Inputs[0]), s.A(n.Outputs[0]), dy, dz);
        TensorPrimitives.Add(dx, dz, dx);
    }

    /// <summary>Every reduction: dx += dy[o(i)] · ∂y/∂x, the partial beside the fold (Kernels/ReduceKernel.cs).</summary>
    public static void Reduce(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dx = s.Gr(n.Inputs[0]);
        if (dx.IsEmpty) return;
        ((Kernels.IReduceBackward)s.KernelOf(i)).Backward(s.A(n.Inputs[0]), s.A(n.Outputs[0]), Dy(s, n), dx, s.Shape(n.Inputs[0]));
    }

    public static void Softmax(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        int y = n.Outputs[0];
        int axis = (int)n.Attributes.Int("axis", -1); var shape = s.Shape(y); if (axis < 0) axis += shape.Length;
        if (!s.Gr(n.Inputs[0]).IsEmpty) Backward.Softmax(s.A(y), Dy(s, n), s.Gr(n.Inputs[0]), shape, axis);
    }

    public static void LogSoftmax(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        int y = n.Outputs[0];
        int axis = (int)n.Attributes.Int("axis", -1); var shape = s.Shape(y); if (axis < 0) axis += shape.Length;
        if (!s.Gr(n.Inputs[0]).IsEmpty) Backward.LogSoftmax(s.A(y), Dy(s, n), s.Gr(n.Inputs[0]), shape, axis);
    }

    public static void MaxPool(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        Backward.MaxPool(s.A(n.Inputs[0]), Dy(s, n), s.Gr(n.Inputs[0]), s.Shape(n.Outputs[0])[0], s.Geometry(i));
    }

    public static void AveragePool(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var g = s.Geometry(i);
        int padBottom = (g.OH - 1) * g.StrideH + g.KH - g.H - g.PadTop, padRight = (g.OW - 1) * g.StrideW + g.KW - g.W - g.PadLeft;
        var p = n.Attributes.Ints("pads", Array.Empty<long>());
        if (p.Length == 4) { padBottom = (int)p[2]; padRight = (int)p[3]; }
        Backward.AveragePool(Dy(s, n), s.Gr(n.Inputs[0]), s.Shape(n.Outputs[0])[0], g, n.Attributes.Int("count_include_pad", 0) != 0, padBottom, padRight);
    }

    public static void GlobalAveragePool(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dx = s.Gr(n.Inputs[0]); var dy = Dy(s, n); int hw = dx.Length / dy.Length;
        for (int c = 0; c < dy.Length; c++) { var blk = dx.Slice(c * hw, hw); TensorPrimitives.Add(blk, dy[c] / hw, blk); }
    }

    public static void ChannelAffine(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dx = s.Gr(n.Inputs[0]); var dy = Dy(s, n); var sc = s.A(n.Inputs[1]); int ch = sc.Length;
        int inner = dx.Length / (s.Shape(n.Outputs[0])[0] * ch);
        for (int j = 0; j < dx.Length; j++) dx[j] += dy[j] * sc[j / inner % ch];
    }

    public static void Binary<T>(TrainingSession s, int i) where T : struct, Kernels.IBinaryOp
    {
        var n = s.Model.Nodes[i];
        Backward.Binary<T>( s.A(n.Inputs[0]), s.Shape(n.Inputs[0]), s.A(n.Inputs[1]), s.Shape(n.Inputs[1]), Dy(s, n), s.Shape(n.Outputs[0]), s.Gr(n.Inputs[0]), s.Gr(n.Inputs[1]));
    }

    public static void Reshape(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dx = s.Gr(n.Inputs[0]);
        if (!dx.IsEmpty) TensorPrimitives.Add(dx, Dy(s, n), dx);
    }

    public static void Transpose(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        Backward.Transpose(Dy(s, n), s.Gr(n.Inputs[0]), s.Shape(n.Inputs[0]), s.LongAttr(i));
    }

    public static void Concat(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dy = Dy(s, n);
        var shape = s.Shape(n.Outputs[0]); int axis = (int)n.Attributes.Int("axis", 0); if (axis < 0) axis += shape.Length;
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        int pos = 0;
        for (int o = 0; o < outer; o++)
            foreach (var inp in n.Inputs)
            {
                int blk = s.Shape(inp)[axis] * inner;
                var dx = s.Gr(inp);
                if (!dx.IsEmpty) { var d = dx.Slice(o * blk, blk); TensorPrimitives.Add(d, dy.Slice(pos, blk), d); }
                pos += blk;
            }
    }

    public static void Gather(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        if (n.Inputs.Length > 1)
        {
            // indices read at run time (token ids): the data is an embedding table, a constant that takes no gradient
            if (!s.Gr(n.Inputs[0]).IsEmpty) throw new NotSupportedException($"{n}: the gradient of Gather with computed indices is not supported");
            return;
        }
        var dy = Dy(s, n);
        var shape = s.Shape(n.Inputs[0]); int axis = (int)n.Attributes.Int("axis", 0); if (axis < 0) axis += shape.Length;
        var idx = s.LongAttr(i);
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        var dx = s.Gr(n.Inputs[0]); int pos = 0;
        for (int o = 0; o < outer; o++)
            foreach (var raw in idx)
            {
                long k = raw < 0 ? raw + shape[axis] : raw;
                var d = dx.Slice((int)((o * shape[axis] + k) * inner), inner);
                TensorPrimitives.Add(d, dy.Slice(pos, inner), d); pos += inner;
            }
    }

    public static void Slice(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dy = Dy(s, n);
        var shape = s.Shape(n.Inputs[0]); var so = s.Shape(n.Outputs[0]); int r = shape.Length;
        var starts = s.LongAttr(i); var step = s.Steps(i);
        var dx = s.Gr(n.Inputs[0]);
        Span<long> stride = stackalloc long[Format.Shape.MaxRank];
        long st = 1;
        for (int d = r - 1; d >= 0; d--) { stride[d] = st; st *= shape[d]; }
        for (int k2 = 0; k2 < dy.Length; k2++)
        {
            long rem = k2, src = 0;
            for (int d = r - 1; d >= 0; d--) { long k = rem % so[d]; rem /= so[d]; src += (starts[d] + k * step[d]) * stride[d]; }
            dx[(int)src] += dy[k2];
        }
    }
}
