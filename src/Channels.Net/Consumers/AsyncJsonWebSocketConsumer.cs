using System.Text.Json;

namespace Channels.Net.Consumers;

/// <summary>
/// A WebSocket consumer that speaks JSON (Django's <c>AsyncJsonWebsocketConsumer</c>): text frames
/// are decoded and passed to <see cref="ReceiveJsonAsync"/>; <see cref="SendJsonAsync"/> encodes.
/// Override <see cref="DecodeJson"/> / <see cref="EncodeJson"/> to change the encoding.
/// </summary>
public abstract class AsyncJsonWebSocketConsumer : AsyncWebSocketConsumer
{
    /// <summary>The options of <see cref="EncodeJson"/> and <see cref="DecodeJson"/> (System.Text.Json's defaults:
    /// property names as written, as Python's <c>json.dumps</c> keeps dict keys).</summary>
    protected virtual JsonSerializerOptions JsonOptions => JsonSerializerOptions.Default;

    /// <summary>Decodes a text frame and calls <see cref="ReceiveJsonAsync"/>. A binary frame is an error, as in Django.</summary>
    /// <exception cref="InvalidOperationException">The frame is binary.</exception>
    /// <exception cref="JsonException">The text is not JSON (the connection then closes with 1011, as in Django).</exception>
    public override Task ReceiveAsync(string? text, byte[]? bytes) =>
        text is not null
            ? ReceiveJsonAsync(DecodeJson(text))
            : throw new InvalidOperationException("No text section for incoming WebSocket frame!");

    /// <summary>A JSON message from the client.</summary>
    public virtual Task ReceiveJsonAsync(JsonElement content) => Task.CompletedTask;

    /// <summary>Encodes <paramref name="content"/> as JSON and sends it as a text frame.</summary>
    protected Task SendJsonAsync(object? content, bool close = false) => SendAsync(EncodeJson(content), close);

    /// <summary>Decodes JSON text (Django's <c>decode_json</c>).</summary>
    protected virtual JsonElement DecodeJson(string text) => JsonSerializer.Deserialize<JsonElement>(text, JsonOptions);

    /// <summary>Encodes a value as JSON text (Django's <c>encode_json</c>).</summary>
    protected virtual string EncodeJson(object? content) => JsonSerializer.Serialize(content, content?.GetType() ?? typeof(object), JsonOptions);
}
