using System.Text;

namespace Channels.Net.Layers;

/// <summary>
/// The naming rules of Django Channels' <c>BaseChannelLayer</c>, stated exactly and checked
/// without regular expressions.
/// </summary>
/// <remarks>
/// <para>A channel name is one or more ASCII letters, digits, <c>-</c>, <c>_</c> or <c>.</c>,
/// optionally followed by <c>!</c> and zero or more of the same characters: <c>abc!</c> is the
/// receive name of a process, <c>abc!xyz</c> a process-local channel in it. A group name has no
/// <c>!</c>. Every name is shorter than <see cref="MaxLength"/> characters.</para>
/// <para>Python's pattern admits Unicode letters after the <c>!</c> and a trailing newline
/// (its <c>\w</c> and <c>$</c>); these rules do not: every name they accept, Python accepts too.</para>
/// </remarks>
public static class ChannelNames
{
    /// <summary>Names must be shorter than this many characters (Django's <c>MAX_NAME_LENGTH</c>).</summary>
    public const int MaxLength = 100;

    /// <summary>The key a layer reserves inside messages for its own routing.</summary>
    public const string ReservedMessageKey = "__asgi_channel__";

    /// <summary>True when <paramref name="name"/> is a valid channel name.</summary>
    public static bool IsValidChannelName(string? name) => CheckChannel(name, receive: false) is null;

    /// <summary>True when <paramref name="name"/> is a valid group name.</summary>
    public static bool IsValidGroupName(string? name) => CheckGroup(name) is null;

    /// <summary>
    /// Throws <see cref="InvalidChannelNameException"/> unless <paramref name="name"/> is a valid
    /// channel name. With <paramref name="receive"/>, also applies Django's receive rule: a name
    /// holding <c>!</c> must end at it.
    /// </summary>
    public static void RequireValidChannelName(string? name, bool receive = false, string paramName = "channel")
    {
        var error = CheckChannel(name, receive);
        if (error is not null)
        {
            throw new InvalidChannelNameException(error, name, paramName);
        }
    }

    /// <summary>Throws <see cref="InvalidChannelNameException"/> unless <paramref name="name"/> is a valid group name.</summary>
    public static void RequireValidGroupName(string? name, string paramName = "group")
    {
        var error = CheckGroup(name);
        if (error is not null)
        {
            throw new InvalidChannelNameException(error, name, paramName);
        }
    }

    /// <summary>
    /// Builds the process-local channel name <c>{prefix}.{process}!{local}</c> a layer's
    /// <c>NewChannelAsync</c> returns, checking that <paramref name="prefix"/> holds no <c>!</c> and that
    /// the result is a valid channel name.
    /// </summary>
    /// <exception cref="InvalidChannelNameException">The prefix contains <c>!</c>, or the name would be invalid (too long, bad characters).</exception>
    public static string NewProcessLocalName(string prefix, ReadOnlySpan<char> process, ReadOnlySpan<char> local)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (IsProcessLocal(prefix))
        {
            throw new InvalidChannelNameException($"The new-channel prefix {Show(prefix)} must not contain '!'.", prefix, nameof(prefix));
        }

        var name = $"{prefix}.{process}!{local}";
        RequireValidChannelName(name, paramName: nameof(prefix));
        return name;
    }

    /// <summary>True when <paramref name="name"/> contains <c>!</c>: a process-local channel or receive name.</summary>
    public static bool IsProcessLocal(string name) => name.Contains('!', StringComparison.Ordinal);

    /// <summary>
    /// The part of a channel name that is shared across processes: up to and including the
    /// <c>!</c> for a process-local name, the whole name otherwise (Django's <c>non_local_name</c>).
    /// </summary>
    public static string NonLocalName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var bang = name.IndexOf('!', StringComparison.Ordinal);
        return bang < 0 ? name : name[..(bang + 1)];
    }

    internal static bool IsNameChar(char c) =>
        (uint)((c | 0x20) - 'a') <= 'z' - 'a' || (uint)(c - '0') <= 9 || c is '-' or '_' or '.';

    private static string? CheckChannel(string? name, bool receive)
    {
        var common = CheckCommon(name, "Channel");
        if (common is not null)
        {
            return common;
        }

        var bang = -1;
        for (var i = 0; i < name!.Length; i++)
        {
            var c = name[i];
            if (IsNameChar(c))
            {
                continue;
            }

            if (c == '!' && bang < 0)
            {
                if (i == 0)
                {
                    return $"Channel name {Show(name)} is invalid: it has nothing before '!'; a process-local name is 'prefix!' or 'prefix!local'.";
                }

                bang = i;
                continue;
            }

            return c == '!'
                ? $"Channel name {Show(name)} is invalid: it has a second '!' at position {i}; only one '!' is allowed."
                : $"Channel name {Show(name)} is invalid: character {ShowChar(name, i)} at position {i} is not allowed; names may contain only ASCII letters, digits, '-', '_' and '.', plus one '!' marking a process-local channel.";
        }

        if (receive && bang >= 0 && bang != name.Length - 1)
        {
            return $"Channel name {Show(name)} is invalid for receive: specific channel names in receive() must end at the '!'.";
        }

        return null;
    }

    private static string? CheckGroup(string? name)
    {
        var common = CheckCommon(name, "Group");
        if (common is not null)
        {
            return common;
        }

        for (var i = 0; i < name!.Length; i++)
        {
            var c = name[i];
            if (!IsNameChar(c))
            {
                return $"Group name {Show(name)} is invalid: character {ShowChar(name, i)} at position {i} is not allowed; group names may contain only ASCII letters, digits, '-', '_' and '.'.";
            }
        }

        return null;
    }

    private static string? CheckCommon(string? name, string kind)
    {
        if (name is null)
        {
            return $"{kind} name is null; a name is required.";
        }

        if (name.Length == 0)
        {
            return $"{kind} name is empty; a name needs at least one character.";
        }

        if (name.Length >= MaxLength)
        {
            return $"{kind} name {Show(name)} is invalid: it is {name.Length} characters long; names must be shorter than {MaxLength} characters.";
        }

        return null;
    }

    /// <summary>Quotes a name for an error message, escaping what would not print and cutting what is too long.</summary>
    internal static string Show(string name)
    {
        const int limit = 120;
        var sb = new StringBuilder(Math.Min(name.Length, limit) + 8).Append('\'');
        foreach (var c in name.Length > limit ? name[..limit] : name)
        {
            if (char.IsControl(c) || c == '\'')
            {
                sb.Append(c == '\'' ? "\\'" : $"\\u{(int)c:x4}");
            }
            else
            {
                sb.Append(c);
            }
        }

        sb.Append('\'');
        if (name.Length > limit)
        {
            sb.Append("...");
        }

        return sb.ToString();
    }

    /// <summary>The character at <paramref name="index"/>, whole even when it is a surrogate pair.</summary>
    private static string ShowChar(string name, int index)
    {
        var c = name[index];
        if (char.IsHighSurrogate(c) && index + 1 < name.Length && char.IsLowSurrogate(name[index + 1]))
        {
            return $"'{name.Substring(index, 2)}' (U+{char.ConvertToUtf32(c, name[index + 1]):X4})";
        }

        return char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c) ? $"U+{(int)c:X4}" : $"'{c}'";
    }
}
