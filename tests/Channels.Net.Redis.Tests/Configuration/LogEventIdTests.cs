using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.Tests.Configuration;

/// <summary>
/// Every log event of the packages has an id of its own (an operator filters and alerts on ids): no two
/// <c>[LoggerMessage]</c> methods of Channels.Net and Channels.Net.Redis share one.
/// </summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void Every_log_event_id_is_used_once_across_the_packages()
    {
        Assembly[] packages = [typeof(Channels.Net.Layers.IChannelLayer).Assembly, typeof(RedisChannelLayer).Assembly];
        var events = packages
            .SelectMany(static a => a.GetTypes())
            .SelectMany(static t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(static m => (Method: $"{m.DeclaringType!.FullName}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(static e => e.Attribute is not null)
            .ToList();

        Assert.True(events.Count >= 40, $"only {events.Count} [LoggerMessage] methods found");
        var shared = events.GroupBy(static e => e.Attribute!.EventId).Where(static g => g.Count() > 1)
            .Select(static g => $"{g.Key}: {string.Join(", ", g.Select(static e => e.Method))}").ToList();
        Assert.True(shared.Count == 0, "event ids used twice: " + string.Join("; ", shared));
    }
}
