using System.Diagnostics;

namespace EdgeNet.Devices.Camera;

/// <summary>
/// Raw frames from a child process's stdout — `rpicam-vid --codec yuv420 -o -` on a Pi, `ffmpeg ... -f rawvideo -`
/// anywhere — or from a file of concatenated frames. When the process dies it is restarted (with a back-off) and the
/// fault is counted, so a camera glitch never stops the service. A process that stays alive but sends no frame for
/// <see cref="FrameTimeout"/> is killed and restarted the same way (a stall is a fault too), and a cancelled read
/// (the service stopping) kills it at once. The process runs under a small shell that kills it when this process's
/// end of its stdin pipe closes, so it also dies with a SIGKILLed parent.
/// </summary>
public sealed class FrameSource : IDisposable
{
    readonly string? command; readonly string[] args;
    readonly string? file;
    readonly int width, height;
    readonly PixelFormat format;
    Process? process;
    Stream? stream;
    string? lastStderr;
    bool stalled;
    CancellationTokenSource frameTimer = new();
    /// <summary>How long a camera process may go without sending a frame before it is restarted.</summary>
    public TimeSpan FrameTimeout { get; set; } = Timeout.InfiniteTimeSpan;
    /// <summary>How often the camera process was restarted after it failed or ended.</summary>
    public int Restarts { get; private set; }
    /// <summary>Why the last <see cref="TryNext"/> returned null.</summary>
    public string? LastError { get; private set; }

    FrameSource(string? command, string[] args, string? file, int width, int height, PixelFormat format)
    {
        this.command = command; this.args = args; this.file = file; this.width = width; this.height = height; this.format = format;
    }

    /// <summary>Frames of <paramref name="format"/> read from the stdout of <paramref name="command"/> (restarted when it ends).</summary>
    public static FrameSource FromProcess(string command, string[] args, int width, int height, PixelFormat format) => new(command, args, null, width, height, format);
    /// <summary>Frames read one after the other from a file of raw frames.</summary>
    public static FrameSource FromFile(string path, int width, int height, PixelFormat format) => new(null, [], path, width, height, format);

    /// <summary>The next whole frame, or null when the source failed this time (see <see cref="LastError"/>).</summary>
    public Frame? TryNext(CancellationToken cancel)
    {
        int size = Frame.Bytes(width, height, format);
        var data = new byte[size];
        try
        {
            stream ??= Open();
            int read = 0;
            // A read blocked on a silent process ends when the process is killed: by the frame timer, or on cancel.
            if (!frameTimer.TryReset()) { frameTimer.Dispose(); frameTimer = new(); }   // it went off after the last frame
            if (process is not null) frameTimer.CancelAfter(FrameTimeout);
            using (frameTimer.Token.Register(KillStalled))
            using (cancel.Register(KillStalled))
            {
                while (read < size)
                {
                    int n = stream.Read(data, read, size - read);
                    if (n == 0) break;
                    read += n;
                }
            }
            if (read == size && !stalled) return new Frame(width, height, format, data);
            Close();   // first: what the process said on stderr before it ended is then all read
            LastError = stalled && !cancel.IsCancellationRequested ? $"camera process '{command}' sent no frame for {FrameTimeout.TotalSeconds:0.##} s; restarting it"
                : file is null ? $"camera process '{command}' ended{(lastStderr is { } err ? $": {err}" : "")}" : $"end of '{file}'";
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            LastError = $"camera: {e.Message}";
        }
        Close();
        if (file is null) { Restarts++; cancel.WaitHandle.WaitOne(Math.Min(2000, 100 * Restarts)); }
        return null;
    }

    void KillStalled()
    {
        stalled = true;
        try { process?.Kill(entireProcessTree: true); } catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }

    Stream Open()
    {
        if (file is not null) return File.OpenRead(file);
        // sh starts the camera with its own stdout (the frames), keeps none itself, and kills the camera when its
        // stdin reaches end of file: when Close() closes it, or when this process dies, even by SIGKILL.
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["-c", "\"$@\" </dev/null & c=$!; exec >/dev/null; read -r _; kill -9 $c 2>/dev/null", "camera", command!, .. args]) psi.ArgumentList.Add(a);
        stalled = false; lastStderr = null;
        process = Process.Start(psi) ?? throw new IOException($"cannot start '{command}'");
        process.ErrorDataReceived += (_, e) => { if (!string.IsNullOrWhiteSpace(e.Data)) lastStderr = e.Data.Trim(); };
        process.BeginErrorReadLine();
        return process.StandardOutput.BaseStream;
    }

    void Close()
    {
        stream?.Dispose(); stream = null;
        if (process is { } p)
        {
            try { p.StandardInput.Close(); } catch (IOException) { }
            try { if (!p.HasExited) p.Kill(entireProcessTree: true); } catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
            if (p.WaitForExit(2000)) p.WaitForExit();   // the second waits for stderr's end of file
            p.Dispose(); process = null;
        }
    }

    /// <summary>Stops the camera process or closes the file.</summary>
    public void Dispose() { Close(); frameTimer.Dispose(); }
}
