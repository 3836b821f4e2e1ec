using System.Diagnostics.Metrics;

namespace Channels.Net.Diagnostics;

/// <summary>
/// The <see cref="Meter"/> of Channels.Net (<see cref="MeterName"/>): listen to it with <c>dotnet-counters monitor
/// --counters Channels.Net</c>, or add it to OpenTelemetry's metrics (<c>AddMeter("Channels.Net")</c>).
/// </summary>
public static class ChannelsMetrics
{
    /// <summary>The name of the meter: <c>Channels.Net</c>.</summary>
    public const string MeterName = "Channels.Net";

    private static readonly Meter s_meter = new(MeterName);

    /// <summary>WebSocket connections closed because their client did not read for <c>ChannelsOptions.SlowClientTimeout</c>
    /// while their outgoing budget was spent.</summary>
    internal static readonly Counter<long> SlowClientsClosed = s_meter.CreateCounter<long>(
        "channels.websocket.slow_client.closed", unit: "{connection}", description: "WebSocket connections closed because the client stopped reading while its outgoing budget was spent.");

    /// <summary>Messages dropped from those connections' outgoing queues when they were closed.</summary>
    internal static readonly Counter<long> SlowClientMessagesDropped = s_meter.CreateCounter<long>(
        "channels.websocket.slow_client.dropped", unit: "{message}", description: "Messages that were waiting for a slow client when its connection was closed.");
}
