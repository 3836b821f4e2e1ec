using System.Text.Json;
using System.Text.Json.Nodes;
using Channels.Net.Layers;
using Channels.Net.Testing.Conformance;

namespace Channels.Net.Tests.Layers;

public sealed class ChannelMessageTests
{
    [Fact]
    public void From_AnonymousObject_KeepsKeysInOrderAndNormalizesValues()
    {
        var message = ChannelMessage.From(new { type = "chat.message", message = "hi", count = 3, ratio = 0.5f, small = (byte)7, big = 5UL, letter = 'x' });

        Assert.Equal("chat.message", message.Type);
        Assert.Equal(["type", "message", "count", "ratio", "small", "big", "letter"], message.Keys);
        Assert.Equal("hi", message["message"]);
        Assert.Equal(3L, Assert.IsType<long>(message["count"]));
        Assert.Equal(0.5, Assert.IsType<double>(message["ratio"]));
        Assert.Equal(7L, Assert.IsType<long>(message["small"]));
        Assert.Equal(5L, Assert.IsType<long>(message["big"]));
        Assert.Equal("x", message["letter"]);
    }

    [Fact]
    public void From_IntegersAndDecimals_BecomeLongUlongOrDouble()
    {
        var message = ChannelMessage.From(new
        {
            type = "t",
            int_min = int.MinValue,
            uint_max = uint.MaxValue,
            long_min = long.MinValue,
            ulong_small = (ulong)long.MaxValue,
            ulong_big = ulong.MaxValue,
            sbyte_value = (sbyte)-3,
            short_value = (short)-300,
            ushort_value = (ushort)60000,
            whole_decimal = 12m,
            fraction_decimal = 1.25m,
            half = (Half)1.5,
        });

        Assert.Equal((long)int.MinValue, Assert.IsType<long>(message["int_min"]));
        Assert.Equal((long)uint.MaxValue, Assert.IsType<long>(message["uint_max"]));
        Assert.Equal(long.MinValue, Assert.IsType<long>(message["long_min"]));
        Assert.Equal(long.MaxValue, Assert.IsType<long>(message["ulong_small"]));
        Assert.Equal(ulong.MaxValue, Assert.IsType<ulong>(message["ulong_big"]));
        Assert.Equal(-3L, Assert.IsType<long>(message["sbyte_value"]));
        Assert.Equal(-300L, Assert.IsType<long>(message["short_value"]));
        Assert.Equal(60000L, Assert.IsType<long>(message["ushort_value"]));
        Assert.Equal(12L, Assert.IsType<long>(message["whole_decimal"]));
        Assert.Equal(1.25, Assert.IsType<double>(message["fraction_decimal"]));
        Assert.Equal(1.5, Assert.IsType<double>(message["half"]));
    }

    private sealed record ChatEvent(string Type, string UserName, int RoomId, byte[] Avatar, IReadOnlyList<string> Tags);

    [Fact]
    public void From_Record_PascalCasePropertiesBecomeSnakeCaseKeys()
    {
        var message = ChannelMessage.From(new ChatEvent("chat.event", "ann", 42, [0x00, 0xFF], ["a", "b"]));

        Assert.Equal(["type", "user_name", "room_id", "avatar", "tags"], message.Keys);
        Assert.Equal("chat.event", message.Type);
        Assert.Equal("ann", message.GetString("user_name"));
        Assert.Equal(42L, message.GetInt64("room_id"));
        Assert.Equal(new byte[] { 0x00, 0xFF }, message.GetBytes("avatar")!.Value.ToArray());
        var tags = Assert.IsType<MessageList>(message["tags"]);
        Assert.Equal(["a", "b"], tags);
    }

    [Fact]
    public void From_Dictionary_KeepsInsertionOrder()
    {
        var source = new Dictionary<string, object?> { ["type"] = "d.t", ["z"] = 1, ["a"] = null, ["m"] = new Dictionary<string, int> { ["x"] = 1 } };

        var message = ChannelMessage.From(source);

        Assert.Equal(["type", "z", "a", "m"], message.Keys);
        Assert.Null(message["a"]);
        var inner = Assert.IsType<MessageMap>(message["m"]);
        Assert.Equal(1L, inner["x"]);
    }

