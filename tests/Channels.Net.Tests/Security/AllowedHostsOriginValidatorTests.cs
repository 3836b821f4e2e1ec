using Channels.Net.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Tests.Security;

public sealed class AllowedHostsOriginValidatorTests
{
    private static IConfigurationRoot Configuration(string? allowedHosts) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(allowedHosts is null ? [] : [new KeyValuePair<string, string?>("AllowedHosts", allowedHosts)])
            .Build();

    private static ServiceProvider Services(IConfiguration? configuration, string? environment, RecordingLogger<OriginValidator>? logger = null)
    {
        var services = new ServiceCollection();
        if (configuration is not null)
        {
            services.AddSingleton(configuration);
        }

        if (environment is not null)
        {
            services.AddSingleton<IHostEnvironment>(new FakeHostEnvironment(environment));
        }

        if (logger is not null)
        {
            services.AddSingleton<ILogger<OriginValidator>>(logger);
        }

        return services.BuildServiceProvider();
    }

    private static async Task<bool> HandshakeAsync(AllowedHostsOriginValidator validator, IServiceProvider services, params string[] origins)
    {
        var inner = (RecordingApplication)validator.Application;
        var before = inner.Runs.Count;
        var session = new FakeWebSocketSession();
        var scope = SecurityScopes.WebSocket(services, origins);

        await validator.RunAsync(scope, session);

        if (inner.Runs.Count == before + 1)
        {
            Assert.Same(scope, inner.Runs[^1].Scope);
            Assert.Same(session, inner.Runs[^1].Session);
            Assert.Empty(session.Rejections);
            return true;
        }

        Assert.Equal(before, inner.Runs.Count);
        Assert.Equal(403, Assert.Single(session.Rejections).StatusCode);
        Assert.False(session.IsAccepted);
        return false;
    }

    /// <summary>(AllowedHosts, environment, Origin header or null for none, allowed?).</summary>
    [Theory]
    [InlineData("example.com", "Production", "https://example.com", true)]
    [InlineData("example.com", "Production", "http://example.com:8080", true)]
    [InlineData("example.com", "Production", "https://www.example.com", false)]
    [InlineData("example.com", "Production", "https://evil.example", false)]
    [InlineData("example.com", "Production", null, false)]
    [InlineData("example.com", "Production", "null", false)]
    [InlineData("EXAMPLE.COM", "Production", "http://example.com", true)]
    [InlineData("example.com", "Production", "HTTPS://EXAMPLE.COM", true)]
    // host filtering's subdomain wildcard: subdomains only
    [InlineData("*.example.com", "Production", "https://www.example.com", true)]
    [InlineData("*.example.com", "Production", "https://example.com", false)]
    [InlineData("example.com;*.example.com", "Production", "https://example.com", true)]
    [InlineData("example.com;*.example.com", "Production", "https://chat.example.com", true)]
    // Django's .domain still works
    [InlineData(".example.com", "Production", "https://example.com", true)]
    // entries are separated by semicolons, blanks around them ignored
    [InlineData(" example.org ; ;example.com;", "Production", "https://example.com", true)]
    [InlineData("example.org;example.com", "Production", "https://example.org", true)]
    // allow everything: *, and host filtering's [::] and 0.0.0.0
    [InlineData("*", "Production", "https://evil.example", true)]
    [InlineData("*", "Production", null, true)]
    [InlineData("[::]", "Production", "https://evil.example", true)]
    [InlineData("0.0.0.0", "Production", "https://evil.example", true)]
    // IP literals
    [InlineData("[::1]", "Production", "http://[::1]:5000", true)]
    [InlineData("[::1]", "Production", "http://[::2]:5000", false)]
    [InlineData("192.0.2.10", "Production", "http://192.0.2.10:8000", true)]
    // international names: host filtering and browsers use punycode
    [InlineData("bücher.example", "Production", "https://xn--bcher-kva.example", true)]
    // empty: nothing outside Development ...
    [InlineData(null, "Production", "http://localhost:5000", false)]
    [InlineData("", "Production", "http://localhost:5000", false)]
    [InlineData(null, "Staging", "http://127.0.0.1:5000", false)]
    [InlineData(null, null, "http://localhost:5000", false)]
    // ... and localhost, 127.0.0.1 and [::1], any scheme and port, in Development (Django's DEBUG)
    [InlineData(null, "Development", "http://localhost:5173", true)]
    [InlineData(null, "Development", "https://localhost", true)]
    [InlineData(null, "Development", "http://LOCALHOST:8000", true)]
    [InlineData(null, "Development", "http://127.0.0.1:8000", true)]
    [InlineData(null, "Development", "http://[::1]:8000", true)]
    [InlineData("", "Development", "http://localhost:5000", true)]
    [InlineData(" ; ", "Development", "http://localhost:5000", true)]
    [InlineData(null, "Development", "http://foo.localhost:5000", false)]
    [InlineData(null, "Development", "http://127.0.0.2:5000", false)]
    [InlineData(null, "Development", "https://example.com", false)]
    [InlineData(null, "Development", "null", false)]
    [InlineData(null, "Development", null, false)]
    // a configured list is used as it is in Development too
    [InlineData("example.com", "Development", "http://localhost:5000", false)]
    [InlineData("example.com", "Development", "https://example.com", true)]
    public async Task Origins_are_checked_against_AllowedHosts(string? allowedHosts, string? environment, string? origin, bool expected)
    {
        await using var services = Services(Configuration(allowedHosts), environment);
        var validator = new AllowedHostsOriginValidator(new RecordingApplication());

        var allowed = origin is null ? await HandshakeAsync(validator, services) : await HandshakeAsync(validator, services, origin);

        Assert.Equal(expected, allowed);
    }

