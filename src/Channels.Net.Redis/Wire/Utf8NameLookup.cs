namespace Channels.Net.Redis.Wire;

/// <summary>The known name whose UTF-8 is <paramref name="utf8"/>, as the string it already is; null when not known.</summary>
/// <param name="utf8">The name's bytes as they are on the wire.</param>
internal delegate string? Utf8NameLookup(ReadOnlySpan<byte> utf8);
