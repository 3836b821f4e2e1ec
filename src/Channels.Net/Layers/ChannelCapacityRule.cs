using System.Text;
using System.Text.RegularExpressions;
using Channels.Net.Internal;

namespace Channels.Net.Layers;

/// <summary>
/// One entry of <c>channel_capacity</c>: channels whose names match <see cref="Pattern"/> hold at
/// most <see cref="Capacity"/> messages.
/// </summary>
/// <remarks>
/// As in Django, a glob (Python's <c>fnmatch</c>: <c>*</c>, <c>?</c>, <c>[seq]</c>, <c>[!seq]</c>)
/// must match the whole name, while a regular expression must match at the start of the name
/// (Python's <c>re.match</c>). Rules are tried in order and the first match wins.
/// </remarks>
public sealed class ChannelCapacityRule
{
    private ChannelCapacityRule(string pattern, bool isRegex, Regex regex, int capacity)
    {
        Pattern = pattern;
        IsRegex = isRegex;
        Regex = regex;
        Capacity = capacity;
    }

    /// <summary>The glob or regular expression as given.</summary>
    public string Pattern { get; }

    /// <summary>True for a regular expression, false for a glob.</summary>
    public bool IsRegex { get; }

    /// <summary>The capacity of matching channels.</summary>
    public int Capacity { get; }

    internal Regex Regex { get; }

    /// <summary>A rule whose pattern is a glob matched against the whole channel name.</summary>
    /// <exception cref="ArgumentException">The glob is empty, or <paramref name="capacity"/> is below 1.</exception>
    public static ChannelCapacityRule Glob(string glob, int capacity)
    {
        ArgumentException.ThrowIfNullOrEmpty(glob);
        CheckCapacity(capacity);
        return new(glob, isRegex: false, new Regex(TranslateGlob(glob), RegexOptions.CultureInvariant | RegexOptions.Singleline), capacity);
    }

    /// <summary>A rule whose pattern is a regular expression matched at the start of the channel name.
    /// Python's <c>(?P&lt;name&gt;…)</c> groups are accepted.</summary>
    /// <exception cref="ArgumentException">The expression does not parse, or <paramref name="capacity"/> is below 1.</exception>
    public static ChannelCapacityRule FromRegex(string pattern, int capacity)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        CheckCapacity(capacity);
        Regex regex;
        try
        {
            regex = new Regex(@"\G(?:" + PythonRegex.Translate(pattern) + ")", RegexOptions.CultureInvariant);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"The channel capacity pattern '{pattern}' is not a valid regular expression: {ex.Message}", nameof(pattern), ex);
        }

        return new(pattern, isRegex: true, regex, capacity);
    }

    /// <summary>True when this rule applies to <paramref name="channel"/>.</summary>
    public bool Matches(string channel) => Regex.IsMatch(channel);

    /// <inheritdoc />
    public override string ToString() => $"{(IsRegex ? "regex" : "glob")} '{Pattern}' -> {Capacity}";

    /// <summary>Python's <c>fnmatch.translate</c>: the same language, anchored at both ends.</summary>
    internal static string TranslateGlob(string glob)
    {
        var sb = new StringBuilder("\\A(?:");
        var i = 0;
        while (i < glob.Length)
        {
            var c = glob[i++];
            switch (c)
            {
                case '*':
                    sb.Append(".*");
                    while (i < glob.Length && glob[i] == '*')
                    {
                        i++;
                    }

                    break;
                case '?':
                    sb.Append('.');
                    break;
                case '[':
                {
                    var j = i;
                    if (j < glob.Length && glob[j] == '!')
                    {
                        j++;
                    }

                    if (j < glob.Length && glob[j] == ']')
                    {
                        j++;
                    }

                    while (j < glob.Length && glob[j] != ']')
                    {
                        j++;
                    }

                    if (j >= glob.Length)
                    {
                        sb.Append("\\[");
                        break;
                    }

                    var set = glob[i..j].Replace("\\", "\\\\", StringComparison.Ordinal);
                    i = j + 1;
                    if (set.Length > 0 && set[0] == '!')
                    {
                        set = "^" + set[1..];
                    }
                    else if (set.Length > 0 && set[0] == '^')
                    {
                        set = "\\" + set;
                    }

                    sb.Append('[').Append(set.Replace("[", "\\[", StringComparison.Ordinal)).Append(']');
                    break;
                }

                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return sb.Append(")\\z").ToString();
    }

    private static void CheckCapacity(int capacity)
    {
        if (capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "A channel capacity must be at least 1.");
        }
    }
}
