using System.Collections.ObjectModel;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Channels.Net;

/// <summary>
/// The parts of a <see cref="ChannelScope"/> that cost memory to hold and that a consumer often never reads
/// (headers, cookies, user, endpoints, subprotocols, session, services, the <c>HttpContext</c>). A scope holds
/// one of these, shared by the copies made from it with <c>with</c>: a request's parts, read when first asked for
/// (<see cref="Hosting.AspNetCore.HttpScopeParts"/>), with the values set on a scope (<see cref="With"/>) over them.
/// </summary>
internal abstract class ScopeParts
{
    /// <summary>One part.</summary>
    public enum Part
    {
        Headers,
        Client,
        Server,
        Subprotocols,
        User,
        Cookies,
        Session,
        RequestServices,
        HttpContext,
    }

    public abstract IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    public abstract IPEndPoint? Client { get; }

    public abstract IPEndPoint? Server { get; }

    public abstract IReadOnlyList<string> Subprotocols { get; }

    public abstract ClaimsPrincipal User { get; }

    public abstract IReadOnlyDictionary<string, string> Cookies { get; }

    public abstract ISession? Session { get; }

    public abstract IServiceProvider RequestServices { get; }

    public abstract HttpContext? HttpContext { get; }

    /// <summary>Services for singletons (logging, the channel layers), without creating a request's service scope.</summary>
    public abstract IServiceProvider ApplicationServices { get; }

    /// <summary>The parts of a scope built by hand (tests, workers): nothing but defaults, and an anonymous user of its own.</summary>
    public static ScopeParts Default() => new Overrides(null, 1 << (int)Part.User, [.. Enumerable.Repeat<object?>(null, (int)Part.User), new ClaimsPrincipal(new ClaimsIdentity())]);

    /// <summary><paramref name="parts"/> with <paramref name="part"/> set to <paramref name="value"/>; <paramref name="parts"/> itself is not changed.</summary>
    public static ScopeParts With(ScopeParts? parts, Part part, object? value)
    {
        var index = (int)part;
        if (parts is Overrides overrides)
        {
            var values = overrides.Values.Length > index ? (object?[])overrides.Values.Clone() : [.. overrides.Values, .. new object?[index + 1 - overrides.Values.Length]];
            values[index] = value;
            return new Overrides(overrides.Inner, overrides.Set | (1 << index), values);
        }

        var fresh = new object?[index + 1];
        fresh[index] = value;
        return new Overrides(parts, 1 << index, fresh);
    }

    /// <summary>Values set on a scope, over the parts it had (if any).</summary>
    private sealed class Overrides(ScopeParts? inner, int set, object?[] values) : ScopeParts
    {
        public ScopeParts? Inner => inner;

        public int Set => set;

        public object?[] Values => values;

        public override IReadOnlyList<KeyValuePair<string, string>> Headers =>
            Get(Part.Headers, out var value) ? (IReadOnlyList<KeyValuePair<string, string>>)value! : inner?.Headers ?? [];

        public override IPEndPoint? Client => Get(Part.Client, out var value) ? (IPEndPoint?)value : inner?.Client;

        public override IPEndPoint? Server => Get(Part.Server, out var value) ? (IPEndPoint?)value : inner?.Server;

        public override IReadOnlyList<string> Subprotocols =>
            Get(Part.Subprotocols, out var value) ? (IReadOnlyList<string>)value! : inner?.Subprotocols ?? [];

        public override ClaimsPrincipal User =>
            Get(Part.User, out var value) ? (ClaimsPrincipal)value! : inner?.User ?? new ClaimsPrincipal(new ClaimsIdentity());

        public override IReadOnlyDictionary<string, string> Cookies =>
            Get(Part.Cookies, out var value) ? (IReadOnlyDictionary<string, string>)value! : inner?.Cookies ?? ReadOnlyDictionary<string, string>.Empty;

        public override ISession? Session => Get(Part.Session, out var value) ? (ISession?)value : inner?.Session;

        public override IServiceProvider RequestServices => Get(Part.RequestServices, out var value) ? (IServiceProvider)value! : inner?.RequestServices!;

        public override HttpContext? HttpContext => Get(Part.HttpContext, out var value) ? (HttpContext?)value : inner?.HttpContext;

        // Services set on the scope are its services for everything; a request's root services otherwise.
        public override IServiceProvider ApplicationServices => Get(Part.RequestServices, out var value) ? (IServiceProvider)value! : inner?.ApplicationServices!;

        private bool Get(Part part, out object? value)
        {
            var index = (int)part;
            if ((set & (1 << index)) == 0)
            {
                value = null;
                return false;
            }

            value = values[index];
            return true;
        }
    }
}
