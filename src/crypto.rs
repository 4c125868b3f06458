//! Secrets: the server key (loaded or generated), AES-256-GCM for store tokens at rest,
//! random bearer tokens stored as hashes, and argon2id password hashing.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::Context;
use argon2::password_hash::{
    self, Ident, Output, ParamsString, PasswordHash, PasswordHasher, PasswordVerifier, Salt,
    SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::secret::{decode_secret_key, Secret};

/// The server's 32-byte master key. Sub-keys are derived per purpose.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

/// File name of the generated key inside the data directory.
pub const GENERATED_KEY_FILE: &str = "secret.key";

impl MasterKey {
    /// Builds a key from raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Uses `ORDERDECK_SECRET_KEY` when set; otherwise reads `data_dir/secret.key`, generating
    /// it (mode 0600) on first start and warning that replicas must share one key.
    pub fn load_or_generate(settings: &Settings) -> anyhow::Result<Self> {
        if let Some(key) = Self::load(settings)? {
            return Ok(key);
        }
        let path = settings.data_dir.join(GENERATED_KEY_FILE);
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        write_private_file(&path, STANDARD.encode(bytes).as_bytes())?;
        tracing::warn!(
            path = %path.display(),
            "ORDERDECK_SECRET_KEY is not set: generated a new key; back it up, and give every \
             replica the same ORDERDECK_SECRET_KEY or stored store tokens cannot be decrypted"
        );
        Ok(Self(bytes))
    }

    /// The configured key (`ORDERDECK_SECRET_KEY`, else the data directory's key file); `None`
    /// when there is none yet.
    pub fn load(settings: &Settings) -> anyhow::Result<Option<Self>> {
        if let Some(key) = &settings.secret_key {
            let bytes = decode_secret_key(key.expose())
                .map_err(|e| anyhow::anyhow!("ORDERDECK_SECRET_KEY {e}"))?;
            return Ok(Some(Self(bytes)));
        }
        let path = settings.data_dir.join(GENERATED_KEY_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the secret key {}", path.display()))?;
        let bytes = decode_secret_key(&text)
            .map_err(|e| anyhow::anyhow!("secret key file {}: {e}", path.display()))?;
        Ok(Some(Self(bytes)))
    }

    /// A fingerprint of the key (a derived value, not the key): equal for equal keys, useless
    /// for finding the key. Stored in the database so that every process can check it holds
    /// the key the stored tokens were encrypted with.
    pub fn fingerprint(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.derive("key-fingerprint"))
    }

    fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"orderdeck/");
        h.update(purpose.as_bytes());
        h.update(b"/");
        h.update(self.0);
        h.finalize().into()
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
    }
    let mut file = create_private_file(path)
        .with_context(|| format!("creating the secret key file {}", path.display()))?;
    file.write_all(contents)
        .with_context(|| format!("writing the secret key file {}", path.display()))?;
    Ok(())
}

/// Creates `dir` and its missing parents, each readable by its owner only (0700): the data
/// directory holds the secret key and the SQLite database. Directories that already exist keep
/// their mode: orderdeck did not create them, and whoever did chose it.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates a new file readable and writable by its owner only (0600); fails with
/// `AlreadyExists` rather than touch an existing file.
pub fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Encrypts store access tokens at rest with AES-256-GCM. The ciphertext is bound to its
/// owner through associated data, so it cannot be moved to another row.
#[derive(Clone)]
pub struct TokenCipher {
    cipher: Aes256Gcm,
}

const CIPHERTEXT_VERSION: &str = "v1";

impl TokenCipher {
    /// A cipher keyed from the master key.
    pub fn new(master: &MasterKey) -> Self {
        let key = master.derive("store-token-encryption/v1");
        Self {
            cipher: Aes256Gcm::new(&key.into()),
        }
    }

