using System.Text;

namespace Channels.Net.Security;

/// <summary>
/// A list of allowed-origin patterns, read once, that decides on one Origin header value as Django
/// Channels' <c>OriginValidator.valid_origin</c> does.
/// </summary>
internal sealed class AllowedOrigins
{
    private readonly OriginPattern[] _patterns;

    private AllowedOrigins(IReadOnlyList<string> patterns, bool allowsAll, OriginPattern[] compiled)
    {
        Patterns = patterns;
        AllowsAll = allowsAll;
        _patterns = compiled;
    }

    /// <summary>The patterns as given.</summary>
    public IReadOnlyList<string> Patterns { get; }

    /// <summary>True when the list holds <c>*</c>: every origin passes, a missing one too.</summary>
    public bool AllowsAll { get; }

    /// <summary>
    /// Reads <paramref name="patterns"/>. A pattern that can never match is reported to
    /// <paramref name="invalid"/> (pattern, problem) and left out, or, when <paramref name="invalid"/>
    /// is null, refused with an <see cref="ArgumentException"/> for <paramref name="paramName"/>.
    /// </summary>
    public static AllowedOrigins Create(IEnumerable<string> patterns, string paramName, Action<string, string>? invalid = null)
    {
        var given = new List<string>();
        var compiled = new List<OriginPattern>();
        var allowsAll = false;
        foreach (var pattern in patterns)
        {
            if (pattern is null)
            {
                throw new ArgumentException("The list of allowed origins contains null.", paramName);
            }

            given.Add(pattern);
            if (pattern == "*")
            {
                allowsAll = true;
            }
            else if (OriginPattern.TryCreate(pattern, out var result, out var problem))
            {
                compiled.Add(result);
            }
            else if (invalid is null)
            {
                throw new ArgumentException($"The allowed origin '{pattern}' can never match: {problem}.", paramName);
            }
            else
            {
                invalid(pattern, problem);
            }
        }

        return new AllowedOrigins(given.AsReadOnly(), allowsAll, [.. compiled]);
    }

    /// <summary>
    /// True when an Origin header of <paramref name="origin"/> passes (null: the request has none).
    /// Without <c>*</c> in the list, a missing, <c>null</c>, empty or malformed origin fails, and so
    /// does one with characters outside ASCII (browsers send international names as punycode).
    /// </summary>
    public bool IsAllowed(string? origin)
    {
        if (AllowsAll)
        {
            return true;
        }

        if (origin is null || !Ascii.IsValid(origin) || !ParsedOrigin.TryParse(origin, out var parsed, out _))
        {
            return false;
        }

        foreach (var pattern in _patterns)
        {
            if (pattern.Matches(parsed))
            {
                return true;
            }
        }

        return false;
    }
}
