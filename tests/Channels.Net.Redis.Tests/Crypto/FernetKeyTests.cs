using System.Security.Cryptography;
using System.Text;
using Channels.Net.Redis.Crypto;

namespace Channels.Net.Redis.Tests.Crypto;

public sealed class FernetKeyTests
{
    [Fact]
    public void FromSymmetricEncryptionKey_IsSha256OfTheUtf8Bytes()
    {
        var key = FernetKey.FromSymmetricEncryptionKey("clé");

        var expected = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes("clé"))).Replace('+', '-').Replace('/', '_');
        Assert.Equal(expected, key.Export());
        Assert.Equal(key.Export(), FernetKey.FromSymmetricEncryptionKey(Encoding.UTF8.GetBytes("clé")).Export());
    }

    [Fact]
    public void Fingerprint_IsTheFirstEightHexDigitsOfSha256OfTheKeyBytes()
    {
        var bytes = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        var key = FernetKey.FromBytes(bytes);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes))[..8], key.Fingerprint);
    }

    [Fact]
    public void ToString_ShowsTheFingerprintAndNeverTheKey()
    {
        var key = FernetKey.FromSymmetricEncryptionKey("secret");

        Assert.Contains(key.Fingerprint, key.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(key.Export()[..10], key.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReadsWhatExportWrites_WithOrWithoutPadding()
    {
        var key = FernetKey.Generate();

        Assert.Equal(key.Export(), FernetKey.Parse(key.Export()).Export());
        Assert.Equal(key.Export(), FernetKey.Parse(key.Export().TrimEnd('=')).Export());
        Assert.EndsWith("=", key.Export(), StringComparison.Ordinal);
        Assert.Equal(44, key.Export().Length);
    }

    [Theory]
    [InlineData("")]
    [InlineData("too-short")]
    [InlineData("not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!!")]
    [InlineData("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==")] // 34 bytes
    public void Parse_RefusesAnythingButThirtyTwoBytes(string text) => Assert.Throws<FormatException>(() => FernetKey.Parse(text));

    [Fact]
    public void FromBytes_RefusesTheWrongLength() => Assert.Throws<ArgumentException>(() => FernetKey.FromBytes(new byte[16]));
}
