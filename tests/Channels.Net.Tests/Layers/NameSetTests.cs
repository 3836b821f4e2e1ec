using Channels.Net.Internal;
namespace Channels.Net.Tests.Layers;

/// <summary>The small inline set of group names a channel or a consumer keeps.</summary>
public sealed class NameSetTests
{
    [Fact]
    public void Names_are_added_once_found_and_removed_whatever_their_number()
    {
        var set = default(NameSet);
        Assert.Equal(0, set.Count);
        Assert.Empty(set.ToArray());

        Assert.True(set.Add("a"));
        Assert.False(set.Add("a"));
        Assert.Equal(["a"], set.ToArray());
        Assert.True(set.Add("b"));
        Assert.True(set.Add("c"));
        Assert.Equal(3, set.Count);
        Assert.True(set.Contains("b"));
        Assert.False(set.Contains("B"));

        Assert.True(set.Remove("a"));
        Assert.False(set.Remove("a"));
        Assert.Equal(["b", "c"], set.ToArray().Order());
        Assert.True(set.Remove("c"));
        Assert.Equal(["b"], set.ToArray());
        Assert.True(set.Remove("b"));
        Assert.Equal(0, set.Count);

        set.Add("x");
        set.Add("y");
        set.Clear();
        Assert.Empty(set.ToArray());
    }
}
