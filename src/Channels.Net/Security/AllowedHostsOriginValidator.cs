using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Security;

/// <summary>
/// An <see cref="OriginValidator"/> whose allowed origins are the application's <c>AllowedHosts</c>
/// setting, the list ASP.NET Core's host filtering checks the <c>Host</c> header against: Django
/// Channels' <c>AllowedHostsOriginValidator</c>, which takes <c>settings.ALLOWED_HOSTS</c>.
/// </summary>
/// <remarks>
/// <para>Like the Django factory it takes only the application: <c>AllowedHosts</c> is read from the
/// <see cref="IConfiguration"/> of <see cref="ChannelScope.RequestServices"/> when a WebSocket
/// arrives (semicolon-separated, as host filtering reads it: <c>"example.com;*.example.com"</c>), so
/// configuration reloads apply to the next handshake. Each entry is an allowed-origin pattern of
/// <see cref="OriginValidator"/>: a host allows any scheme and port, <c>*.example.com</c> allows the
/// subdomains of example.com (as host filtering does), <c>*</c> allows everything; host filtering's
/// other wildcards, <c>[::]</c> and <c>0.0.0.0</c>, count as <c>*</c>. An entry that can never match
/// (<c>example.com:8000</c>: host filtering ignores ports too) is logged as a warning and left out.</para>
/// <para>When <c>AllowedHosts</c> is missing or empty and the <see cref="IHostEnvironment"/> is
/// Development, <see cref="DevelopmentHosts"/> (<c>localhost</c>, <c>127.0.0.1</c>, <c>[::1]</c>) are
/// allowed instead, as Django does with <c>DEBUG</c> on; in any other environment an empty list
/// refuses every WebSocket (a warning says so). Note that the ASP.NET Core project templates set
/// <c>"AllowedHosts": "*"</c>, which lets every origin through: list your hosts to be protected.</para>
/// </remarks>
/// <example>
/// <code>
/// // appsettings.json: { "AllowedHosts": "chat.example.com;*.example.org" }
/// app.MapChannels(new AllowedHostsOriginValidator(
///     new UrlRouter(RePath(@"^ws/chat/(?P&lt;room&gt;\w+)/$", Consumer&lt;ChatConsumer&gt;()))));
/// </code>
/// </example>
public sealed class AllowedHostsOriginValidator : INestedChannelApplication
{
    /// <summary>The configuration key read: <c>AllowedHosts</c>.</summary>
    public const string ConfigurationKey = "AllowedHosts";

    private readonly IChannelApplication[] _applications;
    private AllowedHostsSnapshot? _snapshot;

    /// <summary>Wraps <paramref name="application"/> so it only sees WebSockets from the hosts in <c>AllowedHosts</c>.</summary>
    public AllowedHostsOriginValidator(IChannelApplication application)
    {
        ArgumentNullException.ThrowIfNull(application);
        Application = application;
        _applications = [application];
    }

    /// <summary>What an empty <c>AllowedHosts</c> allows in Development: <c>localhost</c>, <c>127.0.0.1</c> and <c>[::1]</c>.</summary>
    public static IReadOnlyList<string> DevelopmentHosts { get; } = Array.AsReadOnly(["localhost", "127.0.0.1", "[::1]"]);

    /// <summary>The application that serves allowed connections.</summary>
    public IChannelApplication Application { get; }

    /// <inheritdoc />
    public IEnumerable<IChannelApplication> Applications => _applications;

    /// <summary>
    /// The allowed-origin patterns the validator uses with <paramref name="configuration"/> and
    /// <paramref name="environment"/>: the entries of <c>AllowedHosts</c>, or
    /// <see cref="DevelopmentHosts"/> when there are none and the environment is Development.
    /// </summary>
    public static IReadOnlyList<string> GetAllowedHosts(IConfiguration? configuration, IHostEnvironment? environment) =>
        Resolve(configuration?[ConfigurationKey], environment?.IsDevelopment() == true);

    /// <summary>
    /// Runs <see cref="Application"/> with the same scope and session when the scope is not a
    /// WebSocket or its origin is allowed by <c>AllowedHosts</c>; otherwise refuses the handshake with 403.
    /// </summary>
    public ValueTask RunAsync(ChannelScope scope, IChannelSession session)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(session);
        return OriginGuard.Guards(scope)
            ? OriginGuard.RunAsync(GetAllowedOrigins(scope.ApplicationServices), Application, scope, session)
            : Application.RunAsync(scope, session);
    }

    private AllowedOrigins GetAllowedOrigins(IServiceProvider services)
    {
        var value = services.GetService<IConfiguration>()?[ConfigurationKey];
        var isDevelopment = services.GetService<IHostEnvironment>()?.IsDevelopment() == true;
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is null || snapshot.IsDevelopment != isDevelopment || !string.Equals(snapshot.ConfiguredValue, value, StringComparison.Ordinal))
        {
            snapshot = new AllowedHostsSnapshot(value, isDevelopment, Read(value, isDevelopment, services.GetService<ILogger<OriginValidator>>()));
            Volatile.Write(ref _snapshot, snapshot);
        }

        return snapshot.Origins;
    }

    private static IReadOnlyList<string> Resolve(string? value, bool isDevelopment)
    {
        var hosts = (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return hosts.Length == 0 && isDevelopment ? DevelopmentHosts : hosts.AsReadOnly();
    }

    private static AllowedOrigins Read(string? value, bool isDevelopment, ILogger? logger)
    {
        var hosts = Resolve(value, isDevelopment);
        var origins = AllowedOrigins.Create(
            hosts.Select(host => IsTopLevelWildcard(host) ? "*" : host),
            ConfigurationKey,
            (entry, problem) =>
            {
                if (logger is not null)
                {
                    OriginValidatorLog.AllowedHostsEntryIgnored(logger, entry, problem);
                }
            });

        if (logger is not null)
        {
            if (hosts.Count == 0)
            {
                OriginValidatorLog.AllowedHostsEmpty(logger);
            }
            else if (origins.AllowsAll && !isDevelopment)
            {
                OriginValidatorLog.AllowedHostsAllowAll(logger, hosts.First(IsTopLevelWildcard));
            }

            OriginValidatorLog.AllowedHostsResolved(logger, string.Join(";", hosts));
        }

        return origins;
    }

    // ASP.NET Core host filtering's wildcards: "*" (Http.sys), "[::]" and "0.0.0.0" (Kestrel's any-address bindings).
    private static bool IsTopLevelWildcard(string host) => host is "*" or "[::]" or "0.0.0.0";
}
