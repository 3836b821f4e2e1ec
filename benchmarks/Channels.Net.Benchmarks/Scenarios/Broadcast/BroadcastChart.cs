using System.Globalization;
using System.Security;
using System.Text;
using Channels.Net.Benchmarks.Harness;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// c)'s results as an SVG horizontal bar chart (plain string building): one bar per case, its length the median
/// round's deliveries/s on one linear axis, annotated with the rate and the share lost; a bar that lost messages is
/// drawn red, one that lost none blue; a case that did not run is a grey line saying why.
/// </summary>
internal static class BroadcastChart
{
    private const int Width = 1240, LabelWidth = 470, BarMax = 400, Row = 26, Top = 58, Bottom = 40;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Write(string path, IReadOnlyList<CaseResult> results, string subtitle)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, Render(results, subtitle));
    }

    public static string Render(IReadOnlyList<CaseResult> results, string subtitle)
    {
        var max = results.Where(static r => r.NotRun is null).Select(static r => r.DeliveriesPerSecond).DefaultIfEmpty(1).Max();
        var height = Top + (results.Count * Row) + Bottom;
        var svg = new StringBuilder();
        svg.Append(Inv, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" viewBox="0 0 {Width} {height}" font-family="sans-serif" font-size="12">""").Append('\n');
        svg.Append(Inv, $"""<rect width="{Width}" height="{height}" fill="white"/>""").Append('\n');
        svg.Append("""<text x="10" y="22" font-size="15" font-weight="bold">Room broadcast burst: deliveries/s (median round), share lost</text>""").Append('\n');
        svg.Append(Inv, $"""<text x="10" y="42" fill="#555">{Escape(subtitle)}</text>""").Append('\n');
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var y = Top + (i * Row);
            var label = $"{r.Case.Id}: {r.Case.Label} x{r.Case.Servers} ({r.Case.Load.Clients} cl., {r.Case.Load.Senders}x{r.Case.Load.PerSender})";
            svg.Append(Inv, $"""<text x="{LabelWidth - 8}" y="{y + 16}" text-anchor="end">{Escape(label)}</text>""").Append('\n');
            if (r.NotRun is not null)
            {
                var why = r.NotRun.Length > 90 ? r.NotRun[..87] + "..." : r.NotRun;
                svg.Append(Inv, $"""<text x="{LabelWidth}" y="{y + 16}" fill="#888" font-style="italic">{Escape(why)}</text>""").Append('\n');
                continue;
            }

            var length = Math.Max(1, BarMax * r.DeliveriesPerSecond / max);
            var fill = r.Lost > 0 ? "#d9534f" : "#4a7ebb";
            var note = $"{Report.Rate(r.DeliveriesPerSecond)}/s, lost {r.LostPercent.ToString(r.Lost > 0 && r.LostPercent < 0.01 ? "F4" : "F2", Inv)} % ({r.Delivered.ToString("N0", Inv)} of {r.Expected.ToString("N0", Inv)})";
            svg.Append(Inv, $"""<rect x="{LabelWidth}" y="{y + 4}" width="{length:F1}" height="{Row - 8}" fill="{fill}"/>""").Append('\n');
            svg.Append(Inv, $"""<text x="{LabelWidth + length + 6:F1}" y="{y + 16}">{Escape(note)}</text>""").Append('\n');
        }

        var axisY = Top + (results.Count * Row) + 6;
        svg.Append(Inv, $"""<line x1="{LabelWidth}" y1="{Top}" x2="{LabelWidth}" y2="{axisY}" stroke="#333"/>""").Append('\n');
        svg.Append(Inv, $"""<text x="{LabelWidth}" y="{axisY + 18}" fill="#555">0</text>""").Append('\n');
        svg.Append(Inv, $"""<text x="{LabelWidth + BarMax}" y="{axisY + 18}" fill="#555" text-anchor="end">{Escape(Report.Rate(max))} deliveries/s; red: messages lost, blue: none lost</text>""").Append('\n');
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";
}
