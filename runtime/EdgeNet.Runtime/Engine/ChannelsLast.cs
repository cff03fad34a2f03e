using EdgeNet.Format;

namespace EdgeNet.Engine;

/// <summary>
/// Plans depthwise-separable networks (MobileNet and kin) channels-last. In NCHW a depthwise convolution walks one
/// small plane per channel (7×7 late in MobileNetV2: a vector and a tail per row, plus a padded copy per channel);
/// in NHWC the channels are the vector, every pixel is full-width, and a pointwise convolution is one GEMM with the
/// pixels as rows, with no transposes. This rewrites a copy of the graph at load (the file stays NCHW): eligible fp32
/// nodes get <c>channels_last = 1</c> and NHWC tensors, and a Transpose goes wherever data crosses between the two
/// layouts. Graph inputs and outputs keep their shapes. A model without a depthwise convolution is left as it is.
/// </summary>
internal static class ChannelsLast
{
    public const string Attribute = "channels_last";

    static readonly long[] ToNhwcPerm = [0, 2, 3, 1], ToNchwPerm = [0, 3, 1, 2];

    public static Model Rewrite(Model m)
    {
        int T = m.Tensors.Count;
        var runs = new bool[m.Nodes.Count];
        var nchwIn = new bool[m.Nodes.Count];   // a first-layer conv: reads NCHW, writes NHWC (Simd.DirectConvNhwc)
        var isNhwc = new bool[T];   // produced channels-last by a rewritten node
        bool depthwise = false;
        for (int i = 0; i < m.Nodes.Count; i++)
        {
            var n = m.Nodes[i];
            nchwIn[i] = IsFirstLayer(m, n, isNhwc);
            if (!nchwIn[i] && !Eligible(m, n, isNhwc)) continue;
            runs[i] = true;
            if (n.Op == OpType.Conv && IsDepthwise(m, n)) depthwise = true;
            if (OpTable.Get(n.Op).Layout != LayoutRole.GlobalPool) isNhwc[n.Outputs[0]] = true;   // GAP writes [N, C, 1, 1]: the same bytes in both layouts
        }
        if (!depthwise) return m;

        var r = new Model { Metadata = m.Metadata };
        r.Tensors.AddRange(m.Tensors);
        r.Inputs.AddRange(m.Inputs); r.Outputs.AddRange(m.Outputs);
        var nhwcOf = new int[T]; Array.Fill(nhwcOf, -1);     // the channels-last twin of an NCHW tensor
        var nchwDone = new bool[T];                           // NCHW copy of a channels-last output already made
        var consumedNchw = new bool[T];
        for (int i = 0; i < m.Nodes.Count; i++)
            if (!runs[i]) foreach (var t in m.Nodes[i].Inputs) if (t >= 0) consumedNchw[t] = true;
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
            if (!runs[i]) { r.Nodes.Add(n); continue; }
            var inputs = (int[])n.Inputs.Clone();
            var layout = OpTable.Get(n.Op).Layout;
            int data = nchwIn[i] ? 0 : layout == LayoutRole.Binary ? 2 : 1;
            for (int k = 0; k < data; k++)
            {
                int t = inputs[k];
                if (isNhwc[t]) { inputs[k] = Twin(t); continue; }
                bool fresh = nhwcOf[t] < 0;
                inputs[k] = Twin(t);
                if (fresh) r.Nodes.Add(Transpose(t, nhwcOf[t], ToNhwcPerm, n.Name + "/to_nhwc"));
            }
            var attrs = new Attributes();
            foreach (var (key, v) in n.Attributes.All) attrs.Set(key, v);
            attrs.Set(Attribute, nchwIn[i] ? 2L : 1L);
            int y = n.Outputs[0];
            int[] outputs = layout == LayoutRole.GlobalPool ? [y] : [Twin(y)];
            r.Nodes.Add(new Node(n.Op, n.Name, inputs, outputs, attrs, n.Version));
            if (isNhwc[y] && consumedNchw[y] && !nchwDone[y])
            {
                r.Nodes.Add(Transpose(nhwcOf[y], y, ToNchwPerm, n.Name + "/to_nchw"));
                nchwDone[y] = true;
            }
        }
        return r;
    }

    static Node Transpose(int from, int to, long[] perm, string name) =>
        new(OpType.Transpose, name, [from], [to], new Attributes().Set("perm", perm));

    static bool Eligible(Model m, Node n, bool[] isNhwc)
    {
        if (n.Inputs.Length == 0 || n.Inputs[0] < 0 || n.Outputs.Length != 1) return false;
        var x = m.Tensors[n.Inputs[0]];
        if (x.Type is not (DataType.Float32 or DataType.Int8) || x.Shape.Length != 4 || x.IsConstant) return false;
        if (m.Tensors[n.Outputs[0]].Shape.Length != 4) return false;
        var info = OpTable.Get(n.Op);
        if (x.Type == DataType.Int8 && !info.Int8ChannelsLast) return false;   // the int8 kernels that know the plan
        return info.Layout switch
        {
            LayoutRole.Conv => IsPointwise(m, n) || IsDepthwise(m, n),
            LayoutRole.Binary => n.Inputs.Length == 2 && n.Inputs.All(t => t >= 0 && isNhwc[t] && m.Tensors[t].Shape.AsSpan().SequenceEqual(x.Shape)),
            LayoutRole.Elementwise or LayoutRole.GlobalPool => isNhwc[n.Inputs[0]],
            LayoutRole.Fixed => false,
            _ => throw new InvalidOperationException($"layout role {info.Layout}"),
        };
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
