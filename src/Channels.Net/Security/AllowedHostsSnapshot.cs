namespace Channels.Net.Security;

/// <summary>
/// The allowed origins <see cref="AllowedHostsOriginValidator"/> read from one value of
/// <c>AllowedHosts</c> in one kind of environment; read again when either changes.
/// </summary>
internal sealed record AllowedHostsSnapshot(string? ConfiguredValue, bool IsDevelopment, AllowedOrigins Origins);
