using Xunit;
using Ours = EdgeNet.Format.XxHash64;
using Reference = System.IO.Hashing.XxHash64;

namespace EdgeNet.Tests;

/// <summary>The runtime's own XXH64 (the .enet section checksum) against System.IO.Hashing's, on every length class
/// of the algorithm: empty, the 1-byte and 4-byte tails, the 8-byte lanes, the 32-byte stripes and long inputs.</summary>
public class XxHash64Tests
{
    public static TheoryData<int> Lengths => [0, 1, 3, 4, 5, 7, 8, 9, 12, 15, 31, 32, 33, 35, 36, 39, 40, 63, 64, 100, 1000, 4097, 65_539];

    [Theory, MemberData(nameof(Lengths))]
    public void Matches_System_IO_Hashing(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        Assert.Equal(Reference.HashToUInt64(data), Ours.Hash(data));
    }

    [Fact]
    public void Known_value_of_the_empty_input() => Assert.Equal(0xEF46DB3751D8E999UL, Ours.Hash([]));
}
