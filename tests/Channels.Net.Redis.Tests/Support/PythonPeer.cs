using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Channels.Net.Redis.Tests.Support;

/// <summary>
/// Runs the real Python peer (Python/python_peer.py under /usr/bin/python3 with Debian's msgpack,
/// cryptography and channels_redis). A missing interpreter or package FAILS the test with a
/// message saying what to install: these tests are the proof of wire compatibility and must
/// never pass by being skipped.
/// </summary>
internal static class PythonPeer
{
    /// <summary>The interpreter: /usr/bin/python3 (not a pyenv or venv python on PATH, which lacks the Debian packages).</summary>
    public const string DefaultPython = "/usr/bin/python3";

    /// <summary>Set this environment variable to use another interpreter that has the three packages.</summary>
    public const string PythonVariable = "CHANNELS_NET_PYTHON";

    private const string InstallHint =
        "The interop tests compare our bytes with the real Python packages. Install them (Debian/Ubuntu): " +
        "apt-get install -y python3 python3-msgpack python3-cryptography python3-channels-redis";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static string PythonPath => Environment.GetEnvironmentVariable(PythonVariable) is { Length: > 0 } path ? path : DefaultPython;

    /// <summary>Runs <c><paramref name="scriptName"/> <paramref name="command"/></c> (a script in Python/) with <paramref name="request"/> on stdin and returns its JSON answer.</summary>
    public static JsonObject Run(string command, JsonNode? request, string scriptName = "python_peer.py")
    {
        var python = PythonPath;
        if (!File.Exists(python))
        {
            Assert.Fail($"The Python interpreter {python} does not exist. {InstallHint}");
        }

        var script = Path.Combine(AppContext.BaseDirectory, "Python", scriptName);
        if (!File.Exists(script))
        {
            Assert.Fail($"The peer script {script} is missing from the test output; it should be copied there by the test project.");
        }

        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // -I: isolated (no PYTHONPATH, no user site-packages), so the system packages are the ones tested; -B: write no .pyc.
        start.ArgumentList.Add("-I");
        start.ArgumentList.Add("-B");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(command);

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {python}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            process.StandardInput.Write(request?.ToJsonString() ?? "{}");
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The peer exited before reading its request (a missing package, say): its exit code and stderr tell why.
        }
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{python} {scriptName} {command} did not finish within {Timeout.TotalSeconds} s.");
        }

        process.WaitForExit();
        var output = stdout.GetAwaiter().GetResult();
        var errors = stderr.GetAwaiter().GetResult();
        if (process.ExitCode == 3)
        {
            Assert.Fail(errors.Trim().Length > 0 ? errors.Trim() : InstallHint);
        }

        if (process.ExitCode != 0)
        {
            Assert.Fail($"{python} {scriptName} {command} failed with exit code {process.ExitCode}:\n{errors}");
        }

        return JsonNode.Parse(output)?.AsObject()
            ?? throw new InvalidOperationException($"{scriptName} {command} printed no JSON.");
    }
}
