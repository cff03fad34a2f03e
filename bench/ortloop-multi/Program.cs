using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// ortloop-multi MODEL.onnx K NAME=X.npy ... : runs the model K times on the given inputs (float32, int64 or int32
// .npy, each in the input's exact shape), one intra-op thread, all graph optimizations, as ../shared/armcount's
// ortloop does for one float32 input. Prints "ran K".
var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
using var session = new InferenceSession(args[0], so);
int k = int.Parse(args[1]);
var feed = args[2..].Select(a => a.Split('=', 2)).Select(p => Read(p[0], p[1])).ToList();
for (int i = 0; i < k; i++) { using var r = session.Run(feed); }
Console.WriteLine($"ran {k}");

static NamedOnnxValue Read(string name, string path)
{
    var b = File.ReadAllBytes(path);
    int hl = b[6] == 1 ? BitConverter.ToUInt16(b, 8) : BitConverter.ToInt32(b, 8), off = b[6] == 1 ? 10 : 12;
    var h = Encoding.ASCII.GetString(b, off, hl);
    var shape = h[(h.IndexOf('(') + 1)..h.IndexOf(')')].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
    int n = shape.Aggregate(1, (x, y) => x * y);
    var body = b.AsSpan(off + hl);
    if (h.Contains("'<f4'")) return NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(body)[..n].ToArray(), shape));
    if (h.Contains("'<i8'")) return NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(body)[..n].ToArray(), shape));
    if (h.Contains("'<i4'")) return NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(body)[..n].ToArray(), shape));
    throw new InvalidDataException($"{path}: float32, int64 or int32 .npy expected: {h}");
}
