namespace EdgeNet.Service;

/// <summary>The answer to <c>status</c> (control socket, MQTT status topic): one JSON object.</summary>
/// <param name="State"><c>running</c>, or <c>sensor fault</c> while the source fails.</param>
/// <param name="Model">The path of the model serving.</param>
/// <param name="ModelVersion">0 for the configured model, N for the N-th fine-tuned one.</param>
/// <param name="Windows">Windows classified since start.</param>
/// <param name="SensorFaults">Source faults since start (each is retried).</param>
/// <param name="LastFault">The last fault, while the source is failing; else null.</param>
/// <param name="LabelledSamples">Labelled windows in the fine-tune buffer.</param>
/// <param name="Finetune"><c>idle</c>, <c>running</c>, <c>swapped</c>, <c>rejected</c>, <c>failed</c> or <c>cancelled</c>.</param>
/// <param name="FinetuneReason">Why the last fine-tune ended as it did.</param>
/// <param name="CanRollback">Whether <c>rollback</c> has a previous model to return to.</param>
/// <param name="Streaming">Whether the serving model carries recurrent state from window to window.</param>
/// <param name="ResultsFileFailures">Results the JSON-lines file could not take.</param>
/// <param name="Warnings">What the service noticed and worked around (a changed configured model, a damaged fine-tune
/// buffer moved aside, a results file it cannot write, GPIO outputs it could not open).</param>
public sealed record StatusReply(string State, string Model, int ModelVersion, long Windows, long SensorFaults, string? LastFault,
    int LabelledSamples, string Finetune, string? FinetuneReason, bool CanRollback, bool Streaming, long ResultsFileFailures, string[] Warnings);

/// <summary>One classified window (stdout, the results file, <c>last</c>, <c>subscribe</c>, MQTT).</summary>
/// <param name="Window">The window's number since start.</param>
/// <param name="Class">The decided class index, or -1 for <c>unknown</c> (below postprocess.threshold).</param>
/// <param name="Label">The decided class's label.</param>
/// <param name="Confidence">The decided class's probability (softmax, after voting).</param>
/// <param name="TopK">The most probable class indices, best first.</param>
/// <param name="TopKScores">Their probabilities.</param>
/// <param name="LatencyUs">The model's run time for this window, in microseconds.</param>
/// <param name="Time">When the result was made (UTC, ISO 8601).</param>
/// <param name="Truth">The gesture a simulated sensor played (demos and tests); null for a real source.</param>
public sealed record ResultReply(long Window, int Class, string Label, float Confidence, int[] TopK, float[] TopKScores, double LatencyUs, string Time, int? Truth = null);

/// <summary>The answer to <c>metrics</c>.</summary>
/// <param name="Windows">Windows classified since start.</param>
/// <param name="P50Us">Median model latency over the recent windows, in microseconds.</param>
/// <param name="P90Us">90th percentile latency.</param>
/// <param name="P99Us">99th percentile latency.</param>
/// <param name="CountsPerClass">Decisions per class label since start.</param>
/// <param name="SensorFaults">Source faults since start.</param>
public sealed record MetricsReply(long Windows, double P50Us, double P90Us, double P99Us, Dictionary<string, long> CountsPerClass, long SensorFaults);

/// <summary>The answer to a command that acts (label, finetune, rollback, reload).</summary>
/// <param name="Ok">Whether it was done.</param>
/// <param name="Message">What was done, or why not.</param>
public sealed record MessageReply(bool Ok, string Message);