    [Fact]
    public void From_DictionaryWithNonStringKeys_UsesInvariantText()
    {
        var message = ChannelMessage.From(new Dictionary<string, object?>
        {
            ["type"] = "t",
            ["ids"] = new Dictionary<int, string> { [1] = "one", [-2] = "minus two" },
        });

        var ids = Assert.IsType<MessageMap>(message["ids"]);
        Assert.Equal(["1", "-2"], ids.Keys);
        Assert.Equal("one", ids["1"]);
    }

    [Fact]
    public void From_JsonElement_ReadsEveryKind()
    {
        using var document = JsonDocument.Parse("""
            {"type":"j","n":1,"neg":-9223372036854775808,"big":18446744073709551615,"f":1.5,"t":true,"nil":null,
             "s":"日本😀","list":[1,"x",[2]],"map":{"k":{"deep":false}}}
            """);

        var message = ChannelMessage.From(document.RootElement);

        Assert.Equal(1L, Assert.IsType<long>(message["n"]));
        Assert.Equal(long.MinValue, Assert.IsType<long>(message["neg"]));
        Assert.Equal(ulong.MaxValue, Assert.IsType<ulong>(message["big"]));
        Assert.Equal(1.5, Assert.IsType<double>(message["f"]));
        Assert.Equal(true, message["t"]);
        Assert.Null(message["nil"]);
        Assert.Equal("日本😀", message["s"]);
        var list = Assert.IsType<MessageList>(message["list"]);
        Assert.Equal(3, list.Count);
        Assert.Equal(2L, Assert.IsType<MessageList>(list[2])[0]);
        var map = Assert.IsType<MessageMap>(message["map"]);
        Assert.Equal(false, Assert.IsType<MessageMap>(map["k"])["deep"]);
    }

    [Fact]
    public void From_JsonElement_StaysValidAfterTheDocumentIsDisposed()
    {
        ChannelMessage message;
        using (var document = JsonDocument.Parse("""{"type":"j","s":"kept","list":[1,2]}"""))
        {
            message = ChannelMessage.From(document.RootElement);
        }

        Assert.Equal("kept", message["s"]);
        Assert.Equal([1L, 2L], Assert.IsType<MessageList>(message["list"]));
    }

    [Fact]
    public void From_JsonNode_ReadsEveryKind()
    {
        var node = new JsonObject
        {
            ["type"] = "node",
            ["UserName"] = "kept as written",
            ["n"] = 5,
            ["list"] = new JsonArray(1, "two", null),
            ["map"] = new JsonObject { ["x"] = 1.25 },
        };

        var message = ChannelMessage.From(node);

        Assert.Equal("node", message.Type);
        Assert.Equal(["type", "UserName", "n", "list", "map"], message.Keys);
        Assert.Equal(5L, message["n"]);
        var list = Assert.IsType<MessageList>(message["list"]);
        Assert.Equal([1L, "two", null], list);
        Assert.Equal(1.25, Assert.IsType<MessageMap>(message["map"])["x"]);
    }

    [Fact]
    public void FromJson_ParsesAnObject()
    {
        var message = ChannelMessage.FromJson("""{"type":"chat.message","message":"hello","n":3}""");

        Assert.Equal("chat.message", message.Type);
        Assert.Equal("hello", message["message"]);
        Assert.Equal(3L, message["n"]);
        Assert.Equal("""{"type":"chat.message","message":"hello","n":3}""", message.ToJson());
    }

