namespace Channels.Net.Hosting.Workers;

/// <summary>What a channel worker serves (Django's <c>runworker</c> arguments).</summary>
public sealed class ChannelWorkerOptions
{
    /// <summary>The application messages go to, usually a <c>ChannelNameRouter</c>.</summary>
    public IChannelApplication? Application { get; set; }

    /// <summary>The channel names to receive on.</summary>
    public IList<string> Channels { get; } = new List<string>();

    /// <summary>The channel-layer alias to receive from.</summary>
    public string LayerAlias { get; set; } = Layers.Configuration.ChannelLayersOptions.DefaultAlias;

    /// <summary>How long to wait before starting a channel's application again after it ended or failed.</summary>
    public TimeSpan RestartDelay { get; set; } = TimeSpan.FromSeconds(1);
}
