using System.Security.Cryptography;

namespace Channels.Net.Redis.Crypto;

/// <summary>
/// Thrown when a message read from Redis cannot be decrypted: Python's <c>cryptography.fernet.InvalidToken</c>.
/// Carries the reason and the fingerprints of the keys that were tried, never a key.
/// </summary>
/// <remarks>
/// A fingerprint is the first 8 hex digits of SHA-256 over the 32-byte derived key (see
/// <see cref="FernetKey.Fingerprint"/> and <see cref="AeadCipher.KeyFingerprints"/>); compare it with
/// the same value computed in the other process to tell whether both hold the same key.
/// </remarks>
public sealed class InvalidTokenException : CryptographicException
{
    /// <summary>Creates the exception.</summary>
    public InvalidTokenException(string message, InvalidTokenReason reason, IReadOnlyList<string> keyFingerprints, DateTimeOffset? tokenTimestamp = null)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(keyFingerprints);
        Reason = reason;
        KeyFingerprints = keyFingerprints;
        TokenTimestamp = tokenTimestamp;
    }

    /// <summary>Why the token was refused.</summary>
    public InvalidTokenReason Reason { get; }

    /// <summary>The fingerprints of the keys that were tried, in order.</summary>
    public IReadOnlyList<string> KeyFingerprints { get; }

    /// <summary>The time stamped in the token, when the token was readable that far.</summary>
    public DateTimeOffset? TokenTimestamp { get; }
}
