using Channels.Net.Layers.Configuration;
using Channels.Net.Redis.PubSub;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Channels.Net.Redis.Tests.PubSub;

public sealed class PubSubBackendConfigurationTests
{
    private static ServiceProvider Build(Action<IServiceCollection>? configure, params (string Key, string Value)[] entries)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(entries.Select(e => new KeyValuePair<string, string?>("ChannelLayers:" + e.Key, e.Value)))
            .Build();
        var services = new ServiceCollection();
        configure?.Invoke(services);
        services.AddChannels(configuration.GetSection("ChannelLayers"));
        return services.BuildServiceProvider();
    }

    private static ServiceProvider Build(params (string Key, string Value)[] entries) => Build(null, entries);

    [Theory]
    [InlineData("RedisPubSub")]
    [InlineData("redispubsub")]
    [InlineData("RedisPubSubChannelLayer")]
    [InlineData("Channels.Net.Redis.PubSub.RedisPubSubChannelLayer")]
    [InlineData("channels_redis.pubsub.RedisPubSubChannelLayer")]
    public async Task Every_name_binds_every_option(string backend)
    {
        var clock = new FakeTimeProvider();
        await using var provider = Build(
            services => services.AddSingleton<TimeProvider>(clock),
            ("default:Backend", backend),
            ("default:Config:Hosts:0", "redis://:secret@127.0.0.1:6390/2"),
            ("default:Config:Hosts:1:0", "10.0.0.5"),
            ("default:Config:Hosts:1:1", "6400"),
            ("default:Config:Hosts:2:Host", "redis.local"),
            ("default:Config:prefix", "myapp"),
            ("default:Config:buffer_capacity", "250"),
            ("default:Config:ReleaseDelay", "00:02:00"));
        var layer = Assert.IsType<RedisPubSubChannelLayer>(provider.GetRequiredService<IChannelLayerManager>().GetLayer());
        var options = layer.Options;
        Assert.Equal(
            ["redis://:***@127.0.0.1:6390/2", "10.0.0.5:6400", "redis.local:6379"],
            options.Hosts.Select(h => h.ToString()));
        Assert.Equal(("myapp", 250, TimeSpan.FromMinutes(2)), (options.Prefix, options.BufferCapacity, options.ReleaseDelay));
        Assert.Same(clock, options.TimeProvider);
    }

    [Fact]
    public async Task Defaults_are_channels_redis_defaults()
    {
        await using var provider = Build(("default:Backend", "channels_redis.pubsub.RedisPubSubChannelLayer"));
        var layer = Assert.IsType<RedisPubSubChannelLayer>(provider.GetRequiredService<IChannelLayerManager>().GetLayer());
        Assert.Empty(layer.Options.Hosts); // redis://localhost:6379
        Assert.Equal(("asgi", 1000, TimeSpan.FromSeconds(30)), (layer.Options.Prefix, layer.Options.BufferCapacity, layer.Options.ReleaseDelay));
        Assert.Equal(Layers.ChannelLayerExtensions.Groups | Layers.ChannelLayerExtensions.Flush, layer.Extensions);
    }

    [Theory]
    [InlineData("Capacity", "100", "the pub/sub layer has no capacity")]
    [InlineData("capacity", "100", "'ChannelLayers:default:Config:capacity' is invalid: the pub/sub layer has no capacity")]
    [InlineData("channel_capacity:http.request", "200", "'ChannelLayers:default:Config:channel_capacity' is invalid: the pub/sub layer has no per-channel capacity")]
    [InlineData("Expiry", "60", "the pub/sub layer has no message expiry")]
    [InlineData("group_expiry", "86400", "the pub/sub layer has no group expiry")]
    [InlineData("symmetric_encryption_keys:0", "secret", "channels_redis 4.0's pub/sub layer publishes plain msgpack")]
    public void A_core_layer_option_is_refused_saying_why(string key, string value, string expected)
    {
        using var provider = Build(("default:Backend", "RedisPubSub"), ("default:Config:" + key, value));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Hosts", "redis://127.0.0.1:6379", "'ChannelLayers:default:Config:Hosts' is invalid: expected a list of hosts")]
    [InlineData("Hosts:0", "http://127.0.0.1:6379", "'ChannelLayers:default:Config:Hosts:0' is invalid: 'http://127.0.0.1:6379' has the scheme 'http'")]
    [InlineData("Prefix", "my app", "'ChannelLayers:default:Config:Prefix' is invalid: Prefix 'my app' holds ' '")]
    [InlineData("Prefix", "a!b", "Prefix 'a!b' holds '!'")]
    [InlineData("BufferCapacity", "0", "'ChannelLayers:default:Config:BufferCapacity' is invalid: 0 is out of range")]
    [InlineData("ReleaseDelay", "0", "'ChannelLayers:default:Config:ReleaseDelay' is invalid: 0 is out of range")]
    [InlineData("ReleaseDelay", "2.00:00:00", "'ChannelLayers:default:Config:ReleaseDelay' is invalid: ReleaseDelay must be longer than zero and at most one day")]
    [InlineData("Hots:0", "redis://x", "unknown option 'ChannelLayers:default:Config:Hots'")]
    public void A_bad_value_fails_at_start_up_naming_the_key(string key, string value, string expected)
    {
        using var provider = Build(("default:Backend", "RedisPubSub"), ("default:Config:" + key, value));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_too_long_prefix_is_refused_with_the_limit()
    {
        using var provider = Build(("default:Backend", "RedisPubSub"), ("default:Config:Prefix", new string('p', RedisPubSubChannelLayerOptions.MaxPrefixLength + 1)));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.Contains($"at most {RedisPubSubChannelLayerOptions.MaxPrefixLength} are allowed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_never_appears_in_an_error()
    {
        using var provider = Build(("default:Backend", "RedisPubSub"), ("default:Config:Hosts:0", "redis://:hunter2@127.0.0.1:6379/x"));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }
}
