using EdgeNet.Kernels;

namespace EdgeNet.Training;

/// <summary>The backward passes of the data movement ops (Split, Tile, Trilu, GatherElements, CumSum): each kernel knows
/// where its outputs came from, so it routes dy back (see each kernel's <c>Backward</c>).</summary>
internal static class DataGradients
{
    public static void Split(TrainingSession s, int i) =>
        ((SplitKernel)s.KernelOf(i)).Backward(s, s.Gr(s.Model.Nodes[i].Inputs[0]));

    public static void Tile(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        ((TileKernel)s.KernelOf(i)).Backward(s.Gr(n.Outputs[0]), s.Gr(n.Inputs[0]), s.Shape(n.Inputs[0]), s.Shape(n.Outputs[0]));
    }

    public static void Trilu(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        ((TriluKernel)s.KernelOf(i)).Backward(s.Gr(n.Outputs[0]), s.Gr(n.Inputs[0]), s.Shape(n.Inputs[0]));
    }

    public static void GatherElements(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        ((GatherElementsKernel)s.KernelOf(i)).Backward(s.Gr(n.Outputs[0]), s.Gr(n.Inputs[0]));
    }

    public static void CumSum(TrainingSession s, int i)
    {
        var n = s.Model.Nodes[i];
        var dy = s.Gr(n.Outputs[0]);
        ((CumSumKernel)s.KernelOf(i)).Backward(dy, s.Gr(n.Inputs[0]), s.Shape(n.Inputs[0]), s.Dz(dy.Length));
    }
}
