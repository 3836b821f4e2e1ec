using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using Channels.Net.Layers;

namespace Channels.Net.Consumers;

/// <summary>
/// The handlers of one consumer type, found once by reflection and compiled to delegates, so a
/// message is dispatched by a dictionary lookup and a delegate call, never by reflection.
/// </summary>
/// <remarks>
/// Only methods declared by the user's classes count (from the concrete type up to the first
/// class of this library), and not those that override a library or <see cref="object"/> method:
/// a crafted <c>type</c> cannot reach <c>Close</c>, <c>Dispose</c>, <c>ToString</c> or any base method.
/// <see cref="ChannelEventAttribute"/> marks a handler of any visibility; the naming convention
/// (<c>chat.message</c> → <c>chat_message</c> / <c>ChatMessage</c> / <c>ChatMessageAsync</c>)
/// considers public methods only.
/// </remarks>
internal sealed class EventHandlerTable
{
    private const int MaxCachedTypes = 1024;
    private static readonly ConcurrentDictionary<Type, EventHandlerTable> s_tables = new();
    private static readonly Assembly s_library = typeof(EventHandlerTable).Assembly;

    private readonly Dictionary<string, EventHandler> _byType;
    private readonly Dictionary<string, EventHandler> _byName;
    private readonly ConcurrentDictionary<string, EventHandler?> _resolved = new(StringComparer.Ordinal);

    private EventHandlerTable(Dictionary<string, EventHandler> byType, Dictionary<string, EventHandler> byName)
    {
        _byType = byType;
        _byName = byName;
    }

    /// <summary>The table of <paramref name="consumerType"/>, built on first use.</summary>
    /// <exception cref="InvalidOperationException">The consumer declares handlers wrongly (two for one type, a bad signature on an attributed method).</exception>
    public static EventHandlerTable For(Type consumerType) => s_tables.GetOrAdd(consumerType, Build);

    /// <summary>The handler of <paramref name="type"/>, or null when the consumer has none.</summary>
    public EventHandler? Find(string type)
    {
        if (_resolved.TryGetValue(type, out var cached))
        {
            return cached;
        }

        var handler = Resolve(type);
        if (_resolved.Count < MaxCachedTypes)
        {
            _resolved.TryAdd(type, handler);
        }

        return handler;
    }

