using System.Buffers;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Channels.Net.Benchmarks.Harness;
using Channels.Net.Layers;
using Channels.Net.Redis.Wire;

namespace Channels.Net.Benchmarks.Scenarios.Msgpack;

/// <summary>
/// Can MessagePack-CSharp's <c>MessagePackWriter</c> be driven to write exactly the bytes our writer writes (which are
/// msgpack-python's <c>packb(use_bin_type=True)</c>)? For a set of values at every encoding boundary — integers (negative and
/// 64-bit edges too), floats (NaN, -0.0, infinities), strings of 0 to 65,536 UTF-8 bytes (ASCII and multi-byte, so the
/// library's header guess from the char count is tested), bytes, lists and maps at their header boundaries, nested values,
/// bool and null, the two benchmark messages and channels_redis's reference vectors — it compares the library's bytes with
/// ours (with <c>OldSpec = false</c>, its default, and with <c>OldSpec = true</c> for contrast), decodes ours back with
/// both readers, feeds both readers inputs Python may send that we never write, and, when <c>/usr/bin/python3</c> has
/// msgpack, has Python unpack and re-pack our bytes to confirm they are its own.
/// </summary>
public static class ByteEqualityCheck
{
    private const string Python = "/usr/bin/python3";

    private const string PythonScript = """
        import sys, msgpack
        print("msgpack " + ".".join(map(str, msgpack.version)))
        for line in open(sys.argv[1]):
            packed = bytes.fromhex(line.strip())
            try:
                again = msgpack.packb(msgpack.unpackb(packed, raw=False, strict_map_key=False), use_bin_type=True)
                print("same" if again == packed else "differs " + again[:40].hex())
            except Exception as e:
                print("error " + type(e).__name__ + ": " + str(e).replace("\n", " ")[:200])
        """;

    public static ScenarioOutcome Run(TextWriter progress)
    {
        progress.WriteLine("msgpack-bytes) the library's writer and reader against ours, value by value ...");
        var outcome = new ScenarioOutcome("msgpack-bytes", "byte equality: MessagePack-CSharp's MessagePackWriter (OldSpec=false) vs ours, and both readers", []);
        var values = Values();
        var writeDiffers = 0;
        var oldSpecDiffers = new List<string>();
        var readDiffers = 0;
        var ourBytes = new List<(string Name, byte[] Bytes)>();
        foreach (var (name, value) in values)
        {
            var ours = Write(static (v, o) => MessageCodec.EncodeValue(v, o), value);
            var library = Write(static (v, o) => LibraryCodec<LibraryStrings>.EncodeValue(v, o, oldSpec: false), value);
            var oldSpec = Write(static (v, o) => LibraryCodec<LibraryStrings>.EncodeValue(v, o, oldSpec: true), value);
            if (ours.Bytes is null)
            {
                // Ours refuses it (as Python does); say what the library would have put on the wire instead.
                outcome.Ratios.Add($"{name}: ours refuses ({ours.Error}); the library writes {Hex(library.Bytes)} without a word" +
                    $" (a codec on it must check first; the 'layer's rules' case does)");
                continue;
            }

            ourBytes.Add((name, ours.Bytes));
            if (library.Bytes is null || !library.Bytes.AsSpan().SequenceEqual(ours.Bytes))
            {
                writeDiffers++;
                outcome.Ratios.Add($"DIFFERS {name}: ours {Hex(ours.Bytes)}, library {(library.Bytes is null ? library.Error : Hex(library.Bytes))}");
            }

            if (oldSpec.Bytes is null || !oldSpec.Bytes.AsSpan().SequenceEqual(ours.Bytes))
            {
                oldSpecDiffers.Add(name);
            }

            var readOurs = MessageCodec.DecodeValue(ours.Bytes);
            var readLibrary = Read(ours.Bytes);
            if (readLibrary.Error is not null || !MessageValuesCompare.Same(readOurs, readLibrary.Value))
            {
                readDiffers++;
                outcome.Ratios.Add($"READ DIFFERS {name}: the library's reader gave {readLibrary.Error ?? Describe(readLibrary.Value)}");
            }
        }

        var messages = MessageBytes(outcome, ref writeDiffers, ref readDiffers);
        ourBytes.AddRange(messages);
        outcome.Ratios.Add($"{ourBytes.Count} values and messages written by ours; the library's writer (OldSpec=false) wrote other bytes for {writeDiffers}, " +
            $"its reader read another value for {readDiffers}");
        outcome.Ratios.Add($"with OldSpec=true the library differs for {oldSpecDiffers.Count} of them (no str8, bytes as str): {Shorten(string.Join(", ", oldSpecDiffers))}");
        outcome.Targets.Add(new TargetCheck("the library's writer writes our bytes for every value and message", writeDiffers == 0, $"{writeDiffers} differ of {ourBytes.Count}"));
        outcome.Targets.Add(new TargetCheck("the library's reader reads our bytes back as ours does", readDiffers == 0, $"{readDiffers} differ of {ourBytes.Count}"));

        var foreign = ForeignInputs(outcome);
        outcome.Targets.Add(new TargetCheck("both readers agree on input Python may send that we never write (float32, wide ints, bytes/int keys, bad input)", foreign == 0, $"{foreign} disagree"));

        var python = AskPython(ourBytes);
        if (python.Note is not null)
        {
            outcome.Ratios.Add(python.Note);
        }

        if (python.Differs is { } pythonDiffers)
        {
            outcome.Targets.Add(new TargetCheck("Python's msgpack re-packs every one of our byte strings unchanged", pythonDiffers == 0, $"{pythonDiffers} differ of {ourBytes.Count}"));
        }

        return outcome;
    }

