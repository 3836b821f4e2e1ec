using Channels.Net.Layers;
using Xunit;

namespace Channels.Net.Testing.Conformance;

public abstract partial class ChannelLayerConformanceTests
{
    /// <summary><see cref="IChannelLayer.Extensions"/> reports exactly the expected extensions, and the
    /// methods of every other extension throw <see cref="NotSupportedException"/>.</summary>
    [Fact]
    public async Task Extensions_AreReportedExactly()
    {
        var layer = await NewLayerAsync();

        Assert.Equal(ExpectedExtensions, layer.Extensions);
        Assert.Equal(ExpectedExtensions, layer.Extensions & (ChannelLayerExtensions.Groups | ChannelLayerExtensions.Flush));
        var groups = await GroupsSupportedAsync(layer);
        var flush = await FlushSupportedAsync(layer);
        Assert.Equal(layer.Extensions.HasFlag(ChannelLayerExtensions.Groups), groups);
        Assert.Equal(layer.Extensions.HasFlag(ChannelLayerExtensions.Flush), flush);
    }

    /// <summary>Flush removes every message and every group membership, and the layer works as before afterwards.</summary>
    [Fact]
    public async Task Flush_EmptiesChannelsAndGroups()
    {
        var layer = await NewLayerAsync();
        if (!await FlushSupportedAsync(layer))
        {
            return;
        }

        var plain = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "flush");
        var local = await NewTestChannelAsync(layer, ConformanceChannelKind.ProcessLocal, "flush");
        await Within(layer.SendAsync(plain, Msg("test.flushed")));
        await Within(layer.SendAsync(plain, Msg("test.flushed")));
        await Within(layer.SendAsync(local, Msg("test.flushed")));
        var groups = await GroupsSupportedAsync(layer);
        var group = UniqueName("flush");
        if (groups)
        {
            await Within(layer.GroupAddAsync(group, plain));
            await Within(layer.GroupAddAsync(group, local));
        }

        await Within(layer.FlushAsync());

        await Task.WhenAll(AssertNoMessageAsync(layer, plain), AssertNoMessageAsync(layer, local));
        if (groups)
        {
            await Within(layer.GroupSendAsync(group, Msg("test.after.flush")));
            await Task.WhenAll(AssertNoMessageAsync(layer, plain), AssertNoMessageAsync(layer, local));
            await Within(layer.GroupAddAsync(group, local));
            await Within(layer.GroupSendAsync(group, Msg("test.group.works")));
            Assert.Equal("test.group.works", (await ReceiveWithinAsync(layer, local)).Type);
        }

        await Within(BeginListeningAsync(layer, plain));
        await Within(layer.SendAsync(plain, Msg("test.works")));
        Assert.Equal("test.works", (await ReceiveWithinAsync(layer, plain)).Type);
        await AssertNoMessageAsync(layer, plain);
    }

    /// <summary>A receive already waiting when the layer is flushed keeps waiting and gets the next message.</summary>
    [Fact]
    public async Task Flush_WaitingReceiverKeepsWaiting()
    {
        var layer = await NewLayerAsync();
        if (!await FlushSupportedAsync(layer))
        {
            return;
        }

        var channel = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "flushwait");
        var receive = ReceiveWithinAsync(layer, channel);
        await WaitForWaitingReceiversAsync(layer, channel, 1);

        await Within(layer.FlushAsync());
        Assert.False(receive.IsCompleted, "Flush completed a waiting receive.");
        var message = Msg("test.flushwait");
        await Within(layer.SendAsync(channel, message));

        MessageAssert.Equal(message, await receive);
    }

    /// <summary>After <see cref="IAsyncDisposable.DisposeAsync"/>, every operation throws
    /// <see cref="ObjectDisposedException"/>; disposing again is harmless.</summary>
    [Fact]
    public async Task Dispose_LaterOperationsThrowObjectDisposed()
    {
        var layer = await NewLayerAsync();
        var channel = await NewTestChannelAsync(layer, ConformanceChannelKind.Plain, "disposed");
        var group = UniqueName("disposed");
        await Within(layer.SendAsync(channel, Msg("test.pending")));

        await Within(layer.DisposeAsync());

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await Within(layer.SendAsync(channel, Msg("test.disposed"))));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await Within(layer.ReceiveAsync(channel)));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await Within(layer.NewChannelAsync()));
        if (ExpectedExtensions.HasFlag(ChannelLayerExtensions.Groups))
        {
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await Within(layer.GroupAddAsync(group, channel)));
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await Within(layer.GroupDiscardAsync(group, channel)));
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await Within(layer.GroupSendAsync(group, Msg("test.disposed"))));
        }

        if (ExpectedExtensions.HasFlag(ChannelLayerExtensions.Flush))
        {
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await Within(layer.FlushAsync()));
        }

        await Within(layer.DisposeAsync());
        Assert.Equal(ExpectedExtensions, layer.Extensions);
    }

    /// <summary>A receive waiting when the layer is disposed fails with <see cref="ObjectDisposedException"/>
    /// instead of waiting forever.</summary>
    /// <param name="kind">The kind of channel.</param>
    [Theory]
    [InlineData(ConformanceChannelKind.Plain)]
    [InlineData(ConformanceChannelKind.ProcessLocal)]
    public async Task Dispose_WaitingReceiveFailsWithObjectDisposed(ConformanceChannelKind kind)
    {
        var layer = await NewLayerAsync();
        var channel = await NewTestChannelAsync(layer, kind, "disposewait");
        var receive = layer.ReceiveAsync(channel).AsTask();
        await WaitForWaitingReceiversAsync(layer, channel, 1);
        Assert.False(receive.IsCompleted);

        await Within(layer.DisposeAsync());

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Within(receive));
    }
}