    /// Encrypts `plaintext`; the result is `v1:` + base64(nonce ‖ ciphertext).
    pub fn encrypt(&self, plaintext: &str, associated: &str) -> anyhow::Result<String> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: associated.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encrypting a store token failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{CIPHERTEXT_VERSION}:{}", STANDARD.encode(out)))
    }

    /// Decrypts a value made by [`TokenCipher::encrypt`] with the same associated data.
    pub fn decrypt(&self, stored: &str, associated: &str) -> anyhow::Result<Secret<String>> {
        let body = stored
            .strip_prefix("v1:")
            .context("unknown store token ciphertext version")?;
        let bytes = STANDARD
            .decode(body)
            .context("store token ciphertext is not base64")?;
        if bytes.len() < 12 {
            anyhow::bail!("store token ciphertext is too short");
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: associated.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!("store token cannot be decrypted (wrong ORDERDECK_SECRET_KEY?)")
            })?;
        Ok(Secret::new(
            String::from_utf8(plain).context("store token is not UTF-8")?,
        ))
    }
}

/// Signs and checks download links with HMAC-SHA256 under a key derived from the master key
/// for that purpose only (so a link signature reveals nothing about the token key).
#[derive(Clone)]
pub struct LinkSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(***)")
    }
}

impl LinkSigner {
    /// A signer keyed from the master key.
    pub fn new(master: &MasterKey) -> Self {
        Self {
            key: master.derive("download-links/v1"),
        }
    }

    fn mac(&self) -> hmac::Hmac<Sha256> {
        // HMAC zero-pads a short key to the hash's 64-byte block; padding it here gives the
        // same MAC through the infallible constructor.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.key);
        <hmac::Hmac<Sha256> as hmac::digest::KeyInit>::new(&block.into())
    }

    /// The signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        use hmac::Mac;
        let mut mac = self.mac();
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }

    /// Whether `signature` is `message`'s (compared in constant time).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use hmac::Mac;
        let mut mac = self.mac();
        mac.update(message);
        mac.verify_slice(signature).is_ok()
    }

    /// A link token: `message` (URL-safe text), a dot, and its signature in base64url.
    pub fn seal(&self, message: &str) -> String {
        let signature = URL_SAFE_NO_PAD.encode(self.sign(message.as_bytes()));
        format!("{message}.{signature}")
    }

    /// The message of a token made by [`LinkSigner::seal`]; `None` when its signature does not
    /// check (not ours, or altered).
    pub fn unseal<'a>(&self, token: &'a str) -> Option<&'a str> {
        let (message, signature) = token.rsplit_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.verify(message.as_bytes(), &signature)
            .then_some(message)
    }
}

/// Prefix of bearer tokens, so leaked tokens are recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "odk_";

/// How an API key's secret starts (a login token never does), so that it is recognisable in
/// a configuration file or a secret scanner.
pub const API_KEY_PREFIX: &str = "odk_live_";

/// How an invitation code starts.
pub const INVITATION_PREFIX: &str = "odi_";

/// A new random login token (256 bits): `odk_` and base64url, never starting like an API key.
pub fn generate_token() -> String {
    loop {
        let token = format!("{TOKEN_PREFIX}{}", generate_secret());
        if !token.starts_with(API_KEY_PREFIX) {
            return token;
        }
    }
}

/// A new random API key secret (256 bits) starting with [`API_KEY_PREFIX`].
pub fn generate_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", generate_secret())
}

/// A new random invitation code (256 bits) starting with [`INVITATION_PREFIX`].
pub fn generate_invitation_code() -> String {
    format!("{INVITATION_PREFIX}{}", generate_secret())
}

