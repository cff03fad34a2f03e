namespace EdgeNet.Service;

/// <summary>
/// sinks.jsonLines: results appended one JSON line each. A failing write (a full filesystem, a removed disk) is
/// counted and reported in status, the line is lost, and the file is reopened at most every few seconds: the
/// service keeps classifying whatever happens to its results file.
/// </summary>
sealed class ResultsFile(string path) : IDisposable
{
    StreamWriter? writer;
    long retryAt;
    public long Failures { get; private set; }
    public string? LastError { get; private set; }

    public void Write(string line)
    {
        if (writer is null)
        {
            if (Environment.TickCount64 < retryAt) { Failures++; return; }
            try { writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0)) { AutoFlush = true }; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Fail(e); return; }
        }
        try { writer.WriteLine(line); LastError = null; }
        catch (IOException e) { Fail(e); }
    }

    void Fail(Exception e)
    {
        Failures++;
        LastError = $"results file {path}: {e.Message}";
        try { writer?.Dispose(); } catch (IOException) { }   // flushing what it still holds fails the same way
        writer = null;
        retryAt = Environment.TickCount64 + 5000;
    }

    public void Dispose()
    {
        try { writer?.Dispose(); } catch (IOException) { }
    }
}
