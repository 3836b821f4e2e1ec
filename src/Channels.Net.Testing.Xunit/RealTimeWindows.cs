using System.Diagnostics;

namespace Channels.Net.Testing.Conformance;

/// <summary>
/// The real-time windows one attempt of a timed conformance test relies on: "the second message is received
/// less than its expiry after it was sent". An attempt records a window that was overrun (the machine stalled
/// the test longer than the window allows); a failure of that attempt proves nothing about the layer, so
/// <see cref="ChannelLayerConformanceTests.WithRealTimeWindowsAsync"/> tries the test again.
/// </summary>
/// <remarks>A backend on a fake clock (<see cref="ChannelLayerConformanceTests.AdvanceTimeAsync"/> overridden)
/// spends almost no real time on a window, so its windows are never overrun.</remarks>
public sealed class RealTimeWindows
{
    private readonly List<string> _overruns = [];

    /// <summary>The windows of this attempt that were overrun, each described; empty when none was.</summary>
    public IReadOnlyList<string> Overruns => _overruns;

    /// <summary>A timestamp to measure a window from; take it just before the first operation the window covers.</summary>
    public static long Start() => Stopwatch.GetTimestamp();

    /// <summary>
    /// Records that the window opened at <paramref name="since"/> (from <see cref="Start"/>) was overrun when more
    /// than <paramref name="within"/> of real time has passed since. Call it just before the operation whose
    /// outcome depends on the window being kept, with <paramref name="within"/> a margin short of the true limit
    /// (the operation itself takes a moment).
    /// </summary>
    /// <param name="since">When the window opened.</param>
    /// <param name="within">How long it may last.</param>
    /// <param name="what">What the window ensures, for the failure message.</param>
    public void Require(long since, TimeSpan within, string what)
    {
        var elapsed = Stopwatch.GetElapsedTime(since);
        if (elapsed > within)
        {
            _overruns.Add($"{what}: {elapsed.TotalMilliseconds:F0} ms passed, at most {within.TotalMilliseconds:F0} ms allowed");
        }
    }
}
