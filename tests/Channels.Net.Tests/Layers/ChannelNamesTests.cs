using Channels.Net.Layers;

namespace Channels.Net.Tests.Layers;

public sealed class ChannelNamesTests
{
    private const string ChannelCharRule =
        "is not allowed; names may contain only ASCII letters, digits, '-', '_' and '.', plus one '!' marking a process-local channel.";

    private const string GroupCharRule = "is not allowed; group names may contain only ASCII letters, digits, '-', '_' and '.'.";

    [Theory]
    [InlineData("a")]
    [InlineData("Z")]
    [InlineData("0")]
    [InlineData("-")]
    [InlineData("_")]
    [InlineData(".")]
    [InlineData("http.request")]
    [InlineData("websocket.send")]
    [InlineData("Aa0-_.")]
    [InlineData("abc!")]
    [InlineData("abc!xyz")]
    [InlineData("abc!.-_Az09")]
    [InlineData("specific.inmemory!AbCdEfGhIjKl")]
    [InlineData("a!")]
    public void ValidChannelNames_AreAccepted(string name)
    {
        Assert.True(ChannelNames.IsValidChannelName(name));
        ChannelNames.RequireValidChannelName(name);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("chat_room-1.x")]
    [InlineData("-_.")]
    public void ValidGroupNames_AreAccepted(string name)
    {
        Assert.True(ChannelNames.IsValidGroupName(name));
        ChannelNames.RequireValidGroupName(name);
    }

    [Fact]
    public void Length_99IsValid_100IsNot()
    {
        var channel99 = new string('c', 99);
        var channel100 = new string('c', 100);
        Assert.True(ChannelNames.IsValidChannelName(channel99));
        Assert.True(ChannelNames.IsValidGroupName(channel99));
        Assert.True(ChannelNames.IsValidChannelName(new string('c', 97) + "!x"));
        Assert.False(ChannelNames.IsValidChannelName(channel100));
        Assert.False(ChannelNames.IsValidGroupName(channel100));
        Assert.False(ChannelNames.IsValidChannelName(new string('c', 98) + "!x"));

        var error = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidChannelName(channel100));
        Assert.Equal(
            $"Channel name '{channel100}' is invalid: it is 100 characters long; names must be shorter than 100 characters. (Parameter 'channel')",
            error.Message);
        Assert.Equal(channel100, error.Name);
        Assert.Equal("channel", error.ParamName);

