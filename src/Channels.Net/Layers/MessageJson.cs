using System.Buffers;
using System.Text.Json;

namespace Channels.Net.Layers;

/// <summary>Writes message values as JSON, and binds messages to .NET types through that JSON.</summary>
internal static class MessageJson
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    public static T Bind<T>(MessageMap map, JsonSerializerOptions options)
    {
        var buffer = Rent();
        try
        {
            WriteTo(buffer, map);
            return JsonSerializer.Deserialize<T>(buffer.WrittenSpan, options)!;
        }
        catch (JsonException ex)
        {
            throw new InvalidChannelMessageException($"The message cannot be read as {typeof(T)}: {ex.Message}", ex);
        }
        finally
        {
            Return(buffer);
        }
    }

    public static object? Bind(MessageMap map, Type type, JsonSerializerOptions options)
    {
        var buffer = Rent();
        try
        {
            WriteTo(buffer, map);
            return JsonSerializer.Deserialize(buffer.WrittenSpan, type, options);
        }
        catch (JsonException ex)
        {
            throw new InvalidChannelMessageException($"The message cannot be read as {type}: {ex.Message}", ex);
        }
        finally
        {
            Return(buffer);
        }
    }

    public static string ToJsonString(object? value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        WriteTo(buffer, value);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void WriteTo(IBufferWriter<byte> output, object? value)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        Write(writer, value);
    }

    public static void Write(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case ulong ul:
                writer.WriteNumberValue(ul);
                break;
            case double d:
                if (double.IsFinite(d))
                {
                    writer.WriteNumberValue(d);
                }
                else
                {
                    writer.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
                }

                break;
            case ReadOnlyMemory<byte> bytes:
                writer.WriteBase64StringValue(bytes.Span);
                break;
            case MessageList list:
                writer.WriteStartArray();
                foreach (var item in list.Items)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case MessageMap map:
                writer.WriteStartObject();
                foreach (var entry in map.Entries)
                {
                    writer.WritePropertyName(entry.Key);
                    Write(writer, entry.Value);
                }

                writer.WriteEndObject();
                break;
            default:
                throw new InvalidOperationException($"A message holds a value of type {value.GetType()}, which no message should hold.");
        }
    }

    private static ArrayBufferWriter<byte> Rent()
    {
        var buffer = t_buffer ?? new ArrayBufferWriter<byte>(1024);
        t_buffer = null;
        return buffer;
    }

    private static void Return(ArrayBufferWriter<byte> buffer)
    {
        if (buffer.Capacity <= 64 * 1024)
        {
            buffer.ResetWrittenCount();
            t_buffer = buffer;
        }
    }
}
