using System.Runtime.InteropServices;
using System.Diagnostics;
using EdgeNet.Kernels.Simd;

namespace EdgeNet.Bench;

/// <summary>int8 GEMM with the fused per-column requantization (channels-last pointwise conv, Dense) at MobileNetV2's
/// pointwise shapes: pixels × C_in → C_out. Prints GMAC/s, with and without the requantization.</summary>
public static unsafe class GemmInt8Probe
{
    /// <summary>MobileNetV2's shapes, or <paramref name="shapes"/> ("M,K,N" each) where given. The operands live in
    /// 64-byte-aligned native memory, as the session's (NativeBuffer, arena): the managed arrays of earlier versions put
    /// the int16 weight copy at any 16-byte offset, so its 64-byte loads split cache lines in some runs and not in others.</summary>
    public static void Run(TextWriter log, string[]? shapes = null)
    {
        var list = shapes is { Length: > 0 }
            ? shapes.Select(s => s.Split(',').Select(int.Parse).ToArray()).Select(v => (v[0], v[1], v[2])).ToArray()
            : new[] { (12544, 16, 96), (12544, 32, 16), (3136, 24, 144), (3136, 144, 24), (784, 32, 192), (196, 96, 576), (196, 576, 96), (49, 320, 1280), (49, 960, 160) };
        foreach (var (m, k, n) in list)
        {
            int kp = GemmInt8.KPad(k);
            var a = new sbyte[(long)m * kp]; var w = new sbyte[(long)k * n];
            var rng = new Random(1);
            for (int i = 0; i < a.Length; i++) a[i] = (sbyte)rng.Next(-128, 128);
            for (int i = 0; i < w.Length; i++) w[i] = (sbyte)rng.Next(-128, 128);
            var packed = new sbyte[GemmInt8.PackedBytes(k, n) + 64];
            var split = new short[GemmInt8.SplitShorts(k, n)];
            var acc = new int[(long)m * n]; var o = new sbyte[(long)m * n];
            var bias = new int[n]; var mult = new float[n];
            for (int j = 0; j < n; j++) { bias[j] = rng.Next(-5000, 5000); mult[j] = 1f / (2000 + 64 * j); }
            var native = new List<nint>();
            T* Aligned<T>(T[] from) where T : unmanaged
            {
                var p = (T*)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, from.Length) * sizeof(T)), 64);
                from.AsSpan().CopyTo(new Span<T>(p, from.Length));
                native.Add((nint)p);
                return p;
            }
            fixed (sbyte* pw = w)
            {
                sbyte* pa = Aligned(a), pp = Aligned(packed), po = Aligned(o); int* pc = Aligned(acc), pb = Aligned(bias); float* pm = Aligned(mult); short* ps = Aligned(split);
                GemmInt8.Pack(pw, n, 1, k, n, pp, shift: false);
                GemmInt8.SplitPanels(pp, k, n, ps);
                var e = new GemmInt8.Epilogue { Out = po, Ldo = n, ColBias = pb, ColMult = pm, Zp = -3, Lo = -128, Hi = 127, ShiftA = kp == k };   // as the channels-last pointwise conv runs it
                // MobileNetV2's convs (ORT's QDQ model: every clamp is the int8 range) skip the float clamp (SaturationOnly);
                // EDGENET_PROBE_CLAMP=1 times the clamped epilogue (a ReLU bound inside the int8 range).
                if (Environment.GetEnvironmentVariable("EDGENET_PROBE_CLAMP") == "1") e.Lo = -100;
                e.SaturationOnly = GemmInt8.SaturationClamps(e.Lo, e.Hi, 5000 + 255L * 128 * k, mult);
                // AVX-512BW without VNNI: the weights split once, as ConvNhwcInt8Kernel does; EDGENET_PROBE_SPLIT=0 splits per tile.
                if (GemmInt8.Selected == GemmInt8.Isa.Avx512 && Environment.GetEnvironmentVariable("EDGENET_PROBE_SPLIT") != "0") e.SplitB = ps;
                double macs = (double)m * n * k;
                // Many short trials, the fastest kept: on a shared, loaded machine the minimum is the stable figure.
                int reps = Math.Max(1, (int)(1e8 / macs));
                double Time(Action run)
                {
                    for (int r = 0; r < 3; r++) run();
                    var best = double.MaxValue;
                    for (int t = 0; t < 40; t++)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        for (int r = 0; r < reps; r++) run();
                        best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalMicroseconds / reps);
                    }
                    return best;
                }
                var A = pa; var P = pp; var C = pc;
                double fused = Time(() => GemmInt8.Run(A, kp, P, C, n, m, n, k, GemmInt8.Selected, true, ref e));
                double plain = Time(() => GemmInt8.Run(A, kp, P, C, n, m, n, k, GemmInt8.Selected, true));
                log.WriteLine($"int8 GEMM M={m,6} K={k,4} N={n,5}: requantized {fused,7:F1} µs = {macs / fused / 1e3,6:F1} GMAC/s | int32 out {plain,7:F1} µs = {macs / plain / 1e3,6:F1} GMAC/s  ({GemmInt8.Selected})");
                foreach (var p in native) NativeMemory.AlignedFree((void*)p);
            }
        }
    }
}
