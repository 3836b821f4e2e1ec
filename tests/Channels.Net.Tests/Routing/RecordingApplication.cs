using System.Collections.Concurrent;

namespace Channels.Net.Tests.Routing;

/// <summary>An application that records every scope it is run with.</summary>
internal sealed class RecordingApplication(string name = "app") : IChannelApplication
{
    private readonly ConcurrentQueue<ChannelScope> _scopes = new();

    public string Name { get; } = name;

    public IReadOnlyCollection<ChannelScope> Scopes => _scopes;

    /// <summary>The one scope this application ran with (fails the test otherwise).</summary>
    public ChannelScope Scope => Assert.Single(_scopes);

    public ValueTask RunAsync(ChannelScope scope, IChannelSession session)
    {
        _scopes.Enqueue(scope);
        return ValueTask.CompletedTask;
    }

    public override string ToString() => Name;
}
