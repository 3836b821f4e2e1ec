using Channels.Net.Layers;
using Xunit;

namespace Channels.Net.Testing.Conformance;

public abstract partial class ChannelLayerConformanceTests
{
    /// <summary>Channel names every method refuses, each with a fragment of the rule its error must name.</summary>
    public static TheoryData<string, string> InvalidChannelNames => new()
    {
        { "", "is empty" },
        { new string('c', ChannelNames.MaxLength), "is 100 characters long; names must be shorter than 100 characters" },
        { "has space", "character U+0020 at position 3 is not allowed" },
        { "tab\tinside", "character U+0009 at position 3 is not allowed" },
        { "trailing-newline\n", "character U+000A at position 16 is not allowed" },
        { "no-break\u00a0space", "character U+00A0 at position 8 is not allowed" },
        { "café", "character 'é' at position 3 is not allowed" },
        { "日本語", "character '日' at position 0 is not allowed" },
        { "emoji😀", "at position 5 is not allowed" },
        { "fullwidth１", "character '１' at position 9 is not allowed" },
        { "a/b", "character '/' at position 1 is not allowed" },
        { "a:b", "character ':' at position 1 is not allowed" },
        { "local!é", "character 'é' at position 6 is not allowed" },
        { "!abc", "it has nothing before '!'" },
        { "!", "it has nothing before '!'" },
        { "a!b!c", "it has a second '!' at position 3" },
        { "a!!", "it has a second '!' at position 2" },
    };

    /// <summary>Group names every group method refuses, each with a fragment of the rule its error must name.</summary>
    public static TheoryData<string, string> InvalidGroupNames => new()
    {
        { "", "is empty" },
        { new string('g', ChannelNames.MaxLength), "is 100 characters long; names must be shorter than 100 characters" },
        { "a!b", "character '!' at position 1 is not allowed" },
        { "room!", "character '!' at position 4 is not allowed" },
        { "has space", "character U+0020 at position 3 is not allowed" },
        { "line\n", "character U+000A at position 4 is not allowed" },
        { "grüppe", "character 'ü' at position 2 is not allowed" },
        { "emoji😀", "at position 5 is not allowed" },
        { "a/b", "character '/' at position 1 is not allowed" },
    };

