using System.Text.Json;

namespace Channels.Net.Consumers;

/// <summary>
/// The synchronous JSON WebSocket consumer (Django's <c>JsonWebsocketConsumer</c>): text frames
/// are decoded and passed to <see cref="ReceiveJson"/>; <see cref="SendJson"/> encodes.
/// </summary>
public abstract class JsonWebSocketConsumer : WebSocketConsumer
{
    /// <summary>The options of <see cref="EncodeJson"/> and <see cref="DecodeJson"/>.</summary>
    protected virtual JsonSerializerOptions JsonOptions => JsonSerializerOptions.Default;

    /// <summary>Decodes a text frame and calls <see cref="ReceiveJson"/>. A binary frame is an error, as in Django.</summary>
    /// <exception cref="InvalidOperationException">The frame is binary.</exception>
    public override void Receive(string? text, byte[]? bytes)
    {
        if (text is null)
        {
            throw new InvalidOperationException("No text section for incoming WebSocket frame!");
        }

        ReceiveJson(DecodeJson(text));
    }

    /// <summary>A JSON message from the client.</summary>
    public virtual void ReceiveJson(JsonElement content)
    {
    }

    /// <summary>Encodes <paramref name="content"/> as JSON and sends it as a text frame.</summary>
    protected void SendJson(object? content, bool close = false) => Send(EncodeJson(content), close);

    /// <summary>Decodes JSON text (Django's <c>decode_json</c>).</summary>
    protected virtual JsonElement DecodeJson(string text) => JsonSerializer.Deserialize<JsonElement>(text, JsonOptions);

    /// <summary>Encodes a value as JSON text (Django's <c>encode_json</c>).</summary>
    protected virtual string EncodeJson(object? content) => JsonSerializer.Serialize(content, content?.GetType() ?? typeof(object), JsonOptions);
}
