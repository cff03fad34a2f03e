using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Service;

/// <summary>
/// The serving model and the one a rollback returns to. A swap (fine-tune, reload, rollback) replaces the whole
/// (model, session) pair at once, so the inference loop sees either the old or the new model, never a mix; a replaced
/// session is released by the inference thread between windows (<see cref="ReleaseRetired"/>), which frees its intra-op
/// workers. Fine-tuned models live in stateDirectory/models as model-N.enet (written atomically); serving.json says
/// which serves, so a restart serves the same one (<see cref="ServingRecord"/>). With <paramref name="streaming"/> every
/// session carries its recurrent state from one window to the next; <paramref name="threads"/> is each session's
/// intra-op thread count.
/// </summary>
internal sealed class ModelSlots(string stateDirectory, string configuredPath, bool streaming = false, int threads = 1) : IDisposable
{
    public sealed record Slot(Model Model, Session Session, int Version, string Path);
    readonly object gate = new();
    readonly List<Slot> retired = [];
    Slot? current, previous;
    string configuredSha = "";
    public string Directory { get; } = System.IO.Path.Combine(stateDirectory, "models");

    public Slot Current => current ?? throw new InvalidOperationException("no model loaded");
    public bool CanRollback { get { lock (gate) return previous is not null; } }

    /// <summary>Why the start did not serve what the state directory last served (the configured model changed,
    /// a fine-tuned file is damaged), or null.</summary>
    public string? StartNote { get; private set; }

    /// <summary>
    /// Serves what served before the last stop if it was fine-tuned from this same configured model (same path and
    /// bytes); a changed configured model wins over the fine-tuned versions, which stay on disk unserved.
    /// <paramref name="fits"/> refuses a fine-tuned file that no longer fits the config.
    /// </summary>
    public void Start(Model configured, Func<Model, string?> fits)
    {
        configuredSha = ServingRecord.Sha256(configuredPath);
        var record = ServingRecord.Read(Directory, out var problem);
        var notes = new List<string>();
        if (problem is not null) notes.Add(problem);
        var start = Open(configured, configuredPath, 0);
        if (record is null && problem is null && LatestOnDisk() > 0)
            notes.Add($"the fine-tuned versions in {Directory} are not served: no {ServingRecord.FileName} says which configured model they came from");
        if (record is not null && (record.Configured != configuredPath || record.ConfiguredSha256 != configuredSha))
            notes.Add($"the configured model {configuredPath} changed since fine-tuned versions were made from {record.Configured}: serving it (version 0); the fine-tuned versions stay in {Directory} unserved");
        else if (record is not null)
        {
            Slot? Try(int version)
            {
                if (version == 0) return start;
                try
                {
                    var s = Load(PathOf(version), version);
                    if (fits(s.Model) is { } why) { s.Session.Dispose(); throw new ModelFormatException(why); }
                    return s;
                }
                catch (ModelFormatException e) { notes.Add($"version {version} is not served: {e.Message}"); return null; }
            }
            var cur = Try(record.Current);
            if (cur is not null)
            {
                previous = record.Previous >= 0 && record.Previous != record.Current ? Try(record.Previous) : null;
                if (cur != start && previous != start) start.Session.Dispose();
                start = cur;
            }
        }
        current = start;
        StartNote = notes.Count > 0 ? string.Join("; ", notes) : null;
        Save();
    }

    string PathOf(int version) => version == 0 ? configuredPath : System.IO.Path.Combine(Directory, $"model-{version}.enet");

    /// <summary>Loads a model file, refusing one that is not a regular file or is larger than any model the service reads.</summary>
    public Slot Load(string path, int version)
    {
        var kind = FileKind.Of(path);
        if (kind is null) throw new ModelFormatException($"'{path}' does not exist");
        if (kind.Value.Kind != FileKind.Type.Regular) throw new ModelFormatException($"'{path}' is {kind.Value.Describe}, not a model file");
        if (kind.Value.Size > ServiceConfig.MaxModelBytes) throw new ModelFormatException($"'{path}' is {kind.Value.Size} bytes; the service reads models up to {ServiceConfig.MaxModelBytes >> 20} MiB");
        try { return Open(ModelFile.Load(path), path, version); }
        catch (IOException e) { throw new ModelFormatException($"cannot read '{path}': {e.Message}"); }
        catch (UnauthorizedAccessException e) { throw new ModelFormatException($"cannot read '{path}': {e.Message}"); }
    }

    Slot Open(Model model, string path, int version)
    {
        var session = new Session(model, 1, KernelOptions.Default with { Threads = threads });
        if (streaming)
        {
            try { session.CarryRecurrentState(); }
            catch (ArgumentException e) { session.Dispose(); throw new ModelFormatException($"'{path}' cannot stream: {e.Message}"); }
        }
        return new Slot(model, session, version, path);
    }

    /// <summary>Saves a new model version atomically and makes it current; the old one becomes the rollback slot.</summary>
    public Slot Publish(Model model)
    {
        System.IO.Directory.CreateDirectory(Directory);
        int version = Math.Max(Current.Version, LatestOnDisk()) + 1;
        string path = PathOf(version);
        ModelFile.Save(model, path);
        var slot = Open(model, path, version);
        lock (gate)
        {
            if (previous is not null) retired.Add(previous);
            previous = current; current = slot;
            Save();
        }
        return slot;
    }

    int LatestOnDisk() => System.IO.Directory.Exists(Directory)
        ? System.IO.Directory.GetFiles(Directory, "model-*.enet").Select(p => int.TryParse(System.IO.Path.GetFileNameWithoutExtension(p)[6..], out var v) ? v : 0).DefaultIfEmpty(0).Max()
        : 0;

    /// <summary>Replaces the serving model by a fresh load of its file, if <paramref name="fits"/> accepts it; the rollback slot stays.</summary>
    public Slot Reload(Func<Model, string?> fits)
    {
        var slot = Load(Current.Path, Current.Version);
        if (fits(slot.Model) is { } why) { slot.Session.Dispose(); throw new ModelFormatException(why); }
        lock (gate)
        {
            retired.Add(current!);
            current = slot;
            if (slot.Version == 0) configuredSha = ServingRecord.Sha256(configuredPath);
            Save();
        }
        return slot;
    }

    public bool Rollback()
    {
        lock (gate)
        {
            if (previous is null) return false;
            retired.Add(current!);
            (current, previous) = (previous, null);
            Save();
            return true;
        }
    }

    void Save() => new ServingRecord(configuredPath, configuredSha, current!.Version, previous?.Version ?? -1).Write(Directory);

    /// <summary>Disposes the sessions swapped out since the last call (and says how many); called by the inference
    /// thread between windows, so none of them is running.</summary>
    public int ReleaseRetired()
    {
        Slot[] done;
        lock (gate)
        {
            if (retired.Count == 0) return 0;
            done = retired.Where(s => s != current && s != previous).ToArray();
            retired.Clear();
        }
        foreach (var s in done) s.Session.Dispose();
        return done.Length;
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var s in retired.Append(current).Append(previous).OfType<Slot>().Distinct()) s.Session.Dispose();
            retired.Clear();
        }
    }
}
