namespace EdgeNet.Kernels.Reference;

/// <summary>Dense: x [rows, IC], w [OC, IC], b [OC] -> y [rows, OC], then the fused activation.</summary>
internal static class Dense
{
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int rows, int ic, int oc, Activation act)
    {
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < oc; o++)
            {
                float s = b.IsEmpty ? 0f : b[o];
                for (int k = 0; k < ic; k++) s += x[r * ic + k] * w[o * ic + k];
                y[r * oc + o] = act.Scalar(s);
            }
    }
}
