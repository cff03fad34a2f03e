using EdgeNet.Format;
using EdgeNet.Kernels;

namespace EdgeNet.Engine;

/// <summary>
/// Folds the Transposes around a MatMul of two computed tensors into the MatMul's strides, as a transformer's attention
/// has them in every model exported from PyTorch (BERT, MiniLM, DistilBERT): Q = Transpose(q, (0,2,1,3)) and
/// V = Transpose(v, (0,2,1,3)) read per head at a row stride of the hidden size, Kᵀ = Transpose(k, (0,2,3,1)) read
/// as B with a column stride (packed by <see cref="Kernels.Simd.Gemm.RunUnpacked"/>), and the context P·V written
/// per head straight into the (0,2,1,3) Transpose's output. The MatMul then reads and writes the Transposes' other
/// sides (<see cref="MatMulKernel.PermA"/>, <see cref="MatMulKernel.PermB"/>, <see cref="MatMulKernel.PermY"/>), and
/// each head's GEMM is the same (the same sums in the same order: the same bits) without the copies: on MiniLM they
/// were 0.3M of 49.4M arm64 instructions an inference.
/// A rewrite of the session's plan, not of the file. A Transpose folds when it is float32, its output is read by this
/// MatMul alone (once) and is no graph output, and the MatMul can address its source with unit stride where the GEMM
/// needs it: A's last axis (A's rows are read as vectors), B's last or second-to-last axis (B is packed), the output's
/// last axis (C's rows are stored as vectors). A, B and the output have the same rank (≥ 3: batched). A Transpose that
/// something else reads stays.
/// </summary>
internal static class TransposeMatMulFusion
{
    /// <summary>The plan with the folds made (a new model), or <paramref name="m"/> itself when there is none.</summary>
    public static Model Run(Model m)
    {
        var uses = new TensorUses(m);
        var replaced = new Node?[m.Nodes.Count];
        var removed = new bool[m.Nodes.Count];
        bool any = false;
        for (int mi = 0; mi < m.Nodes.Count; mi++)
        {
            var mm = m.Nodes[mi];
            if (mm.Op != OpType.MatMul || mm.Inputs.Length != 2 || mm.Outputs.Length != 1 || mm.Attributes.All.Count != 0) continue;
            int a = mm.Inputs[0], b = mm.Inputs[1], y = mm.Outputs[0];
            if (a == b || !IsFloat(m, a) || !IsFloat(m, b) || !IsFloat(m, y)) continue;
            int r = m.Tensors[y].Shape.Length;
            if (r < 3 || m.Tensors[a].Shape.Length != r || m.Tensors[b].Shape.Length != r) continue;
            // A Transpose whose output t this MatMul alone reads: its index, else −1
            int Folding(int t) => uses.Producer(t) is int p and >= 0 && m.Nodes[p] is { Op: OpType.Transpose, Inputs.Length: 1, Outputs.Length: 1 } tn
                && uses.SoleReader(t) >= 0 && !removed[p] && IsFloat(m, tn.Inputs[0]) && Perm(tn, r) is not null ? p : -1;
            int ta = Folding(a), tb = Folding(b), ty = -1;
            if (ta >= 0 && Perm(m.Nodes[ta], r)![r - 1] != r - 1) ta = -1;   // A's k must have unit stride
            if (tb >= 0 && Perm(m.Nodes[tb], r) is { } pb && pb[r - 1] != r - 1 && pb[r - 2] != r - 1) tb = -1;   // B: k or j
            if (uses.SoleReader(y) is int yr and >= 0 && m.Nodes[yr] is { Op: OpType.Transpose, Inputs.Length: 1, Outputs.Length: 1 } tn
                && IsFloat(m, tn.Outputs[0]) && Perm(tn, r) is { } py && py[r - 1] == r - 1) ty = yr;   // C's rows: unit stride
            if (ta < 0 && tb < 0 && ty < 0) continue;
            var attrs = new Attributes();
            int na = a, nb = b, ny = y;
            if (ta >= 0) { na = m.Nodes[ta].Inputs[0]; attrs.Set(MatMulKernel.PermA, Perm(m.Nodes[ta], r)!.Select(p => (long)p).ToArray()); removed[ta] = true; }
            if (tb >= 0) { nb = m.Nodes[tb].Inputs[0]; attrs.Set(MatMulKernel.PermB, Perm(m.Nodes[tb], r)!.Select(p => (long)p).ToArray()); removed[tb] = true; }
            if (ty >= 0) { ny = m.Nodes[ty].Outputs[0]; attrs.Set(MatMulKernel.PermY, Perm(m.Nodes[ty], r)!.Select(p => (long)p).ToArray()); removed[ty] = true; }
            replaced[mi] = new Node(OpType.MatMul, mm.Name, [na, nb], [ny], attrs, mm.Version);
            any = true;
        }
        return any ? NodeEdits.Apply(m, removed, replaced) : m;
    }

    static bool IsFloat(Model m, int t) => t >= 0 && m.Tensors[t].Type == DataType.Float32;

    /// <summary>The Transpose's permutation of r axes, or null when it is not one.</summary>
    static int[]? Perm(Node t, int r)
    {
        var p = t.Attributes.Ints("perm", Enumerable.Range(0, r).Reverse().Select(i => (long)i).ToArray());
        if (p.Length != r || p.Any(v => v < 0 || v >= r) || p.Distinct().Count() != r) return null;
        return p.Select(v => (int)v).ToArray();
    }
}
