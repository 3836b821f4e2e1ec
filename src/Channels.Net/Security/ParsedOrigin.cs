using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Channels.Net.Security;

/// <summary>
/// The scheme, host and port of an Origin header value or an origin pattern, read the way Python's
/// <c>urllib.parse.urlparse</c> reads them (Django Channels parses both with it): the scheme and the
/// host lower-cased, an IPv6 literal without its brackets, the port as a number. Where
/// <c>urlparse</c> would raise (a bracket without its pair, a bracketed host that is not IPv6,
/// text after <c>]</c>, a port that is not a number from 0 to 65535) parsing fails instead.
/// </summary>
internal readonly record struct ParsedOrigin(string Scheme, string? Host, int? Port)
{
    private static readonly char[] LeadingJunk = CreateLeadingJunk();

    /// <summary>The default port of a scheme as Django Channels knows them: 80 for http/ws, 443 for https/wss.</summary>
    public static int? DefaultPort(string scheme) => scheme switch
    {
        "http" or "ws" => 80,
        "https" or "wss" => 443,
        _ => null,
    };

    /// <summary><see cref="Port"/>, or the scheme's default port when there is none (Django's <c>get_origin_port</c>).</summary>
    public int? EffectivePort => Port ?? DefaultPort(Scheme);

    /// <summary>
    /// Splits <paramref name="value"/> like <c>urlparse</c>: an optional <c>scheme:</c>, then
    /// <c>//netloc</c> up to the first <c>/</c>, <c>?</c> or <c>#</c>. <see cref="Host"/> is null when
    /// there is no netloc or it names no host (<c>null</c>, <c>something-invalid</c>, the empty string).
    /// </summary>
    /// <returns>False when <c>urlparse</c> (or reading its <c>.port</c>) would raise; <paramref name="problem"/> says why.</returns>
    public static bool TryParse(string value, out ParsedOrigin origin, [NotNullWhen(false)] out string? problem)
    {
        origin = default;
        problem = null;

        // urlsplit strips leading C0 controls and spaces and drops tabs and newlines anywhere.
        var url = value.TrimStart(LeadingJunk);
        if (url.AsSpan().IndexOfAny('\t', '\r', '\n') >= 0)
        {
            url = url.Replace("\t", "", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal);
        }

        var scheme = "";
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && char.IsAsciiLetter(url[0]) && IsSchemeText(url.AsSpan(0, colon)))
        {
            scheme = url[..colon].ToLowerInvariant();
            url = url[(colon + 1)..];
        }

        if (!url.StartsWith("//", StringComparison.Ordinal))
        {
            origin = new ParsedOrigin(scheme, null, null);
            return true;
        }

        var end = url.AsSpan(2).IndexOfAny('/', '?', '#');
        var netloc = end < 0 ? url[2..] : url.Substring(2, end);
        var open = netloc.Contains('[', StringComparison.Ordinal);
        if (open != netloc.Contains(']', StringComparison.Ordinal))
        {
            problem = "an IPv6 literal without its closing or opening bracket";
            return false;
        }

        var hostInfo = netloc[(netloc.LastIndexOf('@') + 1)..];
        string host;
        string? portText = null;
        if (hostInfo.Contains('[', StringComparison.Ordinal))
        {
            var close = hostInfo.IndexOf(']', StringComparison.Ordinal);
            if (hostInfo[0] != '[' || close < 0)
            {
                problem = "an IPv6 literal in the wrong place";
                return false;
            }

            host = hostInfo[1..close];
            if (!IPAddress.TryParse(host, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                problem = "a bracketed host that is not an IPv6 address";
                return false;
            }

            var rest = hostInfo[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    problem = "text after the IPv6 literal";
                    return false;
                }

                portText = rest[1..];
            }
        }
        else
        {
            var portColon = hostInfo.IndexOf(':', StringComparison.Ordinal);
            host = portColon < 0 ? hostInfo : hostInfo[..portColon];
            portText = portColon < 0 ? null : hostInfo[(portColon + 1)..];
        }

        int? port = null;
        if (!string.IsNullOrEmpty(portText))
        {
            if (!TryParsePort(portText, out var number))
            {
                problem = "a port that is not a number from 0 to 65535";
                return false;
            }

            port = number;
        }

        origin = new ParsedOrigin(scheme, host.Length == 0 ? null : LowerHost(host), port);
        return true;
    }

    private static char[] CreateLeadingJunk()
    {
        var chars = new char[0x21];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)i;
        }

        return chars;
    }

    private static bool IsSchemeText(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParsePort(string text, out int port)
    {
        port = 0;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        var digits = text.AsSpan().TrimStart('0');
        if (digits.Length > 5)
        {
            return false;
        }

        port = digits.Length == 0 ? 0 : int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        return port <= 65535;
    }

    // Python lower-cases a host but keeps an IPv6 zone id ("fe80::1%Eth0") as it is.
    private static string LowerHost(string host)
    {
        var percent = host.IndexOf('%', StringComparison.Ordinal);
        return percent < 0 ? host.ToLowerInvariant() : string.Concat(host[..percent].ToLowerInvariant(), host.AsSpan(percent));
    }
}
