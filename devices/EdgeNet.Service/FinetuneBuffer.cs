using EdgeNet.Io;

namespace EdgeNet.Service;

/// <summary>Labelled windows kept on disk (stateDirectory/finetune/x.npy, y.npy, rewritten atomically on each label).</summary>
public sealed class FinetuneBuffer
{
    readonly string dir;
    readonly List<float[]> xs = [];
    readonly List<long> ys = [];
    readonly object gate = new();

    public FinetuneBuffer(string stateDirectory)
    {
        dir = Path.Combine(stateDirectory, "finetune");
        Directory.CreateDirectory(dir);
        string xf = Path.Combine(dir, "x.npy"), yf = Path.Combine(dir, "y.npy");
        if (!File.Exists(xf) || !File.Exists(yf)) return;
        try
        {
            var x = Npy.Read(xf); var y = Npy.Read(yf);
            int per = (int)(x.Length / Math.Max(1, y.Length));
            for (int i = 0; i < y.Length; i++) { xs.Add(x.Floats!.AsSpan(i * per, per).ToArray()); ys.Add(y.Longs![i]); }
        }
        catch (InvalidDataException) { }   // an unreadable buffer starts empty; the files are replaced on the next label
    }

    public int Count { get { lock (gate) return ys.Count; } }

    public void Add(ReadOnlySpan<float> window, int label)
    {
        lock (gate)
        {
            xs.Add(window.ToArray()); ys.Add(label);
            var flat = xs.SelectMany(v => v).ToArray();
            Npy.Write(Path.Combine(dir, "x.npy"), flat, [ys.Count, xs[0].Length]);
            AtomicFile.Write(Path.Combine(dir, "y.npy"), Npy.Serialize(ys.ToArray(), [ys.Count]));
        }
    }

    public (float[] x, long[] y) Snapshot()
    {
        lock (gate) return (xs.SelectMany(v => v).ToArray(), ys.ToArray());
    }
}
