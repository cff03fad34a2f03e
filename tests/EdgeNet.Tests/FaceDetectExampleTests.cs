using System.Text.Json;
using EdgeNet.Examples.FaceDetect;
using EdgeNet.Format;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using PixelFormat = EdgeNet.Devices.Camera.PixelFormat;

namespace EdgeNet.Tests;

/// <summary>examples/facedetect: the decoding and NMS on their own, then the example image's faces against ONNX
/// Runtime's on the same input tensor, the command line's JSON and PNG, and the camera frame source.</summary>
public class FaceDetectExampleTests(ITestOutputHelper output)
{
    static string Example(params string[] parts) => Path.Combine([ExampleRoot.Dir, "facedetect", .. parts]);
    static string Image => Example("astronaut.png");
    public static TheoryData<string> ModelFiles => new() { "ultraface_slim_320.onnx", "blazeface_front_128.onnx" };

    [Fact]
    public void IoU_of_boxes()
    {
        Assert.Equal(1f, Detection.IoU(new(0, 0, 2, 2, 1), new(0, 0, 2, 2, 1)));
        Assert.Equal(1f / 7, Detection.IoU(new(0, 0, 2, 2, 1), new(1, 1, 3, 3, 1)), 6);   // 1 shared of 4 + 4 − 1
        Assert.Equal(0f, Detection.IoU(new(0, 0, 1, 1, 1), new(1, 0, 2, 1, 1)));          // touching edges
        Assert.Equal(0f, Detection.IoU(new(0, 0, 0, 0, 1), new(0, 0, 0, 0, 1)));          // empty boxes
    }

    [Fact]
    public void Hard_nms_keeps_the_best_of_each_overlapping_group_best_first()
    {
        Detection[] c = [new(0, 0, 10, 10, 0.8f), new(1, 1, 11, 11, 0.9f), new(20, 20, 30, 30, 0.5f), new(0, 0, 10, 10.5f, 0.95f), new(50, 50, 60, 60, 0.5f)];
        var kept = Nms.Hard(c, 0.3f);
        Assert.Equal([0.95f, 0.5f, 0.5f], kept.Select(k => k.Score));
        Assert.Equal(20, kept[1].X1);   // equal scores keep the input's order
        Assert.Single(Nms.Hard(c, 0.3f, maxResults: 1));
        Assert.Equal(5, Nms.Hard(c, 1f).Count);   // nothing overlaps by more than IoU 1
        Assert.Empty(Nms.Hard([], 0.3f));
    }

    [Fact]
    public void Weighted_nms_averages_each_cluster_by_score()
    {
        Detection[] c = [new(0, 0, 10, 10, 0.75f, [1, 1]), new(2, 0, 12, 10, 0.25f, [3, 3]), new(40, 40, 50, 50, 0.6f, [45, 45])];
        var kept = Nms.Weighted(c, 0.3f);
        Assert.Equal(2, kept.Count);
        Assert.Equal(0.5f, kept[0].X1, 5); Assert.Equal(10.5f, kept[0].X2, 5); Assert.Equal(0.75f, kept[0].Score);
        Assert.Equal([1.5f, 1.5f], kept[0].Keypoints!);
        Assert.Equal(c[2] with { Keypoints = kept[1].Keypoints }, kept[1]);
    }

    [Fact]
    public void Anchors_and_priors_have_the_models_counts_and_order()
    {
        var a = SsdAnchors.Generate(128, 128, [8, 16, 16, 16]);
        Assert.Equal(896, a.Length);
        Assert.Equal(new Anchor(0.5f / 16, 0.5f / 16, 1, 1), a[0]); Assert.Equal(a[0], a[1]);   // two per cell on the 16x16 grid
        Assert.Equal(new Anchor(1.5f / 16, 0.5f / 16, 1, 1), a[2]);
        Assert.Equal(new Anchor(0.5f / 8, 0.5f / 8, 1, 1), a[512]); Assert.Equal(a[512], a[517]);  // six per cell on 8x8
        Assert.Equal(new Anchor(7.5f / 8, 7.5f / 8, 1, 1), a[^1]);

        var p = UltraFace.Priors(320, 240);
        Assert.Equal(4420, p.Length);
        Assert.Equal(new Anchor(0.5f / 40, 0.5f / 30, 10f / 320, 10f / 240), p[0]);
        Assert.Equal(new Anchor(0.5f / 40, 0.5f / 30, 24f / 320, 24f / 240), p[2]);
        Assert.Equal(new Anchor(4.5f / 5, 3.5f / 3.75f, 256f / 320, 1), p[^1]);   // 256/240 clamped to 1
        Assert.Equal(1f, p[3600 + 600 + 160 - 1].CenterY);   // stride 32: 240/32 = 7.5 rows of scale, 8 cells: (7 + 0.5) / 7.5
    }

