namespace EdgeNet.Fuzz;

/// <summary>libFuzzer-style mutations: bit flips, random bytes, interesting 32-bit values, inserts, deletes, splices.</summary>
public static class Mutator
{
    static readonly int[] Interesting = [0, -1, 1, int.MaxValue, int.MinValue, 0x7fff, 0x8000, 0xffff, 64, 255, 256, -128, 1 << 20, 1 << 30];

    public static byte[] Mutate(byte[] seed, byte[] other, Random rng)
    {
        var d = new List<byte>(seed);
        int n = 1 + rng.Next(4);
        for (int i = 0; i < n && d.Count > 0; i++)
        {
            int at = rng.Next(d.Count);
            switch (rng.Next(7))
            {
                case 0: d[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: d[at] = (byte)rng.Next(256); break;
                case 2:
                    {
                        var v = BitConverter.GetBytes(Interesting[rng.Next(Interesting.Length)]);
                        for (int k = 0; k < 4 && at + k < d.Count; k++) d[at + k] = v[k];
                        break;
                    }
                case 3: d.Insert(at, (byte)rng.Next(256)); break;
                case 4: d.RemoveRange(at, Math.Min(d.Count - at, 1 + rng.Next(16))); break;
                case 5: { int from = rng.Next(other.Length); int len = Math.Min(other.Length - from, 1 + rng.Next(64)); d.InsertRange(at, other.Skip(from).Take(len)); break; }
                default: d.RemoveRange(at, d.Count - at); break;   // truncation
            }
        }
        return d.ToArray();
    }
}
