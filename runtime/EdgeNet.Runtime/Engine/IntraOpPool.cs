namespace EdgeNet.Engine;

/// <summary>One parallel loop body: index i of n independent parts (a kernel's own object, so dispatch allocates nothing).</summary>
internal interface IParallelWork
{
    void Execute(int index);
}

/// <summary>
/// Intra-op threads for a session: the caller plus Threads−1 workers split one kernel's work (GEMM rows or panels,
/// depthwise rows). Idle workers block on a semaphore (no spinning between inferences); a dispatch wakes only as
/// many as there are parts, hands out indices with one atomic counter, and allocates nothing. The default thread
/// count is what the process may use: Environment.ProcessorCount already honours CPU affinity and cgroup limits.
/// </summary>
internal sealed class IntraOpPool : IDisposable
{
    public int Threads { get; }
    public static int Available => Environment.ProcessorCount;
    /// <summary>Multiply-adds below which a kernel runs on the caller alone: waking a parked worker costs microseconds.</summary>
    public const long MinWork = 1 << 17;
    /// <summary>Elements below which an elementwise pass (memory-bound, ~10 µs at this size) runs on the caller alone.</summary>
    public const long MinElements = 1 << 15;

    /// <summary>Parts an elementwise pass over <paramref name="n"/> elements splits into: 1 (the caller alone) when
    /// there is no pool or the pass is small, else two per thread (the atomic counter balances a late thread).</summary>
    public static int ElementParts(IntraOpPool? pool, long n) => pool is null || pool.Threads == 1 || n < MinElements ? 1 : 2 * pool.Threads;

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> contiguous ranges of n elements, cut at multiples
    /// of 16 floats (64 bytes: every vector width's full vectors and tail fall where they fall on one thread, so the
    /// results are the same bits; and no cache line written by two threads where the base is 64-byte aligned, as the
    /// planner's tensors are, but for an input a Concat holds in place: that costs speed only, never bits).</summary>
    public static (long Start, long End) ElementRange(int part, int parts, long n)
    {
        long Cut(int k) => k >= parts ? n : n * k / parts & ~15L;
        return (Cut(part), Cut(part + 1));
    }

    readonly Thread[] workers;
    readonly SemaphoreSlim[] wake;
    readonly object gate = new();   // the caller waits here for the last worker (Monitor: no lazy allocation on the first block)
    IParallelWork? work;
    int count, next, pending;
    volatile bool stopping;

    public IntraOpPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), "at least one thread");
        Threads = threads;
        workers = new Thread[threads - 1];
        wake = new SemaphoreSlim[threads - 1];
        for (int k = 0; k < workers.Length; k++)
        {
            int id = k;
            wake[k] = new SemaphoreSlim(0);
            workers[k] = new Thread(() => Worker(id)) { IsBackground = true, Name = $"edgenet-intraop-{k + 1}" };
            workers[k].Start();
        }
    }

    /// <summary>Runs work.Execute(0..n−1) across the threads and returns when all are done.</summary>
    public void Run(IParallelWork w, int n)
    {
        int helpers = Math.Min(workers.Length, n - 1);
        if (helpers <= 0) { for (int i = 0; i < n; i++) w.Execute(i); return; }
        work = w; count = n; next = 0; pending = helpers + 1;
        for (int k = 0; k < helpers; k++) wake[k].Release();   // a full fence: the workers see work and count
        Drain();
        if (Interlocked.Decrement(ref pending) != 0)
        {
            var spin = new SpinWait();   // the others usually finish within microseconds of the caller
            while (Volatile.Read(ref pending) != 0 && !spin.NextSpinWillYield) spin.SpinOnce();
            if (Volatile.Read(ref pending) != 0)
                lock (gate) while (Volatile.Read(ref pending) != 0) Monitor.Wait(gate);
        }
        work = null;
    }

    void Drain()
    {
        var w = work!;
        for (int i = Interlocked.Increment(ref next) - 1; i < count; i = Interlocked.Increment(ref next) - 1) w.Execute(i);
    }

    void Worker(int id)
    {
        while (true)
        {
            wake[id].Wait();
            if (stopping) return;
            Drain();
            if (Interlocked.Decrement(ref pending) == 0) lock (gate) Monitor.PulseAll(gate);
        }
    }

    public void Dispose()
    {
        if (stopping) return;
        stopping = true;
        foreach (var s in wake) s.Release();
        foreach (var t in workers) t.Join();
        foreach (var s in wake) s.Dispose();
    }
}
