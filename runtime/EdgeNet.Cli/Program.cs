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
root.Subcommands.Add(ServiceCommands.Serve());
root.Subcommands.Add(ServiceCommands.Ctl());
root.Subcommands.Add(ServiceCommands.ImuDataset());
return root.Parse(args).Invoke();
