namespace EdgeNet.Cli;

/// <summary>A one-line progress bar on stderr, drawn only when stderr is a terminal (logs stay clean).</summary>
internal sealed class ProgressBar(string label)
{
    readonly bool enabled = !Console.IsErrorRedirected;
    int lastDrawn = -1;

    public void Report(int done, int total)
    {
        if (!enabled || total <= 0) return;
        int width = 30, filled = (int)((long)done * width / total);
        if (filled == lastDrawn && done != total) return;
        lastDrawn = filled;
        Console.Error.Write($"\r{label} [{new string('#', filled)}{new string('.', width - filled)}] {done}/{total}");
        if (done == total) { Console.Error.Write("\r" + new string(' ', label.Length + width + 20) + "\r"); lastDrawn = -1; }
    }
}