    [Fact]
    public void BlazeFace_decodes_a_regressor_against_its_anchor()
    {
        var model = FaceModel.For([1, 128, 128, 3], [[1, 512, 1], [1, 384, 1], [1, 512, 16], [1, 384, 16]]);
        var scores16 = Enumerable.Repeat(-10f, 512).ToArray(); var scores8 = Enumerable.Repeat(-10f, 384).ToArray();
        var raw16 = new float[512 * 16]; var raw8 = new float[384 * 16];
        scores8[6 * 9 + 1] = 2f;                                   // the 8x8 grid's cell (row 1, column 1), its second anchor
        float[] r = [8, -4, 32, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        r.CopyTo(raw8, (6 * 9 + 1) * 16);
        var outs = new[] { scores16, scores8, raw16, raw8 };
        var found = model.Candidates(i => outs[i], 0.75f);
        var d = Assert.Single(found);
        float cx = 1.5f / 8 + 8f / 128, cy = 1.5f / 8 - 4f / 128;
        Assert.Equal(cx - 16f / 128, d.X1, 6); Assert.Equal(cy - 8f / 128, d.Y1, 6); Assert.Equal(cx + 16f / 128, d.X2, 6); Assert.Equal(cy + 8f / 128, d.Y2, 6);
        Assert.Equal(1 / (1 + MathF.Exp(-2)), d.Score, 6);
        Assert.Equal(1.5f / 8 + 1f / 128, d.Keypoints![0], 6); Assert.Equal(1.5f / 8 + 2f / 128, d.Keypoints[1], 6);
        Assert.Empty(model.Candidates(i => outs[i], 0.9f));       // sigmoid(2) = 0.88
        Assert.Throws<NotSupportedException>(() => FaceModel.For([1, 3, 224, 224], [[1, 1000]]));
    }

    [Trait("Needs", "OnnxRuntime")]
    [Theory, MemberData(nameof(ModelFiles))]
    public void Faces_in_the_example_image_match_ONNX_Runtime(string file)
    {
        string onnx = Example("models", file);
        var frame = Images.Read(Image);
        using var detector = new FaceDetector(Fixtures.Convert(onnx));
        var ours = detector.Detect(frame);

        var fm = detector.Model;
        var input = new float[fm.InputLength];
        var placement = fm.Preprocess(frame, input);
        using var opts = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };   // UltraFace's IR-4 initializers warn
        using var ort = new InferenceSession(onnx, opts);
        using var res = ort.Run([NamedOnnxValue.CreateFromTensor(ort.InputMetadata.Keys.First(), new DenseTensor<float>(input, fm.InputShape))]);
        var outs = ort.OutputMetadata.Keys.Select(k => res.First(r => r.Name == k).AsTensor<float>().ToArray()).ToArray();
        var theirs = fm.Detect(i => outs[i], placement);

        output.WriteLine($"{fm.Name}: EdgeNet {Describe(ours)}; ONNX Runtime {Describe(theirs)}");
        Assert.Equal(theirs.Count, ours.Count);
        foreach (var t in theirs)
        {
            var best = ours.MaxBy(o => Detection.IoU(o, t));
            Assert.True(Detection.IoU(best, t) >= 0.99f, $"IoU {Detection.IoU(best, t)}");
            Assert.Equal(t.Score, best.Score, 3);
        }
        // One face, the astronaut's: her face is around x 180..270, y 65..175 of the 512x512 photograph.
        var face = Assert.Single(ours);
        Assert.InRange((face.X1 + face.X2) / 2, 200, 250); Assert.InRange((face.Y1 + face.Y2) / 2, 100, 140);
        Assert.InRange(face.Width, 70, 120);
    }

