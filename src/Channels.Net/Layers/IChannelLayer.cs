namespace Channels.Net.Layers;

/// <summary>
/// A channel layer: the transport that lets consumers, workers and other processes talk to each
/// other by channel name, as Django Channels' <c>channel_layer</c>.
/// </summary>
/// <remarks>
/// <para>Delivery is at most once; order is kept only between one sender and one channel.
/// Every method validates its names (<see cref="ChannelNames"/>) and throws
/// <see cref="InvalidChannelNameException"/> before doing any work.</para>
/// <para>Disposing the layer closes it: receives that are waiting fail with
/// <see cref="ObjectDisposedException"/>, and so does every later call except reading
/// <see cref="Extensions"/>.</para>
/// <para>Groups and flush are extensions, as in Django: <see cref="Extensions"/> says which ones
/// a backend has, and the methods of an extension it lacks throw <see cref="NotSupportedException"/>.</para>
/// </remarks>
public interface IChannelLayer : IAsyncDisposable
{
    /// <summary>The extensions this backend implements (Django's <c>extensions</c> list).</summary>
    ChannelLayerExtensions Extensions { get; }

    /// <summary>
    /// Sends <paramref name="message"/> to <paramref name="channel"/>.
    /// </summary>
    /// <exception cref="InvalidChannelNameException">The channel name breaks a naming rule.</exception>
    /// <exception cref="ChannelFullException">The channel holds as many messages as its capacity allows.</exception>
    ValueTask SendAsync(string channel, ChannelMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits for the next message on <paramref name="channel"/> and returns it. When several
    /// receivers wait on one channel, they are served first come, first served. A receive that is
    /// cancelled takes no message: the message goes to the next receiver instead.
    /// </summary>
    /// <remarks>
    /// <paramref name="channel"/> is a plain channel name, or a process-local name
    /// (<c>specific.abc!xyz</c>) that this layer handed out through <see cref="NewChannelAsync"/>.
    /// </remarks>
    /// <exception cref="InvalidChannelNameException">The channel name breaks a naming rule.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    ValueTask<ChannelMessage> ReceiveAsync(string channel, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns a new process-local channel name, <c>{prefix}.{layer-specific}!{unique}</c>, that
    /// only this process receives on.
    /// </summary>
    ValueTask<string> NewChannelAsync(string prefix = "specific", CancellationToken cancellationToken = default);

    /// <summary>Adds <paramref name="channel"/> to <paramref name="group"/> (groups extension).
    /// Adding a member again renews its membership.</summary>
    ValueTask GroupAddAsync(string group, string channel, CancellationToken cancellationToken = default);

    /// <summary>Removes <paramref name="channel"/> from <paramref name="group"/> (groups extension).
    /// Removing a channel that is not a member does nothing.</summary>
    ValueTask GroupDiscardAsync(string group, string channel, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends <paramref name="message"/> to every member of <paramref name="group"/> (groups
    /// extension). A member whose channel is full is skipped and logged: this method never throws
    /// <see cref="ChannelFullException"/>.
    /// </summary>
    ValueTask GroupSendAsync(string group, ChannelMessage message, CancellationToken cancellationToken = default);

    /// <summary>Removes every message and every group membership (flush extension). Receives that
    /// are waiting keep waiting and get the next message sent.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);
}
