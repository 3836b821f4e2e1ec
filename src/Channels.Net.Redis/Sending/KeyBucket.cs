using Channels.Net.Redis.Receiving;
using StackExchange.Redis;

namespace Channels.Net.Redis.Sending;

/// <summary>
/// The members of one group send that share a Redis key (channels_redis's bucketing): they get one
/// message, whose <c>__asgi_channel__</c> lists them all, in the order the group returned them.
/// </summary>
internal sealed class KeyBucket
{
    public KeyBucket(ReadOnlyMemory<byte> nonLocalName, RedisKey key, int shardIndex, int capacity, LocalKey? local, bool inProcess)
    {
        NonLocalName = nonLocalName;
        Key = key;
        ShardIndex = shardIndex;
        Capacity = capacity;
        Local = local;
        InProcess = inProcess;
    }

    /// <summary>The members' shared part (the whole name of a plain channel), UTF-8.</summary>
    public ReadOnlyMemory<byte> NonLocalName { get; }

    /// <summary>The Redis key, <c>{prefix}{non-local name}</c>.</summary>
    public RedisKey Key { get; }

    /// <summary>The host that holds the key.</summary>
    public int ShardIndex { get; }

    /// <summary>The capacity of the first member (channels_redis's choice for the key).</summary>
    public int Capacity { get; }

    /// <summary>
    /// The capacity the group send's script checks the key against: <see cref="Capacity"/> for a plain channel's key;
    /// for a process's key (<c>…!</c>, shared by all its local channels) <see cref="Capacity"/> per member the message
    /// addresses. channels_redis checks such a key against one channel's capacity, so a process with 100 members in a
    /// room was skipped whole once 100 group messages waited in its key — a burst faster than its receive pops for a
    /// moment; here each local channel has its own capacity's worth, as documented for channels. A process that does
    /// not read still holds a bounded backlog (capacity × members entries, dropped after the expiry).
    /// </summary>
    public int GroupCapacity => NonLocalName.Span is [.., (byte)'!'] ? (int)Math.Min(int.MaxValue, (long)Capacity * Math.Max(1, Channels.Count)) : Capacity;

    /// <summary>This layer's own key, when the members are its process-local channels.</summary>
    public LocalKey? Local { get; }

    /// <summary>True when the members take the message in-process (<see cref="LocalKey.DeliversInProcess"/> held when the send was planned).</summary>
    public bool InProcess { get; }

    /// <summary>The members' names, UTF-8, as Redis returned them.</summary>
    public List<ReadOnlyMemory<byte>> Channels { get; } = [];

    /// <summary>True when the members take this send in-process: <see cref="LocalKey.DeliversInProcess"/> now (a
    /// remembered plan is reused over many sends, so each send asks again rather than trusting <see cref="InProcess"/>).</summary>
    public bool TakesInProcessNow => Local is { DeliversInProcess: true };

    /// <summary>The members' names as strings, made once per bucket (a remembered plan's in-process sends reuse them).</summary>
    public string[] ChannelNames
    {
        get
        {
            var names = Volatile.Read(ref _channelNames);
            if (names is null)
            {
                names = new string[Channels.Count];
                for (var i = 0; i < names.Length; i++)
                {
                    names[i] = System.Text.Encoding.ASCII.GetString(Channels[i].Span);
                }

                Volatile.Write(ref _channelNames, names);
            }

            return names;
        }
    }

    private string[]? _channelNames;
}
