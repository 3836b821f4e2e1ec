using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Channels.Net.Layers.InMemory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Channels.Net.Tests.Configuration;

public sealed class ChannelLayerConfigurationTests
{
    private static IConfigurationSection Section(params (string Key, string? Value)[] entries)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(entries.Select(e => new KeyValuePair<string, string?>("ChannelLayers:" + e.Key, e.Value)))
            .Build();
        return configuration.GetSection("ChannelLayers");
    }

    private static ServiceProvider Build(IConfigurationSection section, Action<Channels.Net.Hosting.ChannelsBuilder>? code = null)
    {
        var services = new ServiceCollection();
        var builder = services.AddChannels(section);
        code?.Invoke(builder);
        return services.BuildServiceProvider();
    }

    [Theory]
    [InlineData("InMemory")]
    [InlineData("inmemory")]
    [InlineData("InMemoryChannelLayer")]
    [InlineData("Channels.Net.Layers.InMemory.InMemoryChannelLayer")]
    [InlineData("channels.layers.InMemoryChannelLayer")]
    public async Task Every_name_of_the_in_memory_backend_is_accepted(string backend)
    {
        await using var provider = Build(Section(("default:Backend", backend)));
        var layer = provider.GetRequiredService<IChannelLayerManager>().GetLayer();
        Assert.IsType<InMemoryChannelLayer>(layer);
        Assert.Same(layer, provider.GetRequiredService<IChannelLayer>());
    }

    [Fact]
    public async Task Options_are_bound_with_Django_defaults_for_what_is_left_out()
    {
        await using var provider = Build(Section(
            ("default:Backend", "InMemory"),
            ("default:Config:Expiry", "5"),
            ("default:Config:group_expiry", "00:02:00"),
            ("default:Config:ChannelCapacity:0:Pattern", "http.*"),
            ("default:Config:ChannelCapacity:0:Capacity", "7"),
            ("default:Config:ChannelCapacity:1:Regex", "^ws\\.(?P<kind>[a-z]+)"),
            ("default:Config:ChannelCapacity:1:Capacity", "3"),
            ("other:Backend", "InMemory")));
        var manager = provider.GetRequiredService<IChannelLayerManager>();

        var options = ((InMemoryChannelLayer)manager.GetLayer()).Options;
        Assert.Equal(TimeSpan.FromSeconds(5), options.Expiry);
        Assert.Equal(TimeSpan.FromMinutes(2), options.GroupExpiry);
        Assert.Equal(100, options.Capacity);
        Assert.Collection(
            options.ChannelCapacity,
            r => Assert.Equal(("http.*", false, 7), (r.Pattern, r.IsRegex, r.Capacity)),
            r => Assert.Equal(("^ws\\.(?P<kind>[a-z]+)", true, 3), (r.Pattern, r.IsRegex, r.Capacity)));

        var other = (InMemoryChannelLayer)manager.GetLayer("other");
        Assert.Equal(TimeSpan.FromSeconds(60), other.Options.Expiry);
        Assert.Equal(TimeSpan.FromSeconds(86400), other.Options.GroupExpiry);
        Assert.NotSame(other, manager.GetLayer());
        Assert.Equal(["default", "other"], manager.Aliases.Order());
    }

    [Fact]
    public async Task A_glob_map_binds_as_capacity_rules()
    {
        await using var provider = Build(Section(
            ("default:Backend", "InMemory"),
            ("default:Config:ChannelCapacity:http.request", "200")));
        var options = ((InMemoryChannelLayer)provider.GetRequiredService<IChannelLayerManager>().GetLayer()).Options;
        var rule = Assert.Single(options.ChannelCapacity);
        Assert.Equal(("http.request", false, 200), (rule.Pattern, rule.IsRegex, rule.Capacity));
    }

    [Fact]
    public void Environment_variables_configure_a_layer()
    {
        const string name = "CHANNELS_NET_TEST_ChannelLayers__envtest__Backend";
        Environment.SetEnvironmentVariable(name, "InMemory");
        Environment.SetEnvironmentVariable("CHANNELS_NET_TEST_ChannelLayers__envtest__Config__Capacity", "42");
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables("CHANNELS_NET_TEST_").Build();
            using var provider = Build(configuration.GetSection("ChannelLayers"));
            var layer = (InMemoryChannelLayer)provider.GetRequiredService<IChannelLayerManager>().GetLayer("envtest");
            Assert.Equal(42, layer.Options.Capacity);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
            Environment.SetEnvironmentVariable("CHANNELS_NET_TEST_ChannelLayers__envtest__Config__Capacity", null);
        }
    }

    [Theory]
    [InlineData("Capacity", "abc", "'ChannelLayers:default:Config:Capacity' is invalid: expected an integer, got 'abc'.")]
    [InlineData("Capacity", "0", "'ChannelLayers:default:Config:Capacity' is invalid: 0 is out of range; it must be at least 1.")]
    [InlineData("Expiry", "-1", "'ChannelLayers:default:Config:Expiry' is invalid: -1 is out of range; it must be longer than 0 seconds.")]
    [InlineData("Expiry", "soon", "'ChannelLayers:default:Config:Expiry' is invalid: expected a number of seconds or a time span such as 00:01:00, got 'soon'.")]
    [InlineData("GroupExpiry", "0", "'ChannelLayers:default:Config:GroupExpiry' is invalid: 0 is out of range; it must be longer than 0 seconds.")]
    [InlineData("Capacityy", "5", "unknown option 'ChannelLayers:default:Config:Capacityy'")]
    [InlineData("ChannelCapacity:http.*", "none", "'ChannelLayers:default:Config:ChannelCapacity:http.*' is invalid: expected a capacity of at least 1, got 'none'.")]
    [InlineData("ChannelCapacity:0:Regex", "([", "'ChannelLayers:default:Config:ChannelCapacity:0' is invalid: a capacity rule needs 'Capacity'.")]
    public void A_bad_option_stops_start_up_naming_the_alias_and_the_key(string key, string value, string expected)
    {
        using var provider = Build(Section(("default:Backend", "InMemory"), ("default:Config:" + key, value)));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.StartsWith("Channel layer 'default'", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_regex_is_reported_with_its_key()
    {
        using var provider = Build(Section(
            ("default:Backend", "InMemory"),
            ("default:Config:ChannelCapacity:0:Regex", "(["),
            ("default:Config:ChannelCapacity:0:Capacity", "5")));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.Contains("'ChannelLayers:default:Config:ChannelCapacity:0' is invalid: The channel capacity pattern '([' is not a valid regular expression", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_backend_is_reported()
    {
        using var provider = Build(Section(("default:Config:Capacity", "5")));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.Equal(
            "Channel layer 'default': 'ChannelLayers:default:Backend' is missing; name a backend such as 'InMemory' or 'channels.layers.InMemoryChannelLayer'.",
            error.Message);
    }

    [Fact]
    public void An_unknown_backend_is_reported_with_the_known_names()
    {
        using var provider = Build(Section(("chat:Backend", "channels_redis.core.RedisChannelLayerX")));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.StartsWith("Channel layer 'chat': 'ChannelLayers:chat:Backend' names an unknown backend 'channels_redis.core.RedisChannelLayerX'. Known backends: InMemory, ", error.Message, StringComparison.Ordinal);
        Assert.Contains("channels.layers.InMemoryChannelLayer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_beside_Backend_is_reported()
    {
        using var provider = Build(Section(("default:Backend", "InMemory"), ("default:Options:Capacity", "5")));
        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());
        Assert.Equal("Channel layer 'default': unknown key 'ChannelLayers:default:Options'; an alias has only 'Backend' and 'Config'.", error.Message);
    }

    [Fact]
    public async Task A_bad_configuration_stops_the_host_at_start()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection([new("ChannelLayers:default:Backend", "InMemory"), new("ChannelLayers:default:Config:Capacity", "-3")]);
        builder.Services.AddChannels(builder.Configuration.GetSection("ChannelLayers"));
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<InvalidChannelLayerException>(() => host.StartAsync());
        Assert.Contains("'ChannelLayers:default:Config:Capacity' is invalid", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_alias_names_the_configured_ones()
    {
        await using var provider = Build(Section(("default:Backend", "InMemory")));
        var manager = provider.GetRequiredService<IChannelLayerManager>();
        var error = Assert.Throws<InvalidChannelLayerException>(() => manager.GetLayer("chat"));
        Assert.Equal("No channel layer 'chat' is configured; configured aliases: default.", error.Message);
        Assert.Null(manager.GetLayerOrDefault("chat"));
        Assert.False(manager.Contains("chat"));
    }

    [Fact]
    public async Task With_nothing_configured_there_is_no_layer_and_the_error_says_how_to_add_one()
    {
        await using var provider = Build(Section());
        var manager = provider.GetRequiredService<IChannelLayerManager>();
        Assert.Empty(manager.Aliases);
        Assert.Null(manager.GetLayerOrDefault());
        var error = Assert.Throws<InvalidChannelLayerException>(() => manager.GetLayer());
        Assert.Contains("no channel layers are configured at all", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Code_first_layers_override_configuration_and_are_shared_per_alias()
    {
        await using var provider = Build(
            Section(("default:Backend", "InMemory"), ("default:Config:Capacity", "5")),
            c => c.AddInMemoryLayer(configure: o => o.Capacity = 9).AddInMemoryLayer("extra"));
        var manager = provider.GetRequiredService<IChannelLayerManager>();
        Assert.Equal(9, ((InMemoryChannelLayer)manager.GetLayer()).Options.Capacity);
        Assert.Same(manager.GetLayer("extra"), manager.GetLayer("EXTRA"));
    }

    [Fact]
    public async Task Disposing_the_container_closes_the_layers()
    {
        var provider = Build(Section(("default:Backend", "InMemory")));
        var layer = provider.GetRequiredService<IChannelLayer>();
        await provider.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await layer.SendAsync("x", ChannelMessage.Create("t")));
    }

    [Fact]
    public async Task A_backend_added_in_code_is_found_by_its_names()
    {
        await using var provider = Build(Section(("default:Backend", "test.Fake")), c => c.AddBackend(new FakeBackend()));
        Assert.IsType<InMemoryChannelLayer>(provider.GetRequiredService<IChannelLayerManager>().GetLayer());
        Assert.True(FakeBackend.Bound);
    }

    private sealed class FakeBackend : ChannelLayerBackend
    {
        public static bool Bound { get; private set; }

        public override IReadOnlyList<string> Names { get; } = ["test.Fake"];

        public override Func<IServiceProvider, IChannelLayer> Bind(ChannelLayerConfigReader config)
        {
            config.EnsureAllKeysRead();
            Bound = true;
            return _ => new InMemoryChannelLayer();
        }
    }
}
