namespace EdgeNet.Service;

/// <summary>Control-socket answers (one JSON object per line).
/// <see cref="Warnings"/>: what the service noticed and worked around (a changed configured model, a damaged
/// fine-tune buffer moved aside, a results file it cannot write).</summary>
public sealed record StatusReply(string State, string Model, int ModelVersion, long Windows, long SensorFaults, string? LastFault,
    int LabelledSamples, string Finetune, string? FinetuneReason, bool CanRollback, bool Streaming, long ResultsFileFailures, string[] Warnings);
/// <summary>One classified window; <see cref="Truth"/> is the gesture a simulated sensor played (demos and tests).</summary>
public sealed record ResultReply(long Window, int Class, string Label, float Confidence, int[] TopK, float[] TopKScores, double LatencyUs, string Time, int? Truth = null);
public sealed record MetricsReply(long Windows, double P50Us, double P90Us, double P99Us, Dictionary<string, long> CountsPerClass, long SensorFaults);
public sealed record MessageReply(bool Ok, string Message);
