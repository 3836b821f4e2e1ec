using System.Globalization;
using System.Text;

namespace Channels.Net.Routing;

/// <summary>
/// Python's <c>repr()</c> of a string, so messages read as Django's (<c>'ws/chat/'</c>) and a path
/// cannot break a log line: control and other unprintable characters are escaped.
/// </summary>
internal static class PythonRepr
{
    public static string Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var quote = text.Contains('\'', StringComparison.Ordinal) && !text.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var sb = new StringBuilder(text.Length + 2);
        sb.Append(quote);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var codePoint = char.ConvertToUtf32(c, text[i + 1]);
                if (IsPrintable(CharUnicodeInfo.GetUnicodeCategory(codePoint)))
                {
                    sb.Append(c).Append(text[i + 1]);
                }
                else
                {
                    sb.Append("\\U").Append(codePoint.ToString("x8", CultureInfo.InvariantCulture));
                }

                i++;
                continue;
            }

            switch (c)
            {
                case '\\':
                    sb.Append("\\\\");
                    continue;
                case '\n':
                    sb.Append("\\n");
                    continue;
                case '\r':
                    sb.Append("\\r");
                    continue;
                case '\t':
                    sb.Append("\\t");
                    continue;
            }

            if (c == quote)
            {
                sb.Append('\\').Append(c);
            }
            else if (c == ' ' || IsPrintable(CharUnicodeInfo.GetUnicodeCategory(c)))
            {
                sb.Append(c);
            }
            else if (c < 0x100)
            {
                sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
        }

        return sb.Append(quote).ToString();
    }

    // Python's str.isprintable(): everything but "Other" (Cc, Cf, Cs, Co, Cn) and "Separator" (Zl, Zp, Zs; the space is handled by the caller).
    private static bool IsPrintable(UnicodeCategory category) => category switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.SpaceSeparator => false,
        _ => true,
    };
}
