using Channels.Net.Layers;
using Channels.Net.Layers.InMemory;

namespace Chat.Tests;

/// <summary>These tests set process environment variables, which every app built meanwhile would read: they run alone.</summary>
[CollectionDefinition(nameof(EnvironmentCollection), DisableParallelization = true)]
public sealed class EnvironmentCollection;

[Collection(nameof(EnvironmentCollection))]
public sealed class ConfigurationTests
{
    [Fact]
    public async Task The_default_layer_is_in_memory_from_appsettings()
    {
        await using var server = await ChatServer.StartAsync();
        var layer = Assert.IsType<InMemoryChannelLayer>(server.Layer);
        Assert.Equal(100, layer.Options.Capacity);
    }

    [Fact]
    public async Task A_command_line_override_of_the_capacity_reaches_the_layer()
    {
        await using var server = await ChatServer.StartAsync("--ChannelLayers:default:Config:Capacity=7");
        await AssertCapacityAsync(server.Layer, 7);
    }

    [Fact]
    public async Task Environment_variables_switch_the_layer_like_CHANNEL_LAYERS()
    {
        using var backend = new EnvironmentVariable("ChannelLayers__default__Backend", "channels.layers.InMemoryChannelLayer");
        using var capacity = new EnvironmentVariable("ChannelLayers__default__Config__Capacity", "3");
        await using var server = await ChatServer.StartAsync();
        await AssertCapacityAsync(server.Layer, 3);
    }

    [Fact]
    public async Task The_default_url_is_runservers_unless_overridden()
    {
        using var unset = new EnvironmentVariable("ASPNETCORE_URLS", null);
        string[] noUrls = ["--contentRoot", ChatServer.ContentRoot, "--environment", "Production"];
        await using (var app = Program.CreateApp(noUrls))
        {
            Assert.Equal("http://127.0.0.1:8000", app.Configuration["urls"]);
        }

        await using (var app = Program.CreateApp([.. noUrls, "--urls", "http://127.0.0.1:5123"]))
        {
            Assert.Equal("http://127.0.0.1:5123", app.Configuration["urls"]);
        }

        using var set = new EnvironmentVariable("ASPNETCORE_URLS", "http://127.0.0.1:5124");
        await using (var app = Program.CreateApp(noUrls))
        {
            Assert.Equal("http://127.0.0.1:5124", app.Configuration["urls"]);
        }
    }

    private static async Task AssertCapacityAsync(IChannelLayer layer, int capacity)
    {
        Assert.Equal(capacity, Assert.IsType<InMemoryChannelLayer>(layer).Options.Capacity);
        using var cts = new CancellationTokenSource(ChatServer.Timeout);
        for (var i = 0; i < capacity; i++)
        {
            await layer.SendAsync("capacity-probe", new { type = "probe", i }, cts.Token).AsTask().WaitAsync(ChatServer.Timeout);
        }

        var full = await Assert.ThrowsAsync<ChannelFullException>(() =>
            layer.SendAsync("capacity-probe", new { type = "probe", i = capacity }, cts.Token).AsTask().WaitAsync(ChatServer.Timeout));
        Assert.Equal(capacity, full.Capacity);
    }

    private sealed class EnvironmentVariable : IDisposable
    {
        private readonly string _name;
        private readonly string? _previous;

        public EnvironmentVariable(string name, string? value)
        {
            _name = name;
            _previous = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        public void Dispose() => Environment.SetEnvironmentVariable(_name, _previous);
    }
}
