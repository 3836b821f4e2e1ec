using System.Buffers.Text;
using System.Globalization;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// The chat text every client sends: 100 ASCII characters carrying the round, the sender, its sequence number
/// and the Stopwatch timestamp taken just before the send (one clock for the whole machine), padded with 'x':
/// <c>R0001 S003 N00042 T0000001234567890123 xxxx…</c>. Receivers parse it to count, check order and measure latency.
/// </summary>
internal static class BroadcastMessage
{
    public const int Length = 100;

    private const int RoundAt = 1, RoundDigits = 4;
    private const int SenderAt = 7, SenderDigits = 3;
    private const int SeqAt = 12, SeqDigits = 5;
    private const int StampAt = 19, StampDigits = 19;

    public static string Create(int round, int sender, int seq, long timestamp) =>
        string.Create(Length, (round, sender, seq, timestamp), static (span, m) =>
        {
            span.Fill('x');
            span[0] = 'R';
            Write(span.Slice(RoundAt, RoundDigits), m.round);
            span[RoundAt + RoundDigits] = ' ';
            span[SenderAt - 1] = 'S';
            Write(span.Slice(SenderAt, SenderDigits), m.sender);
            span[SenderAt + SenderDigits] = ' ';
            span[SeqAt - 1] = 'N';
            Write(span.Slice(SeqAt, SeqDigits), m.seq);
            span[SeqAt + SeqDigits] = ' ';
            span[StampAt - 1] = 'T';
            Write(span.Slice(StampAt, StampDigits), m.timestamp);
            span[StampAt + StampDigits] = ' ';
        });

    public static bool TryParse(ReadOnlySpan<char> text, out Fields fields)
    {
        fields = default;
        return text.Length == Length
            && int.TryParse(text.Slice(RoundAt, RoundDigits), NumberStyles.None, CultureInfo.InvariantCulture, out fields.Round)
            && int.TryParse(text.Slice(SenderAt, SenderDigits), NumberStyles.None, CultureInfo.InvariantCulture, out fields.Sender)
            && int.TryParse(text.Slice(SeqAt, SeqDigits), NumberStyles.None, CultureInfo.InvariantCulture, out fields.Seq)
            && long.TryParse(text.Slice(StampAt, StampDigits), NumberStyles.None, CultureInfo.InvariantCulture, out fields.Timestamp);
    }

    public static bool TryParse(ReadOnlySpan<byte> utf8, out Fields fields)
    {
        fields = default;
        return utf8.Length == Length
            && Utf8Parser.TryParse(utf8.Slice(RoundAt, RoundDigits), out fields.Round, out var a) && a == RoundDigits
            && Utf8Parser.TryParse(utf8.Slice(SenderAt, SenderDigits), out fields.Sender, out var b) && b == SenderDigits
            && Utf8Parser.TryParse(utf8.Slice(SeqAt, SeqDigits), out fields.Seq, out var c) && c == SeqDigits
            && Utf8Parser.TryParse(utf8.Slice(StampAt, StampDigits), out fields.Timestamp, out var d) && d == StampDigits;
    }

    private static void Write(Span<char> destination, long value)
    {
        if (value < 0 || !value.TryFormat(destination, out var written, Format(destination.Length), CultureInfo.InvariantCulture)
            || written != destination.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"Does not fit in {destination.Length} digits.");
        }
    }

    private static string Format(int digits) => digits switch
    {
        RoundDigits => "D4",
        SenderDigits => "D3",
        SeqDigits => "D5",
        _ => "D19",
    };

    /// <summary>What a message carries.</summary>
    internal struct Fields
    {
        public int Round;
        public int Sender;
        public int Seq;
        public long Timestamp;
    }
}
