using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Security;

/// <summary>What both origin validators do with a connection once they know the allowed origins.</summary>
internal static class OriginGuard
{
    /// <summary>The reason handed to <see cref="IChannelSession.RejectAsync"/> for a refused origin.</summary>
    public const string RejectReason = "Origin not allowed";

    private const int MaxLoggedOriginLength = 256;

    /// <summary>True when <paramref name="scope"/> is one the validators guard: a WebSocket, as in Django.</summary>
    public static bool Guards(ChannelScope scope) => string.Equals(scope.Type, ChannelScopeType.WebSocket, StringComparison.Ordinal);

    /// <summary>
    /// Runs <paramref name="application"/> when the scope's Origin header is allowed; otherwise
    /// refuses the handshake with 403 and logs why. A request with more than one Origin header is
    /// refused unless <c>*</c> is allowed.
    /// </summary>
    public static ValueTask RunAsync(AllowedOrigins allowed, IChannelApplication application, ChannelScope scope, IChannelSession session)
    {
        if (allowed.AllowsAll)
        {
            return application.RunAsync(scope, session);
        }

        string? origin = null;
        var count = 0;
        foreach (var header in scope.Headers)
        {
            if (string.Equals(header.Key, "origin", StringComparison.OrdinalIgnoreCase))
            {
                count++;
                origin ??= header.Value;
            }
        }

        if (count == 1 && allowed.IsAllowed(origin))
        {
            return application.RunAsync(scope, session);
        }

        var logger = scope.ApplicationServices.GetService<ILogger<OriginValidator>>();
        if (logger is not null && logger.IsEnabled(LogLevel.Information))
        {
            if (count == 0)
            {
                OriginValidatorLog.OriginMissing(logger, scope.Path);
            }
            else if (count == 1)
            {
                OriginValidatorLog.OriginRefused(logger, scope.Path, ForLog(origin!));
            }
            else
            {
                var origins = scope.Headers
                    .Where(h => string.Equals(h.Key, "origin", StringComparison.OrdinalIgnoreCase))
                    .Select(h => h.Value);
                OriginValidatorLog.OriginRepeated(logger, scope.Path, count, ForLog(string.Join(", ", origins)));
            }
        }

        return session.RejectAsync(403, RejectReason);
    }

    private static string ForLog(string origin) =>
        origin.Length <= MaxLoggedOriginLength ? origin : string.Concat(origin.AsSpan(0, MaxLoggedOriginLength), "…");
}
