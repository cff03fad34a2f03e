using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Service;

/// <summary>
/// The serving model and the one before it. A swap (after fine-tuning, reload or rollback) replaces the whole
/// (model, session) pair at once, so the inference loop sees either the old or the new model, never a mix.
/// Models live in stateDirectory/models as model-N.enet, written atomically. With <paramref name="streaming"/>, every
/// session carries its recurrent state from one window to the next (a new model starts the stream from zero);
/// <paramref name="threads"/> is each session's intra-op thread count.
/// </summary>
public sealed class ModelSlots(string stateDirectory, bool streaming = false, int threads = 1)
{
    public sealed record Slot(Model Model, Session Session, int Version, string Path);
    readonly object gate = new();
    Slot? current, previous;
    public string Directory { get; } = System.IO.Path.Combine(stateDirectory, "models");

    public Slot Current => current ?? throw new InvalidOperationException("no model loaded");
    public bool CanRollback => previous is not null;

    public Slot Load(string path, int version)
    {
        var model = ModelFile.Load(path);   // throws ModelFormatException for a corrupt file: the caller keeps serving
        var session = new Session(model, 1, KernelOptions.Default with { Threads = threads });
        if (streaming)
        {
            try { session.CarryRecurrentState(); }
            catch (ArgumentException e) { session.Dispose(); throw new ModelFormatException($"'{path}' cannot stream: {e.Message}"); }
        }
        var slot = new Slot(model, session, version, path);
        Install(slot);
        return slot;
    }

    /// <summary>Saves a new model version atomically and makes it current; the old one becomes the rollback slot.</summary>
    public Slot Publish(Model model)
    {
        System.IO.Directory.CreateDirectory(Directory);
        int version = (current?.Version ?? 0) + 1;
        string path = System.IO.Path.Combine(Directory, $"model-{version}.enet");
        ModelFile.Save(model, path);
        return Load(path, version);
    }

    public bool Rollback()
    {
        lock (gate)
        {
            if (previous is null) return false;
            (current, previous) = (previous, null);
            return true;
        }
    }

    void Install(Slot slot)
    {
        lock (gate) { previous = current; current = slot; }
    }
}
