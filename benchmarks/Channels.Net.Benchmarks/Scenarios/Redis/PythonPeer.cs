using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Channels.Net.Benchmarks.Scenarios.Redis;

/// <summary>
/// One long-lived <c>/usr/bin/python3</c> process running <see cref="PythonPeerScript"/>: the suite sends it
/// one case at a time (so Python and .NET rounds can be interleaved) and reads the time Python measured.
/// </summary>
public sealed class PythonPeer : IAsyncDisposable
{
    /// <summary>Debian's interpreter, which has python3-channels-redis (a pyenv or venv python on PATH would not).</summary>
    public const string Interpreter = "/usr/bin/python3";

    private const string InstallHint = "apt-get install -y python3 python3-channels-redis python3-msgpack python3-cryptography";

    private readonly Process _process;
    private readonly string _directory;
    private readonly Task<string> _stderr;

    private PythonPeer(Process process, string directory, JsonObject hello)
    {
        _process = process;
        _directory = directory;
        _stderr = process.StandardError.ReadToEndAsync();
        Versions = $"Python {hello["python"]}, channels_redis {hello["channels_redis"]}, redis-py {hello["redis_py"]}, msgpack {hello["msgpack"]}";
        ChannelsRedisVersion = hello["channels_redis"]?.ToString() ?? "?";
    }

    public string Versions { get; }

    public string ChannelsRedisVersion { get; }

    public static async Task<PythonPeer> StartAsync(string redisUrl, TimeSpan timeout)
    {
        if (!File.Exists(Interpreter))
        {
            throw new InvalidOperationException($"{Interpreter} does not exist: {InstallHint}.");
        }

        var directory = Directory.CreateTempSubdirectory("channels-net-bench-py-").FullName;
        var script = Path.Combine(directory, PythonPeerScript.FileName);
        await File.WriteAllTextAsync(script, PythonPeerScript.Source).ConfigureAwait(false);
        var info = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };

        // -I: isolated (only the system packages), -B: no .pyc files.
        foreach (var arg in new[] { "-I", "-B", script, redisUrl })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {Interpreter}.");
        var first = await ReadLineAsync(process, timeout).ConfigureAwait(false);
        if (first is null)
        {
            var errors = await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
            await process.WaitForExitAsync().ConfigureAwait(false);
            var code = process.ExitCode;
            process.Dispose();
            Directory.Delete(directory, recursive: true);
            throw new InvalidOperationException($"The Python peer exited ({code}) before it was ready: {errors.Trim()} ({InstallHint})");
        }

        return new PythonPeer(process, directory, (JsonObject)JsonNode.Parse(first)!);
    }

    /// <summary>Runs one command and returns its answer; an "error" answer, a crash or a timeout throws.</summary>
    public async Task<JsonObject> RunAsync(JsonObject command, TimeSpan timeout)
    {
        await _process.StandardInput.WriteLineAsync(command.ToJsonString()).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        var line = await ReadLineAsync(_process, timeout).ConfigureAwait(false);
        if (line is null)
        {
            throw new InvalidOperationException($"The Python peer ended during {command.ToJsonString()}: {await StderrAsync().ConfigureAwait(false)}");
        }

        var answer = (JsonObject)JsonNode.Parse(line)!;
        if (answer["error"] is { } error)
        {
            throw new InvalidOperationException($"The Python peer failed {command.ToJsonString()}: {error}");
        }

        return answer;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("""{"op": "quit"}""").ConfigureAwait(false);
                await _process.StandardInput.FlushAsync().ConfigureAwait(false);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<string> StderrAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        return (await _stderr.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false)).Trim();
    }

    private static async Task<string?> ReadLineAsync(Process process, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            return await process.StandardOutput.ReadLineAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"The Python peer did not answer within {timeout.TotalSeconds:F0} s.");
        }
    }
}