    /// <summary>The method names the convention tries for <paramref name="type"/>, most Django-like first.</summary>
    internal static IEnumerable<string> ConventionNames(string type)
    {
        if (type.Length == 0 || type[0] == '_' || type[0] == '.')
        {
            yield break; // Django refuses a leading underscore ("malformed type").
        }

        var parts = type.Split('.', '_');
        foreach (var part in parts)
        {
            if (part.Length == 0 || !part.All(c => char.IsAsciiLetterOrDigit(c)))
            {
                yield break;
            }
        }

        if (!char.IsAsciiLetter(type[0]))
        {
            yield break;
        }

        yield return type.Replace('.', '_');
        var pascal = string.Concat(parts.Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
        yield return pascal;
        yield return pascal + "Async";
    }

    private EventHandler? Resolve(string type)
    {
        if (_byType.TryGetValue(type, out var attributed))
        {
            return attributed;
        }

        foreach (var name in ConventionNames(type))
        {
            if (_byName.TryGetValue(name, out var byConvention))
            {
                return byConvention;
            }
        }

        return null;
    }

    private static EventHandlerTable Build(Type consumerType)
    {
        var userTypes = new List<Type>();
        for (var t = consumerType; t is not null && t.Assembly != s_library && t != typeof(object); t = t.BaseType)
        {
            userTypes.Add(t);
        }

        var byType = new Dictionary<string, EventHandler>(StringComparer.Ordinal);
        var byName = new Dictionary<string, EventHandler>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        const BindingFlags flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

        foreach (var type in userTypes)
        {
            foreach (var method in type.GetMethods(flags))
            {
                if (method.IsSpecialName || method.IsGenericMethodDefinition || method.IsDefined(typeof(CompilerGeneratedAttribute)))
                {
                    continue;
                }

                // Overrides of library or System.Object methods are never handlers.
                var baseDeclaring = method.GetBaseDefinition().DeclaringType;
                if (baseDeclaring is null || !userTypes.Contains(baseDeclaring))
                {
                    continue;
                }

                // The most derived override of a user method wins; its base declarations are skipped.
                var signature = method.Name + "(" + string.Join(",", method.GetParameters().Select(p => p.ParameterType.FullName)) + ")";
                if (!seen.Add(signature))
                {
                    continue;
                }

                var attributes = method.GetCustomAttributes<ChannelEventAttribute>(inherit: false).ToList();
                if (attributes.Count > 0)
                {
                    var handler = Compile(consumerType, method, attributed: true)!;
                    foreach (var attribute in attributes)
                    {
                        if (!byType.TryAdd(attribute.Type, handler))
                        {
                            throw new InvalidOperationException(
                                $"Consumer {consumerType} has two handlers for '{attribute.Type}': {byType[attribute.Type]} and {handler}.");
                        }
                    }

                    continue;
                }

                if (!method.IsPublic)
                {
                    continue;
                }

                var conventional = Compile(consumerType, method, attributed: false);
                if (conventional is null)
                {
                    continue;
                }

                if (!byName.TryAdd(method.Name, conventional))
                {
                    throw new InvalidOperationException(
                        $"Consumer {consumerType} has two public methods named {method.Name} that could handle messages; " +
                        $"mark the handler with [ChannelEvent(\"...\")] or rename one.");
                }
            }
        }

        return new EventHandlerTable(byType, byName);
    }

    /// <summary>Compiles <c>(consumer, message, ct) =&gt; ((T)consumer).Method(bound message, ct)</c>; null when the
    /// method's shape is not a handler's (an error instead when it is attributed).</summary>
    private static EventHandler? Compile(Type consumerType, MethodInfo method, bool attributed)
    {
        string? problem = null;
        var parameters = method.GetParameters();
        var returnType = method.ReturnType;
        if (returnType != typeof(void) && returnType != typeof(Task) && returnType != typeof(ValueTask))
        {
            problem = "it must return Task, ValueTask or void";
        }

        Type? payloadType = null;
        var takesToken = false;
        foreach (var (parameter, index) in parameters.Select((p, i) => (p, i)))
        {
            if (parameter.ParameterType == typeof(CancellationToken) && index == parameters.Length - 1)
            {
                takesToken = true;
            }
            else if (index == 0 && payloadType is null && !parameter.ParameterType.IsByRef)
            {
                payloadType = parameter.ParameterType;
            }
            else
            {
                problem ??= "it may take only the message (or a type to bind it to) and a CancellationToken";
            }
        }

        if (payloadType is not null && !attributed && (payloadType.IsPrimitive || payloadType == typeof(string) || payloadType.IsEnum))
        {
            problem ??= "a convention handler cannot take a primitive or a string";
        }

        if (problem is not null)
        {
            return attributed
                ? throw new InvalidOperationException($"{consumerType}.{method.Name} is marked [ChannelEvent] but cannot be a handler: {problem}.")
                : null;
        }

        var consumer = Expression.Parameter(typeof(object), "consumer");
        var message = Expression.Parameter(typeof(ChannelMessage), "message");
        var token = Expression.Parameter(typeof(CancellationToken), "cancellationToken");
        var arguments = new List<Expression>();
        if (payloadType is not null)
        {
            arguments.Add(payloadType.IsAssignableFrom(typeof(ChannelMessage))
                ? Expression.Convert(message, payloadType)
                : Expression.Call(message, typeof(MessageMap).GetMethod(nameof(MessageMap.To), 1, [typeof(System.Text.Json.JsonSerializerOptions)])!.MakeGenericMethod(payloadType), Expression.Constant(null, typeof(System.Text.Json.JsonSerializerOptions))));
        }

        if (takesToken)
        {
            arguments.Add(token);
        }

        Expression call = Expression.Call(Expression.Convert(consumer, method.DeclaringType!), method, arguments);
        if (returnType == typeof(void))
        {
            call = Expression.Block(call, Expression.Default(typeof(ValueTask)));
        }
        else if (returnType == typeof(Task))
        {
            call = Expression.New(typeof(ValueTask).GetConstructor([typeof(Task)])!, call);
        }

        var lambda = Expression.Lambda<Func<object, ChannelMessage, CancellationToken, ValueTask>>(call, consumer, message, token);
        return new EventHandler(method, lambda.Compile());
    }
}
