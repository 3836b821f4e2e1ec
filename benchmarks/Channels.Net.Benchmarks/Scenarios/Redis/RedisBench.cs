using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Channels.Net.Redis;

namespace Channels.Net.Benchmarks.Scenarios.Redis;

/// <summary>What the Redis scenarios share: the layer they build, the Python label and time-outs, and redis-benchmark.</summary>
public static partial class RedisBench
{
    /// <summary>The same secret on both sides, so both encrypt with the same Fernet key derivation.</summary>
    public const string EncryptionKey = "channels-net-bench-secret";

    /// <summary>Our key prefix (Python uses "pybench"): the two never read each other's keys.</summary>
    public const string Prefix = "netbench";

    public static readonly TimeSpan PythonTimeout = TimeSpan.FromSeconds(120);

    /// <summary>"4.0.0 (Python 3.11.2)" once the peer has started.</summary>
    public static string PythonLabel { get; set; } = "(Python)";

    public static RedisChannelLayer NewLayer(string url, bool encrypted, int capacity)
    {
        var options = new RedisChannelLayerOptions { Prefix = Prefix, Capacity = capacity };
        options.Hosts.Add(RedisHost.FromAddress(url));
        if (encrypted)
        {
            options.SymmetricEncryptionKeys.Add(EncryptionKey);
        }

        return new RedisChannelLayer(options);
    }

    /// <summary>
    /// Runs <c>redis-benchmark -t zadd</c> against the suite's server and returns requests/s:
    /// with 50 clients and <c>-P 16</c> it is the server's ceiling for the command every send and group
    /// send ends in; with one client and no pipelining it is the one-connection round-trip rate.
    /// </summary>
    public static async Task<double> RedisBenchmarkZaddAsync(int port, int requests, int clients, int pipeline)
    {
        var executable = new[] { "/usr/bin/redis-benchmark", "/usr/local/bin/redis-benchmark" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-benchmark is not installed: apt-get install -y redis-tools.");
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "-h", "127.0.0.1", "-p", I(port), "-n", I(requests), "-c", I(clients), "-P", I(pipeline), "-r", "100000", "-q", "-t", "zadd",
                 })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("redis-benchmark did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                throw new TimeoutException("redis-benchmark did not finish within 60 s.");
            }
        }

        var text = await output.ConfigureAwait(false);
        var matches = ZaddRate().Matches(text);
        if (matches.Count == 0)
        {
            throw new InvalidOperationException($"redis-benchmark printed no ZADD rate: {text.Trim()} {(await errors.ConfigureAwait(false)).Trim()}");
        }

        return double.Parse(matches[^1].Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"ZADD: ([0-9.]+) requests per second")]
    private static partial Regex ZaddRate();
}