    [Theory]
    [InlineData(null, "Production", new string[0])]
    [InlineData("", "Production", new string[0])]
    [InlineData(null, "Development", new[] { "localhost", "127.0.0.1", "[::1]" })]
    [InlineData(";", "Development", new[] { "localhost", "127.0.0.1", "[::1]" })]
    [InlineData("example.com", "Development", new[] { "example.com" })]
    [InlineData("a.example; b.example ;;*.c.example", "Production", new[] { "a.example", "b.example", "*.c.example" })]
    public void GetAllowedHosts_reads_AllowedHosts_like_host_filtering(string? allowedHosts, string environment, string[] expected) =>
        Assert.Equal(expected, AllowedHostsOriginValidator.GetAllowedHosts(Configuration(allowedHosts), new FakeHostEnvironment(environment)));

    [Fact]
    public void GetAllowedHosts_without_configuration_or_environment_is_empty() =>
        Assert.Empty(AllowedHostsOriginValidator.GetAllowedHosts(null, null));

    [Fact]
    public void The_Development_hosts_are_Djangos()
    {
        Assert.Equal(["localhost", "127.0.0.1", "[::1]"], AllowedHostsOriginValidator.DevelopmentHosts);
        Assert.Equal("AllowedHosts", AllowedHostsOriginValidator.ConfigurationKey);
    }

    [Fact]
    public async Task A_configuration_reload_applies_to_the_next_handshake()
    {
        var configuration = Configuration("example.com");
        await using var services = Services(configuration, "Production");
        var validator = new AllowedHostsOriginValidator(new RecordingApplication());

        Assert.True(await HandshakeAsync(validator, services, "https://example.com"));
        Assert.False(await HandshakeAsync(validator, services, "https://example.org"));

        configuration["AllowedHosts"] = "example.org";

        Assert.False(await HandshakeAsync(validator, services, "https://example.com"));
        Assert.True(await HandshakeAsync(validator, services, "https://example.org"));
    }

    [Fact]
    public async Task Without_configuration_or_environment_services_every_websocket_is_refused()
    {
        await using var services = Services(null, null);
        var validator = new AllowedHostsOriginValidator(new RecordingApplication());

        Assert.False(await HandshakeAsync(validator, services, "http://localhost"));
        Assert.False(await HandshakeAsync(validator, services));
    }

    [Fact]
    public async Task An_entry_that_can_never_match_is_logged_and_skipped()
    {
        var logger = new RecordingLogger<OriginValidator>();
        await using var services = Services(Configuration("example.com:8000;example.org"), "Production", logger);
        var validator = new AllowedHostsOriginValidator(new RecordingApplication());

        Assert.True(await HandshakeAsync(validator, services, "https://example.org"));
        Assert.False(await HandshakeAsync(validator, services, "http://example.com:8000"));

        var warning = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
        Assert.Equal("AllowedHostsEntryIgnored", warning.EventName);
        Assert.Equal("example.com:8000", warning.Values["Entry"]);
        Assert.Single(logger.Entries, e => e.EventName == "OriginRefused");
    }

    [Fact]
    public async Task An_empty_list_outside_Development_is_a_warning_once()
    {
        var logger = new RecordingLogger<OriginValidator>();
        await using var services = Services(Configuration(null), "Production", logger);
        var validator = new AllowedHostsOriginValidator(new RecordingApplication());

        Assert.False(await HandshakeAsync(validator, services, "http://localhost"));
        Assert.False(await HandshakeAsync(validator, services, "http://localhost"));

        Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning && e.EventName == "AllowedHostsEmpty");
        Assert.Equal(2, logger.Entries.Count(e => e.Level == LogLevel.Information && e.EventName == "OriginRefused"));
    }

    [Fact]
    public async Task Allowing_every_host_outside_Development_is_said_once()
    {
        var logger = new RecordingLogger<OriginValidator>();
        await using var services = Services(Configuration("*"), "Production", logger);
        var validator = new AllowedHostsOriginValidator(new RecordingApplication());

        Assert.True(await HandshakeAsync(validator, services, "https://evil.example"));
        Assert.True(await HandshakeAsync(validator, services, "https://evil.example"));

        var entry = Assert.Single(logger.Entries, e => e.EventName == "AllowedHostsAllowAll");
        Assert.Equal(LogLevel.Information, entry.Level);
    }

    [Fact]
    public async Task Two_origin_headers_are_refused()
    {
        await using var services = Services(Configuration("example.com"), "Production");
        var validator = new AllowedHostsOriginValidator(new RecordingApplication());

        Assert.False(await HandshakeAsync(validator, services, "https://example.com", "https://example.com"));
    }

    [Theory]
    [InlineData(ChannelScopeType.Http)]
    [InlineData(ChannelScopeType.Channel)]
    public async Task Scopes_other_than_websocket_pass_through_unchecked(string type)
    {
        var inner = new RecordingApplication();
        var validator = new AllowedHostsOriginValidator(inner);
        var scope = SecurityScopes.WebSocket(SecurityScopes.NoServices, "https://evil.example") with { Type = type };
        var session = new FakeWebSocketSession();

        await validator.RunAsync(scope, session);

        Assert.Same(scope, Assert.Single(inner.Runs).Scope);
        Assert.Empty(session.Rejections);
    }

    [Fact]
    public void It_exposes_its_application()
    {
        var inner = new RecordingApplication();
        var validator = new AllowedHostsOriginValidator(inner);

        Assert.Same(inner, validator.Application);
        Assert.Same(inner, Assert.Single(((INestedChannelApplication)validator).Applications));
        Assert.Throws<ArgumentNullException>(() => new AllowedHostsOriginValidator(null!));
    }
}
