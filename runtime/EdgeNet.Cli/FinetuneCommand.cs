using System.CommandLine;
using EdgeNet;
using EdgeNet.Format;

namespace EdgeNet.Cli;

/// <summary>edgenet finetune MODEL --data X --labels Y -o OUT [...]: adapt a model on the device.</summary>
internal static class FinetuneCommand
{
    public static Command Create()
    {
        var model = Options.Model();
        var t = new TrainOptions();
        var cmd = new Command("finetune", "fine-tune a model on labelled data (transfer learning)") { model };
        t.AddTo(cmd);
        cmd.SetAction(r => CommandGuard.Guard(() =>
        {
            if (PathCheck.SameFile(r.GetValue(model)!.FullName, r.GetValue(t.Output)!.FullName))
                throw new UsageException("-o names the input model; write the tuned model to another file (the input is never overwritten)");
            return t.Run(r, Options.Load(r.GetValue(model)!));
        }));
        return cmd;
    }
}

/// <summary>edgenet train --arch SPEC --input-shape 64 --data X --labels Y -o OUT [...]: a model from scratch.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "layers, e.g. \"dense:512,relu,dense:10\" or \"conv:8:3,relu,maxpool:2,flatten,dense:10\"", Required = true };
        var shape = new Option<string>("--input-shape") { Description = "one sample's shape, e.g. 64 or 1x8x8 or 8x8 (T x features)", Required = true };
        var init = new Option<string>("--init") { DefaultValueFactory = _ => "torch", Description = "torch, xavier or kaiming" };
        var names = new Option<FileInfo?>("--class-names") { Description = "text file with one class name per line, stored in the model" };
        var t = new TrainOptions();
        var cmd = new Command("train", "build a model from a layer spec and train it from scratch") { arch, shape, init, names };
        t.AddTo(cmd);
        cmd.SetAction(r => CommandGuard.Guard(() =>
        {
            var dims = Options.SampleShape(r.GetValue(shape));
            var kind = r.GetValue(init) switch { "torch" => Training.ModelSpec.Init.Torch, "xavier" => Training.ModelSpec.Init.Xavier, "kaiming" => Training.ModelSpec.Init.Kaiming, var s => throw new UsageException($"--init '{s}' is not torch, xavier or kaiming") };
            Model m;
            try { m = Training.ModelSpec.Build(r.GetValue(arch)!, dims, r.GetValue(t.Seed), kind); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
            if (r.GetValue(names) is { } nf) m.Metadata.ClassLabels = File.ReadAllLines(nf.FullName).Where(l => l.Length > 0).ToArray();
            return t.Run(r, m);
        }));
        return cmd;
    }
}
