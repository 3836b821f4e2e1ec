using Channels.Net.Layers.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Channels.Net.Redis.Tests.Configuration;

public sealed class RedisBackendConfigurationTests
{
    private static ServiceProvider Build(params (string Key, string Value)[] entries)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(entries.Select(e => new KeyValuePair<string, string?>("ChannelLayers:" + e.Key, e.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddChannels(configuration.GetSection("ChannelLayers"));
        return services.BuildServiceProvider();
    }

    [Theory]
    [InlineData("Redis")]
    [InlineData("RedisChannelLayer")]
    [InlineData("Channels.Net.Redis.RedisChannelLayer")]
    [InlineData("channels_redis.core.RedisChannelLayer")]
    public async Task Every_name_binds_every_option(string backend)
    {
        await using var provider = Build(
            ("default:Backend", backend),
            ("default:Config:Hosts:0", "redis://:secret@127.0.0.1:6390/2"),
            ("default:Config:Hosts:1:0", "10.0.0.5"),
            ("default:Config:Hosts:1:1", "6400"),
            ("default:Config:Hosts:2:Host", "redis.local"),
            ("default:Config:prefix", "myapp"),
            ("default:Config:expiry", "30"),
            ("default:Config:group_expiry", "3600"),
            ("default:Config:capacity", "250"),
            ("default:Config:channel_capacity:http.request", "500"),
            ("default:Config:symmetric_encryption_keys:0", "new"),
            ("default:Config:symmetric_encryption_keys:1", "old"));
        var layer = Assert.IsType<RedisChannelLayer>(provider.GetRequiredService<IChannelLayerManager>().GetLayer());
        var options = layer.Options;
        Assert.Equal(
            ["redis://:***@127.0.0.1:6390/2", "10.0.0.5:6400", "redis.local:6379"],
            options.Hosts.Select(h => h.ToString()));
        Assert.Equal(("myapp", 30, 3600, 250), (options.Prefix, (int)options.Expiry.TotalSeconds, (int)options.GroupExpiry.TotalSeconds, options.Capacity));
        Assert.Equal(("http.request", 500), (options.ChannelCapacity.Single().Pattern, options.ChannelCapacity.Single().Capacity));
        Assert.Equal(["new", "old"], options.SymmetricEncryptionKeys);
    }

    [Theory]
    [InlineData("Hosts", "redis://127.0.0.1:6379", "'ChannelLayers:default:Config:Hosts' is invalid: expected a list of hosts")]
    [InlineData("Hosts:0", "http://127.0.0.1:6379", "'ChannelLayers:default:Config:Hosts:0' is invalid: 'http://127.0.0.1:6379' has the scheme 'http'")]
    [InlineData("Hosts:0", "redis://127.0.0.1:6379/abc", "the database 'abc' is not a number")]
    [InlineData("SymmetricEncryptionKeys", "one-key", "'ChannelLayers:default:Config:SymmetricEncryptionKeys' is invalid: expected a list")]
    [InlineData("Expiry", "1.5", "'ChannelLayers:default:Config:Expiry' is invalid: Expiry must be a whole number of seconds")]
    [InlineData("Capacity", "0", "'ChannelLayers:default:Config:Capacity' is invalid: 0 is out of range")]
    [InlineData("Hots:0", "redis://x", "unknown option 'ChannelLayers:default:Config:Hots'")]
    public void A_bad_value_fails_at_start_up_naming_the_key(string key, string value, string expected)
    {
        using var provider = Build(("default:Backend", "Redis"), ("default:Config:" + key, value));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_never_appears_in_an_error()
    {
        using var provider = Build(("default:Backend", "Redis"), ("default:Config:Hosts:0", "redis://:hunter2@127.0.0.1:6379/x"));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }
}
