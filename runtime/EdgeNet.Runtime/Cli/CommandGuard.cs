using EdgeNet.Format;

namespace EdgeNet;

/// <summary>A mistake in how a command was called: exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>Exit codes and one-line errors shared by EdgeNet's command-line programs (documented in README.md).</summary>
internal static class CommandGuard
{
    /// <summary>The exit codes: success, an I/O or internal failure, a usage error, a bad model, bad data, SIGTERM/SIGINT.</summary>
    public const int Ok = 0, Failure = 1, Usage = 2, BadModel = 3, BadData = 4, Interrupted = 5;

    /// <summary>Runs a command body; user mistakes become one line on stderr and an exit code, never a stack trace.</summary>
    public static int Guard(Func<int> body)
    {
        try { return body(); }
        catch (UsageException e) { return Fail(Usage, e.Message); }
        catch (ModelFormatException e) { return Fail(e.Unsupported || e.Message.Contains("unsupported op", StringComparison.Ordinal) ? Usage : BadModel, e.Message); }
        catch (InvalidDataException e) { return Fail(BadData, e.Message); }
        catch (ArgumentException e) when (Environment.GetEnvironmentVariable("EDGENET_TRACE") is null) { return Fail(BadData, e.Message); }
        catch (OperationCanceledException) { return Fail(Interrupted, "interrupted by SIGTERM/SIGINT before the work was done; nothing was written"); }
        catch (IOException e) { return Fail(Failure, e.Message); }
        catch (UnauthorizedAccessException e) { return Fail(Failure, e.Message); }
    }

    /// <summary>The parser's errors (unknown option, missing argument, bad path): `error:` lines and exit code 2.</summary>
    public static int UsageErrors(IEnumerable<string> messages, string command)
    {
        var first = true;
        foreach (var m in messages) { Console.Error.WriteLine($"error: {m}{(first ? $" (see '{command} --help')" : "")}"); first = false; }
        return Usage;
    }

    static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return code;
    }
}
