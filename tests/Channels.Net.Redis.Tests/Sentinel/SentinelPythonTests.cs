using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Channels.Net.Layers;
using Channels.Net.Redis.Tests.Support;

namespace Channels.Net.Redis.Tests.Sentinel;

/// <summary>
/// The real channels_redis 4.0 (Debian's python3-channels-redis), configured with the dict form this
/// layer's Sentinel host mirrors, shares groups and channels with the layer through the same sentinels.
/// </summary>
public sealed class SentinelPythonTests(SentinelCluster cluster) : IClassFixture<SentinelCluster>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    // hosts=[{"sentinels": [(host, port)], "master_name": ..., "password": ..., "sentinel_kwargs": {"password": ...}}]
    private const string Script = """
        import asyncio, json, sys
        from channels_redis.core import RedisChannelLayer

        request = json.load(sys.stdin)

        async def main():
            layer = RedisChannelLayer(
                hosts=[{
                    "sentinels": [(host, port) for host, port in request["sentinels"]],
                    "master_name": request["master_name"],
                    "password": request["password"],
                    "sentinel_kwargs": {"password": request["sentinel_password"]},
                }],
                prefix=request["prefix"],
            )
            await layer.group_send(request["group"], {"type": "from.python", "text": "hi"})
            message = await asyncio.wait_for(layer.receive(request["channel"]), 20)
            print(json.dumps({"type": message["type"], "text": message["text"]}))

        asyncio.run(main())
        """;

    [Fact]
    public async Task Channels_redis_with_the_same_sentinels_shares_groups_and_channels()
    {
        var prefix = $"sentinelpy{Guid.NewGuid():N}";
        var options = new RedisChannelLayerOptions { Prefix = prefix, BlockingPopTimeout = TimeSpan.FromSeconds(1) };
        options.Hosts.Add(cluster.Host);
        await using var layer = new RedisChannelLayer(options);
        var local = await layer.NewChannelAsync();
        await layer.GroupAddAsync("python-room", local);
        await layer.SendAsync("python.inbox", ChannelMessage.Create("from.dotnet").With("text", "hello"));

        var request = new JsonObject
        {
            ["sentinels"] = new JsonArray([.. cluster.SentinelPorts.Select(p => (JsonNode)new JsonArray("127.0.0.1", p))]),
            ["master_name"] = SentinelCluster.MasterName,
            ["password"] = SentinelCluster.Password,
            ["sentinel_password"] = SentinelCluster.SentinelPassword,
            ["prefix"] = prefix,
            ["group"] = "python-room",
            ["channel"] = "python.inbox",
        };
        var answer = await RunPythonAsync(request);

        Assert.Equal("from.dotnet", (string?)answer["type"]);
        Assert.Equal("hello", (string?)answer["text"]);
        var fromPython = await layer.ReceiveAsync(local).AsTask().WaitAsync(s_wait);
        Assert.Equal("from.python", fromPython.Type);
        Assert.Equal("hi", fromPython["text"]);
    }

    private static async Task<JsonObject> RunPythonAsync(JsonObject request)
    {
        var python = PythonPeer.PythonPath;
        Assert.True(File.Exists(python), $"The Python interpreter {python} does not exist: apt-get install -y python3 python3-channels-redis (./build.sh test does it).");
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-I", "-B", "-c", Script })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {python}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(request.ToJsonString());
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"channels_redis did not finish within a minute:\n{await stderr}");
        }

        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"channels_redis failed with exit code {process.ExitCode.ToString(CultureInfo.InvariantCulture)}:\n{await stderr}");
        return JsonNode.Parse(output)?.AsObject() ?? throw new InvalidOperationException("The Python peer printed no JSON.");
    }
}
