using System.CommandLine;
using EdgeNet;
using EdgeNet.Devices.Sensors;
using EdgeNet.Devices.Simulated;
using EdgeNet.Io;
using EdgeNet.Service;

namespace EdgeNet.Cli;

/// <summary>edgenet serve, edgenet ctl, and edgenet imu-dataset (simulated labelled IMU windows for the sensor example).</summary>
internal static class ServiceCommands
{
    public static Command Serve()
    {
        var config = new Option<FileInfo>("--config") { Description = "service configuration (JSON)", DefaultValueFactory = _ => new FileInfo("/etc/edgenet/edgenet.json") };
        var cmd = new Command("serve", "run the classification service (systemd Type=notify)") { config };
        cmd.SetAction(r => CommandGuard.Guard(() =>
        {
            try { return ServiceHost.Run(r.GetValue(config)!.FullName); }
            catch (ConfigException e) { Console.Error.WriteLine($"error: {e.Message}"); return CommandGuard.Usage; }
        }));
        return cmd;
    }

    public static Command Ctl()
    {
        var socket = new Option<string>("--socket") { Description = "the service's control.socket", DefaultValueFactory = _ => ControlClient.DefaultSocket };
        var words = new Argument<string[]>("command") { Description = "status | last | metrics | label CLASS [WINDOW] | finetune | rollback | reload | subscribe", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("ctl", "talk to a running service") { socket, words };
        cmd.SetAction(r => CommandGuard.Guard(() =>
        {
            if (r.GetValue(words) is ["subscribe"]) { ControlClient.Subscribe(r.GetValue(socket)!, Console.Out); return 0; }
            var reply = ControlClient.Send(r.GetValue(socket)!, string.Join(' ', r.GetValue(words)!), TimeSpan.FromSeconds(10));
            Console.WriteLine(reply);
            return reply.Contains("\"ok\":false", StringComparison.Ordinal) ? CommandGuard.Failure : 0;
        }));
        return cmd;
    }

    public static Command ImuDataset()
    {
        var output = new Option<DirectoryInfo>("--output", "-o") { Required = true };
        var count = new Option<int>("--windows") { DefaultValueFactory = _ => 300 };
        var window = new Option<int>("--window") { DefaultValueFactory = _ => 50 };
        var rate = new Option<int>("--rate") { DefaultValueFactory = _ => 50 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var cmd = new Command("imu-dataset", "write simulated, labelled IMU windows (x.npy [N, window, 6], y.npy) read through the MPU-6050 driver") { output, count, window, rate, seed };
        cmd.SetAction(r => CommandGuard.Guard(() =>
        {
            int n = r.GetValue(count), w = r.GetValue(window), hz = r.GetValue(rate);
            var rng = new Random(r.GetValue(seed));
            var x = new float[n * w * 6]; var y = new long[n];
            var sim = new SimulatedMpu6xxx(_ => default);
            using var imu = SensorCatalog.Open("mpu6050", _ => sim);
            var sample = new float[6];
            for (int i = 0; i < n; i++)
            {
                int g = i % SimulatedMpu6xxx.GestureNames.Length;
                long phase = rng.Next(1000), first = sim.SamplesRead;
                sim.Signal = k => SimulatedMpu6xxx.Gesture(g, k - first + phase, hz, rng);
                for (int k = 0; k < w; k++)
                {
                    if (!imu.TryRead(sample, out var err)) throw new IOException(err);
                    sample.CopyTo(x.AsSpan((i * w + k) * 6, 6));
                }
                y[i] = g;
            }
            var dir = r.GetValue(output)!; dir.Create();
            Npy.Write(Path.Combine(dir.FullName, "x.npy"), x, [n, w, 6]);
            AtomicFile.Write(Path.Combine(dir.FullName, "y.npy"), Npy.Serialize(y, [n]));
            File.WriteAllLines(Path.Combine(dir.FullName, "labels.txt"), SimulatedMpu6xxx.GestureNames);
            Console.WriteLine($"wrote {n} windows of {w}x6 ({string.Join(", ", SimulatedMpu6xxx.GestureNames)}) to {dir.FullName}");
            return 0;
        }));
        return cmd;
    }
}