    /// <summary>The values, each written as a top-level item.</summary>
    private static List<(string Name, object? Value)> Values()
    {
        var values = new List<(string, object?)>();
        long[] ints =
        [
            0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, long.MaxValue,
            -1, -32, -33, -128, -129, -32768, -32769, int.MinValue, (long)int.MinValue - 1, long.MinValue,
        ];
        values.AddRange(ints.Select(static i => ($"int {i}", (object?)i)));
        values.Add(("ulong 200", 200UL));
        values.Add(("ulong 2^63", (ulong)long.MaxValue + 1));
        values.Add(("ulong max", ulong.MaxValue));

        double[] floats =
        [
            0.0, -0.0, 1.5, 3.0, 0.1, -2.5e-300, double.MaxValue, double.Epsilon, double.PositiveInfinity, double.NegativeInfinity,
            double.NaN, BitConverter.Int64BitsToDouble(0x7ff8000000000000),
        ];
        values.AddRange(floats.Select(static d => ($"float {d:R} (bits {BitConverter.DoubleToInt64Bits(d):x16})", (object?)d)));

        foreach (var length in new[] { 0, 1, 31, 32, 255, 256, 65535, 65536 })
        {
            values.Add(($"str ASCII {length} B", new string('a', length)));
        }

        // Multi-byte text: the byte count is not the char count, so a writer that guesses its header from the chars must fix it.
        values.Add(("str 'é'x15 (30 B)", new string('é', 15)));
        values.Add(("str 'é'x16 (32 B)", new string('é', 16)));
        values.Add(("str '€'x10 (30 B)", new string('€', 10)));
        values.Add(("str '€'x11 (33 B)", new string('€', 11)));
        values.Add(("str '€'x85 (255 B)", new string('€', 85)));
        values.Add(("str '€'x86 (258 B)", new string('€', 86)));
        values.Add(("str 'é'x128 (256 B)", new string('é', 128)));
        values.Add(("str '€'x21845 (65535 B)", new string('€', 21845)));
        values.Add(("str '€'x21846 (65538 B)", new string('€', 21846)));
        values.Add(("str emoji x7 (28 B)", string.Concat(Enumerable.Repeat("😀", 7))));
        values.Add(("str emoji x8 (32 B)", string.Concat(Enumerable.Repeat("😀", 8))));
        values.Add(("str with a lone surrogate", "a\uD800b"));

        foreach (var length in new[] { 0, 1, 255, 256, 65535, 65536 })
        {
            var bytes = new byte[length];
            new Random(length).NextBytes(bytes);
            values.Add(($"bytes {length} B", new ReadOnlyMemory<byte>(bytes)));
        }

        values.Add(("true", true));
        values.Add(("false", false));
        values.Add(("null", null));

        foreach (var count in new[] { 0, 15, 16, 65535, 65536 })
        {
            values.Add(($"list of {count}", count == 0 ? MessageList.Empty : new MessageList([.. Enumerable.Range(0, count).Select(static i => (object?)(long)i)])));
            values.Add(($"map of {count}", count == 0
                ? MessageMap.Empty
                : new MessageMap([.. Enumerable.Range(0, count).Select(static i => new KeyValuePair<string, object?>($"k{i}", (long)i))])));
        }

        values.Add(("nested [1, 'two', [3.0], {'a': {'b': [None, True, {'c': b'\\x00'}]}}]", new MessageList(
        [
            1L, "two", new MessageList([3.0]),
            new MessageMap([new("a", new MessageMap([new("b", new MessageList([null, true, new MessageMap([new("c", new ReadOnlyMemory<byte>([0]))])]))]))]),
        ])));
        return values;
    }

