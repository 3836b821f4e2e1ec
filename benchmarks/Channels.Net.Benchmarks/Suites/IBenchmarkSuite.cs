using Channels.Net.Benchmarks.Harness;

namespace Channels.Net.Benchmarks.Suites;

/// <summary>
/// A subcommand of the benchmark app: a set of scenarios run together in one process and reported
/// in one table. Add a suite (e.g. "redis", "websocket") by implementing this and listing it in
/// <see cref="Program"/>.
/// </summary>
public interface IBenchmarkSuite
{
    /// <summary>The subcommand name, e.g. "inmemory".</summary>
    string Name { get; }

    /// <summary>One line for the help text.</summary>
    string Description { get; }

    /// <summary>Runs every scenario of the suite and returns their outcomes (printing progress to <paramref name="progress"/>).</summary>
    Task<IReadOnlyList<ScenarioOutcome>> RunAsync(HarnessSettings settings, TextWriter progress);
}
