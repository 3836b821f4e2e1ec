namespace Channels.Net.Redis.Crypto;

/// <summary>Why a token could not be decrypted (Python's <c>InvalidToken</c> says only that it could not).</summary>
public enum InvalidTokenReason
{
    /// <summary>Not a token of this cipher at all: not URL-safe base64 (Fernet), a version byte other than this cipher's (0x80 for Fernet), or too short.</summary>
    Malformed,

    /// <summary>Older than the time to live allows (<c>timestamp + ttl &lt; now</c>).</summary>
    Expired,

    /// <summary>Stamped more than the allowed clock skew (60 s) in the future (<c>now + 60 &lt; timestamp</c>): the sender's clock is ahead.</summary>
    FromTheFuture,

    /// <summary>Its HMAC (Fernet) or authentication tag (AEAD) matches none of the keys: the peer encrypts with a key this process does not have, or the token was altered.</summary>
    SignatureMismatch,

    /// <summary>Its HMAC matched a key, but the ciphertext length or PKCS7 padding is wrong (only a key holder can produce this).</summary>
    InvalidCiphertext,
}
