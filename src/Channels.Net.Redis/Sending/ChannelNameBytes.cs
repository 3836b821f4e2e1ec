using Channels.Net.Layers;

namespace Channels.Net.Redis.Sending;

/// <summary>
/// <see cref="ChannelNames.IsValidChannelName"/> for a name as the UTF-8 bytes Redis holds, without
/// decoding it: valid names are ASCII, so a byte above 0x7F (or invalid UTF-8) makes the name invalid
/// exactly as the decoded text would.
/// </summary>
internal static class ChannelNameBytes
{
    /// <summary>True when <paramref name="utf8"/> is the UTF-8 of a valid channel name.</summary>
    public static bool IsValidChannelName(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty || utf8.Length >= ChannelNames.MaxLength)
        {
            return false;
        }

        var bang = -1;
        for (var i = 0; i < utf8.Length; i++)
        {
            var b = utf8[i];
            if (b < 0x80 && ChannelNames.IsNameChar((char)b))
            {
                continue;
            }

            if (b != (byte)'!' || bang >= 0 || i == 0)
            {
                return false;
            }

            bang = i;
        }

        return true;
    }
}
