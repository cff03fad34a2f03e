using System.Buffers.Binary;
using System.Runtime.InteropServices;
using EdgeNet.Io;

namespace EdgeNet.Service;

/// <summary>
/// Labelled windows on disk, capped: stateDirectory/finetune/windows.bin holds a 16-byte header ("ENLW", format 1,
/// values per window, 0) and up to <c>capacity</c> fixed-size records (sequence number, label, checksum, the window's
/// float32 values). Record <c>seq</c> lives in slot <c>seq % capacity</c>: a label is one record written in place
/// and flushed, never a rewrite of the buffer, and when the buffer is full a new label replaces the oldest.
/// A record cut short by a power loss fails its checksum and is dropped; a buffer that cannot be read at all (or was
/// made for another window size) is moved aside as finetune/damaged-TIME-NAME and the service starts with an empty
/// one, saying so in <see cref="Problem"/>. The x.npy/y.npy buffer of earlier versions is imported once.
/// </summary>
internal sealed class FinetuneBuffer : IDisposable
{
    const uint Magic = 0x574C4E45;   // "ENLW"
    const int HeaderBytes = 16, RecordHeaderBytes = 16;
    readonly string dir, path;
    readonly int per, capacity, recordBytes;
    readonly long[] seqOfSlot;   // -1: empty
    readonly byte[] record;
    readonly object gate = new();
    FileStream file = null!;
    long nextSeq;
    int count;

    public string Directory => dir;
    /// <summary>What was wrong with the buffer found at start (and where it went), or null.</summary>
    public string? Problem { get; private set; }

    public FinetuneBuffer(string stateDirectory, int valuesPerWindow, int capacity)
    {
        dir = Path.Combine(stateDirectory, "finetune");
        path = Path.Combine(dir, "windows.bin");
        per = valuesPerWindow; this.capacity = capacity;
        recordBytes = RecordHeaderBytes + 4 * per;
        record = new byte[recordBytes];
        seqOfSlot = new long[capacity];
        Array.Fill(seqOfSlot, -1);
        System.IO.Directory.CreateDirectory(dir);
        var kept = ReadExisting();
        bool canonical = kept is not null && kept.All(r => r.Slot == r.Seq % capacity) && kept.Count <= capacity;
        if (kept is not null && canonical && new FileInfo(path).Length == HeaderBytes + (long)kept.Select(r => r.Slot + 1).DefaultIfEmpty(0).Max() * recordBytes)
        {
            file = Open();
            foreach (var r in kept) seqOfSlot[r.Slot] = r.Seq;
            nextSeq = kept.Select(r => r.Seq + 1).DefaultIfEmpty(0).Max();
            count = kept.Count;
        }
        else Rewrite(kept ?? []);
        ImportLegacy();
    }

    public int Count { get { lock (gate) return count; } }

    readonly record struct Stored(long Seq, int Slot, int Label, float[] Values);