    /// <summary>Every method that takes a channel name refuses an invalid one with
    /// <see cref="InvalidChannelNameException"/> naming the name and the broken rule.</summary>
    /// <param name="name">The invalid name.</param>
    /// <param name="rule">A fragment of the rule the error must state.</param>
    [Theory]
    [MemberData(nameof(InvalidChannelNames), MemberType = typeof(ChannelLayerConformanceTests))]
    public async Task Names_InvalidChannelName_IsRefusedByEveryMethod(string name, string rule)
    {
        var layer = await NewLayerAsync();
        var group = UniqueName("names");

        AssertNameError(name, rule, await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.SendAsync(name, Msg("test.names")))));
        AssertNameError(name, rule, await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.ReceiveAsync(name))));
        if (ExpectedExtensions.HasFlag(ChannelLayerExtensions.Groups))
        {
            AssertNameError(name, rule, await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.GroupAddAsync(group, name))));
            AssertNameError(name, rule, await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.GroupDiscardAsync(group, name))));
        }
    }

    /// <summary>Every group method refuses an invalid group name with <see cref="InvalidChannelNameException"/>
    /// naming the name and the broken rule.</summary>
    /// <param name="name">The invalid name.</param>
    /// <param name="rule">A fragment of the rule the error must state.</param>
    [Theory]
    [MemberData(nameof(InvalidGroupNames), MemberType = typeof(ChannelLayerConformanceTests))]
    public async Task Names_InvalidGroupName_IsRefusedByEveryGroupMethod(string name, string rule)
    {
        var layer = await NewLayerAsync();
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var channel = UniqueName("names");
        AssertNameError(name, rule, await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.GroupAddAsync(name, channel))));
        AssertNameError(name, rule, await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.GroupDiscardAsync(name, channel))));
        AssertNameError(name, rule, await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.GroupSendAsync(name, Msg("test.names")))));
    }

    /// <summary>A null name is refused with <see cref="InvalidChannelNameException"/>, not a
    /// <see cref="NullReferenceException"/> from deep inside the backend.</summary>
    [Fact]
    public async Task Names_NullName_IsRefused()
    {
        var layer = await NewLayerAsync();
        var send = await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.SendAsync(null!, Msg("test.names"))));
        Assert.Null(send.Name);
        Assert.Contains("null", send.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.ReceiveAsync(null!)));
        if (await GroupsSupportedAsync(layer))
        {
            await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.GroupAddAsync(null!, UniqueName("names"))));
            await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.GroupAddAsync(UniqueName("names"), null!)));
            await Assert.ThrowsAsync<InvalidChannelNameException>(async () => await Within(layer.GroupSendAsync(null!, Msg("test.names"))));
        }
    }

    /// <summary>Names of every allowed shape work: ASCII letters, digits, <c>-</c>, <c>_</c> and <c>.</c>
    /// anywhere, and 99 characters, the longest allowed; a message sent to each arrives.</summary>
    [Fact]
    public async Task Names_ValidPlainChannelNames_Work()
    {
        var layer = await NewLayerAsync();
        var id = Guid.NewGuid().ToString("N");
        string[] names =
        [
            id,
            "-" + id,
            "_" + id,
            "." + id,
            "UPPER.lower-0_9." + id,
            ("x" + id).PadRight(ChannelNames.MaxLength - 1, 'z'),
        ];
        Assert.Equal(99, names[^1].Length);

        foreach (var name in names)
        {
            await Within(BeginListeningAsync(layer, name));
            var message = Msg("test.names", ("name", name));
            await Within(layer.SendAsync(name, message));
            MessageAssert.Equal(message, await ReceiveWithinAsync(layer, name));
        }
    }

    /// <summary>Names with one <c>!</c> after at least one character (<c>abc!</c>, <c>abc!xyz</c>) are
    /// valid channel names: sending to them succeeds.</summary>
    [Fact]
    public async Task Names_ValidProcessLocalChannelNames_AreAccepted()
    {
        var layer = await NewLayerAsync();
        var id = Guid.NewGuid().ToString("N");
        string[] names = [id + "!", id + "!local", id + "!.-_Az09", "b" + id + "!c", ("y" + id + "!").PadRight(ChannelNames.MaxLength - 1, 'q')];
        foreach (var name in names)
        {
            Assert.True(ChannelNames.IsValidChannelName(name));
            await Within(layer.SendAsync(name, Msg("test.names")));
        }
    }

    /// <summary>Group names of every allowed shape work, 99 characters included, with member names of 99
    /// characters too.</summary>
    [Fact]
    public async Task Names_ValidGroupNames_Work()
    {
        var layer = await NewLayerAsync();
        if (!await GroupsSupportedAsync(layer))
        {
            return;
        }

        var id = Guid.NewGuid().ToString("N");
        var channel = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "names");
        var longChannel = ("l" + id).PadRight(ChannelNames.MaxLength - 1, 'c');
        await Within(BeginListeningAsync(layer, longChannel));
        string[] groups = [id, "-_." + id, "Group-1_x.y." + id, ("g" + id).PadRight(ChannelNames.MaxLength - 1, 'g')];
        Assert.Equal(99, groups[^1].Length);

        foreach (var group in groups)
        {
            await Within(layer.GroupAddAsync(group, channel));
            await Within(layer.GroupAddAsync(group, longChannel));
            var message = Msg("test.names", ("group", group));
            await Within(layer.GroupSendAsync(group, message));
            MessageAssert.Equal(message, await ReceiveWithinAsync(layer, channel));
            MessageAssert.Equal(message, await ReceiveWithinAsync(layer, longChannel));
            await Within(layer.GroupDiscardAsync(group, channel));
            await Within(layer.GroupDiscardAsync(group, longChannel));
        }
    }

    private static void AssertNameError(string name, string rule, InvalidChannelNameException error)
    {
        Assert.Equal(name, error.Name);
        Assert.Contains(rule, error.Message, StringComparison.Ordinal);
        if (name.Length > 0 && !name.Any(char.IsControl))
        {
            Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
        }
    }
}
