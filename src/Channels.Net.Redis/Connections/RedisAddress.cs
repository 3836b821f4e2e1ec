using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Channels.Net.Redis;

/// <summary>Turns a <see cref="RedisHost"/> into StackExchange.Redis <see cref="ConfigurationOptions"/>.</summary>
internal static class RedisAddress
{
    /// <summary>Parses a host; throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public static (ConfigurationOptions Options, int Database) ToConfiguration(RedisHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var options = new ConfigurationOptions();
        var database = 0;
        if (host.Address is { } address)
        {
            database = ParseUrl(address, options);
        }
        else if (host.Host is { } name)
        {
            if (host.Port is < 1 or > 65535)
            {
                throw new ArgumentException($"Redis port {host.Port} is out of range (1-65535).");
            }

            options.EndPoints.Add(name, host.Port);
        }
        else if (host.MasterName is { } master)
        {
            if (host.Sentinels.Count == 0)
            {
                throw new ArgumentException($"A Sentinel host for master '{master}' needs at least one sentinel address.");
            }

            options.ServiceName = master;
            foreach (var sentinel in host.Sentinels)
            {
                options.EndPoints.Add(ParseEndPoint(sentinel, 26379));
            }
        }
        else
        {
            throw new ArgumentException("A Redis host needs an address (redis://...), a host and port, or sentinels with a master name.");
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
