using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>
/// Plans convolutional networks channels-last. In NCHW a depthwise convolution walks one small plane per channel and
/// a general convolution transposes its im2col columns; in NHWC the channels are the vector, every pixel is
/// full-width, a pointwise convolution is one GEMM with the pixels as rows and a k×k one a GEMM over rows gathered
/// from contiguous channel runs. This rewrites a copy of the graph at load (the file stays NCHW): each fp32 node whose
/// op has a channels-last form (<see cref="OpInfo.Layout"/>, decided by the op table, not here) gets NHWC tensors,
/// and a Transpose goes only where data crosses between the layouts: at graph inputs and outputs and before ops
/// that need the file's layout. A channels-last region starts at a convolution and follows the data through
/// activations, binary ops, pools, Concat/Pad/Slice/Resize; a Transpose that reads it is composed with the layout.
/// Graph inputs and outputs keep their shapes. int8 nodes follow the narrower rule their kernels know
/// (<see cref="OpInfo.Int8ChannelsLast"/>: pointwise and depthwise convs, Add, activations, GlobalAveragePool).
/// </summary>
internal static class ChannelsLast
{
    public const string Attribute = "channels_last";

    static readonly long[] ToNhwcPerm = [0, 2, 3, 1], ToNchwPerm = [0, 3, 1, 2], Identity = [0, 1, 2, 3];
    /// <summary>NCHW axis a is axis Position[a] of the channels-last tensor.</summary>
    static readonly int[] Position = [0, 3, 1, 2];

    public static Model Rewrite(Model m)
    {
        int T = m.Tensors.Count;
        var runs = new bool[m.Nodes.Count];
        var nchwIn = new bool[m.Nodes.Count];   // a first-layer conv: reads NCHW, writes NHWC (Simd.DirectConvNhwc)
        var isNhwc = new bool[T];   // produced channels-last by a rewritten node
        var shuffle = new int[m.Nodes.Count];   // 1, 2, 3: the Reshape, Transpose, Reshape of a channel shuffle
        var split = new int[m.Nodes.Count];     // 1, 2: the Reshape splitting channels and the Transpose of a detection head
        var readers = Readers(m);
        bool worth = false;
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            var n = m.Nodes[i];
            if (shuffle[i] == 0 && n.Op == OpType.Reshape && n.Inputs is [>= 0 and var x0] && isNhwc[x0] && ChannelShuffle(m, i, readers) is (int j, int k))
            {
                shuffle[i] = 1; shuffle[j] = 2; shuffle[k] = 3;
            }
            if (shuffle[i] != 0)
            {
                runs[i] = true;
                if (shuffle[i] == 3) isNhwc[n.Outputs[0]] = true;
                continue;
            }
            if (split[i] == 0 && n.Op == OpType.Reshape && n.Inputs is [>= 0 and var x1] && isNhwc[x1] && SplitChannels(m, i, readers) is int t1)
            {
                split[i] = 1; split[t1] = 2;
            }
            if (split[i] != 0) { runs[i] = true; continue; }   // the Transpose writes the file's layout
            nchwIn[i] = IsFirstLayer(m, n, isNhwc);
            if (!nchwIn[i] && !Eligible(m, n, isNhwc)) continue;
            runs[i] = true;
            // fp32 convs all have an NHWC kernel; an int8-only plan pays off only with a depthwise conv (as before).
            if (n.Op == OpType.Conv && (m.Tensors[n.Inputs[0]].Type == DataType.Float32 || IsDepthwise(m, n))) worth = true;
            var role = OpTable.Get(n.Op).Layout;
            if (role is not (LayoutRole.GlobalPool or LayoutRole.Permute)) foreach (var o in n.Outputs) isNhwc[o] = true;   // GAP writes [N, C, 1, 1]: the same bytes in both layouts
        }
        if (!worth) return m;

