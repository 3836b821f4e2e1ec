namespace Channels.Net.Testing;

/// <summary>The application did not produce what a communicator waited for in time (asgiref's <c>TimeoutError</c>).</summary>
public sealed class ApplicationTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public ApplicationTimeoutException(string message)
        : base(message)
    {
    }
}
