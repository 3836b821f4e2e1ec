using StackExchange.Redis;

namespace Channels.Net.Redis.Cluster;

/// <summary>
/// The errors a cluster answers while its layout changes. None of them means the command ran: the
/// node checks the slot before it executes anything.
/// </summary>
internal static class ClusterErrors
{
    /// <summary><c>CLUSTERDOWN</c>: a primary failed and no replica has taken over yet; the cluster cannot serve the key now.</summary>
    public static bool IsDown(RedisServerException exception) =>
        exception.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal);

    /// <summary>
    /// <c>TRYAGAIN</c> (the keys of one slot are half migrated), a <c>MOVED</c>/<c>ASK</c> that
    /// StackExchange.Redis did not follow (it follows one redirect per command, and nodes may briefly
    /// disagree during a slot move), or <c>UNBLOCKED</c> (a blocking pop's node turned replica): worth
    /// trying again shortly.
    /// </summary>
    public static bool IsInFlux(RedisServerException exception) =>
        exception.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
        || exception.Message.StartsWith("UNBLOCKED", StringComparison.Ordinal)
        || exception.Message.StartsWith("MOVED", StringComparison.Ordinal)
        || exception.Message.StartsWith("ASK", StringComparison.Ordinal)
        || exception.Message.StartsWith("Key has MOVED", StringComparison.Ordinal);
}
