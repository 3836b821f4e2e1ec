using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Channels.Net.Internal;

namespace Channels.Net.Routing;

/// <summary>
/// One route of a <see cref="UrlRouter"/> (Django's <c>URLPattern</c>): a pattern and the
/// application it leads to. Made by <see cref="Routes.Path"/> and <see cref="Routes.RePath"/>.
/// Immutable and safe to share between routers and threads.
/// </summary>
public sealed class UrlPattern
{
    // Django's _PATH_PARAMETER_COMPONENT_RE.
    private static readonly Regex ParameterComponent = new(
        "<(?:(?<converter>[^>:]+):)?(?<parameter>[^>]+)>", RegexOptions.CultureInvariant);

    // Python's string.whitespace.
    private const string PythonWhitespace = " \t\n\r\v\f";

    private readonly Regex? _regex;
    private readonly string[] _groupNames = [];
    private readonly int[] _namedGroups = [];
    private readonly int[] _unnamedGroups = [];
    private readonly PathConverter[] _converters = [];
    private readonly Dictionary<string, object> _defaultKwargs;

    private UrlPattern(string pattern, bool isRegex, IChannelApplication application, IReadOnlyDictionary<string, object>? kwargs, string? name)
    {
        Pattern = pattern;
        IsRegex = isRegex;
        Application = application;
        Name = name;
        // Channels' URLRouter makes a route to a nested URLRouter a prefix (Django's is_endpoint=False).
        IsEndpoint = application is not UrlRouter;
        _defaultKwargs = new Dictionary<string, object>(StringComparer.Ordinal);
        if (kwargs is not null)
        {
            foreach (var (key, value) in kwargs)
            {
                if (key is null || value is null)
                {
                    throw new ArgumentException($"The default kwargs of URL pattern '{pattern}' hold a null key or value.", nameof(kwargs));
                }

                _defaultKwargs[key] = value;
            }
        }

        DefaultKwargs = _defaultKwargs.AsReadOnly();
    }

    private UrlPattern(string pattern, bool isRegex, IChannelApplication application, IReadOnlyDictionary<string, object>? kwargs, string? name, Regex? regex, PathConverter[] converters)
        : this(pattern, isRegex, application, kwargs, name)
    {
        _regex = regex;
        _converters = converters;
        if (regex is null)
        {
            return;
        }

        var named = new List<int>();
        var names = new List<string>();
        var unnamed = new List<int>();
        foreach (var number in regex.GetGroupNumbers())
        {
            if (number == 0)
            {
                continue;
            }

            var groupName = regex.GroupNameFromNumber(number);
            if (groupName == number.ToString(CultureInfo.InvariantCulture))
            {
                unnamed.Add(number);
            }
            else
            {
                named.Add(number);
                names.Add(groupName);
            }
        }

        // .NET numbers unnamed groups before named ones; within each kind the order is that of the pattern,
        // which is all Python's groups() and groupdict() need (args are only used when there are no names).
        _namedGroups = [.. named];
        _groupNames = [.. names];
        _unnamedGroups = [.. unnamed];
    }

    /// <summary>The route (for <see cref="Routes.Path"/>) or the regular expression (for <see cref="Routes.RePath"/>), as written.</summary>
    public string Pattern { get; }

    /// <summary>True for a <see cref="Routes.RePath"/> pattern, false for a <see cref="Routes.Path"/> route.</summary>
    public bool IsRegex { get; }

    /// <summary>The application this route leads to.</summary>
    public IChannelApplication Application { get; }

    /// <summary>Extra kwargs added to <see cref="UrlRoute.Kwargs"/> when this route matches (Django's <c>kwargs</c> argument); they override captured values of the same name.</summary>
    public IReadOnlyDictionary<string, object> DefaultKwargs { get; }

    /// <summary>The route's name (Django's <c>name</c> argument); informational only, as Channels does not reverse URLs.</summary>
    public string? Name { get; }

    /// <summary>
    /// False when <see cref="Application"/> is a <see cref="UrlRouter"/>: the route then matches a
    /// prefix and the nested router routes the rest (Django's <c>is_endpoint</c>).
    /// </summary>
    public bool IsEndpoint { get; }

    /// <summary>The pattern as written.</summary>
    public override string ToString() => Pattern;

    internal static UrlPattern ForRegex(string regex, IChannelApplication application, IReadOnlyDictionary<string, object>? kwargs, string? name)
    {
        ArgumentNullException.ThrowIfNull(regex);
        ArgumentNullException.ThrowIfNull(application);
        var translated = PythonRegex.Translate(regex);
        // Django: an endpoint whose pattern ends with '$' must match the whole path (re.fullmatch).
        if (application is not UrlRouter && regex.EndsWith('$'))
        {
            // Compile it bare first, so an error reports offsets in the pattern as written.
            Compile(regex, translated);
            translated = @"\A(?:" + translated + @")\z";
        }

        return new UrlPattern(regex, isRegex: true, application, kwargs, name, Compile(regex, translated), []);
    }

