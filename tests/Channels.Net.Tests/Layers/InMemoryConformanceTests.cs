using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;
using Channels.Net.Testing.Conformance;
using Microsoft.Extensions.Time.Testing;

namespace Channels.Net.Tests.Layers;

/// <summary>The conformance suite run against <see cref="InMemoryChannelLayer"/> on a fake clock.</summary>
public sealed class InMemoryConformanceTests : ChannelLayerConformanceTests
{
    // One clock per test (xunit makes a new instance per test); the layer's sweeper timer is made
    // from it too, so advancing it also runs the sweeps that became due.
    private readonly FakeTimeProvider _time = new();

    protected override ValueTask<IChannelLayer> CreateLayerAsync(ConformanceLayerOptions options)
    {
        var inMemory = new InMemoryChannelLayerOptions
        {
            Expiry = options.Expiry,
            GroupExpiry = options.GroupExpiry,
            Capacity = options.Capacity,
            TimeProvider = _time,
        };
        foreach (var rule in options.ChannelCapacity)
        {
            inMemory.ChannelCapacity.Add(rule);
        }

        return ValueTask.FromResult<IChannelLayer>(new InMemoryChannelLayer(inMemory));
    }

    protected override Task AdvanceTimeAsync(TimeSpan by)
    {
        _time.Advance(by);
        return Task.CompletedTask;
    }
}
