using EdgeNet.Converter;
using EdgeNet.Converter.Onnx;
using EdgeNet.Engine;
using EdgeNet.Format;
using Xunit;

namespace EdgeNet.Tests;

/// <summary>
/// Activations written out in elementwise ops (Swish as Mul(x, Sigmoid(x)), HardSwish as x·Clip(x+3, 0, 6)/6 and its
/// variants, PP-LCNet's learnable scale and bias around them) from ONNX with random weights: converted, the pattern
/// becomes one op fused into the Conv before it (<see cref="ActivationRewrites"/>, <see cref="GraphRewrites"/>), and
/// the planned model matches ONNX Runtime.
/// </summary>
public class ActivationRewriteTests(ITestOutputHelper output)
{
    public static TheoryData<string> Patterns =>
    [
        "swish", "swish_sigmoid_first", "swish_shared", "quick_gelu", "hardswish_mul_div", "hardswish_div_mul", "hardswish_mul_sixth",
        "hardsigmoid_mul", "lcnet", "lcnet_padded", "channel_affine", "affine_into_grouped", "conv_transpose_bias_bn",
    ];

    /// <summary>x [1, 4, 9, 11] → Conv 3×3 (6) → the pattern → Conv 1×1 (5; 3×3 padded for lcnet_padded); the ops left besides the two Convs and
    /// the first Conv's fused activation.</summary>
    static (string[] Left, string Activation) Build(OnnxNet n, string pattern)
    {
        var x = n.Conv(n.Input("x", 1, 4, 9, 11), 4, 6, 3);
        string Gate(string t) => n.Op("Clip", [n.Op("Add", [t, n.F(3)]), n.F(0), n.F(6)]);
        string HardSwish(string t) => n.Op("Div", [n.Op("Mul", [t, Gate(t)]), n.F(6)]);
        (string Y, string[] Left, string Act) r = pattern switch
        {
            "swish" => (n.Op("Mul", [x, n.Op("Sigmoid", [x])]), [], "swish"),
            "swish_sigmoid_first" => (n.Op("Mul", [n.Op("Sigmoid", [x]), x]), [], "swish"),
            // x read beyond the pattern: Swish stays a node of its own (kept channels-last by the planner)
            "swish_shared" => (n.Op("Add", [n.Op("Mul", [x, n.Op("Sigmoid", [x])]), x]), ["Swish", "Add"], "none"),
            "quick_gelu" => (n.Op("Mul", [x, n.Op("Sigmoid", [n.Op("Mul", [n.F(1.702f), x])])]), [], "swish"),
            "hardswish_mul_div" => (HardSwish(x), [], "hardswish"),
            "hardswish_div_mul" => (n.Op("Mul", [n.Op("Div", [Gate(x), n.F(6)]), x]), [], "hardswish"),
            "hardswish_mul_sixth" => (n.Op("Mul", [n.Op("Mul", [x, Gate(x)]), n.F(1f / 6)]), [], "hardswish"),
            "hardsigmoid_mul" => (n.Op("Mul", [x, n.Op("HardSigmoid", [x], new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 1f / 6 })]), [], "hardswish"),
            // PP-LCNetV3 (PP-OCRv4 det): Conv, learnable scale and bias ([1] each, the scale first), HardSwish, scale and bias
            // (the scale and bias after it fold into a following Conv without padding; a padded one takes the scale only)
            "lcnet" or "lcnet_padded" => (n.Op("Add", [n.Op("Mul", [n.Const([0.8f], 1), HardSwish(n.Op("Add", [n.Op("Mul", [n.Const([1.3f], 1), x]), n.Const([0.2f], 1)]))]), n.Const([-0.1f], 1)]),
                pattern == "lcnet" ? [] : ["Add"], "hardswish"),
            // a BatchNorm written out per channel: [C, 1, 1] scale, [1, C, 1, 1] shift, then Relu
            "channel_affine" => (n.Op("Relu", [n.Op("Sub", [n.Op("Mul", [x, n.Const([0.5f, 1, 1.5f, 2, -1, 0.7f], 6, 1, 1)]), n.Const([0.1f, 0.2f, 0.3f, -0.4f, 0, 1], 1, 6, 1, 1)])]), [], "relu"),
            // after the activation, per channel, into a grouped 1×1 Conv
            "affine_into_grouped" => (n.Op("Add", [n.Op("Mul", [n.Op("Relu", [x]), n.Const([0.5f, 1, 1.5f, 2, -1, 0.7f], 1, 6, 1, 1)]), n.Const([0.1f, 0.2f, 0.3f, -0.4f, 0, 1], 6, 1, 1)]), [], "relu"),
            // PP-OCRv4 det's head: ConvTranspose (here grouped), its bias as an Add, BatchNorm, Relu: the Add and the
            // BatchNorm fold into the ConvTranspose
            "conv_transpose_bias_bn" => (n.Op("Relu", [n.BatchNorm(n.Op("Add", [n.Op("ConvTranspose", [x, n.Const(n.He(6 * 3 * 4, 12), 6, 3, 2, 2)],
                    OnnxBuilder.Ints("kernel_shape", 2, 2), OnnxBuilder.Ints("strides", 2, 2), OnnxBuilder.Int("group", 2)), n.Const([0.1f, -0.2f, 0.3f, 0, 0.5f, -1], 6, 1, 1)]), 6)]),
                ["ConvTranspose", "Relu"], "none"),
            _ => throw new ArgumentException(pattern),
        };
        n.B.Output(pattern switch
        {
            "lcnet_padded" => n.Conv(r.Y, 6, 5, 3),
            "affine_into_grouped" => n.Conv(r.Y, 6, 4, 1, group: 2),
            _ => n.Conv(r.Y, 6, 5, 1),
        });
        return (r.Left, r.Act);
    }

    [Theory]
    [Trait("Needs", "OnnxRuntime")]
    [MemberData(nameof(Patterns))]
    public void Pattern_fuses_into_the_conv_and_matches_onnx_runtime(string pattern)
    {
        var net = new OnnxNet(13);
        var (left, act) = Build(net, pattern);
        string path = net.B.Save(Fixtures.TempDir(), pattern + ".onnx");
        var model = OnnxImporter.Convert(path);
        output.WriteLine($"{pattern}: {string.Join(", ", model.Nodes.Select(n => $"{n.Op}{(n.Attributes.Has("activation") ? "+" + n.Attributes.String("activation", "") : "")}"))}");
        Assert.Equal(act, model.Nodes[0].Attributes.String("activation", "none"));
        Assert.Equal(left, model.Nodes.Where(n => n.Op != OpType.Conv).Select(n => n.Op.ToString()).ToArray());

        int[] shape = [1, 4, 9, 11];
        var x = OnnxBuilder.Random(new Random(3), shape.Aggregate(1, (a, b) => a * b), -4, 4);
        var want = OnnxBuilder.RunOrt(path, x, shape)[0];
        foreach (bool reference in new[] { false, true })
        {
            using var s = new Session(model, 1, new KernelOptions { Reference = reference });
            if (!reference) Assert.True(s.Plan.Nodes.Count(n => n.Op == OpType.Transpose) <= 2, $"{pattern}: {s.Plan.Nodes.Count(n => n.Op == OpType.Transpose)} transposes");
            x.CopyTo(s.Input(0, 1));
            s.Run(1);
            var got = s.Output().ToArray();
            double scale = want.Max(v => Math.Abs((double)v)), worst = 0;
            for (int i = 0; i < got.Length; i++) worst = Math.Max(worst, Math.Abs((double)want[i] - got[i]));
            output.WriteLine($"{pattern} {(reference ? "reference" : "planned")}: max |Δ| {worst:G3} of max |ORT| {scale:G3}");
            Assert.True(worst <= 1e-5 * scale, $"{pattern}: max |EdgeNet - ORT| = {worst:G3}, more than 1e-5 × {scale:G3}");
        }
    }
}
