using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Channels.Net.Layers.Configuration;

/// <summary>
/// Reads one alias's <c>Config</c> section with typed getters whose errors name the full key
/// (<c>ChannelLayers:default:Config:Capacity</c>). Keys match case-insensitively and ignore
/// underscores, so Django's <c>group_expiry</c> and .NET's <c>GroupExpiry</c> are one key.
/// </summary>
/// <remarks>A backend reads every option it knows, then calls <see cref="EnsureAllKeysRead"/>, so a
/// misspelt key fails at start-up instead of being ignored.</remarks>
public sealed class ChannelLayerConfigReader
{
    private readonly Dictionary<string, IConfigurationSection> _children;
    private readonly HashSet<string> _read = [];

    /// <summary>Creates a reader over <paramref name="section"/> (which may not exist: every option then takes its default).</summary>
    public ChannelLayerConfigReader(string alias, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(alias);
        ArgumentNullException.ThrowIfNull(section);
        Alias = alias;
        Path = section.Path;
        _children = new Dictionary<string, IConfigurationSection>(StringComparer.Ordinal);
        foreach (var child in section.GetChildren())
        {
            var key = Normalize(child.Key);
            if (_children.TryGetValue(key, out var other))
            {
                throw Error(child.Key, $"it is given twice, as '{other.Key}' and as '{child.Key}'.");
            }

            _children[key] = child;
        }
    }

    /// <summary>The alias this configuration belongs to.</summary>
    public string Alias { get; }

    /// <summary>The configuration path of the section, e.g. <c>ChannelLayers:default:Config</c>.</summary>
    public string Path { get; }

    /// <summary>The child section for <paramref name="key"/>, or null when absent.</summary>
    public IConfigurationSection? GetSection(string key)
    {
        _read.Add(Normalize(key));
        return _children.TryGetValue(Normalize(key), out var section) ? section : null;
    }

    /// <summary>A string option.</summary>
    public string? GetString(string key, string? defaultValue = null)
    {
        var section = GetSection(key);
        if (section is null)
        {
            return defaultValue;
        }

        if (section.Value is null)
        {
            throw Error(section.Key, "expected a single value, found a section.");
        }

        return section.Value;
    }

    /// <summary>An integer option within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int GetInt32(string key, int defaultValue, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = GetString(key);
        if (text is null)
        {
            return defaultValue;
        }

        if (!int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw Error(key, $"expected an integer, got '{text}'.");
        }

        if (value < min || value > max)
        {
            throw Error(key, $"{value} is out of range; it must be {DescribeRange(min, max)}.");
        }

