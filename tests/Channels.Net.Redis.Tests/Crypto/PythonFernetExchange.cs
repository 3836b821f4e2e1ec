using System.Text;
using System.Text.Json.Nodes;
using Channels.Net.Layers;
using Channels.Net.Redis.Tests.Support;
using Channels.Net.Redis.Wire;
using static Channels.Net.Redis.Tests.Support.Values;

namespace Channels.Net.Redis.Tests.Crypto;

/// <summary>Makes our tokens, runs the Python peer once for the class, keeps its answer.</summary>
public sealed class PythonFernetExchange
{
    public PythonFernetExchange()
    {
        var random = new Random(99);
        Plaintexts = new[] { 0, 1, 15, 16, 17, 100, 65_536 }.Select(n => RandomValues.RandomBytes(random, n)).ToArray();
        Fixed =
        [
            ("hello"u8.ToArray(), 1_764_000_000UL, new byte[16]),
            (RandomValues.RandomBytes(random, 33), 0UL, RandomValues.RandomBytes(random, 16)),
            (RandomValues.RandomBytes(random, 1000), 4_102_444_800UL, RandomValues.RandomBytes(random, 16)),
        ];
        LayerMessage = Message("chat.message", ("message", "héllo"), ("n", 7), ("blob", Bytes(1, 2, 3)));

        var ours = PythonFernetInteropTests.Ours(PythonFernetInteropTests.SecretA, PythonFernetInteropTests.SecretB);
        var request = new JsonObject
        {
            ["secrets"] = new JsonArray(PythonFernetInteropTests.SecretA, PythonFernetInteropTests.SecretB),
            ["ttl"] = (int)PythonFernetInteropTests.Ttl.TotalSeconds,
            ["plaintexts"] = new JsonArray(Plaintexts.Select(p => (JsonNode)Convert.ToBase64String(p)).ToArray()),
            ["dotnet_tokens"] = new JsonArray(Plaintexts.Select(p => (JsonNode)new JsonObject { ["token"] = Encoding.ASCII.GetString(ours.Encrypt(p)) }).ToArray()),
            ["fixed"] = new JsonArray(Fixed.Select(f => (JsonNode)new JsonObject
            {
                ["plaintext"] = Convert.ToBase64String(f.Plaintext),
                ["timestamp"] = f.Timestamp,
                ["iv"] = Convert.ToBase64String(f.Iv),
            }).ToArray()),
            ["layer"] = new JsonObject
            {
                ["message"] = TaggedValue.ToTagged(LayerMessage),
                ["dotnet_member"] = Convert.ToBase64String(new ChannelsRedisSerializer(ours).Serialize(LayerMessage)),
            },
        };

        Answer = PythonPeer.Run("fernet", request);
    }

    public byte[][] Plaintexts { get; }

    public (byte[] Plaintext, ulong Timestamp, byte[] Iv)[] Fixed { get; }

    public ChannelMessage LayerMessage { get; }

    public JsonObject Answer { get; }
}