    static string Describe(List<Detection> d) => string.Join(" ", d.Select(x => $"[{x.X1:F1},{x.Y1:F1},{x.X2:F1},{x.Y2:F1}] {x.Score:F4}"));

    [Fact]
    public void Command_line_prints_json_and_draws_the_boxes_into_a_png()
    {
        string dir = Fixtures.TempDir(), model = Path.Combine(dir, "blazeface.enet"), png = Path.Combine(dir, "faces.png");
        ModelFile.Save(Fixtures.Convert(Example("models", "blazeface_front_128.onnx")), model);
        var (rc, stdout, stderr) = Run(model, Image, "--out", png);
        Assert.True(rc == 0, stderr);
        var json = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal("blazeface", json.GetProperty("model").GetString());
        var face = Assert.Single(json.GetProperty("faces").EnumerateArray());
        var box = face.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(12, face.GetProperty("keypoints").GetArrayLength());
        var drawn = Images.Read(png);
        Assert.Equal((512, 512, PixelFormat.Rgb24), (drawn.Width, drawn.Height, drawn.Format));
        int p = ((int)MathF.Round(box[1]) * 512 + (int)MathF.Round((box[0] + box[2]) / 2)) * 3;   // the top edge's middle
        Assert.Equal([0, 255, 0], drawn.Data[p..(p + 3)]);
        Assert.NotEqual(Images.Read(Image).Data, drawn.Data);

        Assert.Equal(2, Run().rc);
        Assert.Equal(2, Run(model, Image, "--bogus").rc);
        Assert.Equal(4, Run(model, model).rc);   // not an image
        Assert.Equal(3, Run(Image, Image).rc);   // not a model
    }

    [Fact]
    public void Camera_frames_from_a_file_and_from_a_process_give_the_still_images_faces()
    {
        string dir = Fixtures.TempDir(), model = Path.Combine(dir, "ultraface.enet"), raw = Path.Combine(dir, "frames.rgb24");
        ModelFile.Save(Fixtures.Convert(Example("models", "ultraface_slim_320.onnx")), model);
        var still = JsonDocument.Parse(Run(model, Image).stdout).RootElement.GetProperty("faces").GetRawText();
        var frame = Images.Read(Image);
        File.WriteAllBytes(raw, [.. frame.Data, .. frame.Data, .. frame.Data]);   // three frames, as a camera sends them

        var fromFile = Run(model, "--size", "512x512", "--format", "rgb24", "--frames-file", raw, "--out", Path.Combine(dir, "last.png"));
        Assert.Equal(0, fromFile.rc);
        var lines = fromFile.stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        for (int k = 0; k < 3; k++)
        {
            var r = JsonDocument.Parse(lines[k]).RootElement;
            Assert.Equal(k, r.GetProperty("frame").GetInt32());
            Assert.Equal(still, r.GetProperty("faces").GetRawText());
        }
        Assert.True(File.Exists(Path.Combine(dir, "last.png")));

        // A camera process (here `cat` in place of ffmpeg/rpicam-vid) through the same FrameSource the service uses.
        var fromProcess = Run(model, "--size", "512x512", "--frames", "2", "--", "cat", raw);
        Assert.Equal(0, fromProcess.rc);
        var plines = fromProcess.stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, plines.Length);
        Assert.All(plines, l => Assert.Equal(still, JsonDocument.Parse(l).RootElement.GetProperty("faces").GetRawText()));
    }

    static (int rc, string stdout, string stderr) Run(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int rc = FaceDetectApp.Run(args, o, e);
        return (rc, o.ToString(), e.ToString());
    }
}

/// <summary>The repository's examples/ folder, found from the test binary's folder upwards.</summary>
static class ExampleRoot
{
    public static string Dir
    {
        get
        {
            var d = new DirectoryInfo(AppContext.BaseDirectory);
            while (d is not null && !File.Exists(Path.Combine(d.FullName, "EdgeNet.sln"))) d = d.Parent;
            return Path.Combine(d!.FullName, "examples");
        }
    }
}
