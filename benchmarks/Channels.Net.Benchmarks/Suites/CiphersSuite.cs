using Channels.Net.Benchmarks.Harness;
using Channels.Net.Benchmarks.Scenarios.Ciphers;

namespace Channels.Net.Benchmarks.Suites;

/// <summary>The Redis layer's message ciphers: Fernet (the default) vs the opt-in XChaCha20-Poly1305 and AES-256-GCM.</summary>
public sealed class CiphersSuite : IBenchmarkSuite
{
    public string Name => "ciphers";

    public string Description => "Redis layer ciphers per message (encrypt+decrypt, 100 B and 10 KiB): Fernet vs XChaCha20-Poly1305 vs AES-256-GCM";

    public Task<IReadOnlyList<ScenarioOutcome>> RunAsync(HarnessSettings settings, TextWriter progress)
    {
        var outcomes = new List<ScenarioOutcome>();
        foreach (var (id, bytes) in new[] { ("ciphers-100", 100), ("ciphers-10k", 10 * 1024) })
        {
            progress.WriteLine($"{id}) ciphers, {bytes:N0}-byte payload ...");
            using var scenario = new CipherCostScenario(id, bytes);
            outcomes.Add(scenario.Run(settings, progress));
        }

        return Task.FromResult<IReadOnlyList<ScenarioOutcome>>(outcomes);
    }
}
