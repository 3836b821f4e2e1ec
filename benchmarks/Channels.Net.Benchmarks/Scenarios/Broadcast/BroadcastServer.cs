using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// The server process of the broadcast suite (a hidden subcommand of the benchmark app, started by
/// <see cref="ServerProcess"/>): a Kestrel <see cref="WebApplication"/> on 127.0.0.1 with a free port, serving
/// the tutorial's <see cref="ChatConsumer"/> (Channels.Net, <see cref="ChannelsNetHost"/>), <see cref="ChatHub"/>
/// (SignalR, <see cref="SignalRHost"/>) or the bare endpoint, plus
/// <c>GET /stats</c> (optionally <c>?gc=1</c>: full compacting GC first) for memory, allocation, GC and CPU figures.
/// It prints <c>listening &lt;url&gt;</c> on stdout once started, and exits when its stdin closes.
/// </summary>
internal static class BroadcastServer
{
    public const string Command = "broadcast-server";

    /// <summary>The capacity argument meaning "the layer's default".</summary>
    public const string DefaultCapacity = "default";

    public static async Task<int> RunAsync(string[] args)
    {
        int? capacity = null;
        if (args.Length is < 2 or > 3 || !Enum.TryParse<BroadcastFramework>(args[0], ignoreCase: true, out var framework)
            || (args[1] != DefaultCapacity && !TryParseCapacity(args[1], out capacity)))
        {
            await Console.Error.WriteLineAsync($"usage: {Command} <{string.Join('|', Enum.GetNames<BroadcastFramework>())}> <layer capacity|{DefaultCapacity}> [redis url]");
            return 2;
        }

        var redisUrl = args.Length == 3 ? args[2] : null;
        var builder = WebApplication.CreateSlimBuilder();
        var warnings = new WarningCounter();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddProvider(warnings);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        switch (framework)
        {
            case BroadcastFramework.ChannelsNet or BroadcastFramework.ChannelsNetRedis or BroadcastFramework.ChannelsNetPubSub:
                ChannelsNetHost.AddServices(builder.Services, framework, capacity, redisUrl);
                break;
            case BroadcastFramework.SignalR or BroadcastFramework.SignalRRedis:
                SignalRHost.AddServices(builder.Services, redisUrl);
                break;
            case BroadcastFramework.BareWebSocket:
                break;
            default:
                await Console.Error.WriteLineAsync($"{framework} is not a .NET server.");
                return 2;
        }

        var app = builder.Build();
        switch (framework)
        {
            case BroadcastFramework.ChannelsNet or BroadcastFramework.ChannelsNetRedis or BroadcastFramework.ChannelsNetPubSub:
                ChannelsNetHost.Map(app);
                break;
            case BroadcastFramework.SignalR or BroadcastFramework.SignalRRedis:
                SignalRHost.Map(app);
                break;
            default:
                BareWebSocketRoom.Map(app);
                break;
        }

        app.MapGet("/stats", (HttpContext context) => Results.Text(Stats(context.Request.Query.ContainsKey("gc"), warnings), "application/json"));

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Console.WriteLine($"listening {address}");
        Console.Out.Flush();

        // Runs until the parent closes stdin (or dies): then exit at once; nothing here needs a graceful stop.
        while (await Console.In.ReadLineAsync() is not null)
        {
        }

        Environment.Exit(0);
        return 0;
    }

    private static bool TryParseCapacity(string text, out int? capacity)
    {
        capacity = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;
        return capacity is not null;
    }

    private static string Stats(bool collect, WarningCounter warnings)
    {
        if (collect)
        {
            // Aggressive: compacts everything (LOH included) and gives free memory back to the OS, so RSS shows what is live.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }

        var info = GC.GetGCMemoryInfo(GCKind.Any);
        using var process = Process.GetCurrentProcess();
        var status = ReadProcStatus();
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("managed", GC.GetTotalMemory(forceFullCollection: false));
            json.WriteNumber("heapSize", info.HeapSizeBytes);
            json.WriteNumber("committed", info.TotalCommittedBytes);
            json.WriteNumber("rss", status.GetValueOrDefault("VmRSS"));
            json.WriteNumber("rssAnon", status.GetValueOrDefault("RssAnon"));
            json.WriteNumber("allocated", GC.GetTotalAllocatedBytes(precise: false));
            json.WriteNumber("gen0", GC.CollectionCount(0));
            json.WriteNumber("gen1", GC.CollectionCount(1));
            json.WriteNumber("gen2", GC.CollectionCount(2));
            json.WriteNumber("cpuMs", process.TotalProcessorTime.TotalMilliseconds);
            json.WriteNumber("osThreads", process.Threads.Count);
            json.WriteNumber("poolThreads", ThreadPool.ThreadCount);
            json.WriteNumber("workItems", ThreadPool.CompletedWorkItemCount);
            json.WriteNumber("lockContention", Monitor.LockContentionCount);
            json.WriteNumber("warnings", warnings.Count);
            json.WriteString("firstWarning", warnings.First);
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The <c>kB</c> lines of /proc/self/status, in bytes (VmRSS, RssAnon, ...); empty elsewhere.</summary>
    private static Dictionary<string, long> ReadProcStatus()
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        const string path = "/proc/self/status";
        if (!File.Exists(path))
        {
            return values;
        }

        foreach (var line in File.ReadLines(path))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.EndsWith(" kB", StringComparison.Ordinal)
                && long.TryParse(line.AsSpan(colon + 1, line.Length - colon - 4).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kb))
            {
                values[line[..colon]] = kb * 1024;
            }
        }

        return values;
    }

    /// <summary>Counts warnings and errors (e.g. the in-memory layer's "group_send skipped N members whose channels
    /// are full") and keeps the first, so the suite can report loss causes without printing a log.</summary>
    private sealed class WarningCounter : ILoggerProvider, ILogger
    {
        private int _count;
        private string? _first;

        public int Count => Volatile.Read(ref _count);

        public string First => Volatile.Read(ref _first) ?? "";

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            if (Interlocked.Increment(ref _count) == 1)
            {
                Volatile.Write(ref _first, $"{logLevel}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}");
            }
        }

        public void Dispose()
        {
        }
    }
}
