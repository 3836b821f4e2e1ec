using Channels.Net.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Tests.Security;

public sealed class OriginValidatorTests
{
    private static (OriginValidator Validator, RecordingApplication Inner) Validator(params string[] patterns)
    {
        var inner = new RecordingApplication();
        return (new OriginValidator(inner, patterns), inner);
    }

    private static async Task<(bool Allowed, FakeWebSocketSession Session, RecordingApplication Inner)> HandshakeAsync(
        OriginValidator validator, RecordingApplication inner, ChannelScope scope)
    {
        var session = new FakeWebSocketSession();
        await validator.RunAsync(scope, session);
        var allowed = inner.Runs.Count == 1;
        if (allowed)
        {
            Assert.Same(scope, inner.Runs[0].Scope);
            Assert.Same(session, inner.Runs[0].Session);
            Assert.Empty(session.Rejections);
            Assert.True(session.IsAccepted);
        }
        else
        {
            Assert.Empty(inner.Runs);
            Assert.Equal(403, Assert.Single(session.Rejections).StatusCode);
            Assert.False(session.IsAccepted);
            Assert.Equal(0, session.Receives);
        }

        return (allowed, session, inner);
    }

    /// <summary>
    /// (allowed patterns separated by spaces, the single Origin header or null for none, allowed?).
    /// Every row was also run through Django Channels' own OriginValidator.valid_origin; the rows
    /// marked "differs from Django" are the deliberate differences listed in docs/security.md.
    /// </summary>
    [Theory]
    // Django's tests/security/test_websocket.py
    [InlineData("allowed-domain.com", "http://allowed-domain.com", true)]
    [InlineData("allowed-domain.com", "http://bad-domain.com", false)]
    [InlineData("*.allowed-domain.com", "http://allowed-domain.com", false)]
    [InlineData(".allowed-domain.com", "http://www.allowed-domain.com", true)]
    [InlineData("http://allowed-domain.com", "http://allowed-domain.com", true)]
    [InlineData("http://allowed-domain.com", "https://bad-domain.com:443", false)]
    [InlineData("*", null, true)]
    [InlineData("", null, false)]
    [InlineData(".allowed-domain.com", "", false)]
    [InlineData(".allowed-domain.com", "something-invalid", false)]
    // host patterns without scheme: any scheme, any port
    [InlineData("example.com", "https://example.com", true)]
    [InlineData("example.com", "ws://example.com", true)]
    [InlineData("example.com", "http://example.com:8080", true)]
    [InlineData("example.com", "http://EXAMPLE.COM", true)]
    [InlineData("EXAMPLE.com", "http://example.com", true)]
    [InlineData("example.com", "http://sub.example.com", false)]
    [InlineData("example.com", "http://example.com.evil.com", false)]
    [InlineData("example.com", "http://evilexample.com", false)]
    [InlineData("example.com", "http://example.com/chat/", true)]
    [InlineData("example.com", "http://user@example.com", true)]
    [InlineData("example.com", "http://example.com@evil.com", false)]
    [InlineData("example.com", "http://example.com:", true)]
    [InlineData("example.com", " http://example.com", true)]
    [InlineData("example.com", "http://a.com http://example.com", false)]
    [InlineData("example.com", "example.com", false)]
    [InlineData("example.com", "//example.com", true)]
    [InlineData("example.com other.org", "http://other.org", true)]
    // .domain: the domain and its subdomains
    [InlineData(".example.com", "http://example.com", true)]
    [InlineData(".example.com", "https://a.b.example.com:8443", true)]
    [InlineData(".example.com", "http://WWW.Example.COM", true)]
    [InlineData(".example.com", "http://evilexample.com", false)]
    [InlineData(".example.com", "http://example.com.evil.com", false)]
    // *.domain: subdomains only (ASP.NET AllowedHosts syntax)
    [InlineData("*.example.com", "http://www.example.com", true)] // differs from Django
    [InlineData("*.example.com", "http://a.b.example.com", true)] // differs from Django
    [InlineData("*.example.com", "http://example.com", false)]
    [InlineData("*.example.com", "http://evilexample.com", false)]
    // scheme://host[:port]: scheme, host and port (default by scheme) must match
    [InlineData("http://example.com", "http://example.com:80", true)]
    [InlineData("http://example.com", "https://example.com", false)]
    [InlineData("http://example.com", "ws://example.com", false)]
    [InlineData("http://example.com", "http://example.com:8080", false)]
    [InlineData("http://example.com", "HTTP://EXAMPLE.COM", true)]
    [InlineData("http://example.com:80", "http://example.com", true)]
    [InlineData("ws://example.com", "ws://example.com:80", true)]
    [InlineData("https://example.com", "https://example.com:443", true)]
    [InlineData("https://example.com", "https://example.com:8443", false)]
    [InlineData("wss://example.com", "wss://example.com:443", true)]
    [InlineData("https://example.com:8443", "https://example.com:8443", true)]
    [InlineData("https://example.com:8443", "https://example.com", false)]
    [InlineData("HTTPS://Example.COM", "https://example.com", true)]
    [InlineData("http://.example.com", "http://www.example.com", true)]
    [InlineData("http://.example.com", "http://example.com", true)]
    [InlineData("http://.example.com", "https://www.example.com", false)]
    [InlineData("https://*.example.com", "https://www.example.com", true)] // differs from Django
    [InlineData("chrome-extension://abcdef", "chrome-extension://abcdef", true)]
    [InlineData("chrome-extension://abcdef", "chrome-extension://other", false)]
    [InlineData("http://localhost:3000", "http://localhost:3000", true)]
    [InlineData("http://localhost:3000", "http://localhost:3001", false)]
    // IP literals
    [InlineData("127.0.0.1", "http://127.0.0.1:8000", true)]
    [InlineData("127.0.0.1", "http://127.0.0.2", false)]
    [InlineData("[::1]", "http://[::1]:8000", true)]
    [InlineData("[::1]", "http://[::2]", false)]
    [InlineData("[::1]", "http://[0:0::1]", false)]
    [InlineData("[2001:DB8::1]", "http://[2001:db8::1]", true)]
    [InlineData("[2001:db8::1]", "http://[2001:DB8::1]:443", true)]
    [InlineData("http://[::1]:8000", "http://[::1]:8000", true)]
    [InlineData("http://[::1]:8000", "http://[::1]:8001", false)]
    [InlineData("http://[::1]", "http://[::1]:80", true)]
    [InlineData("localhost", "http://localhost:5173", true)]
    [InlineData("localhost", "http://foo.localhost", false)]
    [InlineData("http://example.com", "http://example.com:080", true)]
    // international domain names: browsers send punycode
    [InlineData("bücher.example", "http://xn--bcher-kva.example", true)] // differs from Django
    [InlineData("xn--bcher-kva.example", "http://XN--BCHER-KVA.example", true)]
    [InlineData("bücher.example", "http://bücher.example", false)] // differs from Django
    // null, *, empty list
    [InlineData("example.com", "null", false)]
    [InlineData("null", "null", false)]
    [InlineData("*", "null", true)]
    [InlineData("example.com *", "http://evil.com", true)]
    [InlineData("*", "", true)]
    [InlineData("", "http://example.com", false)]
    [InlineData("example.com", null, false)]
    // malformed origins are refused (Django raises or ignores the port)
    [InlineData("example.com", "http://example.com:abc", false)] // differs from Django
    [InlineData("http://example.com", "http://example.com:abc", false)] // differs from Django
    [InlineData("http://example.com", "http://example.com:99999", false)] // differs from Django
    [InlineData("example.com", "http://example.com:-1", false)] // differs from Django
    [InlineData("[::1]", "http://[::1", false)] // differs from Django
    [InlineData("[::1]", "http://::1]", false)] // differs from Django
    [InlineData("127.0.0.1", "http://[127.0.0.1]", false)] // differs from Django
    [InlineData("[::1]", "http://[::1]x", false)] // differs from Django
    [InlineData("*", "http://[::1", true)] // differs from Django
    public async Task An_origin_is_allowed_as_Django_decides(string patterns, string? origin, bool expected)
    {
        var (validator, inner) = Validator(patterns.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var scope = origin is null ? SecurityScopes.WebSocket(SecurityScopes.NoServices) : SecurityScopes.WebSocket(SecurityScopes.NoServices, origin);

        var (allowed, _, _) = await HandshakeAsync(validator, inner, scope);

        Assert.Equal(expected, allowed);
        Assert.Equal(expected, validator.IsAllowed(origin));
    }

    [Theory]
    // Django's tests/utils_tests/test_http.py IsSameDomainTests
    [InlineData("example.com", "example.com", true)]
    [InlineData("example.com", ".example.com", true)]
    [InlineData("foo.example.com", ".example.com", true)]
    [InlineData("example.com:8888", "example.com:8888", true)]
    [InlineData("example.com:8888", ".example.com:8888", true)]
    [InlineData("foo.example.com:8888", ".example.com:8888", true)]
    [InlineData("example2.com", "example.com", false)]
    [InlineData("foo.example.com", "example.com", false)]
    [InlineData("example.com:9999", "example.com:8888", false)]
    [InlineData("foo.example.com:8888", "", false)]
    // the pattern is lower-cased
    [InlineData("example.com", "EXAMPLE.COM", true)]
    [InlineData("foo.example.com", ".Example.Com", true)]
    // *.domain: subdomains only (ASP.NET Core AllowedHosts)
    [InlineData("foo.example.com", "*.example.com", true)]
    [InlineData("a.b.example.com", "*.example.com", true)]
    [InlineData("example.com", "*.example.com", false)]
    [InlineData("fooexample.com", "*.example.com", false)]
    [InlineData("*.example.com", "*.example.com", true)]
    public void Is_same_domain_matches_Django(string host, string pattern, bool expected) =>
        Assert.Equal(expected, OriginPattern.IsSameDomain(host, pattern));

    [Fact]
    public async Task A_missing_origin_is_refused_and_logged()
    {
        var logger = new RecordingLogger<OriginValidator>();
        var services = new ServiceCollection().AddSingleton<ILogger<OriginValidator>>(logger).BuildServiceProvider();
        var (validator, inner) = Validator("example.com");

        var (allowed, session, _) = await HandshakeAsync(validator, inner, SecurityScopes.WebSocket(services));

        Assert.False(allowed);
        Assert.Equal("Origin not allowed", session.Rejections[0].Reason);
        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Equal("OriginMissing", entry.EventName);
        Assert.Equal("/ws/chat/lobby/", entry.Values["Path"]);
    }

    [Fact]
    public async Task A_refused_origin_is_logged_at_information_with_the_origin()
    {
        var logger = new RecordingLogger<OriginValidator>();
        var services = new ServiceCollection().AddSingleton<ILogger<OriginValidator>>(logger).BuildServiceProvider();
        var (validator, inner) = Validator("example.com");

        var (allowed, _, _) = await HandshakeAsync(validator, inner, SecurityScopes.WebSocket(services, "https://evil.example"));

        Assert.False(allowed);
        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Equal("OriginRefused", entry.EventName);
        Assert.Equal("https://evil.example", entry.Values["Origin"]);
        Assert.Contains("https://evil.example", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_allowed_origin_logs_nothing()
    {
        var logger = new RecordingLogger<OriginValidator>();
        var services = new ServiceCollection().AddSingleton<ILogger<OriginValidator>>(logger).BuildServiceProvider();
        var (validator, inner) = Validator("example.com");

        var (allowed, _, _) = await HandshakeAsync(validator, inner, SecurityScopes.WebSocket(services, "https://example.com"));

        Assert.True(allowed);
        Assert.Empty(logger.Entries);
    }

    [Fact]
    public async Task A_very_long_refused_origin_is_shortened_in_the_log()
    {
        var logger = new RecordingLogger<OriginValidator>();
        var services = new ServiceCollection().AddSingleton<ILogger<OriginValidator>>(logger).BuildServiceProvider();
        var (validator, inner) = Validator("example.com");
        var origin = "https://" + new string('a', 5000) + ".example";

        await HandshakeAsync(validator, inner, SecurityScopes.WebSocket(services, origin));

        var logged = (string)Assert.Single(logger.Entries).Values["Origin"]!;
        Assert.True(logged.Length < 300);
        Assert.StartsWith("https://aaa", logged, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://example.com", "https://example.com")]
    [InlineData("https://evil.example", "https://example.com")]
    [InlineData("https://example.com", "https://evil.example")]
    public async Task Two_origin_headers_are_refused(string first, string second)
    {
        var logger = new RecordingLogger<OriginValidator>();
        var services = new ServiceCollection().AddSingleton<ILogger<OriginValidator>>(logger).BuildServiceProvider();
        var (validator, inner) = Validator("example.com");

        var (allowed, _, _) = await HandshakeAsync(validator, inner, SecurityScopes.WebSocket(services, first, second));

        Assert.False(allowed);
        var entry = Assert.Single(logger.Entries);
        Assert.Equal("OriginRepeated", entry.EventName);
        Assert.Equal(2, entry.Values["Count"]);
        Assert.Equal($"{first}, {second}", entry.Values["Origin"]);
    }

    [Fact]
    public async Task Two_origin_headers_pass_when_every_origin_is_allowed()
    {
        var (validator, inner) = Validator("*");

        var (allowed, _, _) = await HandshakeAsync(validator, inner, SecurityScopes.WebSocket(SecurityScopes.NoServices, "https://a.example", "https://b.example"));

        Assert.True(allowed);
    }

    [Theory]
    [InlineData("Origin")]
    [InlineData("ORIGIN")]
    public async Task The_header_name_is_matched_in_any_case(string name)
    {
        var (validator, inner) = Validator("example.com");

        var (allowed, _, _) = await HandshakeAsync(validator, inner, SecurityScopes.WithHeaders(SecurityScopes.NoServices, new KeyValuePair<string, string>(name, "https://example.com")));

        Assert.True(allowed);
    }

    [Fact]
    public async Task Other_headers_do_not_count_as_the_origin()
    {
        var (validator, inner) = Validator("example.com");
        var scope = SecurityScopes.WithHeaders(
            SecurityScopes.NoServices,
            new KeyValuePair<string, string>("sec-websocket-origin", "https://example.com"),
            new KeyValuePair<string, string>("referer", "https://example.com/chat/"));

        var (allowed, _, _) = await HandshakeAsync(validator, inner, scope);

        Assert.False(allowed);
    }

    [Theory]
    [InlineData(ChannelScopeType.Http)]
    [InlineData(ChannelScopeType.Channel)]
    public async Task Scopes_other_than_websocket_pass_through_unchecked(string type)
    {
        var (validator, inner) = Validator("example.com");
        var scope = SecurityScopes.WebSocket(SecurityScopes.NoServices, "https://evil.example") with { Type = type };
        var session = new FakeWebSocketSession();

        await validator.RunAsync(scope, session);

        var run = Assert.Single(inner.Runs);
        Assert.Same(scope, run.Scope);
        Assert.Same(session, run.Session);
        Assert.Empty(session.Rejections);
    }

    [Fact]
    public async Task A_refusal_without_a_logger_is_still_a_403_and_no_exception()
    {
        var (validator, inner) = Validator();

        var (allowed, session, _) = await HandshakeAsync(validator, inner, SecurityScopes.WebSocket(SecurityScopes.NoServices, "https://example.com"));

        Assert.False(allowed);
        Assert.Single(session.Rejections);
    }

    [Fact]
    public void It_exposes_its_patterns_and_its_application()
    {
        var inner = new RecordingApplication();
        var validator = new OriginValidator(inner, ["https://example.com", ".example.org", "*"]);

        Assert.Equal(["https://example.com", ".example.org", "*"], validator.AllowedOrigins);
        Assert.Same(inner, validator.Application);
        Assert.Same(inner, Assert.Single(((INestedChannelApplication)validator).Applications));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("example.com:8000")]
    [InlineData("localhost:8000")]
    [InlineData("127.0.0.1:8000")]
    [InlineData("[::1]:8000")]
    [InlineData("http://")]
    [InlineData("http:example.com")]
    [InlineData("http://example.com:abc")]
    [InlineData("http://example.com:65536")]
    [InlineData("http://[::1")]
    [InlineData("[::1")]
    [InlineData("http://[127.0.0.1]")]
    public void A_pattern_that_can_never_match_is_refused_up_front(string pattern)
    {
        var error = Assert.Throws<ArgumentException>(() => new OriginValidator(new RecordingApplication(), [pattern]));
        Assert.Equal("allowedOrigins", error.ParamName);
        Assert.Contains($"'{pattern}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_port_without_a_scheme_gets_a_helpful_message()
    {
        var error = Assert.Throws<ArgumentException>(() => new OriginValidator(new RecordingApplication(), ["example.com:8000"]));
        Assert.Contains("http://example.com:8000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_arguments_are_refused()
    {
        Assert.Throws<ArgumentNullException>(() => new OriginValidator(null!, ["example.com"]));
        Assert.Throws<ArgumentNullException>(() => new OriginValidator(new RecordingApplication(), null!));
        Assert.Throws<ArgumentException>(() => new OriginValidator(new RecordingApplication(), ["example.com", null!]));
    }
}
