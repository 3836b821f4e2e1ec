using System.Threading.Channels;
using Channels.Net.Layers;

namespace Channels.Net.Testing;

/// <summary>An in-process <see cref="IWorkerSession"/>: the messages the test sends arrive in order;
/// <see cref="Aborted"/> is cancelled when the test stops the worker.</summary>
internal sealed class CommunicatorWorkerSession(string channel) : IWorkerSession
{
    private readonly Channel<ChannelMessage> _input = Channel.CreateUnbounded<ChannelMessage>();
    private readonly CancellationTokenSource _stopping = new();

    public CancellationToken Aborted => _stopping.Token;

    /// <summary>True once the worker was told to stop.</summary>
    public bool IsStopping => _stopping.IsCancellationRequested;

    public void Post(ChannelMessage message) => _input.Writer.TryWrite(message);

    /// <summary>The worker stops (as a server shutting down): <see cref="Aborted"/> is cancelled.</summary>
    public void Stop() => _stopping.Cancel();

    public async ValueTask<ChannelMessage> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        return await _input.Reader.ReadAsync(stopping.Token).ConfigureAwait(false);
    }

    /// <summary>As the worker service does: a refused channel is a configuration error, thrown.</summary>
    public ValueTask RejectAsync(int statusCode, string reason) =>
        throw new InvalidOperationException($"The application refused channel '{channel}' ({statusCode}: {reason}); is the channel in its ChannelNameRouter?");
}
