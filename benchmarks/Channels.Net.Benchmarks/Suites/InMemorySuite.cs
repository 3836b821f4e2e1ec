using Channels.Net.Benchmarks.Harness;
using Channels.Net.Benchmarks.Scenarios.InMemory;

namespace Channels.Net.Benchmarks.Suites;

/// <summary>The in-memory channel layer beside bare System.Threading.Channels.</summary>
public sealed class InMemorySuite : IBenchmarkSuite
{
    public string Name => "inmemory";

    public string Description => "InMemoryChannelLayer send+receive and group_send fan-out vs bare System.Threading.Channels";

    public async Task<IReadOnlyList<ScenarioOutcome>> RunAsync(HarnessSettings settings, TextWriter progress)
    {
        var outcomes = new List<ScenarioOutcome>();

        progress.WriteLine("a) send+receive, one channel, one thread ...");
        await using (var sendReceive = await SendReceiveScenario.CreateAsync())
        {
            outcomes.Add(sendReceive.Run(settings, progress));
        }

        progress.WriteLine($"b) group_send to {GroupSendScenario.Members} members ...");
        await using (var groupSend = await GroupSendScenario.CreateAsync())
        {
            outcomes.Add(groupSend.Run(settings, progress));
        }

        return outcomes;
    }
}
