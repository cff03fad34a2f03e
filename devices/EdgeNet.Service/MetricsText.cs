using System.Globalization;
using System.Text;

namespace EdgeNet.Service;

/// <summary>
/// The Prometheus text exposition format (version 0.0.4), written by hand: HELP and TYPE before each family, label
/// values escaped, numbers in invariant culture.
/// </summary>
internal sealed class MetricsText
{
    readonly StringBuilder b = new();

    /// <summary>Starts a family: its help text and type (counter, gauge, histogram).</summary>
    public MetricsText Family(string name, string type, string help)
    {
        b.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
        b.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        return this;
    }

    /// <summary>One sample, with an optional label.</summary>
    public MetricsText Sample(string name, double value, string? label = null, string? labelValue = null)
    {
        b.Append(name);
        if (label is not null) b.Append('{').Append(label).Append("=\"").Append(Escape(labelValue ?? "")).Append("\"}");
        b.Append(' ').Append(Number(value)).Append('\n');
        return this;
    }

    /// <summary>A histogram family from a <see cref="MetricsHistogram"/> snapshot.</summary>
    public MetricsText Histogram(string name, string help, MetricsHistogram h)
    {
        Family(name, "histogram", help);
        var (cumulative, sum) = h.Snapshot();
        for (int i = 0; i < MetricsHistogram.Bounds.Length; i++) Sample(name + "_bucket", cumulative[i], "le", Number(MetricsHistogram.Bounds[i]));
        Sample(name + "_bucket", cumulative[^1], "le", "+Inf");
        Sample(name + "_sum", sum);
        return Sample(name + "_count", cumulative[^1]);
    }

    static string Escape(string v) => v.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    static string Number(double v) => double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : double.IsNaN(v) ? "NaN" : v.ToString("R", CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public override string ToString() => b.ToString();
}
