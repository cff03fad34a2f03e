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
        System.IO.Directory.CreateDirectory(dir);
        string xf = Path.Combine(dir, "x.npy"), yf = Path.Combine(dir, "y.npy");
        if (!File.Exists(xf) || !File.Exists(yf)) return;
        try
        {
            var x = Npy.Read(xf); var y = Npy.Read(yf);
            if (x.Floats is null || y.Longs is null || x.Shape.Length != 2) return;
            // The two files are replaced one after the other: a crash between them leaves x one row ahead of y.
            int per = x.Shape[1], rows = Math.Min(x.Shape[0], y.Longs.Length);
            for (int i = 0; i < rows; i++) { xs.Add(x.Floats!.AsSpan(i * per, per).ToArray()); ys.Add(y.Longs![i]); }
        }
        catch (InvalidDataException) { }   // an unreadable buffer starts empty; the files are replaced on the next label
    }

    public int Count { get { lock (gate) return ys.Count; } }

    public string Directory => dir;

    /// <summary>Stores a labelled window; on a write error (a full disk) the buffer stays as it was and the error is thrown.</summary>
    public void Add(ReadOnlySpan<float> window, int label)
    {
        lock (gate)
        {
            xs.Add(window.ToArray()); ys.Add(label);
            try
            {
                var flat = xs.SelectMany(v => v).ToArray();
                Npy.Write(Path.Combine(dir, "x.npy"), flat, [ys.Count, xs[0].Length]);
                AtomicFile.Write(Path.Combine(dir, "y.npy"), Npy.Serialize(ys.ToArray(), [ys.Count]));
            }
            catch { xs.RemoveAt(xs.Count - 1); ys.RemoveAt(ys.Count - 1); throw; }
        }
    }

    public (float[] x, long[] y) Snapshot()
    {
        lock (gate) return (xs.SelectMany(v => v).ToArray(), ys.ToArray());
    }
}
