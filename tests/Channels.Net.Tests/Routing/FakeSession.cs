namespace Channels.Net.Tests.Routing;

/// <summary>A session that records rejections.</summary>
internal sealed class FakeSession : IChannelSession
{
    private readonly List<(int StatusCode, string Reason)> _rejections = [];

    public CancellationToken Aborted => CancellationToken.None;

    public IReadOnlyList<(int StatusCode, string Reason)> Rejections => _rejections;

    public ValueTask RejectAsync(int statusCode, string reason)
    {
        _rejections.Add((statusCode, reason));
        return ValueTask.CompletedTask;
    }
}
