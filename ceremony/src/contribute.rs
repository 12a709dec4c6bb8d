//! A member's contribution besides their signature: their PIN share, decrypted on their
//! own machine and re-encrypted to the request's one-time ceremony key, so that the PIN
//! can be rebuilt on the bastion only from the shares of this ceremony's approvers.

use std::{path::Path, str::FromStr};

use crate::{
    Error, Result,
    request::Request,
    shares::{ShareIdentity, decrypt_share, reencrypt_share},
};

/// The file name of a member's re-encrypted share of `secret` in an approvals folder.
pub fn contributed_share_file(member: &str, secret: &str) -> String {
    format!("{member}.{secret}.age")
}

/// Decrypt `share_file` with `identity` and re-encrypt it to the ceremony key of the
/// request in `request_bytes`. Returns the share's secret name (`user-pin`, `so-pin`) and
/// the re-encrypted bytes, handed in as [`contributed_share_file`] next to the approval.
/// Whether the share fits the token is checked, with its digest, when the PIN is rebuilt.
///
/// # Errors
/// The request, share or identity cannot be read or does not fit.
pub fn reencrypt_for_request(
    request_bytes: &[u8],
    request_path: &Path,
    share_file: &Path,
    identity: &Path,
) -> Result<(String, Vec<u8>)> {
    let request = Request::parse(request_bytes, request_path)?;
    let recipient = age::x25519::Recipient::from_str(&request.ceremony_recipient).map_err(|e| {
        Error::Request {
            field: "ceremony_recipient".into(),
            reason: e.to_string(),
        }
    })?;
    let identity = ShareIdentity::from_file(identity)?;
    let bytes = crate::bounded::read(share_file, crate::bounded::MAX_SHARE_BYTES)?;
    let share = decrypt_share(&bytes, &identity)?;
    Ok((
        share.secret_name().to_owned(),
        reencrypt_share(&share, &recipient)?,
    ))
}
