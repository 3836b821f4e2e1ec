using System.Collections.Concurrent;
using Channels.Net.Hosting;
using Channels.Net.Layers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Tests.Hosting;

/// <summary>
/// A real ASP.NET Core application on Kestrel, bound to a free loopback port, with an in-memory
/// channel layer and a <see cref="Probe"/> the test consumers report to. Each test starts its own
/// and disposes it.
/// </summary>
internal sealed class KestrelHost : IAsyncDisposable
{
    private KestrelHost(WebApplication app, Uri http)
    {
        App = app;
        HttpUri = http;
        WebSocketUri = new UriBuilder(http) { Scheme = "ws" }.Uri;
    }

    public WebApplication App { get; }

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri HttpUri { get; }

    /// <summary>ws://127.0.0.1:port/</summary>
    public Uri WebSocketUri { get; }

    public int Port => HttpUri.Port;

    public IServiceProvider Services => App.Services;

    public Probe Probe => App.Services.GetRequiredService<Probe>();

    public IChannelLayer Layer => App.Services.GetRequiredService<IChannelLayer>();

    public LogSink Logs => App.Services.GetRequiredService<LogSink>();

    public Uri Ws(string pathAndQuery) => new(WebSocketUri, pathAndQuery);

    public Uri Http(string pathAndQuery) => new(HttpUri, pathAndQuery);

    /// <summary>Builds and starts the application; <paramref name="pipeline"/> adds middleware and MapChannels.</summary>
    public static async Task<KestrelHost> StartAsync(
        Action<WebApplication> pipeline,
        Action<ChannelsOptions>? options = null,
        Action<WebApplicationBuilder>? configure = null,
        Action<ChannelsBuilder>? channels = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        var sink = new LogSink();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(sink);
        builder.Services.AddSingleton(sink);
        builder.Services.AddSingleton<Probe>();
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(3));
        var channelsBuilder = builder.Services.AddChannels(c => c.AddInMemoryLayer());
        channels?.Invoke(channelsBuilder);
        if (options is not null)
        {
            builder.Services.Configure(options);
        }

        configure?.Invoke(builder);
        var app = builder.Build();
        try
        {
            pipeline(app);
            await app.StartAsync().WaitAsync(Limits.Step);
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            var http = new Uri(address.EndsWith('/') ? address : address + "/");
            Assert.Equal("127.0.0.1", http.Host);
            Assert.NotEqual(0, http.Port);
            return new KestrelHost(app, http);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await App.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            await App.DisposeAsync();
        }
    }
}

/// <summary>Every await in these tests is bounded.</summary>
internal static class Limits
{
    /// <summary>The longest any single step may take before the test fails instead of hanging.</summary>
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    public static CancellationToken Token() => new CancellationTokenSource(Step).Token;

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Step);

    public static Task Within(this Task task) => task.WaitAsync(Step);

    public static Task<T> Within<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Step);

    public static Task Within(this ValueTask task) => task.AsTask().WaitAsync(Step);
}

/// <summary>What the test consumers of one application report: events in order, and the scopes they saw.</summary>
public sealed class Probe
{
    private readonly ConcurrentQueue<string> _events = new();
    private readonly System.Threading.Channels.Channel<string> _feed = System.Threading.Channels.Channel.CreateUnbounded<string>();
    private readonly TaskCompletionSource<ChannelScope> _scope = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<string> Events => [.. _events];

    public void Add(string e)
    {
        _events.Enqueue(e);
        _feed.Writer.TryWrite(e);
    }

    /// <summary>Waits until an event starting with <paramref name="prefix"/> arrives and returns it.</summary>
    public async Task<string> WaitForAsync(string prefix)
    {
        using var cts = new CancellationTokenSource(Limits.Step);
        try
        {
            while (true)
            {
                var e = await _feed.Reader.ReadAsync(cts.Token);
                if (e.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return e;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No event starting with '{prefix}' within {Limits.Step}; events: [{string.Join(", ", _events)}]");
        }
    }

    public int Count(string e) => _events.Count(x => x == e);

    public void SetScope(ChannelScope scope) => _scope.TrySetResult(scope);

    public Task<ChannelScope> ScopeAsync() => _scope.Task.Within();

    public Dictionary<string, object?> Bag { get; } = [];
}

/// <summary>Collects the application's log entries.</summary>
public sealed class LogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink._entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
