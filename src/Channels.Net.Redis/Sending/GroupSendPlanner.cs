using System.Text;
using Channels.Net.Layers;
using Channels.Net.Redis.Receiving;
using Channels.Net.Redis.Sharding;
using StackExchange.Redis;

namespace Channels.Net.Redis.Sending;

/// <summary>
/// Sorts a group's members (as Redis returned them) into <see cref="KeyBucket"/>s, the way
/// channels_redis's <c>_map_channel_keys_to_connection</c> does, working on the names' bytes: no
/// string per member, except for this layer's own channels that take the message in-process.
/// Members that are no valid channel name (another writer put them there) are skipped.
/// </summary>
internal sealed class GroupSendPlanner
{
    /// <summary>Up to this many keys are found by a linear search; beyond it, by a dictionary.</summary>
    private const int LinearSearchLimit = 16;

    private readonly byte[] _prefixUtf8;
    private readonly ChannelCapacities _capacities;
    private readonly LocalKeys _localKeys;
    private readonly int _ringSize;

    public GroupSendPlanner(string prefix, ChannelCapacities capacities, LocalKeys localKeys, int ringSize)
    {
        _prefixUtf8 = Encoding.UTF8.GetBytes(prefix);
        _capacities = capacities;
        _localKeys = localKeys;
        _ringSize = ringSize;
    }

    /// <summary>The buckets of <paramref name="members"/>, in the order their keys first appear.</summary>
    public List<KeyBucket> Plan(RedisValue[] members)
    {
        var buckets = new List<KeyBucket>();
        Dictionary<NameBytes, KeyBucket>? index = null;
        KeyBucket? last = null;
        foreach (var value in members)
        {
            var member = (ReadOnlyMemory<byte>)value;
            var name = member.Span;
            if (!ChannelNameBytes.IsValidChannelName(name))
            {
                continue;
            }

            var bang = name.IndexOf((byte)'!');
            var nonLocal = bang < 0 ? member : member[..(bang + 1)];
            var bucket = last is not null && last.NonLocalName.Span.SequenceEqual(nonLocal.Span)
                ? last
                : Find(buckets, ref index, nonLocal);
            if (bucket is null)
            {
                bucket = NewBucket(nonLocal, name, bang >= 0);
                buckets.Add(bucket);
                index?.Add(new NameBytes(nonLocal), bucket);
            }

            bucket.Channels.Add(member);
            last = bucket;
        }

        return buckets;
    }

    private static KeyBucket? Find(List<KeyBucket> buckets, ref Dictionary<NameBytes, KeyBucket>? index, ReadOnlyMemory<byte> nonLocal)
    {
        if (index is null)
        {
            if (buckets.Count < LinearSearchLimit)
            {
                foreach (var bucket in buckets)
                {
                    if (bucket.NonLocalName.Span.SequenceEqual(nonLocal.Span))
                    {
                        return bucket;
                    }
                }

                return null;
            }

            index = new Dictionary<NameBytes, KeyBucket>(buckets.Count * 2);
            foreach (var bucket in buckets)
            {
                index.Add(new NameBytes(bucket.NonLocalName), bucket);
            }
        }

        return index.GetValueOrDefault(new NameBytes(nonLocal));
    }

    private KeyBucket NewBucket(ReadOnlyMemory<byte> nonLocal, ReadOnlySpan<byte> firstMember, bool processLocal)
    {
        var capacity = _capacities.Rules.Count == 0 ? _capacities.Default : _capacities.GetCapacity(Encoding.ASCII.GetString(firstMember));
        if (processLocal && _localKeys.IsOwn(nonLocal.Span))
        {
            var local = _localKeys.Get(nonLocal.Span);
            return new KeyBucket(nonLocal, local.Key, local.ShardIndex, capacity, local, local.DeliversInProcess);
        }

        var key = new byte[_prefixUtf8.Length + nonLocal.Length];
        _prefixUtf8.CopyTo(key, 0);
        nonLocal.Span.CopyTo(key.AsSpan(_prefixUtf8.Length));
        var shard = _ringSize == 1 ? 0 : ConsistentHash.Index(Encoding.ASCII.GetString(nonLocal.Span), _ringSize);
        return new KeyBucket(nonLocal, key, shard, capacity, null, inProcess: false);
    }

    /// <summary>A name's bytes as a dictionary key.</summary>
    private readonly struct NameBytes(ReadOnlyMemory<byte> bytes) : IEquatable<NameBytes>
    {
        private readonly ReadOnlyMemory<byte> _bytes = bytes;

        public bool Equals(NameBytes other) => _bytes.Span.SequenceEqual(other._bytes.Span);

        public override bool Equals(object? obj) => obj is NameBytes other && Equals(other);

        public override int GetHashCode()
        {
            var hash = default(HashCode);
            hash.AddBytes(_bytes.Span);
            return hash.ToHashCode();
        }
    }
}
