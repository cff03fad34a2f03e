using EdgeNet.Format;

namespace EdgeNet.Training;

/// <summary>Backward passes of the spatial ops (ConvTranspose, Resize, Pad, GlobalMaxPool, GroupNormalization, LRN);
/// each accumulates into the gradients that are wanted (empty spans are skipped).</summary>
internal static class SpatialGradients
{
    static Span<float> Dy(TrainingSession s, Node n) => s.Gr(n.Outputs[0]);

    public static void ConvTranspose(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        if (s.KernelOf(i) is Kernels.ConvTransposeNdKernel nd)
        {
            Kernels.ConvTransposeNdKernel.Backward(s.A(n.Inputs[0]), s.A(n.Inputs[1]), Dy(s, n), s.Gr(n.Inputs[0]), s.Gr(n.Inputs[1]), s.BiasGrad(n), s.Shape(n.Inputs[0])[0], nd.Window);
            return;
        }
        var g = ((Kernels.ConvTransposeKernel)s.KernelOf(i)).Geometry;
        Kernels.Reference.ConvTranspose.Backward(s.A(n.Inputs[0]), s.A(n.Inputs[1]), Dy(s, n), s.Gr(n.Inputs[0]), s.Gr(n.Inputs[1]), s.BiasGrad(n), s.Shape(n.Inputs[0])[0], g);
    }

    public static void Resize(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dx = s.Gr(n.Inputs[0]);
        if (!dx.IsEmpty) ((Kernels.ResizeKernel)s.KernelOf(i)).Backward(Dy(s, n), dx, s.Shape(n.Inputs[0])[0]);
    }

    public static void Pad(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dx = s.Gr(n.Inputs[0]);
        if (!dx.IsEmpty) ((Kernels.PadKernel)s.KernelOf(i)).Backward(Dy(s, n), dx, s.Shape(n.Inputs[0])[0]);
    }

    /// <summary>The gradient goes to the first maximum of each channel.</summary>
    public static void GlobalMaxPool(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dx = s.Gr(n.Inputs[0]);
        if (dx.IsEmpty) return;
        var x = s.A(n.Inputs[0]); var dy = Dy(s, n); int hw = dx.Length / dy.Length;
        for (int c = 0; c < dy.Length; c++)
        {
            var blk = x.Slice(c * hw, hw);
            int arg = 0;
            for (int k = 1; k < hw; k++) if (blk[k] > blk[arg]) arg = k;
            dx[c * hw + arg] += dy[c];
        }
    }

    public static void GroupNorm(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        ((Kernels.GroupNormKernel)s.KernelOf(i)).Backward(s.A(n.Inputs[0]), s.A(n.Inputs[1]), Dy(s, n), s.Gr(n.Inputs[0]), s.Gr(n.Inputs[1]), s.Gr(n.Inputs[2]), s.Shape(n.Inputs[0])[0]);
    }

    public static void Lrn(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dx = s.Gr(n.Inputs[0]);
        if (!dx.IsEmpty) ((Kernels.LrnKernel)s.KernelOf(i)).Backward(s.A(n.Inputs[0]), Dy(s, n), dx, s.Shape(n.Inputs[0])[0]);
    }
}
