using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.Crypto;

/// <summary>What the Redis layer logs about its cipher at start-up.</summary>
internal static partial class CipherLog
{
    [LoggerMessage(530, LogLevel.Information, "Redis channel layer messages are encrypted with {Cipher} (key fingerprints {Fingerprints}; the first encrypts, all decrypt); {Readers}.")]
    public static partial void Encrypted(ILogger logger, string cipher, string fingerprints, string readers);

    [LoggerMessage(531, LogLevel.Information, "Redis channel layer messages are not encrypted (no SymmetricEncryptionKeys).")]
    public static partial void NotEncrypted(ILogger logger);
}