    internal static UrlPattern ForRoute(string route, IChannelApplication application, IReadOnlyDictionary<string, object>? kwargs, string? name)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(application);
        var isEndpoint = application is not UrlRouter;
        var regex = new StringBuilder("^");
        var converters = new List<PathConverter>();
        var parameters = new HashSet<string>(StringComparer.Ordinal);
        var previousEnd = 0;
        foreach (Match component in ParameterComponent.Matches(route))
        {
            if (component.Value.AsSpan().IndexOfAny(PythonWhitespace) >= 0)
            {
                throw new ArgumentException($"URL route {PythonRepr.Of(route)} cannot contain whitespace in angle brackets <…>.", nameof(route));
            }

            var converterName = component.Groups["converter"].Success ? component.Groups["converter"].Value : "str";
            var parameter = component.Groups["parameter"].Value;
            if (!IsPythonIdentifier(parameter))
            {
                throw new ArgumentException($"URL route {PythonRepr.Of(route)} uses parameter name {PythonRepr.Of(parameter)} which isn't a valid Python identifier.", nameof(route));
            }

            if (!PathConverter.TryGet(converterName, out var converter))
            {
                throw new ArgumentException($"URL route {PythonRepr.Of(route)} uses invalid converter {PythonRepr.Of(converterName)}.", nameof(route));
            }

            if (!parameters.Add(parameter))
            {
                throw new ArgumentException($"URL route {PythonRepr.Of(route)} uses parameter name {PythonRepr.Of(parameter)} more than once.", nameof(route));
            }

            converters.Add(converter);
            regex.Append(Regex.Escape(route[previousEnd..component.Index]))
                .Append("(?<").Append(parameter).Append('>').Append(converter.Regex).Append(')');
            previousEnd = component.Index + component.Length;
        }

        if (converters.Count == 0)
        {
            // Django compares strings when a route has no converters.
            return new UrlPattern(route, isRegex: false, application, kwargs, name, regex: null, []);
        }

        regex.Append(Regex.Escape(route[previousEnd..]));
        if (isEndpoint)
        {
            regex.Append(@"\z");
        }

        return new UrlPattern(route, isRegex: false, application, kwargs, name, Compile(route, regex.ToString()), [.. converters]);
    }

    /// <summary>
    /// Matches <paramref name="path"/> (Django's <c>pattern.match</c>): the rest of the path after the
    /// match, the positional args and the kwargs (without <see cref="DefaultKwargs"/>).
    /// </summary>
    internal bool TryMatch(string path, out string remaining, out object[] args, out RouteKwargs kwargs)
    {
        remaining = "";
        args = [];
        kwargs = RouteKwargs.Empty;
        if (_regex is null)
        {
            if (IsEndpoint ? string.Equals(Pattern, path, StringComparison.Ordinal) : path.StartsWith(Pattern, StringComparison.Ordinal))
            {
                remaining = path[Pattern.Length..];
                return true;
            }

            return false;
        }

        var match = _regex.Match(path);
        if (!match.Success)
        {
            return false;
        }

        // Group names are distinct in a .NET regex, so each name is set once.
        var captured = _namedGroups.Length == 0 ? [] : new KeyValuePair<string, object>[_namedGroups.Length];
        var count = 0;
        for (var i = 0; i < _namedGroups.Length; i++)
        {
            var group = match.Groups[_namedGroups[i]];
            if (IsRegex)
            {
                // Django leaves out named groups that did not take part in the match.
                if (group.Success)
                {
                    captured[count++] = new(_groupNames[i], group.Value);
                }
            }
            else
            {
                var value = _converters[i].ToValue(group.Value);
                if (value is null)
                {
                    return false;
                }

                captured[count++] = new(_groupNames[i], value);
            }
        }

        kwargs = RouteKwargs.Of(count == captured.Length ? captured : captured[..count]);

        // Any named group, even one that did not match, means unnamed groups are ignored.
        if (_namedGroups.Length == 0 && _unnamedGroups.Length > 0)
        {
            args = new object[_unnamedGroups.Length];
            for (var i = 0; i < _unnamedGroups.Length; i++)
            {
                // Python gives None for a group that did not take part; UrlRoute.Args holds no nulls, so "".
                args[i] = match.Groups[_unnamedGroups[i]].Value;
            }
        }

        remaining = path[(match.Index + match.Length)..];
        return true;
    }

    private static Regex Compile(string pattern, string translated)
    {
        try
        {
            return new Regex(translated, RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"\"{pattern}\" is not a valid regular expression: {e.Message}", nameof(pattern), e);
        }
    }

    // Python's str.isidentifier(): a letter or '_' first, then letters, digits, marks and connectors.
    private static bool IsPythonIdentifier(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        for (var i = 0; i < name.Length; i++)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(name, i);
            var start = name[i] == '_' || category is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
                or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.LetterNumber;
            var next = start || category is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.NonSpacingMark
                or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.ConnectorPunctuation;
            if (i == 0 ? !start : !next)
            {
                return false;
            }

            if (char.IsSurrogatePair(name, i))
            {
                i++;
            }
        }

        return true;
    }
}
