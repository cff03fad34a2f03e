using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Io;
using EdgeNet.Training;

// embed MODEL.enet IMAGES.npy LABELS.npy: classifies the first image, fine-tunes on the first half of the set, saves
// the tuned model next to the original and classifies the image again with it.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: embed MODEL.enet IMAGES.npy LABELS.npy");
    return 2;
}

var model = ModelFile.Load(args[0]);                       // throws ModelFormatException for a damaged file
string[] labels = model.Metadata.ClassLabels;
float[] images = Npy.Read(args[1]).Floats ?? throw new InvalidDataException("IMAGES.npy must hold float32");
long[] truth = Npy.Read(args[2]).Longs ?? throw new InvalidDataException("LABELS.npy must hold int64");

string Classify(Model m)
{
    using var session = new Session(m);                     // one per thread; Run allocates nothing
    var scores = new float[session.OutputSampleSize()];
    session.Run(images.AsSpan(0, (int)session.InputSampleSize()), scores);
    return labels[BatchRunner.ArgMax(scores)];
}

Console.WriteLine($"image 0: {Classify(model)} (truth: {labels[truth[0]]})");

int half = truth.Length / 2, per = images.Length / truth.Length;
var tuned = FineTuner.Fit(model, images[..(half * per)], truth[..half], new FineTuneOptions { Epochs = 2, Batch = 16 });
string saved = Path.ChangeExtension(args[0], ".tuned.enet");
ModelFile.Save(tuned.Model, saved);                          // atomic: the old file or the new, never a mix
Console.WriteLine($"fine-tuned {tuned.Epochs.Count} epochs (loss {tuned.Epochs[^1].MeanLoss:F4}), saved {Path.GetFileName(saved)}");
Console.WriteLine($"image 0 after fine-tuning: {Classify(ModelFile.Load(saved))}");
return 0;
