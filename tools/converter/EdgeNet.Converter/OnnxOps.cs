using EdgeNet.Converter.Onnx;
using EdgeNet.Format;
using EdgeNet.Kernels;

namespace EdgeNet.Converter;

// One handler per ONNX op (the table is in OnnxImporter.Handlers).
public sealed partial class OnnxImporter
{
    /// <summary>Y = alpha·op(A)·op(B) + beta·C. A constant 2-D B becomes a Dense (alpha folded into the weights, a
    /// per-output C its bias); a computed B a MatMul (then × alpha). transA transposes A first; any other C (a full
    /// matrix, a column, a computed tensor) is added after, broadcast.</summary>
    void Gemm(NodeProto n)
    {
        bool transA = AttrI(n, "transA", 0) != 0, transB = AttrI(n, "transB", 0) != 0;
        float alpha = AttrF(n, "alpha", 1f), beta = AttrF(n, "beta", 1f);
        if (!transA && beta == 1f && TryQdqDense(n, n.Input[1], transB, alpha)) return;
        var bv = Get(n.Input[1]);
        int a = Tensor(n.Input[0]);
        if (ShapeOfValue(n.Input[0]).Length != 2) throw Error($"A must be a matrix (is {Format.Shape.Format(ShapeOfValue(n.Input[0]))})");
        if (transA) a = Temp(n, "A^T", OpType.Transpose, [a], new Attributes().Set("perm", new long[] { 1, 0 }));
        var c = Has(n, 2) ? Get(n.Input[2]) : null;
        bool biasInDense = false;
        string yName = n.Output[0];
        var outputs = new List<int>();
        if (bv.Floats is not null && bv.Tensor < 0 && bv.Shape.Length == 2)
        {
            int oc = transB ? bv.Shape[0] : bv.Shape[1], ic = transB ? bv.Shape[1] : bv.Shape[0];
            var w = new float[oc * ic];
            for (int o = 0; o < oc; o++)
                for (int k = 0; k < ic; k++) w[o * ic + k] = alpha * (transB ? bv.Floats[o * ic + k] : bv.Floats[k * oc + o]);
            var inputs = new List<int> { a, ConstTensor(n.Input[1], w, [oc, ic]) };
            if (c is { Floats: { } cf, Tensor: < 0 } && (Elements(c.Shape) == 1 || (Elements(c.Shape) == oc && c.Shape[^1] == oc)))
            {
                int cn = Elements(c.Shape);
                inputs.Add(ConstTensor(n.Input[2], Enumerable.Range(0, oc).Select(o => beta * cf[cn == 1 ? 0 : o]).ToArray(), [oc]));
                biasInDense = true;
            }
            if (c is null || biasInDense) { Emit(OpType.Dense, n, inputs.ToArray()); return; }
            a = Temp(n, "AB", OpType.Dense, inputs.ToArray());
        }
        else
        {
            int b = Tensor(n.Input[1]);
            if (ShapeOfValue(n.Input[1]).Length != 2) throw Error("B must be a matrix");
            if (transB) b = Temp(n, "B^T", OpType.Transpose, [b], new Attributes().Set("perm", new long[] { 1, 0 }));
            if (c is null && alpha == 1f) { Emit(OpType.MatMul, n, [a, b]); return; }
            a = Temp(n, "AB", OpType.MatMul, [a, b]);
            if (alpha != 1f)
            {
                if (c is null) { Emit(OpType.Mul, n, [a, ConstTensor(yName + "_alpha", [alpha], [])]); return; }
                a = Temp(n, "alphaAB", OpType.Mul, [a, ConstTensor(yName + "_alpha", [alpha], [])]);
            }
        }
        // + beta·C, broadcast (a constant C is scaled here; a computed one by a Mul)
        int ct;
        if (c is { Tensor: < 0 } && (c.Floats is not null || c.Ints is not null) && beta != 1f) ct = ConstTensor(n.Input[2] + "_beta", ConstFloats(n.Input[2], "C").Select(v => beta * v).ToArray(), c.Shape);
        else if (beta != 1f) ct = Temp(n, "betaC", OpType.Mul, [Tensor(n.Input[2]), ConstTensor(yName + "_beta", [beta], [])]);
        else ct = Tensor(n.Input[2]);
        Emit(OpType.Add, n, [a, ct]);
    }

    void MatMul(NodeProto n)
    {
        if (TryQdqDense(n, n.Input[1], transB: false, alpha: 1f)) return;
        var bv = Get(n.Input[1]);
        if (bv.Floats is null || bv.Tensor >= 0 || bv.Shape.Length != 2)
        {
            Emit(OpType.MatMul, n, [Tensor(n.Input[0]), Tensor(n.Input[1])]);   // two computed tensors (attention), or a batched constant
            return;
        }
        int ic = bv.Shape[0], oc = bv.Shape[1];
        var w = new float[oc * ic];
        for (int o = 0; o < oc; o++) for (int k = 0; k < ic; k++) w[o * ic + k] = bv.Floats[k * oc + o];
        Emit(OpType.Dense, n, [Tensor(n.Input[0]), ConstTensor(n.Input[1], w, [oc, ic])]);
    }

