namespace Channels.Net.Testing.Conformance;

/// <summary>The two kinds of channel the conformance suite runs its send and receive tests over.</summary>
public enum ConformanceChannelKind
{
    /// <summary>A plain channel name the test makes up, such as <c>conformance.fifo.3f2a…</c>.</summary>
    Plain,

    /// <summary>A process-local name handed out by <see cref="Channels.Net.Layers.IChannelLayer.NewChannelAsync"/>,
    /// such as <c>fifo.abc!xyz</c>.</summary>
    ProcessLocal,
}
