namespace Channels.Net.Layers;

/// <summary>
/// Thrown when a channel or group name breaks a naming rule (Django raises <c>TypeError</c>).
/// The message says which rule failed and shows the name.
/// </summary>
public sealed class InvalidChannelNameException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public InvalidChannelNameException(string message, string? name, string? paramName = null)
        : base(message, paramName)
    {
        Name = name;
    }

    /// <summary>The name that was refused (null when none was given).</summary>
    public string? Name { get; }
}
