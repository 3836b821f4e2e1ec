using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>An HTTP request served by ASP.NET Core, as an <see cref="IHttpSession"/>.</summary>
/// <remarks><see cref="Aborted"/> fires when the client leaves and when the server stops, so a
/// streaming response (server-sent events) ends and its consumer's disconnect runs at shutdown.</remarks>
internal sealed partial class AspNetHttpSession(HttpContext http, ILogger logger, CancellationToken stopping = default) : IHttpSession, IDisposable
{
    private const int ChunkSize = 16 * 1024;
    private readonly CancellationTokenSource _aborted = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
    private bool _bodyDone;
    private bool _completed;

    /// <summary>Set when the application found no route: the middleware passes the request on.</summary>
    public bool NotFound { get; private set; }

    public bool HasStarted => http.Response.HasStarted;

    public CancellationToken Aborted => _aborted.Token;

    public void Dispose() => _aborted.Dispose();

    public async ValueTask<HttpBodyChunk> ReceiveBodyAsync(CancellationToken cancellationToken = default)
    {
        if (_bodyDone)
        {
            return new HttpBodyChunk(ReadOnlyMemory<byte>.Empty, false);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            int read;
            try
            {
                read = await http.Request.Body.ReadAsync(buffer.AsMemory(0, ChunkSize), cancellationToken).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex)
            {
                // Kestrel refused the body (too large for MaxRequestBodySize, malformed chunks): answer with its status.
                await RejectAsync(ex.StatusCode, ex.Message).ConfigureAwait(false);
                throw;
            }

            if (read == 0)
            {
                _bodyDone = true;
                return new HttpBodyChunk(ReadOnlyMemory<byte>.Empty, false);
            }

            return new HttpBodyChunk(buffer.AsSpan(0, read).ToArray(), true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async ValueTask StartResponseAsync(int statusCode, IReadOnlyList<KeyValuePair<string, string>>? headers = null, CancellationToken cancellationToken = default)
    {
        if (http.Response.HasStarted)
        {
            throw new InvalidOperationException("The response has already started.");
        }

        http.Response.StatusCode = statusCode;
        if (headers is not null)
        {
            foreach (var (name, value) in headers)
            {
                http.Response.Headers.Append(name, value);
            }
        }

        await http.Response.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask SendBodyAsync(ReadOnlyMemory<byte> body, bool moreBody = false, CancellationToken cancellationToken = default)
    {
        if (!http.Response.HasStarted)
        {
            throw new InvalidOperationException("Start the response (status and headers) before sending its body.");
        }

        if (!body.IsEmpty)
        {
            await http.Response.Body.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        }

        if (moreBody)
        {
            await http.Response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            _completed = true;
            await http.Response.CompleteAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask RejectAsync(int statusCode, string reason)
    {
        if (_completed)
        {
            return; // The client has a whole response already: nothing to refuse, nothing to abort.
        }

        if (http.Response.HasStarted)
        {
            http.Abort();
            return;
        }

        if (statusCode == StatusCodes.Status404NotFound)
        {
            NotFound = true;
            return;
        }

        LogRefused(logger, http.Request.Path, statusCode, reason);
        http.Response.StatusCode = statusCode;
        http.Response.ContentLength = 0;
        _completed = true;
        await http.Response.CompleteAsync().ConfigureAwait(false);
    }

    [LoggerMessage(210, LogLevel.Information, "HTTP request for {Path} refused with {StatusCode}: {Reason}.")]
    private static partial void LogRefused(ILogger logger, PathString path, int statusCode, string reason);
}
