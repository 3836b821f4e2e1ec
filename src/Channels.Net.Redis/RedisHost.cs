using Channels.Net.Redis.Connections;
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

    /// <summary>
    /// Sentinel addresses (<c>host:port</c>, port 26379 by default), with <see cref="MasterName"/>
    /// (channels_redis's <c>sentinels</c>). The layer asks them where the master is and follows it
    /// after a failover.
    /// </summary>
    public IReadOnlyList<string> Sentinels { get; init; } = [];

    /// <summary>The name of the master the sentinels watch (channels_redis's <c>master_name</c>).</summary>
    public string? MasterName { get; init; }

    /// <summary>
    /// The password of the Redis servers, with <see cref="Host"/> or <see cref="MasterName"/>
    /// (channels_redis's <c>password</c> keyword; a URL carries its own).
    /// </summary>
    public string? Password { get; init; }

    /// <summary>
    /// The database number, with <see cref="Host"/> or <see cref="MasterName"/> (channels_redis's
    /// <c>db</c> keyword; a URL carries its own); 0 by default.
    /// </summary>
    public int Database { get; init; }

    /// <summary>
    /// The password of the sentinels themselves, when they require one (channels_redis's
    /// <c>sentinel_kwargs={"password": ...}</c>); it is not the Redis servers' <see cref="Password"/>.
    /// </summary>
    public string? SentinelPassword { get; init; }

    /// <summary>A host from a URL.</summary>
    public static RedisHost FromAddress(string address) => new() { Address = address ?? throw new ArgumentNullException(nameof(address)) };

    /// <summary>A host from a host name and port.</summary>
    public static RedisHost FromHostPort(string host, int port = 6379) => new() { Host = host ?? throw new ArgumentNullException(nameof(host)), Port = port };

    /// <summary>channels_redis's default: <c>redis://localhost:6379</c>.</summary>
    public static RedisHost Default { get; } = FromAddress("redis://localhost:6379");

    /// <summary>A Sentinel-watched master: the layer asks <paramref name="sentinels"/> where <paramref name="masterName"/> is.</summary>
    public static RedisHost FromSentinels(string masterName, params IReadOnlyList<string> sentinels) => new()
    {
        MasterName = masterName ?? throw new ArgumentNullException(nameof(masterName)),
        Sentinels = sentinels ?? throw new ArgumentNullException(nameof(sentinels)),
    };

    /// <summary>The host as written (without any password), for logs and errors.</summary>
    public override string ToString() =>
        Address is not null ? RedisAddress.Redact(Address)
        : Host is not null ? $"{Host}:{Port}"
        : $"sentinel master '{MasterName}' via {string.Join(", ", Sentinels)}";
}
