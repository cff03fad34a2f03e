using System.CommandLine;

using EdgeNet;
using EdgeNet.Cli;

// edgenet: the on-device program. Depends on the runtime only.
var root = new RootCommand("edgenet: run, evaluate, benchmark, fine-tune and serve EdgeNet (.enet) models");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(FinetuneCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(ServiceCommands.Serve());
root.Subcommands.Add(ServiceCommands.Ctl());
root.Subcommands.Add(ServiceCommands.ImuDataset());
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0) return CommandGuard.UsageErrors(Options.ErrorMessages(parsed), Options.CommandPath(parsed));
return parsed.Invoke();
