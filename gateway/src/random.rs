//! Randomness, injected: identifiers, link secrets, codes and keys all come from
//! one source, the operating system's CSPRNG in production.

use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};

use crate::error::{Error, Result};

/// A source of cryptographically secure random bytes.
pub trait Random: Send + Sync + 'static {
    /// Fill `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<()>;
}

/// The operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandom;

impl Random for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<()> {
        aws_lc_rs::rand::fill(buf).map_err(|_| Error::Internal("random source failed".into()))
    }
}

/// Helpers shared by every user of a [`Random`].
pub(crate) trait RandomExt {
    /// A 128-bit identifier as 26 lowercase base32 characters.
    fn id(&self) -> Result<String>;
    /// A 256-bit secret as 43 base64url characters (link and request secrets).
    fn secret(&self) -> Result<String>;
    /// A uniformly random number below `bound` (no modulo bias).
    fn below(&self, bound: u32) -> Result<u32>;
}

impl<R: Random + ?Sized> RandomExt for R {
    fn id(&self) -> Result<String> {
        let mut bytes = [0u8; 16];
        self.fill(&mut bytes)?;
        Ok(BASE32_NOPAD.encode(&bytes).to_ascii_lowercase())
    }

    fn secret(&self) -> Result<String> {
        let mut bytes = [0u8; 32];
        self.fill(&mut bytes)?;
        Ok(BASE64URL_NOPAD.encode(&bytes))
    }

    fn below(&self, bound: u32) -> Result<u32> {
        let zone = u32::MAX - (u32::MAX % bound);
        loop {
            let mut b = [0u8; 4];
            self.fill(&mut b)?;
            let v = u32::from_le_bytes(b);
            if v < zone {
                return Ok(v % bound);
            }
        }
    }
}
