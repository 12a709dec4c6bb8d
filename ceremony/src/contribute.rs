//! A member's contribution besides their signature: their PIN share, decrypted on their
//! own machine and re-encrypted to the request's one-time ceremony key, so that the PIN
//! can be rebuilt on the bastion only from the shares of this ceremony's approvers.

use std::{path::Path, str::FromStr};

use crate::{
    Error, Result,
    request::Request,
    shares::{ShareIdentity, decrypt_share, reencrypt_share},
};

/// Decrypt `share_file` with `identity` and re-encrypt it to the ceremony key of the
/// request in `request_bytes`. The share must be for the token the request is about to
/// unlock (checked again, with its digest, when the PIN is rebuilt).
///
/// # Errors
/// The request, share or identity cannot be read or does not fit.
pub fn reencrypt_for_request(
    request_bytes: &[u8],
    request_path: &Path,
    share_file: &Path,
    identity: &Path,
) -> Result<Vec<u8>> {
    let request = Request::parse(request_bytes, request_path)?;
    let recipient = age::x25519::Recipient::from_str(&request.ceremony_recipient).map_err(|e| {
        Error::Request {
            field: "ceremony_recipient".into(),
            reason: e.to_string(),
        }
    })?;
    let identity = ShareIdentity::from_file(identity)?;
    let bytes = std::fs::read(share_file).map_err(|source| Error::Io {
        path: share_file.to_owned(),
        source,
    })?;
    let share = decrypt_share(&bytes, &identity)?;
    reencrypt_share(&share, &recipient)
}