    /// <summary>The valid records of windows.bin (newest <c>capacity</c>), null when there is none, or quarantines it.</summary>
    List<Stored>? ReadExisting()
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read);
            Span<byte> h = stackalloc byte[HeaderBytes];
            if (f.Length < HeaderBytes || f.ReadAtLeast(h, HeaderBytes, false) < HeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(h) != Magic || BinaryPrimitives.ReadInt32LittleEndian(h[4..]) != 1)
                throw new InvalidDataException("not an EdgeNet label buffer (bad header)");
            int filePer = BinaryPrimitives.ReadInt32LittleEndian(h[8..]);
            if (filePer != per) throw new InvalidDataException($"windows of {filePer} values; the model takes {per}");
            var all = new List<Stored>();
            int slots = (int)Math.Min((f.Length - HeaderBytes) / recordBytes, int.MaxValue);
            var buf = new byte[recordBytes];
            for (int slot = 0; slot < slots; slot++)
            {
                f.ReadExactly(buf);
                if (Decode(buf) is { } r) all.Add(r with { Slot = slot });
            }
            return all.OrderByDescending(r => r.Seq).Take(capacity).OrderBy(r => r.Seq).ToList();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Quarantine(e.Message, path);
            return null;
        }
    }

    Stored? Decode(ReadOnlySpan<byte> b)
    {
        long seq = BinaryPrimitives.ReadInt64LittleEndian(b);
        int label = BinaryPrimitives.ReadInt32LittleEndian(b[8..]);
        uint sum = BinaryPrimitives.ReadUInt32LittleEndian(b[12..]);
        if (seq < 0 || label < 0 || sum != Checksum(b)) return null;
        return new Stored(seq, 0, label, MemoryMarshal.Cast<byte, float>(b[RecordHeaderBytes..]).ToArray());
    }

    /// <summary>FNV-1a over the record without its checksum field.</summary>
    static uint Checksum(ReadOnlySpan<byte> b)
    {
        uint h = 2166136261;
        for (int i = 0; i < b.Length; i++) if (i is < 12 or >= 16) h = (h ^ b[i]) * 16777619;
        return h;
    }

    void Encode(long seq, int label, ReadOnlySpan<float> values)
    {
        BinaryPrimitives.WriteInt64LittleEndian(record, seq);
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(8), label);
        values.CopyTo(MemoryMarshal.Cast<byte, float>(record.AsSpan(RecordHeaderBytes)));
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12), Checksum(record));
    }

    /// <summary>Writes <paramref name="kept"/> as a fresh buffer (renumbered from 0) atomically, and opens it.</summary>
    void Rewrite(List<Stored> kept)
    {
        var bytes = new byte[HeaderBytes + (long)kept.Count * recordBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), 1);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), per);
        for (int i = 0; i < kept.Count; i++)
        {
            Encode(i, kept[i].Label, kept[i].Values);
            record.CopyTo(bytes, HeaderBytes + (long)i * recordBytes);
            seqOfSlot[i] = i;
        }
        AtomicFile.Write(path, bytes);
        file = Open();
        nextSeq = count = kept.Count;
    }

    void Quarantine(string why, params string[] files)
    {
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'");
        var moved = new List<string>();
        foreach (var f in files.Where(File.Exists))
        {
            string to = Path.Combine(dir, $"damaged-{stamp}-{Path.GetFileName(f)}");
            File.Move(f, to, overwrite: true);
            moved.Add(to);
        }
        Problem = (Problem is null ? "" : Problem + "; ") + $"the fine-tune buffer could not be used ({why}): moved to {string.Join(", ", moved)}, starting empty";
    }

    /// <summary>x.npy/y.npy from before windows.bin: imported once, then removed (or quarantined if unreadable).</summary>
    void ImportLegacy()
    {
        string xf = Path.Combine(dir, "x.npy"), yf = Path.Combine(dir, "y.npy");
        if (!File.Exists(xf) && !File.Exists(yf)) return;
        try
        {
            if ((new FileInfo(xf).Length + new FileInfo(yf).Length) > 2 * FinetuneConfig.MaxBufferBytes) throw new InvalidDataException("larger than the buffer cap");
            var x = Npy.Read(xf); var y = Npy.Read(yf);
            if (x.Floats is null || y.Longs is null || x.Shape.Length != 2) throw new InvalidDataException("x.npy must be float32 [N, values], y.npy int64 [N]");
            if (x.Shape[1] != per) throw new InvalidDataException($"windows of {x.Shape[1]} values; the model takes {per}");
            int rows = Math.Min(x.Shape[0], y.Longs.Length);   // x may be one row ahead of y after a crash
            for (int i = Math.Max(0, rows - capacity); i < rows; i++) Add(x.Floats.AsSpan(i * per, per), (int)Math.Clamp(y.Longs[i], 0, int.MaxValue), flush: false);
            file.Flush(flushToDisk: true);
            File.Delete(xf); File.Delete(yf);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Quarantine(e.Message, xf, yf);
        }
    }

    /// <summary>Stores a labelled window (replacing the oldest when full); on a write error (a full disk) the error is
    /// thrown and the buffer holds what it held.</summary>
    public void Add(ReadOnlySpan<float> window, int label) => Add(window, label, flush: true);

    void Add(ReadOnlySpan<float> window, int label, bool flush)
    {
        if (window.Length != per) throw new ArgumentException($"a window of {window.Length} values; the buffer holds {per}");
        lock (gate)
        {
            long seq = nextSeq;
            int slot = (int)(seq % capacity);
            Encode(seq, label, window);
            seqOfSlot[slot] = -1;   // until written: a torn record is not read back
            try
            {
                file.Position = HeaderBytes + (long)slot * recordBytes;
                file.Write(record);
                if (flush) file.Flush(flushToDisk: true);
            }
            catch { count = seqOfSlot.Count(s => s >= 0); throw; }
            seqOfSlot[slot] = seq;
            nextSeq++;
            count = Math.Min(count + 1, capacity);
        }
    }

    /// <summary>The stored windows, oldest first, and their labels (records that fail their checksum are left out).</summary>
    public (float[] x, long[] y) Snapshot()
    {
        lock (gate)
        {
            var rows = new List<Stored>(count);
            var buf = new byte[recordBytes];
            for (int slot = 0; slot < capacity; slot++)
            {
                if (seqOfSlot[slot] < 0) continue;
                file.Position = HeaderBytes + (long)slot * recordBytes;
                file.ReadExactly(buf);
                if (Decode(buf) is { } r && r.Seq == seqOfSlot[slot]) rows.Add(r);
            }
            rows.Sort((a, b) => a.Seq.CompareTo(b.Seq));
            var x = new float[(long)rows.Count * per];
            for (int i = 0; i < rows.Count; i++) rows[i].Values.CopyTo(x, (long)i * per);
            return (x, rows.Select(r => (long)r.Label).ToArray());
        }
    }

    /// <summary>Unbuffered: a write that fails (a full disk) leaves nothing pending in memory for a later write, a seek
    /// or Dispose to flush and fail on again — a stop on a full disk then ends the service as any stop does (exit 0).</summary>
    FileStream Open() => new(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);

    public void Dispose() { lock (gate) file?.Dispose(); }
}