        return value;
    }

    /// <summary>
    /// A duration option: a number of seconds (<c>60</c>, <c>0.5</c>), as Django writes it, or a
    /// .NET time span (<c>00:01:00</c>). Must be longer than <paramref name="min"/>.
    /// </summary>
    public TimeSpan GetDuration(string key, TimeSpan defaultValue, TimeSpan min)
    {
        var text = GetString(key);
        if (text is null)
        {
            return defaultValue;
        }

        TimeSpan value;
        if (double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds))
        {
            if (seconds > TimeSpan.MaxValue.TotalSeconds / 2)
            {
                throw Error(key, $"{text} seconds is too long.");
            }

            value = TimeSpan.FromSeconds(seconds);
        }
        else if (!TimeSpan.TryParse(text.Trim(), CultureInfo.InvariantCulture, out value))
        {
            throw Error(key, $"expected a number of seconds or a time span such as 00:01:00, got '{text}'.");
        }

        if (value <= min)
        {
            throw Error(key, $"{text} is out of range; it must be longer than {min.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds.");
        }

        return value;
    }

    /// <summary>
    /// Per-channel capacities, either as a map of glob to capacity
    /// (<c>"ChannelCapacity": { "http.request": 200 }</c>, tried in key order) or as an ordered list of
    /// <c>{ "Pattern": glob, "Capacity": n }</c> / <c>{ "Regex": expression, "Capacity": n }</c>.
    /// </summary>
    public IReadOnlyList<ChannelCapacityRule> GetCapacityRules(string key)
    {
        var section = GetSection(key);
        if (section is null)
        {
            return [];
        }

        if (section.Value is not null)
        {
            throw Error(section.Key, "expected a map of pattern to capacity, or a list of { Pattern | Regex, Capacity }.");
        }

        var rules = new List<ChannelCapacityRule>();
        foreach (var child in section.GetChildren())
        {
            var childKey = $"{section.Key}:{child.Key}";
            if (child.Value is not null)
            {
                rules.Add(MakeRule(childKey, child.Key, isRegex: false, ParseCapacity(childKey, child.Value)));
                continue;
            }

            var entry = new ChannelLayerConfigReader(Alias, child);
            var glob = entry.GetString("Pattern");
            var regex = entry.GetString("Regex");
            var capacityText = entry.GetString("Capacity")
                ?? throw Error(childKey, "a capacity rule needs 'Capacity'.");
            entry.EnsureAllKeysRead();
            if ((glob is null) == (regex is null))
            {
                throw Error(childKey, "a capacity rule needs exactly one of 'Pattern' (a glob) or 'Regex'.");
            }

            rules.Add(MakeRule(childKey, glob ?? regex!, isRegex: regex is not null, ParseCapacity($"{childKey}:Capacity", capacityText)));
        }

        return rules;
    }

    /// <summary>A list of strings, as <c>Key:0</c>, <c>Key:1</c>, …; a single value is refused (as Python refuses a bare string).</summary>
    public IReadOnlyList<string>? GetStringList(string key)
    {
        var section = GetSection(key);
        if (section is null)
        {
            return null;
        }

        if (section.Value is not null)
        {
            throw Error(section.Key, $"expected a list ({section.Path}:0, {section.Path}:1, ...), got the single value '{section.Value}'.");
        }

        var list = new List<string>();
        foreach (var child in section.GetChildren())
        {
            list.Add(child.Value ?? throw Error($"{section.Key}:{child.Key}", "expected a string, found a section."));
        }

        return list;
    }

    /// <summary>Throws naming the first key that no getter asked for (a misspelt or unsupported option).</summary>
    public void EnsureAllKeysRead()
    {
        foreach (var (normalized, section) in _children)
        {
            if (!_read.Contains(normalized))
            {
                throw new InvalidChannelLayerException(
                    $"Channel layer '{Alias}': unknown option '{section.Path}'. Check its spelling against the backend's options.");
            }
        }
    }

    /// <summary>An error about <paramref name="key"/> that names the alias and the full key.</summary>
    public InvalidChannelLayerException Error(string key, string problem) =>
        new($"Channel layer '{Alias}': '{(Path.Length == 0 ? key : $"{Path}:{key}")}' is invalid: {problem}");

    private ChannelCapacityRule MakeRule(string key, string pattern, bool isRegex, int capacity)
    {
        try
        {
            return isRegex ? ChannelCapacityRule.FromRegex(pattern, capacity) : ChannelCapacityRule.Glob(pattern, capacity);
        }
        catch (ArgumentException ex)
        {
            throw Error(key, ex.Message);
        }
    }

    private int ParseCapacity(string key, string text)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var capacity) || capacity < 1)
        {
            throw Error(key, $"expected a capacity of at least 1, got '{text}'.");
        }

        return capacity;
    }

    private static string DescribeRange(int min, int max) =>
        (min, max) switch
        {
            (int.MinValue, int.MaxValue) => "an integer",
            (_, int.MaxValue) => $"at least {min}",
            (int.MinValue, _) => $"at most {max}",
            _ => $"between {min} and {max}",
        };

    private static string Normalize(string key) => key.Replace("_", "", StringComparison.Ordinal).ToUpperInvariant();
}
