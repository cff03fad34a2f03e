using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EdgeNet.Devices.Camera;
using EdgeNet.Engine;
using Frame = EdgeNet.Devices.Camera.Frame;
using EdgeNet.Format;

namespace EdgeNet.Examples.FaceDetect;

/// <summary>
/// facedetect MODEL.enet IMAGE [--out faces.png] [--threshold T] [--threads N] [--repeat N]
/// facedetect MODEL.enet --size WxH [--format rgb24|gray8|yuv420] [--frames N] [--out last.png] (--frames-file FILE | -- COMMAND ARGS...)
/// Prints one JSON line per image or camera frame: the faces' boxes (image pixels), scores and keypoints.
/// Exit codes: 0 done, 2 usage, 3 bad model file, 4 bad image.
/// </summary>
public static class FaceDetectApp
{
    const string Usage = "usage: facedetect MODEL.enet IMAGE [--out OUT.png] [--threshold T] [--threads N] [--repeat N]\n" +
                         "       facedetect MODEL.enet --size WxH [--format rgb24|gray8|yuv420] [--frames N] [--out OUT.png] (--frames-file FILE | -- COMMAND ARGS...)";

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? model = null, image = null, outPng = null, framesFile = null; float? threshold = null;
        int threads = 1, repeat = 1, frames = int.MaxValue, width = 0, height = 0; var format = PixelFormat.Rgb24; string[]? command = null;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--out": outPng = Value(); break;
                    case "--threshold": threshold = float.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                    case "--threads": threads = int.Parse(Value()); break;
                    case "--repeat": repeat = Math.Max(1, int.Parse(Value())); break;
                    case "--frames": frames = int.Parse(Value()); break;
                    case "--frames-file": framesFile = Value(); break;
                    case "--format": format = Enum.Parse<PixelFormat>(Value(), ignoreCase: true); break;
                    case "--size":
                        var wh = Value().Split('x');
                        if (wh.Length != 2 || !int.TryParse(wh[0], out width) || !int.TryParse(wh[1], out height) || width < 1 || height < 1 || width > 8192 || height > 8192)
                            throw new ArgumentException("--size wants WxH, e.g. 640x480");
                        break;
                    case "--": command = args[(i + 1)..]; i = args.Length; break;
                    case var a when a.StartsWith("--"): throw new ArgumentException($"unknown option {a}");
                    default: if (model is null) model = args[i]; else if (image is null) image = args[i]; else throw new ArgumentException($"unexpected argument {args[i]}"); break;
                }
            }
            bool camera = command is { Length: > 0 } || framesFile is not null;
            if (model is null || camera == (image is not null)) throw new ArgumentException("give a model and either an image or a camera source");
            if (camera && width == 0) throw new ArgumentException("a camera source needs --size WxH");
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            stderr.WriteLine($"error: {e.Message}\n{Usage}");
            return 2;
        }

        FaceDetector detector;
        try { detector = new FaceDetector(ModelFile.Load(model), new KernelOptions { Threads = threads }); }
        catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            stderr.WriteLine($"error: {model}: {e.Message}");
            return 3;
        }
        using (detector)
        {
            if (image is not null)
            {
                Frame frame;
                try { frame = Images.Read(image); }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException) { stderr.WriteLine($"error: {e.Message}"); return 4; }
                // --repeat N: the median time of N detections (the first includes the JIT's compiling).
                var times = new double[repeat]; List<Detection> faces = [];
                for (int r = 0; r < repeat; r++) { var sw = Stopwatch.StartNew(); faces = detector.Detect(frame, threshold); times[r] = sw.Elapsed.TotalMilliseconds; }
                Array.Sort(times);
                stdout.WriteLine(Json(w => { w.WriteString("image", Path.GetFileName(image)); w.WriteNumber("width", frame.Width); w.WriteNumber("height", frame.Height); }, detector.Model.Name, times[repeat / 2], faces));
                if (outPng is not null) Images.WritePng(outPng, frame.Width, frame.Height, Images.Draw(frame, faces));
                return 0;
            }

            // The service's camera source: frames from a process's stdout (ffmpeg, rpicam-vid) or a file of raw frames.
            using var source = framesFile is not null ? FrameSource.FromFile(framesFile, width, height, format)
                                                      : FrameSource.FromProcess(command![0], command[1..], width, height, format);
            for (int k = 0; k < frames; k++)
            {
                var frame = source.TryNext(CancellationToken.None);
                if (frame is null)
                {
                    stderr.WriteLine($"camera: {source.LastError}");
                    if (framesFile is not null) break;   // the end of the file
                    continue;                            // a camera process is restarted by the source
                }
                var sw = Stopwatch.StartNew();
                var faces = detector.Detect(frame, threshold);
                stdout.WriteLine(Json(w => w.WriteNumber("frame", k), detector.Model.Name, sw.Elapsed.TotalMilliseconds, faces));
                if (outPng is not null) Images.WritePng(outPng, frame.Width, frame.Height, Images.Draw(frame, faces));
            }
            return 0;
        }
    }

    /// <summary>One JSON line: the caller's fields, then model, ms and faces ({box: [x1,y1,x2,y2], score, keypoints?}).</summary>
    static string Json(Action<Utf8JsonWriter> head, string model, double ms, List<Detection> faces)
    {
        using var buf = new MemoryStream();
        using (var w = new Utf8JsonWriter(buf))
        {
            w.WriteStartObject();
            head(w);
            w.WriteString("model", model);
            w.WriteNumber("ms", Math.Round(ms, 2));
            w.WriteStartArray("faces");
            foreach (var f in faces)
            {
                w.WriteStartObject();
                w.WriteStartArray("box");
                foreach (var v in (float[])[f.X1, f.Y1, f.X2, f.Y2]) w.WriteNumberValue(Math.Round(v, 1));
                w.WriteEndArray();
                w.WriteNumber("score", Math.Round(f.Score, 4));
                if (f.Keypoints is { } kp) { w.WriteStartArray("keypoints"); foreach (var v in kp) w.WriteNumberValue(Math.Round(v, 1)); w.WriteEndArray(); }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buf.ToArray());
    }
}
