using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Channels.Net.Redis.Tests.Crypto;

/// <summary>The Fernet reference token in TestData/wire-vectors.json, made by cryptography 38 for channels_redis.</summary>
public sealed class FernetVectorTests
{
    public static IEnumerable<object[]> Cases => WireVectors.FernetCases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void SymmetricEncryptionKey_DerivesPythonsFernetKey(int index)
    {
        var vector = WireVectors.Fernet[index]!;

        var key = FernetKey.FromSymmetricEncryptionKey(vector["symmetric_encryption_key"]!.GetValue<string>());

        Assert.Equal(vector["fernet_key"]!.GetValue<string>(), key.Export());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncryptAtTime_WithTheVectorsIv_IsPythonsToken(int index)
    {
        var vector = WireVectors.Fernet[index]!;
        var cipher = FernetCipher.FromSymmetricEncryptionKeys([vector["symmetric_encryption_key"]!.GetValue<string>()]);
        var plaintext = Convert.FromBase64String(vector["plaintext"]!.GetValue<string>());
        var token = new byte[cipher.GetCiphertextLength(plaintext.Length)];

        var written = cipher.EncryptAtTime(
            plaintext,
            vector["timestamp"]!.GetValue<ulong>(),
            Convert.FromBase64String(vector["iv"]!.GetValue<string>()),
            token);

        Assert.Equal(token.Length, written);
        Assert.Equal(vector["token"]!.GetValue<string>(), System.Text.Encoding.ASCII.GetString(token));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decrypt_PythonsToken_WithChannelsRedisTtl(int index)
    {
        var vector = WireVectors.Fernet[index]!;
        var timestamp = vector["timestamp"]!.GetValue<long>();
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(timestamp + 5));
        var cipher = FernetCipher.FromSymmetricEncryptionKeys(
            [vector["symmetric_encryption_key"]!.GetValue<string>()], TimeSpan.FromSeconds(60 + 10), clock);

        var plaintext = cipher.Decrypt(System.Text.Encoding.ASCII.GetBytes(vector["token"]!.GetValue<string>()));

        Assert.Equal(vector["plaintext"]!.GetValue<string>(), Convert.ToBase64String(plaintext));
    }
}
