using System.Runtime.InteropServices;

namespace EdgeNet.Cli;

/// <summary>`edgenet bench --cpu N`: the calling thread (the one that runs and times the inferences) pinned to one CPU
/// with sched_setaffinity. Only that thread, after the warm-up: the runtime's own threads (the JIT's tier-1 compiles,
/// the finalizer) and the intra-op workers stay free, so a JIT and a NativeAOT binary compared on one CPU both get
/// their warm-up as they would unpinned (`taskset` on the whole JIT process put its tier-1 compiler on the timed CPU).</summary>
internal static partial class Affinity
{
    const int MaxCpus = 1024;

    /// <summary>Refuses, before the model is loaded, a --cpu that no Linux thread could take (not Linux, not 0..1023) or
    /// that this process may not run on: outside the calling thread's affinity mask, which is the process's as started
    /// (`taskset -c 1`, a cpuset). sched_setaffinity alone would take any online CPU the cpuset allows: under
    /// `taskset -c 1`, --cpu 0 timed on CPU 0.</summary>
    public static void Check(int cpu)
    {
        if (!OperatingSystem.IsLinux()) throw new UsageException("--cpu pins the thread with sched_setaffinity: Linux only");
        if ((uint)cpu >= MaxCpus) throw new UsageException(NotACpu(cpu.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Span<ulong> mask = stackalloc ulong[MaxCpus / 64];
        mask.Clear();
        if (sched_getaffinity(0, MaxCpus / 8, ref MemoryMarshal.GetReference(mask)) == 0 && (mask[cpu / 64] >> (cpu % 64) & 1) == 0)
            throw new UsageException($"--cpu {cpu}: not a CPU this process may run on (it may run on {List(mask)})");
    }

    /// <summary>The CPUs the calling thread may run on, as "1" or "0-3,8" (after <see cref="PinCurrentThread"/>, its CPU).</summary>
    public static string ThreadCpus()
    {
        Span<ulong> mask = stackalloc ulong[MaxCpus / 64];
        mask.Clear();
        return sched_getaffinity(0, MaxCpus / 8, ref MemoryMarshal.GetReference(mask)) == 0 ? List(mask) : "unknown";
    }

    /// <summary>The CPUs of a mask as "1" or "0-3,8".</summary>
    static string List(ReadOnlySpan<ulong> mask)
    {
        var parts = new List<string>();
        for (int c = 0; c < MaxCpus; c++)
        {
            if ((mask[c / 64] >> (c % 64) & 1) == 0) continue;
            int last = c;
            while (last + 1 < MaxCpus && (mask[(last + 1) / 64] >> ((last + 1) % 64) & 1) != 0) last++;
            parts.Add(last == c ? $"{c}" : $"{c}-{last}");
            c = last;
        }
        return string.Join(",", parts);
    }

    /// <summary>The error for a --cpu that is not a CPU number: "abc" (the parser's) as "-1".</summary>
    public static string NotACpu(string value) => $"--cpu {value}: not a CPU number (0..{MaxCpus - 1})";

    public static void PinCurrentThread(int cpu)
    {
        Check(cpu);
        Span<ulong> mask = stackalloc ulong[MaxCpus / 64];
        mask.Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        // pid 0: the calling thread (a thread's affinity, not the process's).
        if (sched_setaffinity(0, MaxCpus / 8, ref MemoryMarshal.GetReference(mask)) != 0)
            throw new UsageException($"--cpu {cpu}: not a CPU this process may run on (sched_setaffinity errno {Marshal.GetLastPInvokeError()})");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nint size, ref ulong mask);

    /// <summary>The raw syscall's glibc wrapper: 0 on success (the kernel's byte count is not passed on).</summary>
    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_getaffinity(int pid, nint size, ref ulong mask);
}
