using System.Diagnostics;

namespace EdgeNet.Devices.Camera;

/// <summary>
/// Raw frames from a child process's stdout — `rpicam-vid --codec yuv420 -o -` on a Pi, `ffmpeg ... -f rawvideo -`
/// anywhere — or from a file of concatenated frames. When the process dies it is restarted (with a back-off) and the
/// fault is counted, so a camera glitch never stops the service.
/// </summary>
public sealed class FrameSource : IDisposable
{
    readonly string? command; readonly string[] args;
    readonly string? file;
    readonly int width, height;
    readonly PixelFormat format;
    Process? process;
    Stream? stream;
    public int Restarts { get; private set; }
    public string? LastError { get; private set; }

    FrameSource(string? command, string[] args, string? file, int width, int height, PixelFormat format)
    {
        this.command = command; this.args = args; this.file = file; this.width = width; this.height = height; this.format = format;
    }

    public static FrameSource FromProcess(string command, string[] args, int width, int height, PixelFormat format) => new(command, args, null, width, height, format);
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
            while (read < size)
            {
                int n = stream.Read(data, read, size - read);
                if (n == 0) break;
                read += n;
            }
            if (read == size) return new Frame(width, height, format, data);
            LastError = file is null ? $"camera process '{command}' ended" : $"end of '{file}'";
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            LastError = $"camera: {e.Message}";
        }
        Close();
        if (file is null) { Restarts++; Thread.Sleep(Math.Min(2000, 100 * Restarts)); }
        return null;
    }

    Stream Open()
    {
        if (file is not null) return File.OpenRead(file);
        var psi = new ProcessStartInfo(command!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        process = Process.Start(psi) ?? throw new IOException($"cannot start '{command}'");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process.StandardOutput.BaseStream;
    }

    void Close()
    {
        stream?.Dispose(); stream = null;
        if (process is { } p) { try { if (!p.HasExited) p.Kill(); } catch (InvalidOperationException) { } p.Dispose(); process = null; }
    }

    public void Dispose() => Close();
}
