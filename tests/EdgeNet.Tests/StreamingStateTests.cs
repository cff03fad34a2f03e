using EdgeNet.Engine;
using EdgeNet.Training;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// Streaming recurrent state: a stream cut into consecutive windows, run with the state carried from window to window,
/// gives the outputs of the whole stream run at once (the same weights with a sequence twice as long).
/// </summary>
public class StreamingStateTests
{
    static float[] Signal(int rows, int steps, int features, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, rows * steps * features).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>Rows of [batch, steps, features] → the part [from, from + len) of each row's steps.</summary>
    static float[] Steps(float[] x, int batch, int steps, int features, int from, int len)
    {
        var o = new float[batch * len * features];
        for (int b = 0; b < batch; b++) Array.Copy(x, (b * steps + from) * features, o, b * len * features, len * features);
        return o;
    }

    [Theory]
    [InlineData("lstm", 1, false)]
    [InlineData("lstm", 3, false)]
    [InlineData("gru", 2, false)]
    [InlineData("rnn", 1, false)]
    [InlineData("lstm", 2, true)]
    [InlineData("gru", 1, true)]
    public void Consecutive_windows_with_carried_state_equal_the_whole_stream(string cell, int batch, bool reference)
    {
        const int T = 7, F = 5;
        string spec = $"{cell}:12,dense:4";
        var opts = new KernelOptions { Reference = reference };
        using var whole = new Session(ModelSpec.Build(spec, [3 * T, F], seed: 9), batch, opts);
        using var stream = new Session(ModelSpec.Build(spec, [T, F], seed: 9), batch, opts);
        stream.CarryRecurrentState();
        var x = Signal(batch, 3 * T, F, 4);
        var expected = new float[batch * 4]; var got = new float[batch * 4];
        whole.Run(x, expected);
        for (int w = 0; w < 3; w++) stream.Run(Steps(x, batch, 3 * T, F, w * T, T), got);
        for (int i = 0; i < got.Length; i++) Assert.Equal(expected[i], got[i], 5e-6f);

        // Without the carried state the last window alone gives a different answer: the test can tell the two apart.
        using var fresh = new Session(ModelSpec.Build(spec, [T, F], seed: 9), batch, opts);
        var alone = new float[batch * 4];
        fresh.Run(Steps(x, batch, 3 * T, F, 2 * T, T), alone);
        Assert.True(alone.Zip(expected).Max(p => MathF.Abs(p.First - p.Second)) > 1e-3f);

        // Reset starts the stream over.
        stream.ResetState();
        stream.Run(Steps(x, batch, 3 * T, F, 2 * T, T), got);
        Assert.Equal(alone, got);
    }

    [Fact]
    public void Carrying_state_is_refused_without_a_forward_recurrent_layer()
    {
        using var mlp = new Session(ModelSpec.Build("dense:8,relu,dense:3", [6]));
        Assert.Contains("no LSTM, GRU or RNN", Assert.Throws<ArgumentException>(mlp.CarryRecurrentState).Message);
        using var bi = new Session(Fixtures.Convert(Fixtures.Exported("gru_bi2.onnx")));
        Assert.Contains("bidirectional", Assert.Throws<ArgumentException>(bi.CarryRecurrentState).Message);
    }

    [Fact]
    public void Streaming_runs_allocate_nothing()
    {
        using var s = new Session(ModelSpec.Build("lstm:16,dense:3", [10, 6]));
        s.CarryRecurrentState();
        var x = Signal(1, 10, 6, 1); var y = new float[3];
        s.Run(x, y);
        Assert.Equal(0, Allocations.Fewest(() => { for (int i = 0; i < 20; i++) s.Run(x, y); }));
    }
}
