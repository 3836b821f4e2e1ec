using Channels.Net.Benchmarks.Harness;
using Channels.Net.Benchmarks.Scenarios.Msgpack;

namespace Channels.Net.Benchmarks.Suites;

/// <summary>
/// The Redis layer's own msgpack codec vs MessagePack-CSharp's low-level <c>MessagePackWriter</c>/<c>MessagePackReader</c>
/// structs doing the same job (issue 10): first whether the library can write channels_redis's bytes at all, then encode and
/// decode of a single-channel message and of a 100-member group message.
/// </summary>
public sealed class MsgpackSuite : IBenchmarkSuite
{
    public string Name => "msgpack";

    public string Description => "Redis layer's msgpack codec vs MessagePack-CSharp's MessagePackWriter/Reader: byte equality, encode and decode per message";

    public Task<IReadOnlyList<ScenarioOutcome>> RunAsync(HarnessSettings settings, TextWriter progress)
    {
        var outcomes = new List<ScenarioOutcome> { ByteEqualityCheck.Run(progress) };
        foreach (var scenario in MsgpackCodecScenario.All())
        {
            outcomes.Add(scenario.Run(settings, progress));
        }

        return Task.FromResult<IReadOnlyList<ScenarioOutcome>>(outcomes);
    }
}