    [Fact]
    public void FromJson_NumbersBecomeWhatPythonsJsonMakesOfThem()
    {
        // json.loads gives float for 1.0 and 1e3, int for -0 and for integers past 64 bits (here: ulong range).
        var message = ChannelMessage.FromJson("""{"type":"t","a":1.0,"b":1e3,"c":-0,"d":12345678901234567890}""");

        Assert.Equal(1.0, Assert.IsType<double>(message["a"]));
        Assert.Equal(1000.0, Assert.IsType<double>(message["b"]));
        Assert.Equal(0L, Assert.IsType<long>(message["c"]));
        Assert.Equal(12345678901234567890UL, Assert.IsType<ulong>(message["d"]));
    }

    [Fact]
    public void FromJson_RefusesNonObjectsAndBadJson()
    {
        var array = Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.FromJson("[1,2]"));
        Assert.Contains("must be a map with a string 'type'", array.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.FromJson("\"text\""));
        Assert.ThrowsAny<JsonException>(() => ChannelMessage.FromJson("{not json"));
        var duplicate = Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.FromJson("""{"type":"a","k":1,"k":2}"""));
        Assert.Contains("'k' appears twice", duplicate.Message, StringComparison.Ordinal);
    }

    private sealed record ChatMessage(string Type, string Message, byte[] Data, long UserId, double? Score, IReadOnlyList<int> Numbers, Inner Nested);

    private sealed record Inner(string DeepValue);

    [Fact]
    public void To_BindsSnakeCaseKeysToPascalCasePropertiesAndBytesToByteArrays()
    {
        var message = ChannelMessage.Create("chat.message",
        [
            new("message", "hello"),
            new("data", new byte[] { 0x00, 0x01, 0xFF }),
            new("user_id", 42),
            new("score", 2.5),
            new("numbers", new[] { 1, 2, 3 }),
            new("nested", new Dictionary<string, object?> { ["deep_value"] = "deep" }),
        ]);

        var typed = message.To<ChatMessage>();

        Assert.Equal("chat.message", typed.Type);
        Assert.Equal("hello", typed.Message);
        Assert.Equal(new byte[] { 0x00, 0x01, 0xFF }, typed.Data);
        Assert.Equal(42, typed.UserId);
        Assert.Equal(2.5, typed.Score);
        Assert.Equal([1, 2, 3], typed.Numbers);
        Assert.Equal("deep", typed.Nested.DeepValue);
        Assert.Equal("hello", ((ChatMessage)message.To(typeof(ChatMessage))!).Message);
    }

    [Fact]
    public void To_MapTypes_ReturnTheMessageItself()
    {
        var message = ChannelMessage.Create("t");

        Assert.Same(message, message.To<ChannelMessage>());
        Assert.Same(message, message.To<MessageMap>());
        Assert.Same(message, message.To<IReadOnlyDictionary<string, object?>>());
        Assert.Same(message, message.To(typeof(MessageMap)));
    }

    [Fact]
    public void To_WrongShape_ThrowsInvalidChannelMessageNamingTheType()
    {
        var message = ChannelMessage.Create("t", [new("user_id", "not a number")]);

        var error = Assert.Throws<InvalidChannelMessageException>(() => message.To<ChatMessage>());
        Assert.Contains(typeof(ChatMessage).ToString(), error.Message, StringComparison.Ordinal);
        Assert.IsType<JsonException>(error.InnerException, exactMatch: false);
    }

    [Fact]
    public void From_CopiesDeeply_MutatingTheSourceChangesNothing()
    {
        var bytes = new byte[] { 1, 2, 3 };
        var list = new List<object?> { 1, "two", new List<object?> { 3 } };
        var inner = new Dictionary<string, object?> { ["k"] = "v", ["bytes"] = bytes };
        var source = new Dictionary<string, object?> { ["type"] = "copy", ["list"] = list, ["inner"] = inner, ["bytes"] = bytes };
        var message = ChannelMessage.From(source);
        var before = message.ToJson();

        bytes[0] = 99;
        list.Add("added");
        ((List<object?>)list[2]!)[0] = 333;
        inner["k"] = "changed";
        inner["new"] = true;
        source["type"] = "changed";
        source["extra"] = 1;

        Assert.Equal(before, message.ToJson());
        Assert.Equal("copy", message.Type);
        Assert.Equal(new byte[] { 1, 2, 3 }, message.GetBytes("bytes")!.Value.ToArray());
        Assert.Equal(3, Assert.IsType<MessageList>(message["list"]).Count);
    }

    [Fact]
    public void From_CopiesBytesFromEveryByteContainer()
    {
        var array = new byte[] { 1, 2, 3, 4 };
        var message = ChannelMessage.From(new
        {
            type = "bytes",
            memory = new Memory<byte>(array, 1, 2),
            read_only = new ReadOnlyMemory<byte>(array, 0, 2),
            segment = new ArraySegment<byte>(array, 2, 2),
        });
        array[1] = 0xEE;
        array[2] = 0xEE;

        Assert.Equal(new byte[] { 2, 3 }, message.GetBytes("memory")!.Value.ToArray());
        Assert.Equal(new byte[] { 1, 2 }, message.GetBytes("read_only")!.Value.ToArray());
        Assert.Equal(new byte[] { 3, 4 }, message.GetBytes("segment")!.Value.ToArray());
    }

    private sealed class Node
    {
        public string Type { get; set; } = "node";

        public Node? Next { get; set; }
    }

    [Fact]
    public void From_SelfReferencingObject_IsRefusedWithAClearMessage()
    {
        var node = new Node();
        node.Next = node;

        var error = Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.From(node));

        Assert.Contains($"nests maps and lists more than {64} levels deep", error.Message, StringComparison.Ordinal);
        Assert.Contains("does an object refer to itself?", error.Message, StringComparison.Ordinal);
        Assert.Contains("next.next.next", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_SelfContainingDictionaryOrList_IsRefused()
    {
        var map = new Dictionary<string, object?> { ["type"] = "loop" };
        map["self"] = map;
        Assert.Contains("does an object refer to itself?", Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.From(map)).Message, StringComparison.Ordinal);

        var list = new List<object?>();
        list.Add(list);
        var withList = new Dictionary<string, object?> { ["type"] = "loop", ["list"] = list };
        var error = Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.From(withList));
        Assert.Contains("list[0][0]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_DeepButFiniteNesting_IsAccepted()
    {
        object? value = "leaf";
        for (var i = 0; i < 60; i++)
        {
            value = new object?[] { value };
        }

        var message = ChannelMessage.From(new Dictionary<string, object?> { ["type"] = "deep", ["v"] = value });
        Assert.IsType<MessageList>(message["v"]);
    }

    private enum Color
    {
        Red,
        Green,
        Blue,
    }

    [Fact]
    public void From_DateTimeGuidEnumAndOthers_BecomeWhatSystemTextJsonWrites()
    {
        var when = new DateTime(2026, 11, 25, 10, 20, 30, 123, DateTimeKind.Utc);
        var offset = new DateTimeOffset(2026, 11, 25, 10, 20, 30, TimeSpan.FromHours(2));
        var id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        var message = ChannelMessage.From(new
        {
            type = "t",
            when,
            offset,
            id,
            color = Color.Blue,
            span = TimeSpan.FromSeconds(90),
            date = new DateOnly(2026, 11, 25),
            uri = new Uri("https://example.com/a?b=c"),
        });

        Assert.Equal(JsonSerializer.SerializeToElement(when).GetString(), message["when"]);
        Assert.Equal("2026-11-25T10:20:30.123Z", message["when"]);
        Assert.Equal("2026-11-25T10:20:30+02:00", message["offset"]);
        Assert.Equal("0f8fad5b-d9cb-469f-a165-70867728950e", message["id"]);
        Assert.Equal(2L, Assert.IsType<long>(message["color"]));
        Assert.Equal("00:01:30", message["span"]);
        Assert.Equal("2026-11-25", message["date"]);
        Assert.Equal("https://example.com/a?b=c", message["uri"]);
    }

    [Fact]
    public void From_ValueThatCannotBeCarried_IsRefusedNamingThePath()
    {
        var error = Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.From(new { type = "t", callback = (Action)(() => { }) }));
        Assert.Contains("'callback'", error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot be carried", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_NotAMap_IsRefused()
    {
        Assert.Contains("must be a map", Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.From("text")).Message, StringComparison.Ordinal);
        Assert.Contains("must be a map", Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.From(new[] { 1, 2 })).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => ChannelMessage.From(null!));
    }

    [Fact]
    public void From_ChannelMessage_ReturnsItAsIs()
    {
        var message = ChannelMessage.Create("t");
        Assert.Same(message, ChannelMessage.From(message));
        Assert.Same(message, ChannelMessage.FromMap(message));
    }

    [Fact]
    public void TypeRules_AreEnforcedByFromAndFromMap()
    {
        Assert.Equal(
            "A message must have a 'type' key holding a string; this one has no 'type'.",
            Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.From(new { text = "x" })).Message);
        Assert.Equal(
            "A message's 'type' must be a string; this one is a integer.",
            Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.From(new { type = 5 })).Message);
        Assert.Equal(
            "A message must not use the key '__asgi_channel__': channel layers reserve it for routing.",
            Assert.Throws<InvalidChannelMessageException>(() => ChannelMessage.FromMap(MessageMap.Create([new("type", "t"), new("__asgi_channel__", "a!b")]))).Message);
        Assert.Throws<ArgumentNullException>(() => ChannelMessage.Create(null!));
    }

    [Fact]
    public void MessageMapCreate_RefusesDuplicateKeys()
    {
        var error = Assert.Throws<InvalidChannelMessageException>(() => MessageMap.Create([new("type", "t"), new("a", 1), new("a", 2)]));
        Assert.Equal("The key 'a' appears twice in the map at the top level.", error.Message);
    }

    [Fact]
    public void With_ReplacesInPlaceOrAppendsAndLeavesTheOriginalAlone()
    {
        var original = ChannelMessage.Create("t", [new("a", 1), new("b", 2)]);

        var replaced = original.With("a", "one");
        var added = original.With("c", new[] { 3 });
        var retyped = original.With("type", "other");

        Assert.Equal(["type", "a", "b"], replaced.Keys);
        Assert.Equal("one", replaced["a"]);
        Assert.Equal(["type", "a", "b", "c"], added.Keys);
        Assert.Equal([3L], Assert.IsType<MessageList>(added["c"]));
        Assert.Equal("other", retyped.Type);
        Assert.Equal(1L, original["a"]);
        Assert.Equal(["type", "a", "b"], original.Keys);
        Assert.Equal("t", original.Type);
        Assert.Throws<InvalidChannelMessageException>(() => original.With("type", 5));
        Assert.Throws<InvalidChannelMessageException>(() => original.With("__asgi_channel__", "x!y"));
    }

    [Fact]
    public void With_CopiesTheNewValue()
    {
        var bytes = new byte[] { 1 };
        var message = ChannelMessage.Create("t").With("b", bytes);
        bytes[0] = 2;
        Assert.Equal(new byte[] { 1 }, message.GetBytes("b")!.Value.ToArray());
    }

    [Fact]
    public void Accessors_ReturnNullForMissingOrOtherKinds()
    {
        var message = ChannelMessage.Create("t", [new("s", "text"), new("n", 5), new("big", ulong.MaxValue), new("b", new byte[] { 1 })]);

        Assert.Equal("text", message.GetString("s"));
        Assert.Null(message.GetString("n"));
        Assert.Null(message.GetString("missing"));
        Assert.Equal(5L, message.GetInt64("n"));
        Assert.Null(message.GetInt64("big"));
        Assert.Null(message.GetInt64("s"));
        Assert.Equal(new byte[] { 1 }, message.GetBytes("b")!.Value.ToArray());
        Assert.Null(message.GetBytes("s"));
        Assert.True(message.ContainsKey("s"));
        Assert.False(message.ContainsKey("S"));
        var missing = Assert.Throws<KeyNotFoundException>(() => message["missing"]);
        Assert.Equal("The message has no key 'missing'.", missing.Message);
    }

    [Fact]
    public void LargeMaps_FindEveryKey()
    {
        var fields = Enumerable.Range(0, 40).Select(i => new KeyValuePair<string, object?>($"k{i}", i)).ToList();
        var message = ChannelMessage.Create("t", fields);

        for (var i = 0; i < 40; i++)
        {
            Assert.Equal((long)i, message[$"k{i}"]);
        }

        Assert.False(message.ContainsKey("k40"));
        Assert.Equal(41, message.Count);
    }

    [Fact]
    public void ToJson_WritesBytesAsBase64AndNonFiniteDoublesAsNames()
    {
        var message = ChannelMessage.Create("t",
        [
            new("b", new byte[] { 0x00, 0xFF }),
            new("nan", double.NaN),
            new("inf", double.PositiveInfinity),
            new("ninf", double.NegativeInfinity),
            new("u", ulong.MaxValue),
            new("s", "é<>&"),
        ]);

        Assert.Equal("""{"type":"t","b":"AP8=","nan":"NaN","inf":"Infinity","ninf":"-Infinity","u":18446744073709551615,"s":"é<>&"}""", message.ToJson());
        Assert.Equal(message.ToJson(), message.ToString());
    }

    [Fact]
    public void MessageListCreate_NormalizesItems()
    {
        var list = MessageList.Create([1, "a", null, new byte[] { 1 }, new[] { 2 }]);

        Assert.Equal(5, list.Count);
        Assert.IsType<long>(list[0]);
        Assert.IsType<ReadOnlyMemory<byte>>(list[3]);
        Assert.IsType<MessageList>(list[4]);
        Assert.Equal("""[1,"a",null,"AQ==",[2]]""", list.ToString());
        Assert.Empty(MessageList.Empty);
    }

    [Fact]
    public void RoundTripThroughJson_KeepsEveryJsonKind()
    {
        var message = ChannelMessage.From(new { type = "t", a = new object?[] { 1, 2.5, "x", null, true, new { k = "v" } } });

        var again = ChannelMessage.FromJson(message.ToJson());

        MessageAssert.Equal(message, again);
    }

    [Fact]
    public void To_WithDefaultOptions_BindsOnceAndSharesTheResult()
    {
        var message = ChannelMessage.From(new { type = "chat.message", message = "hi" });
        var first = message.To<BoundChat>();
        var second = message.To<BoundChat>();
        Assert.Same(first, second);
        Assert.Equal("hi", first.Message);

        var custom = new System.Text.Json.JsonSerializerOptions(ChannelMessage.DefaultSerializerOptions);
        Assert.NotSame(first, message.To<BoundChat>(custom));
        Assert.Equal(new BoundOther("chat.message"), message.To<BoundOther>());
        Assert.Same(message.To<BoundOther>(), message.To<BoundOther>());
    }

    public sealed record BoundChat(string Type, string Message);

    public sealed record BoundOther(string Type);

    [Fact]
    public void A_large_map_builds_in_linear_time_and_still_refuses_a_repeated_key()
    {
        var fields = Enumerable.Range(0, 65_536).Select(i => new KeyValuePair<string, object?>($"k{i}", i)).ToList();
        var map = MessageMap.Create(fields);
        Assert.Equal(65_536, map.Count);
        Assert.Equal(65_535L, map["k65535"]);

        fields.Add(new("k40000", 1));
        var error = Assert.Throws<InvalidChannelMessageException>(() => MessageMap.Create(fields));
        Assert.Contains("The key 'k40000' appears twice", error.Message, StringComparison.Ordinal);
        var small = new[] { new KeyValuePair<string, object?>("a", 1), new KeyValuePair<string, object?>("a", 2) };
        Assert.Throws<InvalidChannelMessageException>(() => MessageMap.Create(small));
    }
}
