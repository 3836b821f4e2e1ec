using Channels.Net.Layers;

namespace Channels.Net.Tests.Layers;

public sealed class ChannelCapacityRuleTests
{
    [Theory]
    [InlineData("http.*", "http.request", true)]
    [InlineData("http.*", "http.", true)]            // '*' may match nothing
    [InlineData("http.*", "http", false)]
    [InlineData("http.*", "xhttp.request", false)]   // globs match the whole name...
    [InlineData("http", "http.request", false)]      // ...to its end
    [InlineData("*", "anything!at.all", true)]
    [InlineData("*.send", "websocket.send", true)]
    [InlineData("*.send", "websocket.send.more", false)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a**c", "abc", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "ac", false)]
    [InlineData("a?c", "abbc", false)]
    [InlineData("a?c", "a!c", true)]
    [InlineData("x[abc]", "xa", true)]
    [InlineData("x[abc]", "xc", true)]
    [InlineData("x[abc]", "xd", false)]
    [InlineData("x[abc]", "xab", false)]
    [InlineData("x[!abc]", "xd", true)]
    [InlineData("x[!abc]", "xa", false)]
    [InlineData("x[!abc]", "x", false)]
    [InlineData("x[a-c]y", "xby", true)]
    [InlineData("x[a-c]y", "xdy", false)]
    [InlineData("x[!a-c]y", "xdy", true)]
    [InlineData("x[]]", "x]", true)]                 // ']' first in a set is a member
    [InlineData("x[!]]", "x]", false)]
    [InlineData("x[!]]", "xa", true)]
    [InlineData("x[^a]", "x^", true)]                // '^' is an ordinary member in fnmatch
    [InlineData("x[^a]", "xa", true)]
    [InlineData("x[^a]", "xb", false)]
    [InlineData("a[b", "a[b", true)]                 // an unclosed '[' is a literal
    [InlineData("a[b", "ab", false)]
    [InlineData("a.b", "a.b", true)]                 // '.' is literal, not regex "any"
    [InlineData("a.b", "axb", false)]
    [InlineData("a+b(c)", "a+b(c)", true)]
    [InlineData("a+b(c)", "aab(c)", false)]
    [InlineData("ABC", "abc", false)]                // case-sensitive, as fnmatch.translate + re.match
    [InlineData("a\\b", "a\\b", true)]               // backslash is literal in fnmatch
    public void Glob_FollowsFnmatch(string glob, string channel, bool matches)
    {
        Assert.Equal(matches, ChannelCapacityRule.Glob(glob, 1).Matches(channel));
    }

    [Fact]
    public void Glob_StarMatchesNewlines()
    {
        // fnmatch.translate wraps the pattern in (?s:...).
        Assert.True(ChannelCapacityRule.Glob("a*", 1).Matches("a\nb"));
        Assert.True(ChannelCapacityRule.Glob("a?b", 1).Matches("a\nb"));
        Assert.False(ChannelCapacityRule.Glob("a", 1).Matches("a\n"));
    }

    [Theory]
    [InlineData("http", "http.request", true)]          // a regex matches at the start...
    [InlineData("http", "xhttp", false)]                 // ...only at the start
    [InlineData(@"http\.", "http.request", true)]
    [InlineData(@"http\.", "http", false)]
    [InlineData("^websocket\\.send!", "websocket.send!abc", true)]
    [InlineData("a|b", "bzz", true)]                     // alternation stays anchored at the start
    [InlineData("a|b", "zzb", false)]
    [InlineData("chat$", "chat", true)]
    [InlineData("chat$", "chatroom", false)]
    [InlineData(@"chat\Z", "chat", true)]               // Python's \Z
    [InlineData(@"chat\Z", "chat\n", false)]
    [InlineData("(?P<room>[a-z]+)\\.(?P<n>\\d+)", "lobby.12", true)]
    [InlineData("(?P<room>[a-z]+)\\.(?P<n>\\d+)", "Lobby.12", false)]
    [InlineData("(?P<c>x)(?P=c)", "xx", true)]          // Python's named back-reference
    [InlineData("(?P<c>x)(?P=c)", "xy", false)]
    [InlineData("[(?P<a>]", "P", true)]                  // inside a class, (?P< is just characters
    public void FromRegex_MatchesAtTheStartAndAcceptsPythonSyntax(string pattern, string channel, bool matches)
    {
        Assert.Equal(matches, ChannelCapacityRule.FromRegex(pattern, 1).Matches(channel));
    }

    [Fact]
    public void Properties_AndToString()
    {
        var glob = ChannelCapacityRule.Glob("http.*", 200);
        Assert.Equal("http.*", glob.Pattern);
        Assert.False(glob.IsRegex);
        Assert.Equal(200, glob.Capacity);
        Assert.Equal("glob 'http.*' -> 200", glob.ToString());

        var regex = ChannelCapacityRule.FromRegex("^websocket", 20);
        Assert.Equal("^websocket", regex.Pattern);
        Assert.True(regex.IsRegex);
        Assert.Equal(20, regex.Capacity);
        Assert.Equal("regex '^websocket' -> 20", regex.ToString());
    }

    [Fact]
    public void InvalidArguments_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChannelCapacityRule.Glob("a", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChannelCapacityRule.FromRegex("a", -1));
        Assert.Throws<ArgumentException>(() => ChannelCapacityRule.Glob("", 1));
        Assert.Throws<ArgumentNullException>(() => ChannelCapacityRule.Glob(null!, 1));
        Assert.Throws<ArgumentException>(() => ChannelCapacityRule.FromRegex("", 1));

        var bad = Assert.Throws<ArgumentException>(() => ChannelCapacityRule.FromRegex("(unclosed", 1));
        Assert.StartsWith("The channel capacity pattern '(unclosed' is not a valid regular expression: ", bad.Message, StringComparison.Ordinal);
        Assert.Equal("pattern", bad.ParamName);
    }

    [Fact]
    public void Capacities_FirstMatchingRuleWins_ElseTheDefault()
    {
        var capacities = new ChannelCapacities(100,
        [
            ChannelCapacityRule.Glob("http.request", 200),
            ChannelCapacityRule.FromRegex(@"^websocket\.send!", 20),
            ChannelCapacityRule.Glob("websocket.*", 50),
            ChannelCapacityRule.Glob("http.*", 300),
        ]);

        Assert.Equal(100, capacities.Default);
        Assert.Equal(4, capacities.Rules.Count);
        Assert.Equal(200, capacities.GetCapacity("http.request"));
        Assert.Equal(300, capacities.GetCapacity("http.response"));
        Assert.Equal(20, capacities.GetCapacity("websocket.send!abc"));
        Assert.Equal(50, capacities.GetCapacity("websocket.send"));
        Assert.Equal(50, capacities.GetCapacity("websocket.receive"));
        Assert.Equal(100, capacities.GetCapacity("other"));
        Assert.Equal(7, new ChannelCapacities(7).GetCapacity("anything"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChannelCapacities(0));
    }
}
