using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Channels.Net.Security;

/// <summary>
/// One allowed-origin pattern other than <c>*</c>, read once: either a host alone (any scheme, any
/// port) or <c>scheme://host[:port]</c> (scheme, host and port must all match, the port defaulting
/// by scheme). The host is lower-case and is compared with <see cref="IsSameDomain"/>.
/// </summary>
internal sealed class OriginPattern
{
    private OriginPattern(string text, string? scheme, int? port, string host)
    {
        Text = text;
        Scheme = scheme;
        Port = port;
        Host = host;
    }

    /// <summary>The pattern as written.</summary>
    public string Text { get; }

    /// <summary>The scheme the origin must have, or null when the pattern names a host alone.</summary>
    public string? Scheme { get; }

    /// <summary>With a <see cref="Scheme"/>: the port the origin must have (explicit, or the scheme's default; null for a scheme without one).</summary>
    public int? Port { get; }

    /// <summary>The host pattern, lower-case: <c>.example.com</c>, <c>*.example.com</c>, or a host to match exactly (an IPv6 literal without brackets).</summary>
    public string Host { get; }

    /// <summary>
    /// Reads <paramref name="pattern"/> as Django Channels' <c>match_allowed_origin</c> does. Fails for
    /// what can never match (or where Django would raise on every connection): an empty pattern, a
    /// port without a scheme (<c>example.com:8000</c>), a scheme without <c>//host</c>, a malformed
    /// IPv6 literal or port, a host that is not a valid international domain name.
    /// </summary>
    public static bool TryCreate(string pattern, [NotNullWhen(true)] out OriginPattern? result, [NotNullWhen(false)] out string? problem)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(pattern))
        {
            problem = "an empty pattern matches no origin";
            return false;
        }

        var lower = pattern.ToLowerInvariant();
        if (!ParsedOrigin.TryParse(lower, out var parsed, out problem))
        {
            return false;
        }

        string? scheme = null;
        int? port = null;
        string host;
        if (parsed.Scheme.Length == 0)
        {
            // Django: urlparse("//" + pattern).hostname or pattern
            if (!ParsedOrigin.TryParse("//" + lower, out var hostOnly, out problem))
            {
                return false;
            }

            if (hostOnly.Port is not null)
            {
                problem = $"a port needs a scheme: write 'http://{hostOnly.Host}:{hostOnly.Port}' (scheme, host and port must match) or '{hostOnly.Host}' (any scheme and port)";
                return false;
            }

            host = hostOnly.Host ?? lower;
        }
        else
        {
            if (parsed.Host is null)
            {
                var rest = lower[(parsed.Scheme.Length + 1)..];
                problem = rest.Length > 0 && rest.All(char.IsAsciiDigit)
                    ? $"a port needs a scheme: write 'http://{lower}' (scheme, host and port must match) or '{parsed.Scheme}' (any scheme and port)"
                    : "a scheme must be followed by '//' and a host, as in 'https://example.com'";
                return false;
            }

            scheme = parsed.Scheme;
            port = parsed.EffectivePort;
            host = parsed.Host;
        }

        if (!TryToAscii(host, out var asciiHost, out problem))
        {
            return false;
        }

        result = new OriginPattern(pattern, scheme, port, asciiHost);
        return true;
    }

    /// <summary>True when <paramref name="origin"/> matches (Django's <c>match_allowed_origin</c>).</summary>
    public bool Matches(in ParsedOrigin origin)
    {
        if (origin.Host is null)
        {
            return false;
        }

        if (Scheme is null)
        {
            return IsSameDomain(origin.Host, Host);
        }

        return string.Equals(Scheme, origin.Scheme, StringComparison.Ordinal)
            && Port == origin.EffectivePort
            && IsSameDomain(origin.Host, Host);
    }

    /// <summary>
    /// Django's <c>django.utils.http.is_same_domain</c>: a pattern starting with <c>.</c> matches the
    /// domain and all its subdomains, anything else matches exactly; the pattern is lower-cased,
    /// <paramref name="host"/> is expected in lower case. One addition, from ASP.NET Core's
    /// <c>AllowedHosts</c>: <c>*.example.com</c> matches the subdomains of example.com but not
    /// example.com itself (in Django it matches only the literal host <c>*.example.com</c>).
    /// </summary>
    public static bool IsSameDomain(string host, string pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            return false;
        }

        pattern = pattern.ToLowerInvariant();
        if (pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            return host.Length >= pattern.Length && host.EndsWith(pattern.AsSpan(1), StringComparison.Ordinal);
        }

        if (pattern[0] == '.')
        {
            return host.EndsWith(pattern, StringComparison.Ordinal) || host.AsSpan().SequenceEqual(pattern.AsSpan(1));
        }

        return string.Equals(host, pattern, StringComparison.Ordinal);
    }

    // Browsers send international domain names as punycode (xn--...); so does ASP.NET Core's host
    // filtering with Unicode AllowedHosts entries. Django compares the Unicode text, which never matches.
    private static bool TryToAscii(string host, [NotNullWhen(true)] out string? ascii, [NotNullWhen(false)] out string? problem)
    {
        problem = null;
        if (Ascii.IsValid(host))
        {
            ascii = host;
            return true;
        }

        var prefix = host.StartsWith("*.", StringComparison.Ordinal) ? "*." : host.StartsWith('.') ? "." : "";
        try
        {
            ascii = prefix + new IdnMapping().GetAscii(host[prefix.Length..]).ToLowerInvariant();
            return true;
        }
        catch (ArgumentException)
        {
            ascii = null;
            problem = $"'{host}' is not a valid international domain name";
            return false;
        }
    }
}
