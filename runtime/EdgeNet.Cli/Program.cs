using System.CommandLine;

using EdgeNet.Cli;

// edgenet: the on-device program. Depends on the runtime only.
var root = new RootCommand("edgenet: run, evaluate and benchmark EdgeNet (.enet) models");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(FinetuneCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
return root.Parse(args).Invoke();
