using System.Reflection;
using Channels.Net.Layers;

namespace Channels.Net.Consumers;

/// <summary>One resolved handler: the method and a compiled delegate that calls it.</summary>
internal sealed class EventHandler(MethodInfo method, Func<object, ChannelMessage, CancellationToken, ValueTask> invoke)
{
    public MethodInfo Method { get; } = method;

    /// <summary>Calls the handler on a consumer with a message; binds the message when the handler takes a typed record.</summary>
    public Func<object, ChannelMessage, CancellationToken, ValueTask> Invoke { get; } = invoke;

    public override string ToString() => $"{Method.DeclaringType?.Name}.{Method.Name}";
}
