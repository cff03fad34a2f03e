using System.Text;

namespace EdgeNet.Service;

/// <summary>Command lines from a control connection, each at most <paramref name="maxBytes"/> long: a longer one is
/// refused before it is buffered (a client cannot grow the service's memory by never sending a newline).</summary>
internal sealed class RequestReader(Stream stream, int maxBytes)
{
    readonly byte[] buf = new byte[maxBytes];
    int start, end;

    public sealed class TooLongException(int max) : Exception($"a command line longer than {max} bytes");

    /// <summary>The next line without its newline; null at the end of the stream.</summary>
    public async ValueTask<string?> ReadLineAsync(CancellationToken cancel)
    {
        while (true)
        {
            int nl = Array.IndexOf(buf, (byte)'\n', start, end - start);
            if (nl >= 0)
            {
                string line = Encoding.UTF8.GetString(buf, start, nl - start).TrimEnd('\r');
                start = nl + 1;
                return line;
            }
            if (start > 0) { Buffer.BlockCopy(buf, start, buf, 0, end - start); end -= start; start = 0; }
            if (end == buf.Length) throw new TooLongException(maxBytes);
            int n = await stream.ReadAsync(buf.AsMemory(end), cancel);
            if (n == 0)
            {
                if (end == 0) return null;
                string last = Encoding.UTF8.GetString(buf, 0, end);   // a last command without a newline
                end = 0;
                return last;
            }
            end += n;
        }
    }
}
