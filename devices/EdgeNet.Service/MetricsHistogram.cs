namespace EdgeNet.Service;

/// <summary>A Prometheus histogram of inference latency in seconds: fixed buckets, lock-free observations (the
/// inference thread observes, a scrape reads), nothing allocated per observation.</summary>
internal sealed class MetricsHistogram
{
    /// <summary>Upper bounds of the buckets in seconds (100 µs .. 1 s); +Inf is implied.</summary>
    public static readonly double[] Bounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
    readonly long[] counts = new long[Bounds.Length + 1];
    long sumNanoseconds;

    /// <summary>Records one observation.</summary>
    public void Observe(double seconds)
    {
        int i = 0;
        while (i < Bounds.Length && seconds > Bounds[i]) i++;
        Interlocked.Increment(ref counts[i]);
        Interlocked.Add(ref sumNanoseconds, (long)(seconds * 1e9));
    }

    /// <summary>Cumulative counts per bucket (the last is +Inf, the total) and the sum of observations in seconds.</summary>
    public (long[] Cumulative, double Sum) Snapshot()
    {
        var c = new long[counts.Length];
        long run = 0;
        for (int i = 0; i < c.Length; i++) c[i] = run += Interlocked.Read(ref counts[i]);
        return (c, Interlocked.Read(ref sumNanoseconds) / 1e9);
    }
}
