using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Channels.Net.Redis.Connections;

/// <summary>Turns a <see cref="RedisHost"/> into StackExchange.Redis <see cref="ConfigurationOptions"/>.</summary>
internal static class RedisAddress
{
    /// <summary>
    /// Parses a host; throws <see cref="ArgumentException"/> naming what is wrong. For a Sentinel host
    /// the options name the sentinels as end points, the master as <see cref="ConfigurationOptions.ServiceName"/>,
    /// and carry both passwords (<see cref="ConfigurationOptions.SentinelPassword"/> for the sentinels);
    /// <see cref="SentinelMaster"/> splits them, never StackExchange.Redis's own Sentinel connect.
    /// </summary>
    public static (ConfigurationOptions Options, int Database) ToConfiguration(RedisHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var forms = (host.Address is null ? 0 : 1) + (host.Host is null ? 0 : 1) + (host.MasterName is null ? 0 : 1);
        if (forms == 0)
        {
            throw new ArgumentException("A Redis host needs an address (redis://...), a host and port, or sentinels with a master name.");
        }

        if (forms > 1)
        {
            throw new ArgumentException($"A Redis host takes exactly one of: an address, a host and port, sentinels with a master name ('{host}' has more).");
        }

        if (host.Database < 0)
        {
            throw new ArgumentException($"Redis database {host.Database} is negative.");
        }

        if (host.SentinelPassword is not null && host.MasterName is null)
        {
            throw new ArgumentException("A sentinel password only goes with sentinels and a master name.");
        }

        var options = new ConfigurationOptions();
        var database = host.Database;
        if (host.Address is { } address)
        {
            if (host.Password is not null || host.Database != 0)
            {
                throw new ArgumentException($"'{Redact(address)}': give the password and database in the URL (redis://:password@host:port/db), not beside it.");
            }

            database = ParseUrl(address, options);
        }
        else if (host.Host is { } name)
        {
            if (host.Port is < 1 or > 65535)
            {
                throw new ArgumentException($"Redis port {host.Port} is out of range (1-65535).");
            }

            options.EndPoints.Add(name, host.Port);
            options.Password = host.Password;
        }
        else
        {
            var master = host.MasterName!;
            if (master.Length == 0 || master.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                throw new ArgumentException($"'{master}' is not a Sentinel master name (a non-empty name without spaces).");
            }

            if (host.Sentinels.Count == 0)
            {
                throw new ArgumentException($"A Sentinel host for master '{master}' needs at least one sentinel address.");
            }

            options.ServiceName = master;
            foreach (var sentinel in host.Sentinels)
            {
                if (!options.EndPoints.TryAdd(ParseEndPoint(sentinel ?? "", 26379)))
                {
                    throw new ArgumentException($"The sentinel '{sentinel}' is listed twice for master '{master}'.");
                }
            }

            options.Password = host.Password;
            options.SentinelPassword = host.SentinelPassword;
        }

        return (options, database);
    }

    /// <summary>The URL without its password.</summary>
    public static string Redact(string address)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.UserInfo))
        {
            return address;
        }

        var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
        var user = colon < 0 ? "" : uri.UserInfo[..colon];
        return address.Replace(uri.UserInfo + "@", (colon < 0 ? "" : user + ":") + "***@", StringComparison.Ordinal);
    }

    private static int ParseUrl(string address, ConfigurationOptions options)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"'{Redact(address)}' is not a Redis URL (redis://[:password@]host:port/db, rediss://..., unix:///path?db=0).");
        }

        var database = 0;
        switch (uri.Scheme)
        {
            case "redis":
            case "rediss":
                if (string.IsNullOrEmpty(uri.Host))
                {
                    throw new ArgumentException($"'{Redact(address)}' has no host.");
                }

                options.EndPoints.Add(uri.Host.Trim('[', ']'), uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port);
                options.Ssl = uri.Scheme == "rediss";
                if (options.Ssl)
                {
                    options.SslHost = uri.Host;
                }

                var path = uri.AbsolutePath.Trim('/');
                if (path.Length > 0 && !int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out database))
                {
                    throw new ArgumentException($"'{Redact(address)}': the database '{path}' is not a number.");
                }

                break;
            case "unix":
                if (string.IsNullOrEmpty(uri.AbsolutePath) || uri.AbsolutePath == "/")
                {
                    throw new ArgumentException($"'{Redact(address)}' names no socket path.");
                }

                options.EndPoints.Add(new UnixDomainSocketEndPoint(Uri.UnescapeDataString(uri.AbsolutePath)));
                break;
            default:
                throw new ArgumentException($"'{Redact(address)}' has the scheme '{uri.Scheme}'; expected redis://, rediss:// or unix://.");
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var userInfo = Uri.UnescapeDataString(uri.UserInfo);
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                options.Password = userInfo;
            }
            else
            {
                var user = userInfo[..colon];
                options.User = user.Length == 0 ? null : user;
                options.Password = userInfo[(colon + 1)..];
            }
        }

        foreach (var part in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var pair = part.Split('=', 2);
            var value = pair.Length == 2 ? Uri.UnescapeDataString(pair[1]) : "";
            switch (pair[0])
            {
                case "db":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out database))
                    {
                        throw new ArgumentException($"'{Redact(address)}': db='{value}' is not a number.");
                    }

                    break;
                case "password":
                    options.Password = value;
                    break;
                default:
                    throw new ArgumentException($"'{Redact(address)}': the URL option '{pair[0]}' is not supported (supported: db, password).");
            }
        }

        return database;
    }

    private static EndPoint ParseEndPoint(string text, int defaultPort)
    {
        var colon = text.LastIndexOf(':');
        var hasPort = colon > 0 && text.IndexOf(']', StringComparison.Ordinal) < colon && (text.Count(c => c == ':') == 1 || text.StartsWith('['));
        var host = (hasPort ? text[..colon] : text).Trim('[', ']');
        var port = defaultPort;
        if (host.Length == 0 || (hasPort && (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)))
        {
            throw new ArgumentException($"'{text}' is not a host:port address.");
        }

        return IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
    }
}