        var group = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidGroupName(channel100));
        Assert.Equal(
            $"Group name '{channel100}' is invalid: it is 100 characters long; names must be shorter than 100 characters. (Parameter 'group')",
            group.Message);
    }

    [Fact]
    public void NullAndEmpty_AreRefusedWithTheirOwnMessages()
    {
        Assert.False(ChannelNames.IsValidChannelName(null));
        Assert.False(ChannelNames.IsValidGroupName(null));
        Assert.False(ChannelNames.IsValidChannelName(""));

        var nullChannel = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidChannelName(null));
        Assert.Equal("Channel name is null; a name is required. (Parameter 'channel')", nullChannel.Message);
        Assert.Null(nullChannel.Name);

        var emptyChannel = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidChannelName(""));
        Assert.Equal("Channel name is empty; a name needs at least one character. (Parameter 'channel')", emptyChannel.Message);
        Assert.Equal("", emptyChannel.Name);

        var emptyGroup = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidGroupName(""));
        Assert.Equal("Group name is empty; a name needs at least one character. (Parameter 'group')", emptyGroup.Message);
    }

    [Theory]
    [InlineData("chat room", "'chat room'", "character U+0020 at position 4")]
    [InlineData("tab\there", "'tab\\u0009here'", "character U+0009 at position 3")]
    [InlineData("newline\n", "'newline\\u000a'", "character U+000A at position 7")]
    [InlineData("no-break\u00a0space", "'no-break\u00a0space'", "character U+00A0 at position 8")]
    [InlineData("café", "'café'", "character 'é' at position 3")]
    [InlineData("日本", "'日本'", "character '日' at position 0")]
    [InlineData("a/b", "'a/b'", "character '/' at position 1")]
    [InlineData("it's", "'it\\'s'", "character ''' at position 2")]
    [InlineData("abc!é", "'abc!é'", "character 'é' at position 4")]
    public void InvalidCharacters_MessageShowsTheNameAndTheCharacter(string name, string shown, string which)
    {
        Assert.False(ChannelNames.IsValidChannelName(name));
        var error = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidChannelName(name));
        Assert.Equal($"Channel name {shown} is invalid: {which} {ChannelCharRule} (Parameter 'channel')", error.Message);
        Assert.Equal(name, error.Name);
    }

    [Fact]
    public void Emoji_IsRefusedAndTheNameIsShownWhole()
    {
        var error = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidChannelName("emoji😀"));
        Assert.StartsWith("Channel name 'emoji😀' is invalid: character '😀' (U+1F600) at position 5 is not allowed", error.Message, StringComparison.Ordinal);
        Assert.Contains("at position 5 is not allowed", error.Message, StringComparison.Ordinal);
        Assert.Equal("emoji😀", error.Name);
    }

    [Fact]
    public void Bang_Rules()
    {
        var leading = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidChannelName("!abc"));
        Assert.Equal(
            "Channel name '!abc' is invalid: it has nothing before '!'; a process-local name is 'prefix!' or 'prefix!local'. (Parameter 'channel')",
            leading.Message);

        var second = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidChannelName("a!b!c"));
        Assert.Equal("Channel name 'a!b!c' is invalid: it has a second '!' at position 3; only one '!' is allowed. (Parameter 'channel')", second.Message);

        Assert.False(ChannelNames.IsValidChannelName("!"));
        Assert.False(ChannelNames.IsValidChannelName("a!!"));
        Assert.True(ChannelNames.IsValidChannelName("a!"));

        var group = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidGroupName("room!1"));
        Assert.Equal($"Group name 'room!1' is invalid: character '!' at position 4 {GroupCharRule} (Parameter 'group')", group.Message);
        Assert.False(ChannelNames.IsValidGroupName("room!"));
    }

    [Fact]
    public void GroupNames_RefuseWhitespaceAndUnicode()
    {
        var space = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidGroupName("my group"));
        Assert.Equal($"Group name 'my group' is invalid: character U+0020 at position 2 {GroupCharRule} (Parameter 'group')", space.Message);

        var unicode = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidGroupName("grüppe", paramName: "room"));
        Assert.Equal($"Group name 'grüppe' is invalid: character 'ü' at position 2 {GroupCharRule} (Parameter 'room')", unicode.Message);
        Assert.Equal("room", unicode.ParamName);
    }

    [Fact]
    public void ReceiveRule_ProcessLocalNamesMustEndAtTheBang()
    {
        ChannelNames.RequireValidChannelName("abc!", receive: true);
        ChannelNames.RequireValidChannelName("plain.name", receive: true);
        ChannelNames.RequireValidChannelName("abc!xyz", receive: false);

        var error = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidChannelName("abc!xyz", receive: true));
        Assert.Equal(
            "Channel name 'abc!xyz' is invalid for receive: specific channel names in receive() must end at the '!'. (Parameter 'channel')",
            error.Message);
        Assert.Equal("abc!xyz", error.Name);

        // The ordinary rules come first.
        var bad = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidChannelName("a b!x", receive: true));
        Assert.Contains("character U+0020 at position 1", bad.Message, StringComparison.Ordinal);
        Assert.True(ChannelNames.IsValidChannelName("abc!xyz"));
    }

    [Theory]
    [InlineData("abc!xyz", "abc!")]
    [InlineData("abc!", "abc!")]
    [InlineData("specific.abc!def!ghi", "specific.abc!")]
    [InlineData("plain.channel", "plain.channel")]
    [InlineData("!", "!")]
    public void NonLocalName_IsEverythingUpToAndIncludingTheBang(string name, string expected)
    {
        Assert.Equal(expected, ChannelNames.NonLocalName(name));
    }

    [Fact]
    public void NonLocalName_RefusesNull()
    {
        Assert.Throws<ArgumentNullException>(() => ChannelNames.NonLocalName(null!));
    }

    [Theory]
    [InlineData("abc!xyz", true)]
    [InlineData("abc!", true)]
    [InlineData("abc", false)]
    public void IsProcessLocal_MeansHasABang(string name, bool expected)
    {
        Assert.Equal(expected, ChannelNames.IsProcessLocal(name));
    }

    [Fact]
    public void VeryLongNames_AreCutInTheMessage()
    {
        var name = new string('x', 150);
        var error = Assert.Throws<InvalidChannelNameException>(() => ChannelNames.RequireValidChannelName(name));
        Assert.Equal(
            $"Channel name '{new string('x', 120)}'... is invalid: it is 150 characters long; names must be shorter than 100 characters. (Parameter 'channel')",
            error.Message);
        Assert.Equal(name, error.Name);
    }

    [Fact]
    public void Constants_MatchDjango()
    {
        Assert.Equal(100, ChannelNames.MaxLength);
        Assert.Equal("__asgi_channel__", ChannelNames.ReservedMessageKey);
    }
}
