//! Blob identifiers: 128 random bits, written as 26 lowercase base32
//! characters. The id doubles as a file name, so parsing accepts nothing but
//! that exact shape and a client-supplied id can never smuggle in a path.

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_NOPAD;

use super::StoreError;

/// Length of the textual form: ceil(128 / 5).
const ID_TEXT_LEN: usize = 26;

/// A server-generated blob id.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct BlobId {
    text: String,
    bytes: [u8; 16],
}

/// The string is not a blob id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a blob id")]
pub struct InvalidBlobId;

impl BlobId {
    /// A new id from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, StoreError> {
        let mut bytes = [0; 16];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| StoreError::Crypto)?;
        Ok(Self::from_raw(bytes))
    }

    /// Accepts exactly 26 characters of lowercase base32 (`a-z`, `2-7`) in
    /// canonical form, i.e. with the two unused trailing bits zero.
    pub fn parse(text: &str) -> Result<Self, InvalidBlobId> {
        let shaped =
            text.len() == ID_TEXT_LEN && text.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b));
        if !shaped {
            return Err(InvalidBlobId);
        }
        // The decoder rejects non-zero trailing bits, so every id has exactly
        // one spelling and ids compare equal exactly when their bits do.
        let decoded = BASE32_NOPAD.decode(text.to_ascii_uppercase().as_bytes()).map_err(|_| InvalidBlobId)?;
        let bytes = <[u8; 16]>::try_from(decoded.as_slice()).map_err(|_| InvalidBlobId)?;
        Ok(Self::from_raw(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub(super) fn as_bytes(&self) -> &[u8; 16] {
        &self.bytes
    }

    fn from_raw(bytes: [u8; 16]) -> Self {
        let text = BASE32_NOPAD.encode(&bytes).to_ascii_lowercase();
        Self { text, bytes }
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for BlobId {
    type Err = InvalidBlobId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}
