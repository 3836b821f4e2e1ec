using Channels.Net.Routing;
using Channels.Net.Security;
using Chat;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

Program.CreateApp(args).Run();

public partial class Program
{
    /// <summary>The chat application, ready to run; tests start it with their own <paramref name="args"/>.</summary>
    public static WebApplication CreateApp(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:8000"); // like runserver, unless --urls / ASPNETCORE_URLS say otherwise
        }

        builder.Services.AddChannels(builder.Configuration.GetSection("ChannelLayers"));

        var app = builder.Build();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapChannels(new AllowedHostsOriginValidator(new UrlRouter(
            RePath(@"^ws/chat/(?P<room>[\w-]+)/$", Consumer<ChatConsumer>()))));
        return app;
    }
}