/// A new random secret (256 bits, base64url), e.g. a webhook's shared header.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `a` equals `b`, in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The stored form of a bearer token: SHA-256, base64url. Tokens have 256 bits of entropy,
/// so a fast hash is the right tool (a password hash would only slow every request).
pub fn hash_token(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// Hashes a password with argon2id (default parameters: 19 MiB, 2 passes). CPU-heavy: call
/// from a blocking task.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    ReturnedMemory
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

/// Checks a password against a stored hash. With `None` it verifies against a dummy hash so
/// that an unknown email costs the same time as a wrong password.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("orderdeck-dummy-password").unwrap_or_default());
    let (hash, known) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let ok = PasswordHash::new(hash)
        .map(|parsed| {
            ReturnedMemory
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    ok && known
}

/// Argon2 (the crate's defaults: argon2id, 19 MiB, 2 passes) computed in memory that goes
/// back to the operating system when the hash is done.
///
/// `argon2` allocates its 19 MiB with a plain `Vec`. glibc serves a block that large from
/// `mmap` the first time, then raises its mmap threshold to the freed size, so every later
/// one comes from the calling thread's heap arena and stays there after it is freed: a burst
/// of logins on many blocking threads left hundreds of megabytes resident for good. A
/// reservation above glibc's largest dynamic threshold (32 MiB on 64-bit) is always mapped
/// and unmapped on free; only the 19 MiB that are written become resident.
struct ReturnedMemory;

/// Bytes reserved for the argon2 memory: above glibc's 32 MiB maximum mmap threshold.
const ALWAYS_MAPPED: usize = 33 * 1024 * 1024;

impl PasswordHasher for ReturnedMemory {
    type Params = Params;

    fn hash_password<'a>(
        &self,
        password: &[u8],
        salt: impl Into<Salt<'a>>,
    ) -> password_hash::Result<PasswordHash<'a>> {
        self.hash_password_customized(password, None, None, Params::default(), salt)
    }

    fn hash_password_customized<'a>(
        &self,
        password: &[u8],
        alg_id: Option<Ident<'a>>,
        version: Option<password_hash::Decimal>,
        params: Params,
        salt: impl Into<Salt<'a>>,
    ) -> password_hash::Result<PasswordHash<'a>> {
        let algorithm = alg_id
            .map(Algorithm::try_from)
            .transpose()?
            .unwrap_or_default();
        let version = version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let salt = salt.into();
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let param_string = ParamsString::try_from(&params)?;
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        let mut memory: Vec<Block> = Vec::with_capacity(blocks.max(ALWAYS_MAPPED / Block::SIZE));
        memory.resize(blocks, Block::default());
        let output = Output::init_with(output_len, |out| {
            argon2
                .hash_password_into_with_memory(password, salt_bytes, out, &mut memory)
                .map_err(password_hash::Error::from)
        })?;
        Ok(PasswordHash {
            algorithm: algorithm.ident(),
            version: Some(version.into()),
            params: param_string,
            salt: Some(salt),
            hash: Some(output),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn cipher() -> TokenCipher {
        TokenCipher::new(&MasterKey::from_bytes([7u8; 32]))
    }

    #[test]
    fn an_encrypted_token_decrypts_with_the_same_key_and_owner() {
        let c = cipher();
        let sealed = c.encrypt("abc123token", "1:store").unwrap();
        assert!(!sealed.contains("abc123token"));
        assert_eq!(
            c.decrypt(&sealed, "1:store").unwrap().expose(),
            "abc123token"
        );
    }

    #[test]
    fn a_token_moved_to_another_owner_or_key_does_not_decrypt() {
        let c = cipher();
        let sealed = c.encrypt("abc123token", "1:store").unwrap();
        assert!(c.decrypt(&sealed, "2:store").is_err());
        let other = TokenCipher::new(&MasterKey::from_bytes([8u8; 32]));
        assert!(other.decrypt(&sealed, "1:store").is_err());
    }

    #[test]
    fn the_same_token_encrypts_differently_each_time() {
        let c = cipher();
        assert_ne!(c.encrypt("t", "a").unwrap(), c.encrypt("t", "a").unwrap());
    }

    #[test]
    fn a_link_signature_verifies_only_for_its_message_and_key() {
        let signer = LinkSigner::new(&MasterKey::from_bytes([7u8; 32]));
        let sig = signer.sign(b"invoice:42");
        assert!(signer.verify(b"invoice:42", &sig));
        assert!(!signer.verify(b"invoice:43", &sig));
        let other = LinkSigner::new(&MasterKey::from_bytes([8u8; 32]));
        assert!(!other.verify(b"invoice:42", &sig));
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(&h)));
        assert!(!verify_password("wrong horse battery", Some(&h)));
        assert!(!verify_password("correct horse battery", None));
    }

    #[test]
    fn hashes_made_in_returned_memory_are_the_argon2_crates_own() {
        let ours = hash_password("correct horse battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"stored before", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password("stored before", Some(&theirs)));
        assert!(!verify_password("stored after", Some(&theirs)));
    }

    #[test]
    fn a_generated_key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: dir.path().join("data"),
            ..Settings::default()
        };
        let a = MasterKey::load_or_generate(&settings).unwrap();
        let b = MasterKey::load_or_generate(&settings).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(settings.data_dir.join(GENERATED_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir = std::fs::metadata(&settings.data_dir).unwrap().permissions();
            assert_eq!(dir.mode() & 0o777, 0o700);
        }
    }
}
