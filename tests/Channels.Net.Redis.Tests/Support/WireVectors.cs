using System.Text.Json.Nodes;

namespace Channels.Net.Redis.Tests.Support;

/// <summary>
/// TestData/wire-vectors.json: reference bytes made by channels_redis 4.0.0 / msgpack 1.0.3 /
/// cryptography 38 (a copy of the shared wire-vectors.json kept in the repository, so the tests
/// do not depend on the shared folder's path).
/// </summary>
internal static class WireVectors
{
    private static readonly Lazy<JsonObject> Root = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "wire-vectors.json")))!.AsObject());

    public static JsonArray Msgpack => Root.Value["msgpack"]!.AsArray();

    public static JsonArray Fernet => Root.Value["fernet"]!.AsArray();

    public static JsonArray ConsistentHash => Root.Value["consistent_hash"]!.AsArray();

    public static IEnumerable<object[]> MsgpackCases() =>
        Enumerable.Range(0, Msgpack.Count).Select(static i => new object[] { i });

    public static IEnumerable<object[]> FernetCases() =>
        Enumerable.Range(0, Fernet.Count).Select(static i => new object[] { i });
}
