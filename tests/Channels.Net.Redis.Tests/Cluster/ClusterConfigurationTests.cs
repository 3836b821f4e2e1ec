using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Channels.Net.Redis.Tests.Cluster;

/// <summary>How a cluster is configured, and what is refused at start-up (naming the key) or on first contact.</summary>
public sealed class ClusterConfigurationTests
{
    [Fact]
    public async Task Cluster_true_makes_every_host_a_seed_of_one_cluster()
    {
        await using var provider = Build(
            ("default:Backend", "Redis"),
            ("default:Config:Cluster", "true"),
            ("default:Config:Hosts:0", "redis://10.0.0.1:7000"),
            ("default:Config:Hosts:1:0", "10.0.0.2"),
            ("default:Config:Hosts:1:1", "7001"),
            ("default:Config:Hosts:2:Host", "10.0.0.3"),
            ("default:Config:Hosts:2:Port", "7002"));
        var layer = Assert.IsType<RedisChannelLayer>(provider.GetRequiredService<IChannelLayerManager>().GetLayer());
        Assert.True(layer.Options.Cluster);
        Assert.Equal(["redis://10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.3:7002"], layer.Options.Hosts.Select(h => h.ToString()));
    }

    [Theory]
    [InlineData("yes", "Hosts:0", "redis://127.0.0.1:7000", "'ChannelLayers:default:Config:Cluster' is invalid: expected true or false, got 'yes'")]
    [InlineData("true", "Hosts:0", "redis://127.0.0.1:7000/2", "'ChannelLayers:default:Config:Hosts' is invalid: Redis Cluster has only database 0, but redis://127.0.0.1:7000/2 names database 2")]
    [InlineData("true", "Hosts:0:MasterName", "mymaster", "'ChannelLayers:default:Config:Hosts' is invalid: With Cluster set, every entry of Hosts is a seed node of the cluster")]
    public void A_bad_cluster_configuration_fails_at_start_up_naming_the_key(string cluster, string key, string value, string expected)
    {
        (string, string)[] entries = [("default:Backend", "Redis"), ("default:Config:Cluster", cluster), ("default:Config:" + key, value)];
        using var provider = Build(key.EndsWith("MasterName", StringComparison.Ordinal) ? [.. entries, ("default:Config:Hosts:0:Sentinels:0", "127.0.0.1:26379")] : entries);
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Seeds_of_one_cluster_must_share_their_credentials()
    {
        var options = new RedisChannelLayerOptions { Cluster = true };
        options.Hosts.Add(RedisHost.FromAddress("redis://:one@127.0.0.1:7000"));
        options.Hosts.Add(RedisHost.FromAddress("redis://:two@127.0.0.1:7001"));
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal("Hosts", error.ParamName);
        Assert.Contains("share their user, password and TLS setting", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("one", error.Message.Replace("one cluster", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cluster_layer_refuses_a_standalone_server_on_first_contact()
    {
        var server = new RedisServer();
        await server.InitializeAsync();
        try
        {
            var options = new RedisChannelLayerOptions { Cluster = true, Prefix = $"standalone{Guid.NewGuid():N}" };
            options.Hosts.Add(RedisHost.FromAddress(server.Url));
            await using var layer = new RedisChannelLayer(options);
            var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await layer.SendAsync("x", ChannelMessage.Create("x")));
            Assert.Contains("configured with Cluster", error.Message, StringComparison.Ordinal);
            Assert.Contains("not a cluster node", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static ServiceProvider Build(params (string Key, string Value)[] entries)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(entries.Select(e => new KeyValuePair<string, string?>("ChannelLayers:" + e.Key, e.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddChannels(configuration.GetSection("ChannelLayers"));
        return services.BuildServiceProvider();
    }
}
