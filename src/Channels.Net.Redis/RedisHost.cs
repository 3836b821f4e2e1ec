namespace Channels.Net.Redis;

/// <summary>
/// One entry of channels_redis's <c>hosts</c>: a URL (<c>redis://[:password@]host:port/db</c>,
/// <c>rediss://…</c> for TLS, <c>unix:///path/to/socket?db=0</c>), a host and port pair, or a
/// Sentinel-watched master (<see cref="Sentinels"/> plus <see cref="MasterName"/>).
/// </summary>
public sealed record RedisHost
{
    /// <summary>A Redis URL.</summary>
    public string? Address { get; init; }

    /// <summary>A host name or address (Python's <c>(host, port)</c> tuple).</summary>
    public string? Host { get; init; }

    /// <summary>The port with <see cref="Host"/>; 6379 by default.</summary>
    public int Port { get; init; } = 6379;

    /// <summary>Sentinel addresses (<c>host:port</c>), with <see cref="MasterName"/>.</summary>
    public IReadOnlyList<string> Sentinels { get; init; } = [];

    /// <summary>The name of the master the sentinels watch.</summary>
    public string? MasterName { get; init; }

    /// <summary>A host from a URL.</summary>
    public static RedisHost FromAddress(string address) => new() { Address = address ?? throw new ArgumentNullException(nameof(address)) };

    /// <summary>A host from a host name and port.</summary>
    public static RedisHost FromHostPort(string host, int port = 6379) => new() { Host = host ?? throw new ArgumentNullException(nameof(host)), Port = port };

    /// <summary>channels_redis's default: <c>redis://localhost:6379</c>.</summary>
    public static RedisHost Default { get; } = FromAddress("redis://localhost:6379");

    /// <summary>The host as written (without any password), for logs and errors.</summary>
    public override string ToString() =>
        Address is not null ? RedisAddress.Redact(Address)
        : Host is not null ? $"{Host}:{Port}"
        : $"sentinel master '{MasterName}' via {string.Join(", ", Sentinels)}";
}
