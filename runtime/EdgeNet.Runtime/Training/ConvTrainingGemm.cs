using System.Numerics.Tensors;
using EdgeNet.Kernels.Reference;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Training;

/// <summary>
/// The GEMM forms of Conv's training passes, twins of <see cref="Conv.Run"/> and <see cref="Backward.Conv"/>. Forward:
/// im2col, then Y = W · col with the weights read in place (they change every step, so nothing is packed at load).
/// Backward: per image and group, im2col once, then two GEMMs — dW += dZ · colᵀ and dcol = Wᵀ · dZ — and col2im
/// scatters dcol back into dX. Buffers are made once per layer.
/// </summary>
internal sealed unsafe class ConvTrainingGemm
{
    readonly ConvGeometry g;
    readonly int K, N, og;
    readonly float[] col, dcol, packed, dwTmp, wt, tail;

    public ConvTrainingGemm(ConvGeometry g)
    {
        this.g = g;
        K = g.CinPerGroup * g.KH * g.KW; N = g.OH * g.OW; og = g.CoutPerGroup;
        col = GC.AllocateArray<float>(K * N, pinned: true);
        dcol = GC.AllocateArray<float>(K * N, pinned: true);
        packed = GC.AllocateArray<float>((int)Math.Max(Gemm.PackedSize(N, K), Gemm.PackedSize(og, N)) + 64, pinned: true);
        dwTmp = GC.AllocateArray<float>(og * K, pinned: true);
        wt = GC.AllocateArray<float>(K * og, pinned: true);
        tail = GC.AllocateArray<float>((int)Gemm.TailScratch(K), pinned: true);
    }

    /// <summary>y = act(W · im2col(x) + b) for n images.</summary>
    public void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int n, Kernels.Activation act)
    {
        int cg = g.CinPerGroup;
        float lo = act.IsClamp ? act.ClampMin : float.NegativeInfinity, hi = act.IsClamp ? act.ClampMax : float.PositiveInfinity;
        fixed (float* px = x, pw = w, pb = b, py = y, pcol = col, ptail = tail)
            for (int i = 0; i < n; i++)
                for (int grp = 0; grp < g.Group; grp++)
                {
                    Im2Col.Fill(g, px + ((long)i * g.C + grp * cg) * g.H * g.W, pcol);
                    Gemm.RunStrided(pw + (long)grp * og * K, K, pcol, N, py + ((long)i * g.OC + grp * og) * N, N, og, N, K,
                                    b.IsEmpty ? null : pb + grp * og, null, lo, hi, ptail);
                }
        if (!act.IsClamp) act.Apply(y.Slice(0, n * g.OC * N));
    }

    public void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> dz, Span<float> dx, Span<float> dw, Span<float> db, int n)
    {
        int cg = g.CinPerGroup;
        fixed (float* px = x, pw = w, pdz = dz, pcol = col, pdcol = dcol, ppk = packed, ptmp = dwTmp, pwt = wt)
            for (int i = 0; i < n; i++)
                for (int grp = 0; grp < g.Group; grp++)
                {
                    float* xg = px + ((long)i * g.C + grp * cg) * g.H * g.W;
                    float* dzg = pdz + ((long)i * g.OC + grp * og) * N;
                    float* wg = pw + (long)grp * og * K;
                    if (!db.IsEmpty) for (int o = 0; o < og; o++) db[grp * og + o] += TensorPrimitives.Sum(new ReadOnlySpan<float>(dzg + (long)o * N, N));
                    if (!dw.IsEmpty || !dx.IsEmpty) Im2Col.Fill(g, xg, pcol);
                    if (!dw.IsEmpty)
                    {
                        Gemm.Pack(pcol, 1, N, N, K, ppk);                                   // B[n, k] = col[k, n]
                        Gemm.Run(dzg, N, ppk, ptmp, K, og, K, N, null, null, float.NegativeInfinity, float.PositiveInfinity);
                        var d = dw.Slice(grp * og * K, og * K);
                        TensorPrimitives.Add(d, new ReadOnlySpan<float>(ptmp, og * K), d);
                    }
                    if (!dx.IsEmpty)
                    {
                        for (int o = 0; o < og; o++) for (int k = 0; k < K; k++) pwt[(long)k * og + o] = wg[(long)o * K + k];   // Wᵀ
                        Gemm.Pack(dzg, N, 1, og, N, ppk);                                   // B[o, n] = dZ[o, n]
                        Gemm.Run(pwt, og, ppk, pdcol, N, K, N, og, null, null, float.NegativeInfinity, float.PositiveInfinity);
                        Col2Im(pdcol, dx.Slice((i * g.C + grp * cg) * g.H * g.W, cg * g.H * g.W));
                    }
                }
    }

    void Col2Im(float* c, Span<float> dxg)
    {
        for (int ci = 0; ci < g.CinPerGroup; ci++)
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++, c += N)
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int ow = 0; ow < g.OW; ow++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                            if ((uint)iw < (uint)g.W) dxg[(ci * g.H + ih) * g.W + iw] += c[oh * g.OW + ow];
                        }
                    }
    }
}
