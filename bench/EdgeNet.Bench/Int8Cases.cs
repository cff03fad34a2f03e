namespace EdgeNet.Bench;

/// <summary>int8 rows: ORT's own int8 MobileNets against EdgeNet's import of the same files; the HAR LSTM quantized by
/// EdgeNet's PTQ against ORT's fp32 (the target for recurrent int8).</summary>
public static class Int8Cases
{
    public static IEnumerable<Compare.Case> All(string shared)
    {
        string perf = Path.Combine(shared, "perf");
        yield return new("HAR LSTM int8 (vs ORT fp32)", Path.Combine(perf, "har_lstm_128x9.onnx"), null, Path.Combine(perf, "har_lstm_128x9_input.npy"), 1) { Ptq = true };
        yield return new("MobileNetV2-0.35-96 int8", Path.Combine(perf, "mobilenetv2_035_96_qdq_int8.onnx"), Path.Combine(perf, "mobilenetv2_035_96_qdq_int8.onnx"), Path.Combine(perf, "mobilenetv2_035_96_input.npy"), 1);
        yield return new("MobileNetV2-1.0-224 int8", Path.Combine(perf, "mobilenetv2_100_224_qdq_int8.onnx"), Path.Combine(perf, "mobilenetv2_100_224_qdq_int8.onnx"), Path.Combine(perf, "mobilenetv2_100_224_input.npy"), 1);
    }
}
