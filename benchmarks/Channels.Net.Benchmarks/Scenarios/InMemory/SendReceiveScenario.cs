using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Channels.Net.Benchmarks.Harness;
using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;

namespace Channels.Net.Benchmarks.Scenarios.InMemory;

/// <summary>
/// a) One 100-byte message sent and then received on one channel, in a loop on one thread with no
/// receiver waiting: <c>layer.SendAsync</c> + <c>layer.ReceiveAsync</c> versus a bare
/// <c>Channel.CreateBounded&lt;T&gt;(100)</c> <c>TryWrite</c> + <c>ReadAsync</c> of the same object.
/// One operation = one message sent and received.
/// </summary>
public sealed class SendReceiveScenario : IAsyncDisposable
{
    /// <summary>Send+receive pairs per timed round.</summary>
    public const int MessagesPerRound = 400_000;

    /// <summary>Target: the layer is at most this many times slower than the bare channel.</summary>
    public const double MaxRatio = 3.0;

    private const string ChannelName = "bench.send-receive";

    private readonly IChannelLayer _layer;
    private readonly Channel<ChannelMessage> _bare;
    private readonly ChannelMessage _message;

    private SendReceiveScenario()
    {
        _layer = new InMemoryChannelLayer(new InMemoryChannelLayerOptions()); // Django defaults: capacity 100
        _bare = Channel.CreateBounded<ChannelMessage>(100);
        _message = BenchMessages.Chat100();
    }

    public static ValueTask<SendReceiveScenario> CreateAsync() => ValueTask.FromResult(new SendReceiveScenario());

    public ScenarioOutcome Run(HarnessSettings settings, TextWriter progress)
    {
        var layerCase = new BenchCase("InMemoryChannelLayer SendAsync+ReceiveAsync", "msg", MessagesPerRound, LayerRound);
        var bareCase = new BenchCase("Channel.CreateBounded(100) TryWrite+ReadAsync", "msg", MessagesPerRound, BareRound) { IsBaseline = true };
        var results = Runner.RunInterleaved([layerCase, bareCase], settings, progress);
        var layer = results[0];
        var bare = results[1];

        var outcome = new ScenarioOutcome("a", "send+receive of a 100-byte message on one channel (one thread, no waiting receiver)", results);
        var ratio = layer.MedianNsPerOp / bare.MedianNsPerOp;
        outcome.Ratios.Add($"layer / bare time per message: {Report.Ratio(ratio)} ({Report.Ns(layer.MedianNsPerOp)} ns vs {Report.Ns(bare.MedianNsPerOp)} ns)");
        outcome.Ratios.Add($"allocated per message: layer {Report.Bytes(layer.BytesPerOp)} B, bare {Report.Bytes(bare.BytesPerOp)} B");
        outcome.Targets.Add(new TargetCheck($"layer within {MaxRatio:F0}x of the bare channel", ratio <= MaxRatio, Report.Ratio(ratio)));
        return outcome;
    }

    public ValueTask DisposeAsync() => _layer.DisposeAsync();

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void LayerRound()
    {
        var layer = _layer;
        var message = _message;
        for (var i = 0; i < MessagesPerRound; i++)
        {
            Sync.Complete(layer.SendAsync(ChannelName, message));
            var received = Sync.Completed(layer.ReceiveAsync(ChannelName), "layer.ReceiveAsync");
            if (!ReferenceEquals(received, message))
            {
                throw new InvalidOperationException("Benchmark is broken: received a different message.");
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void BareRound()
    {
        var writer = _bare.Writer;
        var reader = _bare.Reader;
        var message = _message;
        for (var i = 0; i < MessagesPerRound; i++)
        {
            if (!writer.TryWrite(message))
            {
                throw new InvalidOperationException("Benchmark is broken: the bare channel is full.");
            }

            var received = Sync.Completed(reader.ReadAsync(), "bare ReadAsync");
            if (!ReferenceEquals(received, message))
            {
                throw new InvalidOperationException("Benchmark is broken: received a different message.");
            }
        }
    }
}