        var r = new Model { Metadata = m.Metadata };
        r.Tensors.AddRange(m.Tensors);
        r.Inputs.AddRange(m.Inputs); r.Outputs.AddRange(m.Outputs);
        var nhwcOf = new int[T]; Array.Fill(nhwcOf, -1);     // the channels-last twin of an NCHW tensor
        var nchwDone = new bool[T];                           // NCHW copy of a channels-last output already made
        var consumedNchw = new bool[T];
        var transposedFrom = new Node?[T];   // a file-layout Transpose's output: its twin is one Transpose of the source
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            var n = m.Nodes[i];
            if (!runs[i]) foreach (var t in n.Inputs) if (t >= 0) consumedNchw[t] = true;
            if (nchwIn[i]) consumedNchw[n.Inputs[0]] = true;   // a stem reads NCHW itself
            if (!runs[i] && n.Op == OpType.Transpose && m.Tensors[n.Outputs[0]].Shape.Length == 4 && m.Tensors[n.Outputs[0]].Type == DataType.Float32)
                transposedFrom[n.Outputs[0]] = n;
        }
        foreach (var o in m.Outputs) consumedNchw[o] = true;

        int Twin(int t)
        {
            if (nhwcOf[t] < 0)
            {
                var d = m.Tensors[t];
                nhwcOf[t] = r.AddTensor(new TensorDesc(d.Name + "#nhwc", d.Type, [d.Shape[0], d.Shape[2], d.Shape[3], d.Shape[1]]) { Quant = d.Quant });
            }
            return nhwcOf[t];
        }

        for (int i = 0; i < m.Nodes.Count; i++)
        {
            var n = m.Nodes[i];
            if (!runs[i])
            {
                // A Transpose (an NHWC model's input turned NCHW) read only channels-last: its readers get the twin
                // straight from its source below, so it does not run at all.
                if (transposedFrom[n.Outputs[0]] is null || consumedNchw[n.Outputs[0]]) r.Nodes.Add(n);
                continue;
            }
            if (shuffle[i] != 0) { Shuffle(m, r, n, shuffle[i], nhwcOf, Twin); ConvertBack(n.Outputs[0], n.Name); continue; }
            if (split[i] == 1)
            {
                var d = m.Tensors[n.Outputs[0]];
                nhwcOf[n.Outputs[0]] = r.AddTensor(new TensorDesc(d.Name + "#nhwc", d.Type, [d.Shape[0], d.Shape[3], d.Shape[4], d.Shape[1], d.Shape[2]]));
                r.Nodes.Add(new Node(OpType.Reshape, n.Name, [Twin(n.Inputs[0])], [nhwcOf[n.Outputs[0]]], new Attributes(), n.Version));
                continue;
            }
            if (split[i] == 2)
            {
                // [N, a, b, H, W] is [N, H, W, a, b] channels-last (axis d at Split5[d]): the file's perm p reads axis Split5[p[k]].
                var composed = n.Attributes.Ints("perm", []).Select(q => (long)Split5[q]).ToArray();
                r.Nodes.Add(Transpose(nhwcOf[n.Inputs[0]], n.Outputs[0], composed, n.Name));
                continue;
            }
            var inputs = (int[])n.Inputs.Clone();
            var info = OpTable.Get(n.Op);
            for (int k = 0; k < DataInputs(info, n, nchwIn[i]); k++)
            {
                int t = inputs[k];
                if (t < 0) continue;
                if (isNhwc[t]) { inputs[k] = Twin(t); continue; }
                if (m.Tensors[t].IsConstant) { inputs[k] = PermutedConstant(r, m.Tensors[t]); continue; }   // a Binary op's or Concat's constant operand
                if (nhwcOf[t] < 0 && transposedFrom[t] is { } tr)
                {
                    // twin = transpose(transpose(s, p), toNhwc) = transpose(s, p∘toNhwc): none at all when that is the identity.
                    var p = tr.Attributes.Ints("perm", [0, 1, 2, 3]);
                    var composed = ToNhwcPerm.Select(q => p[q]).ToArray();
                    if (composed.SequenceEqual(Identity)) nhwcOf[t] = tr.Inputs[0];
                    else r.Nodes.Add(Transpose(tr.Inputs[0], Twin(t), composed, n.Name + "/to_nhwc"));
                }
                bool fresh = nhwcOf[t] < 0;
                inputs[k] = Twin(t);
                if (fresh) r.Nodes.Add(Transpose(t, nhwcOf[t], ToNhwcPerm, n.Name + "/to_nhwc"));
            }
            var attrs = new Attributes();
            foreach (var (key, v) in n.Attributes.All) attrs.Set(key, v);
            switch (info.Layout)
            {
                case LayoutRole.Axes: attrs = PermuteAxes(info, n.Attributes)!; break;
                case LayoutRole.Permute: attrs.Set("perm", n.Attributes.Ints("perm", []).Select(p => (long)Position[p]).ToArray()); break;
                default: attrs.Set(Attribute, nchwIn[i] ? 2L : 1L); break;
            }
            int[] outputs = info.Layout is LayoutRole.GlobalPool or LayoutRole.Permute ? n.Outputs : n.Outputs.Select(Twin).ToArray();
            if (info.Layout == LayoutRole.Permute && attrs.Ints("perm", []).SequenceEqual(Identity))
                r.Nodes.Add(new Node(OpType.Reshape, n.Name, inputs, outputs, new Attributes(), n.Version));   // the same bytes: a reshape, aliased where the planner can
            else r.Nodes.Add(new Node(n.Op, n.Name, inputs, outputs, attrs, n.Version));
            foreach (var y in n.Outputs) ConvertBack(y, n.Name);
        }
        return r;

        void ConvertBack(int y, string name)
        {
            if (!isNhwc[y] || !consumedNchw[y] || nchwDone[y]) return;
            r.Nodes.Add(Transpose(nhwcOf[y], y, ToNchwPerm, name + "/to_nchw"));
            nchwDone[y] = true;
        }

        // A conversion that moves only axes of length 1 (an SE block's [N, C, 1, 1]) keeps the bytes: a Reshape.
        Node Transpose(int from, int to, long[] perm, string name)
        {
            var s = r.Tensors[from].Shape;
            var moved = perm.Where(p => s[p] != 1).ToArray();
            return moved.Zip(moved.Skip(1)).All(q => q.First < q.Second)
                ? new(OpType.Reshape, name, [from], [to], new Attributes())
                : new(OpType.Transpose, name, [from], [to], new Attributes().Set("perm", perm));
        }
    }

    /// <summary>How many nodes read each tensor (graph outputs count as a reader).</summary>
    static int[] Readers(Model m)
    {
        var c = new int[m.Tensors.Count];
        foreach (var n in m.Nodes) foreach (var t in n.Inputs) if (t >= 0) c[t]++;
        foreach (var o in m.Outputs) c[o]++;
        return c;
    }

    /// <summary>ShuffleNet's channel shuffle on [N, C, H, W]: Reshape to [N, g, C/g, H, W], Transpose (0, 2, 1, 3, 4),
    /// Reshape back, each read only by the next: the indices of the Transpose and the last Reshape, or null.</summary>
    static (int, int)? ChannelShuffle(Model m, int i, int[] readers)
    {
        var a = m.Nodes[i];
        if (a.Op != OpType.Reshape || a.Inputs.Length != 1 || a.Outputs.Length != 1 || readers[a.Outputs[0]] != 1) return null;
        int[] s = m.Tensors[a.Inputs[0]].Shape, mid = m.Tensors[a.Outputs[0]].Shape;
        if (s.Length != 4 || m.Tensors[a.Inputs[0]].Type != DataType.Float32 || mid.Length != 5 || mid[0] != s[0] || mid[1] < 1 || mid[1] * mid[2] != s[1] || mid[3] != s[2] || mid[4] != s[3]) return null;
        int j = m.Nodes.FindIndex(i + 1, n => n.Inputs.Contains(a.Outputs[0]));
        if (j < 0) return null;
        var t = m.Nodes[j];
        if (t.Op != OpType.Transpose || !t.Attributes.Ints("perm", []).SequenceEqual([0L, 2, 1, 3, 4]) || readers[t.Outputs[0]] != 1) return null;
        int k = m.Nodes.FindIndex(j + 1, n => n.Inputs.Contains(t.Outputs[0]));
        if (k < 0) return null;
        var b = m.Nodes[k];
        if (b.Op != OpType.Reshape || b.Inputs.Length != 1 || !m.Tensors[b.Outputs[0]].Shape.AsSpan().SequenceEqual(s)) return null;
        return (j, k);
    }

    /// <summary>A detection head's Reshape [N, C, H, W] → [N, a, C/a, H, W] (YOLOv5's [N, anchors, 5 + classes, H, W])
    /// read only by a Transpose of the five axes, which writes the file's layout: the Transpose's index, or null. On
    /// channels-last data the Reshape is [N, H, W, a, C/a] (the same bytes) and the two Transposes (back to NCHW, then
    /// the file's) are one, which for YOLOv5's (0, 1, 3, 4, 2) moves whole rows of C/a.</summary>
    static int? SplitChannels(Model m, int i, int[] readers)
    {
        var a = m.Nodes[i];
        if (a.Inputs.Length != 1 || a.Outputs.Length != 1 || readers[a.Outputs[0]] != 1) return null;
        int[] s = m.Tensors[a.Inputs[0]].Shape, mid = m.Tensors[a.Outputs[0]].Shape;
        if (s.Length != 4 || m.Tensors[a.Inputs[0]].Type != DataType.Float32 || mid.Length != 5 || mid[0] != s[0] || mid[1] < 1 || mid[1] * mid[2] != s[1] || mid[3] != s[2] || mid[4] != s[3]) return null;
        int j = m.Nodes.FindIndex(i + 1, n => n.Inputs.Contains(a.Outputs[0]));
        if (j < 0) return null;
        var t = m.Nodes[j];
        return t.Op == OpType.Transpose && t.Inputs.Length == 1 && t.Attributes.Ints("perm", []) is { Length: 5 } p && p.Order().SequenceEqual([0L, 1, 2, 3, 4]) ? j : null;
    }

    /// <summary>Axis d of [N, a, b, H, W] is axis Split5[d] of its channels-last form [N, H, W, a, b].</summary>
    static readonly int[] Split5 = [0, 3, 4, 1, 2];

    /// <summary>The channel shuffle on channels-last data: [N, H, W, C] as [N, H, W, g, C/g], transposed to
    /// [N, H, W, C/g, g], read back as [N, H, W, C].</summary>
    static void Shuffle(Model m, Model r, Node n, int step, int[] nhwcOf, Func<int, int> twin)
    {
        int x = n.Inputs[0], y = n.Outputs[0];
        var d = m.Tensors[y];
        int[] Nhwc5(int[] s) => [s[0], s[3], s[4], s[1], s[2]];
        switch (step)
        {
            case 1:
                nhwcOf[y] = r.AddTensor(new TensorDesc(d.Name + "#nhwc", d.Type, Nhwc5(d.Shape)));
                r.Nodes.Add(new Node(OpType.Reshape, n.Name, [twin(x)], [nhwcOf[y]], new Attributes(), n.Version));
                break;
            case 2:
                nhwcOf[y] = r.AddTensor(new TensorDesc(d.Name + "#nhwc", d.Type, Nhwc5(d.Shape)));
                r.Nodes.Add(new Node(OpType.Transpose, n.Name, [nhwcOf[x]], [nhwcOf[y]], new Attributes().Set("perm", new long[] { 0, 1, 2, 4, 3 }), n.Version));
                break;
            default:
                r.Nodes.Add(new Node(OpType.Reshape, n.Name, [nhwcOf[x]], [twin(y)], new Attributes(), n.Version));
                break;
        }
    }

    /// <summary>How many leading inputs are data in the node's layout (the rest are weights, indices, ...).</summary>
    static int DataInputs(OpInfo info, Node n, bool nchwIn) =>
        nchwIn ? 0 : info.Layout is LayoutRole.Binary or LayoutRole.Axes ? n.Inputs.Length : 1;

    /// <summary>A float constant broadcast against NCHW data, as the same values for NHWC data: rank 4, axes permuted.</summary>
    static int PermutedConstant(Model r, TensorDesc c)
    {
        var s = c.Shape;
        int[] s4 = [.. Enumerable.Repeat(1, 4 - s.Length), .. s];
        int N = s4[0], C = s4[1], H = s4[2], W = s4[3];
        var src = c.Floats();
        var dst = new float[src.Length];
        for (int n = 0, o = 0; n < N; n++)
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++)
                    for (int ch = 0; ch < C; ch++) dst[o++] = src[((n * C + ch) * H + h) * W + w];
        return r.AddTensor(new TensorDesc(c.Name + "#nhwc", DataType.Float32, [N, H, W, C]) { Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(dst.AsSpan()).ToArray() });
    }

    /// <summary>The attributes of an <see cref="LayoutRole.Axes"/> node for channels-last data, or null when one
    /// of them cannot be mapped.</summary>
    static Attributes? PermuteAxes(OpInfo info, Attributes a)
    {
        var r = new Attributes();
        foreach (var (key, v) in a.All) r.Set(key, v);
        foreach (var (name, use) in info.AxisAttributes)
        {
            if (!a.Has(name)) continue;
            var v = a.All[name];
            switch (use)
            {
                case AxisUse.Axes:
                    if (v.Ints is not { } list || list.Any(d => d < -4 || d > 3)) return null;
                    r.Set(name, list.Select(d => (long)Position[(int)((d + 4) % 4)]).ToArray());
                    break;
                case AxisUse.Axis:
                    long axis = a.Int(name, long.MinValue);
                    if (axis < -4 || axis > 3) return null;
                    r.Set(name, (long)Position[(int)((axis + 4) % 4)]);
                    break;
                case AxisUse.PerAxis or AxisUse.BeginsEnds:
                    int groups = use == AxisUse.BeginsEnds ? 2 : 1;
                    if (v.Ints is { } ints)
                    {
                        if (ints.Length != 4 * groups) return null;
                        var p = new long[ints.Length];
                        for (int g = 0; g < groups; g++) for (int d = 0; d < 4; d++) p[g * 4 + Position[d]] = ints[g * 4 + d];
                        r.Set(name, p);
                    }
                    else if (v.Floats is { } floats)
                    {
                        if (floats.Length != 4 * groups) return null;
                        var p = new float[floats.Length];
                        for (int g = 0; g < groups; g++) for (int d = 0; d < 4; d++) p[g * 4 + Position[d]] = floats[g * 4 + d];
                        r.Set(name, p);
                    }
                    else return null;
                    break;
            }
        }
        return r;
    }

    static bool Eligible(Model m, Node n, bool[] isNhwc)
    {
        if (n.Inputs.Length == 0 || n.Inputs[0] < 0 || n.Outputs.Length == 0 || n.Outputs.Any(o => o < 0)) return false;
        if (n.Outputs.Length > 1 && OpTable.Get(n.Op).Layout != LayoutRole.Axes) return false;   // Split: every part channels-last
        var x = m.Tensors[n.Inputs[0]];
        // A binary op whose first operand is a constant (PaddleOCR's scale·x + b): BinaryOperands checks every operand.
        if (x.IsConstant && x.Type == DataType.Float32 && OpTable.Get(n.Op).Layout == LayoutRole.Binary)
            return m.Tensors[n.Outputs[0]].Shape.Length == 4 && (OpTable.Get(n.Op).ChannelsLastAccepts?.Invoke(m, n) ?? true) && BinaryOperands(m, n, isNhwc);
        if (x.Type is not (DataType.Float32 or DataType.Int8) || x.Shape.Length != 4 || x.IsConstant) return false;
        if (n.Outputs.Any(o => m.Tensors[o].Shape.Length != 4)) return false;
        var info = OpTable.Get(n.Op);
        if (x.Type == DataType.Int8) return info.Int8ChannelsLast && EligibleInt8(m, n, info, isNhwc);
        bool accepts = info.ChannelsLastAccepts?.Invoke(m, n) ?? true;
        return info.Layout switch
        {
            LayoutRole.Conv => accepts,
            LayoutRole.Window => accepts && isNhwc[n.Inputs[0]],
            LayoutRole.Elementwise or LayoutRole.GlobalPool => isNhwc[n.Inputs[0]],
            LayoutRole.Permute => isNhwc[n.Inputs[0]] && n.Attributes.Ints("perm", []) is { Length: 4 } p && p.All(a => a is >= 0 and < 4),
            LayoutRole.Binary => BinaryOperands(m, n, isNhwc),
            LayoutRole.Axes => n.Inputs.Any(t => t >= 0 && isNhwc[t]) && PermuteAxes(info, n.Attributes) is not null
                && n.Inputs.All(t => t >= 0 && m.Tensors[t].Shape.Length == 4 && m.Tensors[t].Type == DataType.Float32 && !(m.Tensors[t].IsConstant && m.Tensors[t].Shape.Any(d => d < 0))),
            LayoutRole.Fixed => false,
            _ => throw new InvalidOperationException($"layout role {info.Layout}"),
        };
    }

    /// <summary>The int8 kernels that know the plan: pointwise and depthwise convs, same-shape Add, activations, GAP.</summary>
    static bool EligibleInt8(Model m, Node n, OpInfo info, bool[] isNhwc)
    {
        var x = m.Tensors[n.Inputs[0]];
        return info.Layout switch
        {
            LayoutRole.Conv => IsPointwise(m, n) || IsDepthwise(m, n),
            LayoutRole.Binary => n.Inputs.Length == 2 && n.Inputs.All(t => t >= 0 && isNhwc[t] && m.Tensors[t].Shape.AsSpan().SequenceEqual(x.Shape)),
            LayoutRole.Elementwise or LayoutRole.GlobalPool => isNhwc[n.Inputs[0]],
            _ => false,
        };
    }

    /// <summary>A binary op on 4-D fp32 data with at least one channels-last operand; the others are channels-last,
    /// 4-D (transposed) or float constants (permuted at load).</summary>
    static bool BinaryOperands(Model m, Node n, bool[] isNhwc)
    {
        bool any = false;
        foreach (var t in n.Inputs)
        {
            if (t < 0) return false;
            var d = m.Tensors[t];
            if (d.Type != DataType.Float32 || d.Shape.Length > 4) return false;
            if (isNhwc[t]) { any = true; continue; }
            if (d.IsConstant ? d.Shape.Any(s => s < 0) : d.Shape.Length != 4) return false;
        }
        return any;
    }

    /// <summary>A dense convolution of few input channels (an image network's stem) on NCHW data, whose output can
    /// start the channels-last part without a transpose.</summary>
    static bool IsFirstLayer(Model m, Node n, bool[] isNhwc)
    {
        if (n.Op != OpType.Conv || n.Inputs.Length < 2 || n.Inputs[0] < 0 || n.Outputs.Length != 1 || isNhwc[n.Inputs[0]]) return false;
        var x = m.Tensors[n.Inputs[0]]; var w = Weight(m, n);
        bool types = x.Type == DataType.Float32 || (x.Type == DataType.Int8 && Kernels.Int8.ConvNhwcInt8Kernel.ExactInFloat(m, n));
        return types && !x.IsConstant && x.Shape.Length == 4 && x.Shape[1] <= 8 && w.Length == 4
            && n.Attributes.Int("group", 1) == 1 && !IsPointwise(m, n) && Kernels.Simd.DirectConvNhwc.Supports(w[0]) && !n.Attributes.Has("auto_pad");
    }

    static int[] Weight(Model m, Node n) => n.Inputs.Length > 1 && n.Inputs[1] >= 0 ? m.Tensors[n.Inputs[1]].Shape : [];

    static bool IsPointwise(Model m, Node n)
    {
        var w = Weight(m, n); var a = n.Attributes;
        return w.Length == 4 && w[2] == 1 && w[3] == 1 && a.Int("group", 1) == 1
            && a.Ints("strides", [1, 1]).All(s => s == 1) && a.Ints("pads", [0, 0, 0, 0]).All(p => p == 0)
            && !a.Has("auto_pad");
    }

    static bool IsDepthwise(Model m, Node n)
    {
        var w = Weight(m, n); int c = m.Tensors[n.Inputs[0]].Shape[1];
        return w.Length == 4 && w[1] == 1 && w[0] == c && n.Attributes.Int("group", 1) == c && c > 1 && !n.Attributes.Has("auto_pad");
    }
}