    void Conv(NodeProto n)
    {
        if (TryQdqConv(n) || Lift1D(n, Conv)) return;
        var xs = ShapeOfValue(n.Input[0]);
        var wv = Get(n.Input[1]);
        if (wv.Floats is null) throw Error("weights must be constant");
        if (xs.Length != 4 || wv.Shape.Length != 4) throw Error($"only 2-D convolution is supported (input {Format.Shape.Format(xs)})");
        var attrs = WindowAttrs(n, xs, [wv.Shape[2], wv.Shape[3]]);
        attrs.Set("group", AttrI(n, "group", 1));
        var inputs = new List<int> { Tensor(n.Input[0]), Tensor(n.Input[1]) };
        if (Has(n, 2)) { if (Get(n.Input[2]).Floats is null) throw Error("bias must be constant"); inputs.Add(Tensor(n.Input[2])); }
        Emit(OpType.Conv, n, inputs.ToArray(), attrs);
    }

    void Pool(NodeProto n, OpType op)
    {
        bool indices = n.Output.Count > 1 && n.Output[1].Length > 0;
        if (indices && ShapeOfValue(n.Input[0]).Length == 3) throw Error("the Indices output of a 1-D MaxPool is not supported (only 2-D)");
        if (Lift1D(n, m => Pool(m, op)) || LiftPoolNd(n, op)) return;
        var xs = ShapeOfValue(n.Input[0]);
        if (xs.Length != 4) throw Error($"pooling needs 1 or more spatial axes (input {Format.Shape.Format(xs)})");
        var k = AttrInts(n, "kernel_shape", []);
        if (k.Length != 2) throw Error("kernel_shape must have 2 values");
        if (k.Any(v => v < 1)) throw Error($"kernel_shape [{string.Join(",", k)}] must be positive");
        var attrs = WindowAttrs(n, xs, [(int)k[0], (int)k[1]]);
        var pads = attrs.Ints("pads", []);
        if (pads.Where((p, i) => p >= k[i % 2]).Any()) throw Error($"pads [{string.Join(",", pads)}] must be smaller than kernel_shape [{string.Join(",", k)}] (as ONNX Runtime requires)");
        attrs.Set("kernel_shape", k);
        attrs.Set("ceil_mode", AttrI(n, "ceil_mode", 0));
        if (op == OpType.AveragePool) attrs.Set("count_include_pad", AttrI(n, "count_include_pad", 0));
        if (indices) attrs.Set("storage_order", AttrI(n, "storage_order", 0));
        Emit(op, n, [Tensor(n.Input[0])], attrs, outputs: indices ? 2 : 1);
    }

