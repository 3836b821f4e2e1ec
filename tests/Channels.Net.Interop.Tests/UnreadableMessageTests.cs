using Channels.Net.Interop.Tests.Infrastructure;
using Channels.Net.Layers;
using Channels.Net.Redis.Crypto;
using Channels.Net.Testing.Conformance;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Interop.Tests;

/// <summary>What a receiver does with a message it cannot read (a key it does not hold, or encryption on one side only).</summary>
/// <remarks>
/// <para>Channels.Net drops the message, logs a warning (event 502) that names the Redis key and the
/// fingerprints of the keys it tried, and goes on to deliver the next good message.</para>
/// <para>channels_redis 4.0 (as these tests pin down): <c>receive()</c> raises — <c>cryptography.fernet.InvalidToken</c>
/// for a token made with another key or for plain msgpack reaching an encrypting layer, and
/// <c>msgpack.exceptions.ExtraData</c> for a Fernet token reaching a layer without keys (the token's first
/// byte, <c>g</c>, unpacks as the integer 103 and the rest is "extra data"). It logs nothing. The message is
/// gone either way (popped, and its <c>$inflight</c> backup cleaned), and the next <c>receive()</c> returns
/// the next good message. In a Django consumer that exception ends the consumer: its connection closes.</para>
/// </remarks>
[Collection(InteropCollection.Name)]
public sealed class UnreadableMessageTests(InteropEnvironment env)
{
    public enum Mismatch
    {
        /// <summary>The sender rotated to a key the receiver does not have yet: sender ["new", "old"], receiver ["old"].</summary>
        KeyReceiverLacks,

        /// <summary>Plain sender, encrypting receiver ["old"].</summary>
        PlainToEncrypted,

        /// <summary>Encrypting sender ["old"], plain receiver.</summary>
        EncryptedToPlain,
    }

    public static TheoryData<Direction, Mismatch, bool> Matrix()
    {
        var data = new TheoryData<Direction, Mismatch, bool>();
        foreach (var direction in Enum.GetValues<Direction>())
        {
            foreach (var mismatch in Enum.GetValues<Mismatch>())
            {
                data.Add(direction, mismatch, true);
                data.Add(direction, mismatch, false);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task An_unreadable_message_is_dropped_and_the_next_good_one_arrives(Direction direction, Mismatch mismatch, bool processLocal)
    {
        var (badKeys, receiverKeys) = mismatch switch
        {
            Mismatch.KeyReceiverLacks => (new[] { "new", "old" }, new[] { "old" }),
            Mismatch.PlainToEncrypted => (null, new[] { "old" }),
            _ => (new[] { "old" }, (string[]?)null),
        };
        var prefix = InteropEnvironment.NewPrefix();
        var sides = new List<ILayerSide>(); // disposed whatever happens
        try
        {
            async Task<ILayerSide> Create(bool python, string[]? keys)
            {
                ILayerSide side = python ? await env.CreatePythonAsync(prefix, keys) : env.CreateDotNet(prefix, keys);
                sides.Add(side);
                return side;
            }

            var pythonReceives = direction == Direction.DotNetToPython;
            var receiver = await Create(pythonReceives, receiverKeys);
            var badSender = await Create(!pythonReceives, badKeys);
            var goodSender = await Create(!pythonReceives, receiverKeys);

            var channel = processLocal ? await receiver.NewChannelAsync() : "unreadable-worker";
            var key = prefix + (processLocal ? "specific." + receiver.ClientPrefix + "!" : channel);
            var good = Messages.Of("good", ("n", 1L));
            await badSender.SendOkAsync(channel, Messages.Of("unreadable"));
            await goodSender.SendOkAsync(channel, good);

            if (receiver is PythonSide python)
            {
                var error = await Assert.ThrowsAsync<PythonPeerException>(() => python.TryReceiveAsync(channel, InteropEnvironment.Timeout));
                Assert.Equal(mismatch == Mismatch.EncryptedToPlain ? "msgpack.exceptions.ExtraData" : "cryptography.fernet.InvalidToken", error.PythonType);
                MessageAssert.Equal(good, await python.ReceiveAsync(channel));
                await AssertEventuallyEmptyAsync(key + "$inflight");
            }
            else
            {
                var dotNet = (DotNetSide)receiver;
                MessageAssert.Equal(good, await dotNet.ReceiveAsync(channel));
                var warning = Assert.Single(dotNet.Logs.Entries, e => e.EventId.Id == 502);
                Assert.Equal(LogLevel.Warning, warning.Level);
                Assert.Contains(key, warning.Message, StringComparison.Ordinal);
                if (receiverKeys is not null)
                {
                    // The fingerprint in the log is the one Python computes for the same key, so an operator can compare.
                    var fingerprint = FernetKey.FromSymmetricEncryptionKey("old").Fingerprint;
                    Assert.Equal([fingerprint], await ((PythonSide)goodSender).Layer.FingerprintsAsync());
                    Assert.Contains(fingerprint, warning.Message, StringComparison.Ordinal);
                    Assert.Contains(mismatch == Mismatch.KeyReceiverLacks ? "SignatureMismatch" : "Malformed", warning.Message, StringComparison.Ordinal);
                }
            }

            Assert.Equal(0, await env.Inspect.SortedSetLengthAsync(key));
        }
        finally
        {
            foreach (var side in sides)
            {
                await side.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_python_message_without_a_string_type_is_dropped_with_a_warning()
    {
        // channels_redis sends any dict; Channels.Net requires a string 'type' (it picks the handler), so it
        // drops such a message with warning 502 rather than failing the receive, and delivers the next one.
        var prefix = InteropEnvironment.NewPrefix();
        await using var dotNet = env.CreateDotNet(prefix);
        await using var python = await env.CreatePythonAsync(prefix);
        var channel = await dotNet.NewChannelAsync();
        await python.SendOkAsync(channel, MessageMap.Create([new("text", "no type at all")]));
        await python.SendOkAsync(channel, MessageMap.Create([new("type", 5L)]));
        var good = Messages.Of("good");
        await python.SendOkAsync(channel, good);

        MessageAssert.Equal(good, await dotNet.ReceiveAsync(channel));
        var warnings = dotNet.Logs.Entries.Where(e => e.EventId.Id == 502).ToArray();
        Assert.Equal(2, warnings.Length);
        Assert.All(warnings, w => Assert.Equal(LogLevel.Warning, w.Level));
        Assert.Contains("no 'type' key", warnings[0].Message, StringComparison.Ordinal);
        Assert.Contains("'type' must be a string", warnings[1].Message, StringComparison.Ordinal);
    }

    private async Task AssertEventuallyEmptyAsync(string key)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (await env.Inspect.SortedSetLengthAsync(key) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, await env.Inspect.SortedSetLengthAsync(key));
    }
}
