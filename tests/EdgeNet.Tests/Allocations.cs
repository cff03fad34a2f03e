namespace EdgeNet.Tests;

/// <summary>What a hot path allocates, measured so that tests running in parallel cannot add to it.</summary>
internal static class Allocations
{
    /// <summary>
    /// The fewest bytes the current thread allocates in one call of <paramref name="runs"/>, out of up to five calls (it
    /// stops at a call that allocates nothing). GC.GetAllocatedBytesForCurrentThread can jump by up to the unused rest of
    /// the thread's allocation context (~8 KB) when another thread allocates large arrays meanwhile, with nothing allocated
    /// here: xunit runs other test classes in parallel, and CI saw 7112 and 4696 bytes in windows that allocate nothing (a
    /// console check, one thread making 100 KB arrays while another counts an empty loop: ~10% of windows, at most 8136 B).
    /// A real allocation on the hot path shows in every call, so the fewest is what it allocates.
    /// </summary>
    public static long Fewest(Action runs)
    {
        long fewest = long.MaxValue;
        for (int call = 0; call < 5 && fewest != 0; call++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            runs();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
