using Channels.Net.Layers;
using Channels.Net.Testing.Conformance;
using StackExchange.Redis;

namespace Channels.Net.Redis.Tests.Support;

/// <summary>
/// The published conformance suite against a <see cref="RedisChannelLayer"/> on real servers: the default (5 s)
/// blocking-pop timeout (a shorter one lets a waiting receive's pop time out and queue again behind later receivers while
/// the test is still starting them: Redis's order, not the layer's), expiries rounded up to whole seconds, and a receive counted as waiting once one of the layer's
/// connections is blocked in <c>BZPOPMIN</c> on a data server (so the order of waiting receivers is not left to timing).
/// </summary>
/// <remarks>
/// One documented difference from the in-memory reference: an expired message does not make its channel leave its
/// groups (channels_redis drops expired messages with ZREMRANGEBYSCORE and leaves memberships to group_expiry).
/// </remarks>
public abstract class RedisLayerConformanceTests : ChannelLayerConformanceTests
{
    protected override bool ExpiredMessageLeavesGroups => false;

    /// <summary>The data servers (<c>host:port</c> and password) a plain channel's receives block on.</summary>
    protected abstract IReadOnlyList<(string EndPoint, string? Password)> DataServers { get; }

    /// <summary>Adds the hosts (and whatever else the variant needs) to the layer's options.</summary>
    protected abstract void Configure(RedisChannelLayerOptions options);

    protected override ValueTask<IChannelLayer> CreateLayerAsync(ConformanceLayerOptions options)
    {
        var layerOptions = new RedisChannelLayerOptions
        {
            Prefix = $"conf{Guid.NewGuid():N}",
            Expiry = RoundUp(options.Expiry),
            GroupExpiry = RoundUp(options.GroupExpiry),
            Capacity = options.Capacity,
        };
        Configure(layerOptions);
        foreach (var rule in options.ChannelCapacity)
        {
            layerOptions.ChannelCapacity.Add(rule);
        }

        return ValueTask.FromResult<IChannelLayer>(new RedisChannelLayer(layerOptions));
    }

    protected override async Task WaitForWaitingReceiversAsync(IChannelLayer layer, string channel, int count)
    {
        await base.WaitForWaitingReceiversAsync(layer, channel, count);
        if (channel.Contains('!', StringComparison.Ordinal))
        {
            return; // A process-local channel's receives wait in the process, registered as they are started.
        }

        // Only this layer's blocking connections count: another test's receive may still be blocked on the server.
        var receiveName = "channels.net.receive." + ((RedisChannelLayer)layer).ClientPrefix;
        using var timeout = new CancellationTokenSource(OperationTimeout);
        var connections = new List<ConnectionMultiplexer>();
        try
        {
            foreach (var (endPoint, password) in DataServers)
            {
                var configuration = new ConfigurationOptions { AllowAdmin = true, AbortOnConnectFail = false, Password = password };
                configuration.EndPoints.Add(endPoint);
                connections.Add(await ConnectionMultiplexer.ConnectAsync(configuration));
            }

            while (true)
            {
                var blocked = 0;
                foreach (var connection in connections)
                {
                    var server = connection.GetServer(connection.GetEndPoints()[0]);
                    if (!server.IsConnected)
                    {
                        continue;
                    }

                    blocked += (await server.ClientListAsync()).Count(c => c.Name == receiveName
                        && c.Flags.HasFlag(ClientFlags.Blocked) && string.Equals(c.LastCommand, "bzpopmin", StringComparison.OrdinalIgnoreCase));
                }

                if (blocked >= count)
                {
                    return;
                }

                await Task.Delay(5, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"{count} receive(s) on '{channel}' were not blocked in BZPOPMIN within {OperationTimeout.TotalSeconds} s.");
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static TimeSpan RoundUp(TimeSpan span) => TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(span.TotalSeconds)));
}