    /// <summary>strides, dilations and explicit pads [top, left, bottom, right], resolving auto_pad.</summary>
    Attributes WindowAttrs(NodeProto n, int[] xs, int[] kernel)
    {
        if (xs.Length != 4 || kernel.Length != 2) throw Error($"a 2-D window needs an NCHW input and 2 kernel sizes (input {Format.Shape.Format(xs)}, kernel_shape of {kernel.Length})");
        var strides = AttrInts(n, "strides", [1, 1]);
        var dil = AttrInts(n, "dilations", [1, 1]);
        var pads = AttrInts(n, "pads", [0, 0, 0, 0]);
        if (strides.Length != 2 || dil.Length != 2 || pads.Length != 4) throw Error("strides/dilations/pads must have 2/2/4 values");
        string autoPad = AttrS(n, "auto_pad", "NOTSET");
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            for (int i = 0; i < 2; i++)
            {
                long size = xs[2 + i], s = Math.Max(1, strides[i]);
                long outSize = (size + s - 1) / s;
                long total = Math.Max(0, (outSize - 1) * s + (kernel[i] - 1) * dil[i] + 1 - size);
                long small = total / 2, big = total - small;
                pads[i] = autoPad == "SAME_UPPER" ? small : big;
                pads[i + 2] = autoPad == "SAME_UPPER" ? big : small;
            }
        }
        else if (autoPad == "VALID") pads = [0, 0, 0, 0];
        else if (autoPad != "NOTSET") throw Error($"auto_pad '{autoPad}' is not supported");
        return new Attributes().Set("strides", strides).Set("dilations", dil).Set("pads", pads);
    }

    /// <summary>Reductions over axes from the attribute (or, from opset 13/18, input 1), keepdims, noop_with_empty_axes.
    /// ReduceMean over the spatial axes of NCHW stays a GlobalAveragePool (it runs channels-last and in int8).</summary>
    void Reduce(NodeProto n, OpType op)
    {
        var xs = ShapeOfValue(n.Input[0]);
        long[] axes = Has(n, 1) ? StaticInts(n.Input[1], "axes") : AttrInts(n, "axes", []);
        if (axes.Length == 0 && AttrI(n, "noop_with_empty_axes", 0) != 0) { Alias(n); return; }
        var norm = (axes.Length == 0 ? Enumerable.Range(0, xs.Length) : axes.Select(a => Axis(a, xs.Length, "axis"))).Distinct().Order().ToArray();
        bool keep = AttrI(n, "keepdims", 1) != 0;
        if (op == OpType.ReduceMean && xs.Length == 4 && norm.SequenceEqual([2, 3]))
        {
            if (keep) { Emit(OpType.GlobalAveragePool, n, [Tensor(n.Input[0])]); return; }
            var pooled = new NodeProto { Name = n.Name + "_pool", OpType = "GlobalAveragePool" };
            pooled.Input.Add(n.Input[0]); pooled.Output.Add(n.Output[0] + "_pooled");
            Emit(OpType.GlobalAveragePool, pooled, [Tensor(n.Input[0])]);
            EmitReshape(n, Get(pooled.Output[0]).Tensor, [xs[0], xs[1]]);
            return;
        }
        Emit(op, n, [Tensor(n.Input[0])], new Attributes().Set("axes", norm.Select(a => (long)a).ToArray()).Set("keepdims", keep ? 1L : 0L));
    }

    void LayerNorm(NodeProto n)
    {
        int rank = ShapeOfValue(n.Input[0]).Length;
        if (AttrI(n, "stash_type", 1) != 1) throw Error("stash_type other than 1 (float) is not supported");
        var inputs = new List<int> { Tensor(n.Input[0]), Tensor(n.Input[1]) };
        if (Has(n, 2)) inputs.Add(Tensor(n.Input[2]));
        Emit(OpType.LayerNormalization, n, inputs.ToArray(), new Attributes().Set("axis", (long)Axis(AttrI(n, "axis", -1), rank, "axis")).Set("epsilon", AttrF(n, "epsilon", 1e-5f)), outputs: 3);
    }

    void BatchNorm(NodeProto n)
    {
        if (AttrI(n, "training_mode", 0) != 0) throw Error("training_mode = 1 is not supported (export the model in eval mode)");
        float eps = AttrF(n, "epsilon", 1e-5f);
        float[] gamma = ConstFloats(n.Input[1], "scale"), beta = ConstFloats(n.Input[2], "B"),
                mean = ConstFloats(n.Input[3], "input_mean"), variance = ConstFloats(n.Input[4], "input_var");
        int c = gamma.Length;
        if (beta.Length != c || mean.Length != c || variance.Length != c) throw Error("scale, B, mean and var differ in length");
        var scale = new float[c]; var shift = new float[c];
        for (int i = 0; i < c; i++)
        {
            scale[i] = (float)(gamma[i] / Math.Sqrt((double)variance[i] + eps));
            shift[i] = beta[i] - mean[i] * scale[i];
        }
        Emit(OpType.ChannelAffine, n, [Tensor(n.Input[0]), ConstTensor(n.Input[1] + "_scale", scale, [c]), ConstTensor(n.Input[2] + "_shift", shift, [c])]);
    }

    /// <summary>An elementwise op of the op table: its float attributes with their defaults; any other attribute is refused.</summary>
    void Elementwise(NodeProto n, UnaryOp op, string? handled = null)
    {
        foreach (var a in n.Attribute)
            if (a.Name != handled && !op.Attrs.Any(x => x.Name == a.Name)) throw Error($"attribute '{a.Name}' is not supported");
        var attrs = new Attributes();
        foreach (var (name, fallback) in op.Attrs) attrs.Set(name, AttrF(n, name, fallback));
        Emit(op.Op, n, [Tensor(n.Input[0])], attrs);
    }

    void Gelu(NodeProto n)
    {
        var op = AttrS(n, "approximate", "none") switch
        {
            "none" => OpType.Gelu,
            "tanh" => OpType.GeluTanh,
            var a => throw Error($"approximate '{a}' is not supported"),
        };
        Elementwise(n, Engine.OpTable.Get(op).Unary!, handled: "approximate");
    }

    void Clip(NodeProto n)
    {
        float lo, hi;
        if (opset >= 11 && Enumerable.Range(1, 2).Any(i => Has(n, i) && Get(n.Input[i]) is var b && (b.Tensor >= 0 || !b.IsConstant)))
        {
            // A bound computed at run time (openWakeWord's log-mel floor, max - 80 dB): min(max(x, min), max), broadcasting.
            string x = n.Input[0];
            foreach (var (i, op, name) in new[] { (1, OpType.Max, "Max"), (2, OpType.Min, "Min") })
            {
                if (!Has(n, i)) continue;
                var step = new NodeProto { Name = $"{n.Name}_{name.ToLowerInvariant()}", OpType = name };
                step.Input.Add(x); step.Input.Add(n.Input[i]);
                step.Output.Add(i == 2 || !Has(n, 2) ? n.Output[0] : $"{n.Output[0]}#lo");
                Binary(step, op);
                x = step.Output[0];
            }
            return;
        }
        if (opset < 11) { lo = AttrF(n, "min", float.NegativeInfinity); hi = AttrF(n, "max", float.PositiveInfinity); }
        else
        {
            lo = Has(n, 1) ? First(ConstFloats(n.Input[1], "min"), "min") : float.NegativeInfinity;
            hi = Has(n, 2) ? First(ConstFloats(n.Input[2], "max"), "max") : float.PositiveInfinity;
        }
        if (lo > hi) lo = hi;   // ONNX (as numpy.clip): every value becomes max, which Clip(max, max) gives
        Emit(OpType.Clip, n, [Tensor(n.Input[0])], new Attributes().Set("min", lo).Set("max", hi));
    }

    /// <summary>Softmax, LogSoftmax, Hardmax along one axis (opset 13 on), or over the flattened axes from "axis" on (before 13).</summary>
    void Softmax(NodeProto n, OpType op)
    {
        int rank = ShapeOfValue(n.Input[0]).Length;
        int axis = Axis(AttrI(n, "axis", opset < 13 ? 1 : -1), rank, "axis");
        if (opset >= 13 || axis == rank - 1) { Emit(op, n, [Tensor(n.Input[0])], new Attributes().Set("axis", (long)axis)); return; }
        // Before opset 13 the input is coerced to 2-D [d0·…·d(axis-1), d(axis)·…·d(r-1)] and the op runs along the second.
        var xs = ShapeOfValue(n.Input[0]);
        Sym outer = new(1, 0), inner = new(1, 0);
        for (int d = 0; d < rank; d++) { if (d < axis) outer *= Sym.FromDim(xs[d]); else inner *= Sym.FromDim(xs[d]); }
        int flat = Temp(n, "2d", OpType.Reshape, [Tensor(n.Input[0])], shape: [outer.ToDim(n.OpType), inner.ToDim(n.OpType)]);
        int y = Temp(n, "y2d", op, [flat], new Attributes().Set("axis", 1L));
        EmitReshape(n, y, xs);
    }

    void Binary(NodeProto n, OpType op)
    {
        if (op == OpType.Add && TryQdqElementwise(n, OpType.Add)) return;
        ImportValue a = Get(n.Input[0]), b = Get(n.Input[1]);
        if (a.Ints is { } ia && b.Ints is { } ib && a.Tensor < 0 && b.Tensor < 0)
        {
            // shape arithmetic: elementwise with a scalar or equal lengths
            int len = ia.Length == 1 ? ib.Length : ib.Length == 1 || ia.Length == ib.Length ? ia.Length
                : throw Error($"shape arithmetic on {ia.Length} and {ib.Length} values (they must be as many, or one of them one)");
            var r = new Sym[len];
            for (int i = 0; i < len; i++)
            {
                Sym x = ia[ia.Length == 1 ? 0 : i], y = ib[ib.Length == 1 ? 0 : i];
                r[i] = op switch
                {
                    OpType.Mul => x * y,
                    OpType.Div when y.IsConstant && y.Coef != 0 && x.Coef % y.Coef == 0 => new Sym(x.Coef / y.Coef, x.Pow),
                    OpType.Add when x.Pow == y.Pow || x.Coef == 0 || y.Coef == 0 => new Sym(x.Coef + y.Coef, Math.Max(x.Pow, y.Pow)),
                    OpType.Sub when x.Pow == y.Pow => new Sym(x.Coef - y.Coef, x.Pow),
                    _ => throw Error($"shape arithmetic {x} {op} {y} is not supported"),
                };
            }
            SetConst(n, ia.Length == len ? a.Shape : b.Shape, r);
            return;
        }
        Emit(op, n, TypedOperands(n));
    }

    /// <summary>Sum, Mean, Max, Min of any number of inputs: a chain of broadcasting binary ops (Mean then scales by 1/k).</summary>
    void Variadic(NodeProto n, OpType op, bool mean = false)
    {
        string acc = n.Input[0];
        for (int i = 1; i < n.Input.Count; i++)
        {
            var step = new NodeProto { Name = $"{n.Name}_{i}", OpType = n.OpType };
            step.Input.Add(acc); step.Input.Add(n.Input[i]);
            step.Output.Add(i == n.Input.Count - 1 && !mean ? n.Output[0] : $"{n.Output[0]}#{i}");
            Binary(step, op);
            acc = step.Output[0];
        }
        if (mean) Emit(OpType.Mul, n, [Tensor(acc), ConstTensor(n.Output[0] + "_scale", [1f / n.Input.Count], [])]);
        else if (n.Input.Count == 1) values[n.Output[0]] = Get(acc);
    }

    void Mod(NodeProto n)
    {
        bool integers = Get(n.Input[0]) is { Tensor: >= 0 } v && DataTypes.IsInteger(model.Tensors[v.Tensor].Type);
        if (AttrI(n, "fmod", 0) == 0 && !integers) throw Error("fmod = 0 (integer modulo) is not supported for float tensors");
        if (integers) { Emit(OpType.Mod, n, TypedOperands(n), new Attributes().Set("fmod", AttrI(n, "fmod", 0))); return; }   // the sign rule goes to the kernel
        Binary(n, OpType.Mod);
    }

    void Flatten(NodeProto n)
    {
        var xs = ShapeOfValue(n.Input[0]);
        int axis = (int)AttrI(n, "axis", 1);
        if (TryQdqReshape(n, s => FlattenShape(s, axis < 0 ? axis + s.Length : axis))) return;
        if (axis < 0) axis += xs.Length;
        if (axis < 0 || axis > xs.Length) throw Error($"axis {axis} is out of range");
        Sym outer = new(1, 0), inner = new(1, 0);
        for (int i = 0; i < xs.Length; i++) { if (i < axis) outer *= Sym.FromDim(xs[i]); else inner *= Sym.FromDim(xs[i]); }
        EmitReshape(n, Tensor(n.Input[0]), [outer.ToDim("Flatten"), inner.ToDim("Flatten")]);
    }

    static int[] FlattenShape(int[] xs, int axis)
    {
        Sym outer = new(1, 0), inner = new(1, 0);
        for (int i = 0; i < xs.Length; i++) { if (i < axis) outer *= Sym.FromDim(xs[i]); else inner *= Sym.FromDim(xs[i]); }
        return [outer.ToDim("Flatten"), inner.ToDim("Flatten")];
    }

    void Reshape(NodeProto n)
    {
        if (PassZeroState(n)) return;
        var xs = ShapeOfValue(n.Input[0]);
        var target = ConstInts(n.Input[1], "shape");
        bool allowZero = AttrI(n, "allowzero", 0) != 0;
        var dims = new Sym?[target.Length];
        Sym total = new(1, 0);
        foreach (var d in xs) total *= Sym.FromDim(d);
        Sym known = new(1, 0);
        int infer = -1;
        for (int i = 0; i < target.Length; i++)
        {
            var t = target[i];
            if (t.IsConstant && t.Coef == -1) { if (infer >= 0) throw Error("two -1 dimensions"); infer = i; continue; }
            if (t.IsConstant && t.Coef == 0 && !allowZero) { if (i >= xs.Length) throw Error("0 copies a dimension the input lacks"); t = Sym.FromDim(xs[i]); }
            if (t.Coef < 0) throw Error($"dimension {t} is negative");
            dims[i] = t; known *= t;
        }
        if (infer >= 0)
        {
            if (known.Coef == 0 || total.Coef % known.Coef != 0 || total.Pow < known.Pow) throw Error($"cannot infer -1 for {total} elements in {known}");
            dims[infer] = new Sym(total.Coef / known.Coef, total.Pow - known.Pow);
        }
        if (Get(n.Input[0]).Floats is { } f && Get(n.Input[0]).Tensor < 0) { SetConst(n, dims.Select(d => d!.Value.ToDim("Reshape")).ToArray(), f); return; }
        if (Get(n.Input[0]).Ints is { } ints && Get(n.Input[0]).Tensor < 0) { SetConst(n, dims.Select(d => d!.Value.ToDim("Reshape")).ToArray(), ints); return; }
        EmitReshape(n, Tensor(n.Input[0]), dims.Select(d => d!.Value.ToDim("Reshape")).ToArray());
    }

    void Squeeze(NodeProto n, bool unsqueeze)
    {
        if (PassZeroState(n)) return;
        var v = Get(n.Input[0]);
        var xs = ShapeOfValue(n.Input[0]);
        long[]? axes = Has(n, 1) ? StaticInts(n.Input[1], "axes") : Attr(n, "axes") is { } a ? a.Ints.ToArray() : null;
        var shape = xs.ToList();
        if (unsqueeze)
        {
            if (axes is null) throw Error("Unsqueeze needs axes");
            int rank = xs.Length + axes.Length;
            var at = axes.Select(a => Axis(a, rank, "axis")).ToArray();
            if (at.Distinct().Count() != at.Length) throw Error($"axes [{string.Join(",", axes)}] repeat an axis");
            foreach (var ax in at.Order()) shape.Insert(ax, 1);
        }
        else
        {
            var drop = axes is null ? Enumerable.Range(0, xs.Length).Where(i => xs[i] == 1).ToArray() : axes.Select(a => Axis(a, xs.Length, "axis")).ToArray();
            if (drop.Distinct().Count() != drop.Length) throw Error($"axes [{string.Join(",", axes!)}] repeat an axis");
            foreach (var ax in drop.OrderDescending()) { if (xs[ax] != 1) throw Error($"cannot squeeze axis {ax} of size {xs[ax]}"); shape.RemoveAt(ax); }
        }
        if (v.Tensor < 0 && v.Ints is { } ints) { SetConst(n, shape.ToArray(), ints); return; }
        if (v.Tensor < 0 && v.Floats is { } fl) { SetConst(n, shape.ToArray(), fl); return; }
        EmitReshape(n, Tensor(n.Input[0]), shape.ToArray());
    }

    void Transpose(NodeProto n)
    {
        if (PassZeroState(n)) return;
        var xs = ShapeOfValue(n.Input[0]);
        var perm = AttrInts(n, "perm", Enumerable.Range(0, xs.Length).Reverse().Select(i => (long)i).ToArray());
        var v = Get(n.Input[0]);
        if (v.Tensor < 0 && (v.Ints is not null || v.Floats is not null) && perm.Length == xs.Length && perm.Order().SequenceEqual(Enumerable.Range(0, xs.Length).Select(i => (long)i)))
        {
            // a constant (pads and shapes computed by the exporter): transposed now, as a strided view
            var inStride = Strides(xs);
            var outShape = perm.Select(p => xs[p]).ToArray();
            if (FoldStrided(n, v, outShape, 0, perm.Select(p => inStride[p]).ToArray())) return;
        }
        Emit(OpType.Transpose, n, [Tensor(n.Input[0])], new Attributes().Set("perm", perm));
    }

    void Concat(NodeProto n)
    {
        var vals = n.Input.Select(Get).ToArray();
        int rank = ShapeOfValue(n.Input[0]).Length;
        if (vals.All(v => v.Tensor < 0 && v.Ints is not null && v.Shape.Length <= 1))
        {
            SetConst(n, [vals.Sum(v => v.Ints!.Length)], vals.SelectMany(v => v.Ints!).ToArray());   // shape arithmetic
            return;
        }
        if (vals.All(v => v.Tensor < 0 && (v.Ints is not null || v.Floats is not null)) && rank > 0
            && vals.Sum(v => (long)(v.Ints?.Length ?? v.Floats!.Length)) <= ImportValue.MaxComputedElements
            && vals.All(v => (v.Ints?.Length ?? v.Floats!.Length) == v.Shape.Aggregate(1L, (a, d) => a * d)))
        {
            // constants (shapes, pads, weights the exporter cut and rejoined): joined now, block by block along the axis
            int axis = Axis(AttrI(n, "axis", 0), rank, "axis");
            var shape = (int[])vals[0].Shape.Clone();
            if (vals.Any(v => v.Shape.Length != rank || v.Shape.Where((d, i) => i != axis && d != shape[i]).Any())) throw Error("inputs differ in shape off the axis");
            shape[axis] = vals.Sum(v => v.Shape[axis]);
            long outer = 1, inner = 1;
            for (int d = 0; d < axis; d++) outer *= shape[d];
            for (int d = axis + 1; d < rank; d++) inner *= shape[d];
            T[] Join<T>(Func<ImportValue, T[]> data)
            {
                var all = vals.Select(data).ToArray();
                var joined = new T[outer * shape[axis] * inner];
                int pos = 0;
                for (int o = 0; o < outer; o++)
                    for (int k = 0; k < vals.Length; k++)
                    {
                        int block = (int)(vals[k].Shape[axis] * inner);
                        Array.Copy(all[k], o * block, joined, pos, block);
                        pos += block;
                    }
                return joined;
            }
            if (vals.All(v => v.Ints is not null)) SetConst(n, shape, Join(v => v.Ints!));
            else SetConst(n, shape, Join(v => v.Floats ?? v.Ints!.Select(x => x.IsConstant ? (float)x.Coef : throw Error("a batch-sized value joined with floats")).ToArray()));
            return;
        }
        Emit(OpType.Concat, n, n.Input.Select(Tensor).ToArray(), new Attributes().Set("axis", (long)Axis(AttrI(n, "axis", 0), rank, "axis")));
    }

    void Gather(NodeProto n)
    {
        if (PassZeroState(n)) return;
        var data = Get(n.Input[0]);
        var idxVal = Get(n.Input[1]);
        int axis = (int)AttrI(n, "axis", 0);
        if (idxVal.Tensor >= 0)
        {
            // indices computed at run time (token ids): the kernel reads them
            int rank = ShapeOfValue(n.Input[0]).Length;
            Emit(OpType.Gather, n, [Tensor(n.Input[0]), idxVal.Tensor], new Attributes().Set("axis", (long)Axis(axis, rank, "axis")));
            return;
        }
        var idx = StaticInts(n.Input[1], "indices");
        if (data.Tensor < 0 && data.Ints is { } ints)
        {
            if (data.Shape.Length != 1 || axis != 0) throw Error("shape gathers must be 1-D");
            if (idx.Any(i => i < -ints.Length || i >= ints.Length)) throw Error($"index out of range for {ints.Length} values");
            var picked = idx.Select(i => ints[(int)(i < 0 ? i + ints.Length : i)]).ToArray();
            SetConst(n, idxVal.Shape.Length == 0 ? [] : [picked.Length], picked);
            return;
        }
        var xs = ShapeOfValue(n.Input[0]);
        int ax = Axis(axis, xs.Length, "axis");
        foreach (var i in idx)
            if (xs[ax] >= 0 && (i < -xs[ax] || i >= xs[ax])) throw Error($"index {i} is out of range for axis {ax} of size {xs[ax]}");
        var attrs = new Attributes().Set("axis", (long)ax).Set("indices", idx).Set("scalar", idxVal.Shape.Length == 0 ? 1L : 0L);
        if (idxVal.Shape.Length > 1) attrs.Set("indices_shape", idxVal.Shape.Select(d => (long)d).ToArray());
        Emit(OpType.Gather, n, [Tensor(n.Input[0])], attrs);
    }

    void Slice(NodeProto n)
    {
        if (PassZeroState(n)) return;
        long[] starts, ends, axes, steps;
        if (opset < 10) { starts = AttrInts64(n, "starts", []); ends = AttrInts64(n, "ends", []); axes = AttrInts(n, "axes", Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray()); steps = Enumerable.Repeat(1L, starts.Length).ToArray(); }
        else
        {
            starts = StaticInts(n.Input[1], "starts"); ends = StaticInts(n.Input[2], "ends");
            axes = Has(n, 3) ? StaticInts(n.Input[3], "axes") : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps = Has(n, 4) ? StaticInts(n.Input[4], "steps") : Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        var v = Get(n.Input[0]);
        var xs = ShapeOfValue(n.Input[0]);
        int r = xs.Length;
        var st = new long[r]; var sp = Enumerable.Repeat(1L, r).ToArray(); var outShape = (int[])xs.Clone();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length) throw Error("starts, ends, axes and steps differ in length");
        var seen = new bool[r];
        for (int i = 0; i < starts.Length; i++)
        {
            int ax = Axis(axes[i], r, "axis");
            if (seen[ax]) throw Error($"axis {ax} appears twice in axes");
            seen[ax] = true;
            if (xs[ax] < 0)
            {
                if (starts[i] == 0 && ends[i] >= int.MaxValue && steps[i] == 1) continue;   // the whole batch
                throw Error("slicing the batch axis is not supported");
            }
            long dim = xs[ax], step = steps[i];
            if (step == 0) throw Error("step 0");
            // ONNX: negative starts/ends count from the end; then starts clamp to [0, dim] (step > 0) or [0, dim-1]
            // (step < 0), ends to [0, dim] or [-1, dim-1]. |step| may be 2^63 (INT64_MIN), so it is divided as unsigned.
            long s = starts[i] < 0 ? starts[i] + dim : starts[i], e = ends[i] < 0 ? ends[i] + dim : ends[i], count;
            if (dim == 0) count = 0;
            else if (step > 0) { s = Math.Clamp(s, 0, dim); e = Math.Clamp(e, 0, dim); count = e > s ? (e - s - 1) / step + 1 : 0; }
            else { s = Math.Clamp(s, 0, dim - 1); e = Math.Clamp(e, -1, dim - 1); count = s > e ? (long)((ulong)(s - e - 1) / ((ulong)(-(step + 1)) + 1)) + 1 : 0; }
            if (count <= 1) step = 1;   // one element reads the same with any step; extreme steps stay out of the kernel's strides
            st[ax] = count == 0 ? 0 : s; sp[ax] = step; outShape[ax] = (int)count;
        }
        if (v.Tensor < 0 && (v.Ints is not null || v.Floats is not null) && xs.All(d => d >= 0))
        {
            // a constant: sliced now (element [k] of the output reads Σ (start + k·step)·stride)
            var stride = Strides(xs);
            if (FoldStrided(n, v, outShape, Enumerable.Range(0, r).Sum(d => st[d] * stride[d]), Enumerable.Range(0, r).Select(d => sp[d] * stride[d]).ToArray())) return;
        }
        int o = model.AddTensor(new TensorDesc(UniqueName(n.Output[0]), DataType.Float32, outShape));
        var node = new Node(OpType.Slice, n.Name.Length > 0 ? n.Name : $"Slice_{model.Nodes.Count}", [Tensor(n.Input[0])], [o], new Attributes().Set("starts", st).Set("steps", sp));
        model.Nodes.Add(node);
        Engine.ShapeInference.InferOutputs(model, node);
        values[n.Output[0]] = new ImportValue { Tensor = o, Shape = outShape };
    }

    static long[] Strides(int[] shape)
    {
        var stride = new long[shape.Length];
        long st = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { stride[d] = st; st *= shape[d]; }
        return stride;
    }

    /// <summary>A constant's strided view (Transpose, Slice) as a new constant: output element k (row-major in
    /// <paramref name="outShape"/>) reads input element offset + Σ index[d]·stride[d].</summary>
    bool FoldStrided(NodeProto n, ImportValue v, int[] outShape, long offset, long[] stride)
    {
        if (outShape.Aggregate(1L, (a, d) => a * d) > ImportValue.MaxComputedElements) return false;   // left to the runtime kernel
        int count = ImportValue.ComputedElements(outShape);
        var src = new int[count];
        var index = new int[outShape.Length];
        for (int k = 0; k < count; k++)
        {
            long at = offset;
            for (int d = 0; d < outShape.Length; d++) at += index[d] * stride[d];
            if (at < 0 || at >= (v.Ints?.Length ?? v.Floats!.Length)) return false;   // a value whose data does not fill its shape
            src[k] = (int)at;
            for (int d = outShape.Length - 1; d >= 0; d--) { if (++index[d] < outShape[d]) break; index[d] = 0; }
        }
        if (v.Ints is { } ints) SetConst(n, outShape, src.Select(i => ints[i]).ToArray());
        else SetConst(n, outShape, src.Select(i => v.Floats![i]).ToArray());
        return true;
    }

    void Alias(NodeProto n)
    {
        // Training-mode Dropout is random, except with ratio 0: then it keeps everything, as in eval mode.
        if (n.OpType == "Dropout" && Has(n, 2) && StaticInts(n.Input[2], "training_mode").Any(v => v != 0)
            && !(Has(n, 1) && ConstFloats(n.Input[1], "ratio").All(r => r == 0)))
            throw Error("training_mode = true (random dropout) is not supported; export the model in eval mode");
        values[n.Output[0]] = Get(n.Input[0]);
        if (n.OpType == "Dropout" && n.Output.Count > 1 && n.Output[1].Length > 0)
        {
            // the mask of an inference Dropout keeps everything: a bool 1 tiled to the input's shape
            var xs = ShapeOfValue(n.Input[0]);
            if (xs.Any(d => d < 0)) throw Error("the mask output of a Dropout over the batch axis is not supported");
            int one = model.AddTensor(new TensorDesc(UniqueName(n.Output[1] + "_true"), DataType.Bool, xs.Select(_ => 1).ToArray()) { Data = new byte[] { 1 } });
            var mask = new NodeProto { Name = NodeName(n) + "/mask", OpType = "Tile" };
            mask.Output.Add(n.Output[1]);
            Emit(OpType.Tile, mask, [one], new Attributes().Set("repeats", xs.Select(d => (long)d).ToArray()));
        }
    }

    void Cast(NodeProto n)
    {
        var v = Get(n.Input[0]);
        var to = (TensorProto.Types.DataType)AttrI(n, "to", 1);
        bool toFloat = to is TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Float16;
        if (v.Tensor < 0 && v.Ints is { } ints) { if (toFloat) SetConst(n, v.Shape, ints.Select(s => (float)s.Coef).ToArray()); else values[n.Output[0]] = v; return; }
        if (v.Tensor < 0 && v.Floats is { } fl) { if (toFloat) values[n.Output[0]] = v; else SetConst(n, v.Shape, fl.Select(x => new Sym((long)x, 0)).ToArray()); return; }
        CastComputed(n, v, to);
    }

    void ShapeOf(NodeProto n)
    {
        var xs = ShapeOfValue(n.Input[0]);
        long start = AttrI64(n, "start", 0), end = AttrI64(n, "end", xs.Length);
        if (start < 0) start += xs.Length;
        if (end < 0) end += xs.Length;
        start = Math.Clamp(start, 0, xs.Length); end = Math.Clamp(end, start, xs.Length);
        var dims = xs.Skip((int)start).Take((int)(end - start)).Select(Sym.FromDim).ToArray();
        SetConst(n, [dims.Length], dims);
    }

    void Constant(NodeProto n)
    {
        var a = n.Attribute.FirstOrDefault() ?? throw Error("no value");
        switch (a.Name)
        {
            case "value":
                if (a.T is null) throw Error("Constant 'value' holds no tensor");
                var dims = OnnxFile.Dims(a.T);
                if (OnnxFile.IsFloat(a.T)) SetConst(n, dims, file.Floats(a.T)); else SetConst(n, dims, file.Ints(a.T).Select(v => new Sym(v, 0)).ToArray());
                break;
            case "value_float": SetConst(n, [], [a.F]); break;
            case "value_floats": SetConst(n, [a.Floats.Count], a.Floats.ToArray()); break;
            case "value_int": SetConst(n, [], [new Sym(a.I, 0)]); break;
            case "value_ints": SetConst(n, [a.Ints.Count], a.Ints.Select(v => new Sym(v, 0)).ToArray()); break;
            default: throw Error($"Constant attribute '{a.Name}' is not supported");
        }
    }

    void ConstantOfShape(NodeProto n)
    {
        var shape = ConstInts(n.Input[0], "shape");
        var value = Attr(n, "value")?.T;
        bool isFloat = value is null || OnnxFile.IsFloat(value);
        float fv = value is null ? 0f : First(file.Floats(value), "value");
        if (shape.Any(s => !s.IsConstant))
        {
            if (fv != 0f) throw Error("a batch-sized constant other than zero");
            values[n.Output[0]] = new ImportValue { Shape = shape.Select(s => s.ToDim("ConstantOfShape")).ToArray(), ZeroState = true };
            return;
        }
        var dims = shape.Select(s => checked((int)s.Coef)).ToArray();
        int count = ImportValue.ComputedElements(dims);
        if (isFloat) SetConst(n, dims, Enumerable.Repeat(fv, count).ToArray());
        else SetConst(n, dims, Enumerable.Repeat(new Sym((long)fv, 0), count).ToArray());
    }

    void Recurrent(NodeProto n, OpType op)
    {
        if (n.Output[0].Length == 0) { n = n.Clone(); n.Output[0] = $"{NodeName(n)}/Y (unnamed)"; }   // the kernel always writes Y
        if (Attr(n, "activation_alpha") is not null || Attr(n, "activation_beta") is not null) throw Error("activation_alpha/beta are not supported");
        var attrs = new Attributes()
            .Set("hidden_size", AttrI(n, "hidden_size", 0))
            .Set("direction", AttrS(n, "direction", "forward"))
            .Set("layout", AttrI(n, "layout", 0));
        if (Attr(n, "clip") is { } clip) attrs.Set("clip", clip.F);
        if (op == OpType.Gru) attrs.Set("linear_before_reset", AttrI(n, "linear_before_reset", 0));
        if (op == OpType.Lstm && AttrI(n, "input_forget", 0) != 0) throw Error("input_forget is not supported");
        if (Attr(n, "activations") is { } acts) attrs.Set("activations", string.Join(",", acts.Strings.Select(s => s.ToStringUtf8())));
        var inputs = new List<int> { Tensor(n.Input[0]), Tensor(n.Input[1]), Tensor(n.Input[2]) };
        inputs.Add(Has(n, 3) ? Tensor(n.Input[3]) : -1);
        if (Has(n, 4) && !FullLengths(n)) throw Error("sequence_lens is not supported (only a constant of full lengths)");
        inputs.Add(-1);
        int states = op == OpType.Lstm ? 2 : 1;
        for (int i = 5; i < 5 + states; i++) inputs.Add(Has(n, i) && !IsZero(n.Input[i]) ? Tensor(n.Input[i]) : -1);
        if (op == OpType.Lstm) inputs.Add(Has(n, 7) ? Tensor(n.Input[7]) : -1);
        while (inputs.Count > 3 && inputs[^1] == -1) inputs.RemoveAt(inputs.Count - 1);
        Emit(op, n, inputs.ToArray(), attrs, outputs: op == OpType.Lstm ? 3 : 2);
    }

    /// <summary>A recurrent node's sequence_lens that is a constant holding the full sequence length for every batch
    /// entry: the same as no sequence_lens (what an exporter writes for unpadded batches).</summary>
    bool FullLengths(NodeProto n)
    {
        var v = Get(n.Input[4]);
        if (v.Tensor >= 0 || v.Ints is null) return false;
        var xs = ShapeOfValue(n.Input[0]);
        if (xs.Length != 3) return false;
        int seq = xs[AttrI(n, "layout", 0) == 0 ? 0 : 1];
        return seq > 0 && StaticInts(n.Input[4], "sequence_lens").All(l => l == seq);
    }

    /// <summary>Shape-only ops on a batch-sized zero state (stacked RNN initial states) give a zero state.</summary>
    bool PassZeroState(NodeProto n)
    {
        if (!Get(n.Input[0]).ZeroState) return false;
        values[n.Output[0]] = new ImportValue { Shape = [], ZeroState = true };
        return true;
    }

    void Expand(NodeProto n)
    {
        if (PassZeroState(n)) return;
        var v = Get(n.Input[0]);
        var shape = ConstInts(n.Input[1], "shape");
        if (v.Tensor < 0 && v.Floats is { } f && f.All(x => x == 0f) && shape.Any(s => !s.IsConstant))
        {
            values[n.Output[0]] = new ImportValue { Shape = [], ZeroState = true };
            return;
        }
        if (v.Tensor < 0 && v.Floats is { } c && shape.All(s => s.IsConstant))
        {
            var outShape = Kernels.BinaryKernel.Broadcast(v.Shape, shape.Select(s => checked((int)s.Coef)).ToArray()) ?? throw Error("shapes do not broadcast");
            var data = new float[ImportValue.ComputedElements(outShape)];
            for (int i = 0; i < data.Length; i++)
            {
                // index of output element i in the (right-aligned, broadcast) input
                long rem = i, src = 0, stride = 1;
                for (int d = outShape.Length - 1; d >= 0; d--)
                {
                    int od = outShape[d], k = (int)(rem % od); rem /= od;
                    int id = d - (outShape.Length - v.Shape.Length);
                    if (id >= 0) { if (v.Shape[id] != 1) src += k * stride; stride *= v.Shape[id]; }
                }
                data[i] = c[src];
            }
            SetConst(n, outShape, data);
            return;
        }
        ExpandComputed(n, shape);
    }

    T First<T>(T[] values, string role) => values.Length > 0 ? values[0] : throw Error($"{role} is empty");

    bool IsZero(string name) => Get(name) is var v && (v.ZeroState || (v.Tensor < 0 && v.Floats is { } f && f.All(x => x == 0f)));
}
