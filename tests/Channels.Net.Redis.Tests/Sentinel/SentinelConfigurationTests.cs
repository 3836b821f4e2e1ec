using Channels.Net.Layers.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Channels.Net.Redis.Connections;

namespace Channels.Net.Redis.Tests.Sentinel;

/// <summary>Binding of Sentinel host entries (channels_redis's dict form) and their errors, without a server.</summary>
public sealed class SentinelConfigurationTests
{
    private static ServiceProvider Build(params (string Key, string Value)[] entries)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(entries.Select(e => new KeyValuePair<string, string?>("ChannelLayers:default:" + e.Key, e.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddChannels(configuration.GetSection("ChannelLayers"));
        return services.BuildServiceProvider();
    }

    private static RedisChannelLayerOptions Bind(params (string Key, string Value)[] entries)
    {
        using var provider = Build([("Backend", "Redis"), .. entries]);
        return Assert.IsType<RedisChannelLayer>(provider.GetRequiredService<IChannelLayerManager>().GetLayer()).Options;
    }

    [Fact]
    public void Python_spellings_bind_every_sentinel_key()
    {
        var options = Bind(
            ("Config:hosts:0:sentinels:0", "10.0.0.1:26379"),
            ("Config:hosts:0:sentinels:1", "sentinel.local"),
            ("Config:hosts:0:master_name", "mymaster"),
            ("Config:hosts:0:password", "data-secret"),
            ("Config:hosts:0:database", "3"),
            ("Config:hosts:0:sentinel_password", "sentinel-secret"));
        var host = Assert.Single(options.Hosts);
        Assert.Equal(["10.0.0.1:26379", "sentinel.local"], host.Sentinels);
        Assert.Equal(("mymaster", "data-secret", 3, "sentinel-secret"), (host.MasterName, host.Password, host.Database, host.SentinelPassword));
        Assert.Equal("sentinel master 'mymaster' via 10.0.0.1:26379, sentinel.local", host.ToString());
    }

    [Fact]
    public void A_host_and_port_section_takes_a_password_and_database()
    {
        var host = Assert.Single(Bind(("Config:Hosts:0:Host", "redis.local"), ("Config:Hosts:0:Port", "6380"), ("Config:Hosts:0:Password", "pw"), ("Config:Hosts:0:Database", "2")).Hosts);
        Assert.Equal(("redis.local", 6380, "pw", 2), (host.Host, host.Port, host.Password, host.Database));
        var (configuration, database) = RedisAddress.ToConfiguration(host);
        Assert.Equal(("pw", 2), (configuration.Password, database));
    }

    [Fact]
    public void The_sentinel_form_maps_to_sentinel_endpoints_with_both_passwords()
    {
        var host = RedisHost.FromSentinels("mymaster", "127.0.0.1:26379", "127.0.0.2", "[::1]:26380") with { Password = "data", SentinelPassword = "sentinel", Database = 1 };
        var (configuration, database) = RedisAddress.ToConfiguration(host);
        Assert.Equal("mymaster", configuration.ServiceName);
        Assert.Equal(["127.0.0.1:26379", "127.0.0.2:26379", "[::1]:26380"], configuration.EndPoints.Select(SentinelMaster.Format));
        Assert.Equal(("data", "sentinel", 1), (configuration.Password, configuration.SentinelPassword, database));
    }

    [Theory]
    [InlineData("Hosts:0:Sentinels:0", "127.0.0.1:26379", "Hosts:0", "exactly one of")]
    [InlineData("Hosts:0:MasterName", "mymaster", "Hosts:0", "exactly one of")]
    [InlineData("Hosts:0:Sentinels", "127.0.0.1:26379", "Hosts:0:Sentinels", "expected a list")]
    public void An_incomplete_sentinel_entry_fails_naming_the_key(string key, string value, string expectedKey, string expected)
    {
        using var provider = Build(("Backend", "Redis"), ("Config:" + key, value));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.Contains($"'ChannelLayers:default:Config:{expectedKey}' is invalid", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Sentinels:0", "127.0.0.1:notaport", "'127.0.0.1:notaport' is not a host:port address")]
    [InlineData("Sentinels:0", "127.0.0.1:70000", "'127.0.0.1:70000' is not a host:port address")]
    [InlineData("MasterName", "my master", "'my master' is not a Sentinel master name")]
    [InlineData("Database", "-1", "out of range")]
    [InlineData("Address", "redis://127.0.0.1:6379", "exactly one of")]
    [InlineData("Sentinal_Password", "x", "unknown option")]
    public void A_bad_sentinel_value_fails_at_start_up(string key, string value, string expected)
    {
        var entries = new List<(string, string)> { ("Backend", "Redis"), ("Config:Hosts:0:Sentinels:1", "127.0.0.1:26380"), ("Config:Hosts:0:MasterName", "mymaster") };
        entries.RemoveAll(e => e.Item1 == "Config:Hosts:0:" + key);
        entries.Add(("Config:Hosts:0:" + key, value));
        using var provider = Build([.. entries]);
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.Contains("'ChannelLayers:default:Config:Hosts:0", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Passwords_never_appear_in_errors_or_names()
    {
        using var provider = Build(
            ("Backend", "Redis"),
            ("Config:Hosts:0:Sentinels:0", "127.0.0.1:bad"),
            ("Config:Hosts:0:MasterName", "mymaster"),
            ("Config:Hosts:0:Password", "hunter2-data"),
            ("Config:Hosts:0:SentinelPassword", "hunter2-sentinel"));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
        var host = RedisHost.FromSentinels("mymaster", "127.0.0.1") with { Password = "hunter2-data", SentinelPassword = "hunter2-sentinel" };
        Assert.DoesNotContain("hunter2", host.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "127.0.0.1", null, "a host and port, or sentinels with a master name")]
    [InlineData("mymaster", null, null, "needs at least one sentinel address")]
    [InlineData("mymaster", "127.0.0.1:26379", "127.0.0.1:26379", "listed twice")]
    public void Code_first_mistakes_are_argument_errors(string? master, string? first, string? second, string expected)
    {
        var sentinels = new[] { first, second }.OfType<string>().ToArray();
        var host = master is null ? new RedisHost { Sentinels = sentinels } : RedisHost.FromSentinels(master, sentinels);
        var options = new RedisChannelLayerOptions();
        options.Hosts.Add(host);
        var error = Assert.ThrowsAny<ArgumentException>(options.Validate);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_beside_a_url_or_a_sentinel_password_without_sentinels_is_refused()
    {
        var url = Assert.ThrowsAny<ArgumentException>(() => RedisAddress.ToConfiguration(RedisHost.FromAddress("redis://127.0.0.1") with { Password = "x" }));
        Assert.Contains("give the password and database in the URL", url.Message, StringComparison.Ordinal);
        var plain = Assert.ThrowsAny<ArgumentException>(() => RedisAddress.ToConfiguration(RedisHost.FromHostPort("127.0.0.1") with { SentinelPassword = "x" }));
        Assert.Contains("only goes with sentinels", plain.Message, StringComparison.Ordinal);
    }
}
