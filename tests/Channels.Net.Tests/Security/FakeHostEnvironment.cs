using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace Channels.Net.Tests.Security;

/// <summary>A host environment with a given name.</summary>
internal sealed class FakeHostEnvironment(string environmentName) : IHostEnvironment
{
    public string EnvironmentName { get; set; } = environmentName;

    public string ApplicationName { get; set; } = "Channels.Net.Tests";

    public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

    public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
}
