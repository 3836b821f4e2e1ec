namespace Channels.Net.Consumers;

/// <summary>
/// Marks a consumer method as the handler of channel-layer messages whose <c>type</c> is
/// <see cref="Type"/>. Without the attribute, a public method whose name follows the tutorial's
/// convention handles the type: <c>chat.message</c> is handled by <c>chat_message</c>,
/// <c>ChatMessage</c> or <c>ChatMessageAsync</c>.
/// </summary>
/// <remarks>
/// A handler takes no parameter, the message (<see cref="Layers.ChannelMessage"/>), or a type the
/// message is bound to with System.Text.Json (a record such as <c>record ChatMessage(string Message)</c>),
/// optionally followed by a <see cref="CancellationToken"/>; it returns <see cref="Task"/>,
/// <see cref="ValueTask"/> or nothing. Only methods declared by your consumer classes are
/// handlers, so a crafted <c>type</c> can never call a method of the library's base classes.
/// </remarks>
/// <param name="type">The message type, e.g. <c>chat.message</c>.</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class ChannelEventAttribute(string type) : Attribute
{
    /// <summary>The message type this method handles.</summary>
    public string Type { get; } = type ?? throw new ArgumentNullException(nameof(type));
}
