using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Channels.Net.Benchmarks.Harness;
using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;

namespace Channels.Net.Benchmarks.Scenarios.InMemory;

/// <summary>
/// b) group_send fan-out to <see cref="Members"/> channels. Each round times
/// <see cref="SendsPerRound"/> <c>GroupSendAsync</c> calls alone; draining every member afterwards
/// (a receive per delivery, checking each got the message) is untimed. Baseline: the same object
/// written with <c>TryWrite</c> into <see cref="Members"/> bare bounded channels, drained the same way.
/// One operation = one delivery (one message landing in one member's channel).
/// </summary>
public sealed class GroupSendScenario : IAsyncDisposable
{
    /// <summary>Channels in the group.</summary>
    public const int Members = 1_000;

    /// <summary>group_send calls per timed round (each delivers to every member).</summary>
    public const int SendsPerRound = 200;

    /// <summary>Per-channel capacity for the layer and the bare channels: at least <see cref="SendsPerRound"/>,
    /// so no member is ever full (a full member would be skipped, and the drain check would fail).</summary>
    public const int Capacity = 1_000;

    /// <summary>Target deliveries per second for the layer.</summary>
    public const double MinDeliveriesPerSecond = 5_000_000;

    /// <summary>Target bytes per delivery for the layer: anything per-member would be at least one object (24+ B).</summary>
    public const double MaxBytesPerDelivery = 1.0;

    private const string GroupName = "bench.group";

    private readonly IChannelLayer _layer;
    private readonly string[] _memberNames;
    private readonly Channel<ChannelMessage>[] _bare;
    private readonly ChannelMessage _message;

    private GroupSendScenario()
    {
        _layer = new InMemoryChannelLayer(new InMemoryChannelLayerOptions { Capacity = Capacity });
        _memberNames = [.. Enumerable.Range(0, Members).Select(static i => $"bench.member.{i}")];
        _bare = [.. Enumerable.Range(0, Members).Select(static _ => Channel.CreateBounded<ChannelMessage>(Capacity))];
        _message = BenchMessages.Chat100();
    }

    public static async ValueTask<GroupSendScenario> CreateAsync()
    {
        var scenario = new GroupSendScenario();
        foreach (var name in scenario._memberNames)
        {
            await scenario._layer.GroupAddAsync(GroupName, name);
        }

        return scenario;
    }

    public ScenarioOutcome Run(HarnessSettings settings, TextWriter progress)
    {
        const long deliveries = (long)SendsPerRound * Members;
        var layerCase = new BenchCase($"InMemoryChannelLayer GroupSendAsync -> {Members} members", "delivery", deliveries, LayerRound)
        {
            AfterRound = LayerDrain,
        };
        var bareCase = new BenchCase($"TryWrite into {Members} bare bounded channels", "delivery", deliveries, BareRound)
        {
            AfterRound = BareDrain,
            IsBaseline = true,
        };
        var results = Runner.RunInterleaved([layerCase, bareCase], settings, progress);
        var layer = results[0];
        var bare = results[1];

        var outcome = new ScenarioOutcome("b", $"group_send to {Members} members (group_send timed alone, drain untimed; {SendsPerRound} sends per round)", results);
        outcome.Ratios.Add($"deliveries/s: layer {Report.Rate(layer.OpsPerSecond)}, bare {Report.Rate(bare.OpsPerSecond)}; bare / layer throughput: {Report.Ratio(bare.OpsPerSecond / layer.OpsPerSecond)}");
        outcome.Ratios.Add($"one group_send to {Members} members: layer {Report.Ns(layer.MedianNsPerOp * Members / 1000)} us, bare loop {Report.Ns(bare.MedianNsPerOp * Members / 1000)} us");
        outcome.Ratios.Add($"allocated per delivery: layer {Report.Bytes(layer.BytesPerOp)} B, bare {Report.Bytes(bare.BytesPerOp)} B (per group_send: layer {Report.Bytes(layer.BytesPerOp * Members)} B)");
        outcome.Targets.Add(new TargetCheck(
            $"layer >= {Report.Rate(MinDeliveriesPerSecond)} deliveries/s",
            layer.OpsPerSecond >= MinDeliveriesPerSecond,
            $"{Report.Rate(layer.OpsPerSecond)} deliveries/s"));
        outcome.Targets.Add(new TargetCheck(
            $"layer ~0 B per delivery (< {Report.Bytes(MaxBytesPerDelivery)} B: no per-member allocation)",
            layer.BytesPerOp < MaxBytesPerDelivery,
            $"{Report.Bytes(layer.BytesPerOp)} B/delivery"));
        return outcome;
    }

    public ValueTask DisposeAsync() => _layer.DisposeAsync();

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void LayerRound()
    {
        var layer = _layer;
        var message = _message;
        for (var k = 0; k < SendsPerRound; k++)
        {
            Sync.Complete(layer.GroupSendAsync(GroupName, message));
        }
    }

    private void LayerDrain()
    {
        foreach (var name in _memberNames)
        {
            for (var k = 0; k < SendsPerRound; k++)
            {
                var received = Sync.Completed(_layer.ReceiveAsync(name), "layer.ReceiveAsync on a member (drain)");
                if (!ReferenceEquals(received, _message))
                {
                    throw new InvalidOperationException("Benchmark is broken: received a different message.");
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void BareRound()
    {
        var channels = _bare;
        var message = _message;
        for (var k = 0; k < SendsPerRound; k++)
        {
            foreach (var channel in channels)
            {
                if (!channel.Writer.TryWrite(message))
                {
                    throw new InvalidOperationException("Benchmark is broken: a bare channel is full.");
                }
            }
        }
    }

    private void BareDrain()
    {
        foreach (var channel in _bare)
        {
            for (var k = 0; k < SendsPerRound; k++)
            {
                if (!channel.Reader.TryRead(out var received) || !ReferenceEquals(received, _message))
                {
                    throw new InvalidOperationException("Benchmark is broken: a bare channel lost a message.");
                }
            }
        }
    }
}