    /// <summary>The two benchmark messages and channels_redis's reference vectors, through each codec's message encoder.</summary>
    private static List<(string, byte[])> MessageBytes(ScenarioOutcome outcome, ref int writeDiffers, ref int readDiffers)
    {
        var chat = MsgpackMessages.Chat();
        var one = MsgpackMessages.OneChannel();
        var group = MsgpackMessages.GroupChannels();
        var cases = new List<(string Name, byte[] Ours, byte[] Library, byte[]? Python)>
        {
            ("message, one channel", MessageCodec.Encode(chat, one), Write(b => LibraryCodec<LayerRules>.Encode(chat, one, b)), null),
            ("message, 100 channels", MessageCodec.Encode(chat, group), Write(b => LibraryCodec<LayerRules>.Encode(chat, group, b)), null),
        };

        var vectors = Path.Combine(AppContext.BaseDirectory, "TestData", "wire-vectors.json");
        var packed = JsonNode.Parse(File.ReadAllText(vectors))!["msgpack"]!.AsArray();
        for (var i = 0; i < packed.Count; i++)
        {
            var python = Convert.FromBase64String(packed[i]!["packed"]!.GetValue<string>());
            var value = MessageCodec.DecodeValue(python);
            cases.Add(($"channels_redis vector {i} {packed[i]!["message_repr"]}", MessageCodec.Encode((MessageMap)value!),
                Write(b => LibraryCodec<LayerRules>.EncodeValue(value, b)), python));
        }

        foreach (var (name, ours, library, python) in cases)
        {
            if (python is not null && !python.AsSpan().SequenceEqual(ours))
            {
                outcome.Ratios.Add($"OURS DIFFERS FROM PYTHON {name}: {Hex(ours)} vs {Hex(python)}");
            }

            if (!library.AsSpan().SequenceEqual(ours))
            {
                writeDiffers++;
                outcome.Ratios.Add($"DIFFERS {name}: ours {Hex(ours)}, library {Hex(library)}");
            }

            var ourMessage = MessageCodec.Decode(ours);
            var libraryMessage = LibraryCodec<LayerRules>.Decode(ours);
            if (!MessageValuesCompare.Same(ourMessage.Message, libraryMessage.Message) || !MessageValuesCompare.Same(ourMessage.AsgiChannel, libraryMessage.AsgiChannel))
            {
                readDiffers++;
                outcome.Ratios.Add($"READ DIFFERS {name}");
            }
        }

        return [.. cases.Select(static c => (c.Name, c.Ours))];
    }

    /// <summary>Bytes Python may send that our writer never makes, and bad input: both readers must give the same value or both refuse.</summary>
    private static int ForeignInputs(ScenarioOutcome outcome)
    {
        (string Name, string Hex)[] inputs =
        [
            ("float32 1.5", "ca3fc00000"),
            ("int64 1", "d30000000000000001"),
            ("uint16 5", "cd0005"),
            ("uint64 5", "cf0000000000000005"),
            ("str8 'abc'", "d903616263"),
            ("str16 'abc'", "da0003616263"),
            ("bin16 3 B", "c50003010203"),
            ("map {b'k': 1}", "81c4016b01"),
            ("map {1: 'a'}", "8101a161"),
            ("map {-200: 'a', 2^64-1: 'b'}", "82d1ff38a161cfffffffffffffffffa162"),
            ("invalid UTF-8 str", "a1ff"),
            ("repeated key", "82a16101a16102"),
            ("ext (fixext1)", "d40100"),
            ("0xc1", "c1"),
            ("trailing byte", "c0c0"),
            ("truncated str", "a561"),
            ("list claiming 2^32-1 items", "ddffffffff"),
        ];
        var disagree = 0;
        var agreed = new List<string>();
        foreach (var (name, hex) in inputs)
        {
            var bytes = Convert.FromHexString(hex);
            (object? Value, string? Error) ours;
            try
            {
                ours = (MessageCodec.DecodeValue(bytes), null);
            }
            catch (WireFormatException e)
            {
                ours = (null, e.Message);
            }

            var library = Read(bytes);
            var same = ours.Error is not null ? library.Error is not null : library.Error is null && MessageValuesCompare.Same(ours.Value, library.Value);
            if (same)
            {
                agreed.Add(ours.Error is null ? name : $"{name} (both refuse)");
            }
            else
            {
                disagree++;
                outcome.Ratios.Add($"READERS DISAGREE on {name} ({hex}): ours {ours.Error ?? Describe(ours.Value)}, library {library.Error ?? Describe(library.Value)}");
            }
        }

        outcome.Ratios.Add($"foreign input, both readers agree: {string.Join(", ", agreed)}");

        // What the library's own ReadString makes of invalid UTF-8, which Python (raw=False) and ours refuse.
        string lenient;
        try
        {
            var value = LibraryCodec<LibraryStrings>.DecodeValue(new byte[] { 0xa1, 0xff });
            lenient = value is string text ? $"the string U+{(int)text[0]:X4} (length {text.Length})" : Describe(value);
        }
        catch (WireFormatException e)
        {
            lenient = "refused: " + e.Message;
        }

        outcome.Ratios.Add($"invalid UTF-8 (a1ff) through the library's own ReadString: {lenient}; ours and Python refuse it");
        return disagree;
    }

