using Channels.Net.Layers.Configuration;
using Channels.Net.Redis.Crypto;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Channels.Net.Redis.Tests.Crypto;

/// <summary>The <c>Cipher</c> option: configuration binding and validation.</summary>
public sealed class CipherConfigurationTests
{
    private static ServiceProvider Build(params (string Key, string Value)[] entries)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(entries.Select(e => new KeyValuePair<string, string?>("ChannelLayers:" + e.Key, e.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddChannels(configuration.GetSection("ChannelLayers"));
        return services.BuildServiceProvider();
    }

    [Theory]
    [InlineData("Fernet", MessageCipher.Fernet)]
    [InlineData("fernet", MessageCipher.Fernet)]
    [InlineData("XChaCha20Poly1305", MessageCipher.XChaCha20Poly1305)]
    [InlineData("xchacha20-poly1305", MessageCipher.XChaCha20Poly1305)]
    [InlineData("Aes256Gcm", MessageCipher.Aes256Gcm)]
    [InlineData("AES-256-GCM", MessageCipher.Aes256Gcm)]
    [InlineData("aes_256_gcm", MessageCipher.Aes256Gcm)]
    public async Task Cipher_BindsEveryWayOfWritingIt(string value, MessageCipher expected)
    {
        await using var provider = Build(
            ("default:Backend", "Redis"),
            ("default:Config:SymmetricEncryptionKeys:0", "secret"),
            ("default:Config:Cipher", value));

        var layer = Assert.IsType<RedisChannelLayer>(provider.GetRequiredService<IChannelLayerManager>().GetLayer());

        Assert.Equal(expected, layer.Options.Cipher);
    }

    [Fact]
    public async Task WithoutCipher_FernetIsTheDefault_AndSnakeCaseBinds()
    {
        await using (var provider = Build(("default:Backend", "Redis"), ("default:Config:SymmetricEncryptionKeys:0", "secret")))
        {
            Assert.Equal(MessageCipher.Fernet, Assert.IsType<RedisChannelLayer>(provider.GetRequiredService<IChannelLayerManager>().GetLayer()).Options.Cipher);
        }

        await using (var provider = Build(("default:Backend", "Redis"), ("default:Config:symmetric_encryption_keys:0", "secret"), ("default:Config:cipher", "XChaCha20Poly1305")))
        {
            Assert.Equal(MessageCipher.XChaCha20Poly1305, Assert.IsType<RedisChannelLayer>(provider.GetRequiredService<IChannelLayerManager>().GetLayer()).Options.Cipher);
        }
    }

    [Theory]
    [InlineData("ChaCha20", "'ChannelLayers:default:Config:Cipher' is invalid: expected one of Fernet, XChaCha20Poly1305, Aes256Gcm, got 'ChaCha20'.")]
    [InlineData("1", "'ChannelLayers:default:Config:Cipher' is invalid: expected one of Fernet, XChaCha20Poly1305, Aes256Gcm, got '1'.")]
    [InlineData("", "'ChannelLayers:default:Config:Cipher' is invalid: expected one of")]
    public void A_bad_cipher_fails_at_start_up_naming_the_key(string value, string expected)
    {
        using var provider = Build(
            ("default:Backend", "Redis"),
            ("default:Config:SymmetricEncryptionKeys:0", "secret"),
            ("default:Config:Cipher", value));

        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_aead_cipher_without_keys_fails_at_start_up_naming_the_key()
    {
        using var provider = Build(("default:Backend", "Redis"), ("default:Config:Cipher", "XChaCha20Poly1305"));

        var error = Assert.Throws<InvalidChannelLayerException>(() => provider.GetRequiredService<IChannelLayerManager>());

        Assert.Contains("'ChannelLayers:default:Config:Cipher' is invalid: Cipher XChaCha20Poly1305 needs SymmetricEncryptionKeys", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NamesCipher_ForAnUndefinedValue_OrNoKeys()
    {
        var undefined = new RedisChannelLayerOptions { Cipher = (MessageCipher)9 };
        undefined.SymmetricEncryptionKeys.Add("secret");
        Assert.Equal("Cipher", Assert.ThrowsAny<ArgumentException>(undefined.Validate).ParamName);

        var noKeys = new RedisChannelLayerOptions { Cipher = MessageCipher.Aes256Gcm };
        Assert.Equal("Cipher", Assert.Throws<ArgumentException>(noKeys.Validate).ParamName);

        new RedisChannelLayerOptions { Cipher = MessageCipher.Fernet }.Validate(); // Fernet without keys: simply unencrypted, as before
    }
}
