using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>
/// Kestrel's HTTP/1.1 upgrade, with the upgraded stream wrapped in a <see cref="CoalescingStream"/> (kept in
/// <see cref="Stream"/> for the connection's outbox). Set before ASP.NET Core's WebSocket middleware runs, which
/// builds the WebSocket on the stream this returns; HTTP/2 WebSockets (extended CONNECT) do not come through here
/// and write each frame at once, as before.
/// </summary>
internal sealed class CoalescingUpgradeFeature(IHttpUpgradeFeature inner) : IHttpUpgradeFeature
{
    /// <summary>The wrapped stream, once upgraded.</summary>
    public CoalescingStream? Stream { get; private set; }

    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync()
    {
        var stream = new CoalescingStream(await inner.UpgradeAsync().ConfigureAwait(false));
        Stream = stream;
        return stream;
    }

    /// <summary>Wraps the request's upgrade feature (a WebSocket request on HTTP/1.1 only), then calls the rest of the pipeline.</summary>
    public static Task WrapAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade && upgrade is not CoalescingUpgradeFeature)
        {
            context.Features.Set<IHttpUpgradeFeature>(new CoalescingUpgradeFeature(upgrade));
        }

        return next(context);
    }
}