    private static (string? Note, int? Differs) AskPython(List<(string Name, byte[] Bytes)> ours)
    {
        if (!File.Exists(Python))
        {
            return ($"not compared with Python: {Python} does not exist (apt-get install python3-msgpack)", null);
        }

        var directory = Directory.CreateTempSubdirectory("channels-net-bench-msgpack-").FullName;
        try
        {
            var input = Path.Combine(directory, "values.hex");
            File.WriteAllLines(input, ours.Select(static o => Convert.ToHexStringLower(o.Bytes)));
            var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "-I", "-B", "-c", PythonScript, input })
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {Python}.");
            var stderr = process.StandardError.ReadToEndAsync();
            var lines = new List<string>();
            while (process.StandardOutput.ReadLine() is { } line)
            {
                lines.Add(line);
            }

            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill();
                return ("not compared with Python: it did not finish within 60 s", null);
            }

            if (lines.Count != ours.Count + 1 || !lines[0].StartsWith("msgpack ", StringComparison.Ordinal))
            {
                return ($"not compared with Python: {Python} gave {lines.Count} lines ({stderr.Result.Trim()})", null);
            }

            var differs = 0;
            var notes = new List<string>();
            for (var i = 0; i < ours.Count; i++)
            {
                if (lines[i + 1] != "same")
                {
                    differs++;
                    notes.Add($"{ours[i].Name}: {lines[i + 1]}");
                }
            }

            return ($"Python ({lines[0]}) unpacked and re-packed (use_bin_type=True) all {ours.Count} of our byte strings: " +
                (differs == 0 ? "every one unchanged" : $"{differs} changed: {string.Join("; ", notes)}"), differs);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static (byte[]? Bytes, string? Error) Write(Action<object?, IBufferWriter<byte>> write, object? value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        try
        {
            write(value, buffer);
            return (buffer.WrittenSpan.ToArray(), null);
        }
        catch (InvalidChannelMessageException e)
        {
            return (null, e.Message[..Math.Min(60, e.Message.Length)] + "...");
        }
    }

    private static byte[] Write(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static (object? Value, string? Error) Read(byte[] bytes)
    {
        try
        {
            return (LibraryCodec<LayerRules>.DecodeValue(bytes), null);
        }
        catch (WireFormatException e)
        {
            return (null, "refused: " + e.Message);
        }
    }

    private static string Describe(object? value) => value switch
    {
        MessageMap map => $"a map of {map.Count}",
        MessageList list => $"a list of {list.Count}",
        ReadOnlyMemory<byte> b => $"bytes[{b.Length}]",
        string s => $"'{Shorten(s)}'",
        _ => $"{value ?? "null"} ({value?.GetType().Name})",
    };

    private static string Hex(byte[]? bytes) => bytes is null ? "nothing" : bytes.Length <= 24
        ? Convert.ToHexStringLower(bytes)
        : $"{Convert.ToHexStringLower(bytes.AsSpan(0, 24))}... ({bytes.Length:N0} B)";

    private static string Shorten(string text) => text.Length <= 300 ? text : string.Concat(text.AsSpan(0, 297), "...");
}
