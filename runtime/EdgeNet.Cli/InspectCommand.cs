using EdgeNet;
using System.CommandLine;
using EdgeNet.Engine;
using EdgeNet.Format;

namespace EdgeNet.Cli;

/// <summary>edgenet inspect MODEL: ops, parameters, MACs, arena and weight bytes.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var model = Options.Model();
        var batch = new Option<int>("--batch") { Description = "batch to plan the arena for", DefaultValueFactory = _ => 1 };
        var cmd = new Command("inspect", "describe a model") { model, batch };
        cmd.SetAction(r => CommandGuard.Guard(() =>
        {
            Console.Write(ModelSummary.Describe(Options.Load(r.GetValue(model)!), Math.Max(1, r.GetValue(batch))));
            return 0;
        }));
        return cmd;
    }
}
