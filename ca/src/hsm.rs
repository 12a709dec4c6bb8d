//! Reaching a token: load and initialise a PKCS#11 module, find the token by label, open
//! a read-write session and log the user in. Keys are the signer's business
//! ([`crate::signer::pkcs11`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use secrecy::SecretString;

use crate::pin::PinSource;
use crate::{Error, Result};

/// Modules loaded and initialised by this process, by path.
///
/// C_Initialize may be called once per process and module, and C_Finalize ends it for
/// every user in the process, so each module is initialised on first use and never
/// finalised (PKCS#11 does not require C_Finalize before exit; sessions are still closed
/// when their [`Token`] is dropped). SoftHSM2 reads `SOFTHSM2_CONF` at that first
/// C_Initialize.
static MODULES: Mutex<BTreeMap<PathBuf, Pkcs11>> = Mutex::new(BTreeMap::new());

/// The initialised module at `path`, loading it on first use.
fn module(path: &Path) -> Result<Pkcs11> {
    let module_error = |step, hint, source| Error::Pkcs11Module {
        path: path.to_owned(),
        step,
        hint,
        source,
    };
    // A poisoned lock only means another thread panicked; the map is still consistent.
    let mut modules = MODULES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(pkcs11) = modules.get(path) {
        return Ok(pkcs11.clone());
    }
    std::fs::metadata(path).map_err(|source| Error::Pkcs11ModuleFile {
        path: path.to_owned(),
        source,
    })?;
    let pkcs11 = Pkcs11::new(path)
        .map_err(|e| module_error("cannot be loaded as a PKCS#11 module", "", e))?;
    match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Initialised already through another path to the same library: usable as is.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            let hint = if path.to_string_lossy().contains("softhsm") {
                " (SoftHSM2 reads its configuration from SOFTHSM2_CONF: check that file)"
            } else {
                ""
            };
            return Err(module_error("C_Initialize failed", hint, e));
        }
    }
    modules.insert(path.to_owned(), pkcs11.clone());
    Ok(pkcs11)
}

/// Map a cryptoki error to ours, recording which `C_*` function failed.
pub(crate) fn ck(function: &'static str) -> impl FnOnce(CkError) -> Error {
    move |source| Error::Pkcs11 { function, source }
}

/// A logged-in read-write session on the token with a given label.
///
/// Dropping it closes the session; when a process's last session on a token closes, the
/// token logs it out (PKCS#11 §5.6). An explicit C_Logout is not sent: login state is
/// shared by all sessions of the process on that token, so it would log out other users.
#[derive(Debug)]
pub struct Token {
    session: Session,
    label: String,
    module_path: PathBuf,
}

impl Token {
    /// Load `module_path`, find the token labelled `label`, open a read-write session and
    /// log in as the user with the PIN read from `pin_source`.
    ///
    /// If this process is already logged in to the token (another open [`Token`] on it),
    /// the login is shared and the PIN is not checked again.
    ///
    /// # Errors
    /// [`Error::Pkcs11ModuleFile`] or [`Error::Pkcs11Module`] if the module cannot be read,
    /// loaded or initialised;
    /// [`Error::TokenNotFound`] (listing the labels present) or [`Error::TokenAmbiguous`];
    /// [`Error::PinRead`] if the PIN cannot be read; [`Error::PinIncorrect`] or
    /// [`Error::PinLocked`] if the token refuses it; [`Error::Pkcs11`] for other failures.
    pub fn open(module_path: &Path, label: &str, pin_source: &PinSource) -> Result<Self> {
        // Module and token first: their errors are the more useful ones.
        let session = open_session(module_path, label)?;
        Self::login(session, module_path, label, &pin_source.read()?)
    }

    /// Like [`Token::open`], with a PIN already in memory (e.g. one reconstructed from a
    /// ceremony's shares).
    ///
    /// # Errors
    /// As [`Token::open`].
    pub fn open_with_pin(module_path: &Path, label: &str, pin: &SecretString) -> Result<Self> {
        Self::login(open_session(module_path, label)?, module_path, label, pin)
    }

    fn login(
        session: Session,
        module_path: &Path,
        label: &str,
        pin: &SecretString,
    ) -> Result<Self> {
        match session.login(UserType::User, Some(pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
                return Err(Error::PinIncorrect {
                    token: label.to_owned(),
                });
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
                return Err(Error::PinLocked {
                    token: label.to_owned(),
                });
            }
            Err(e) => return Err(ck("C_Login")(e)),
        }
        Ok(Self {
            session,
            label: label.to_owned(),
            module_path: module_path.to_owned(),
        })
    }

    /// The token's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The path of the module this token was reached through.
    pub fn module_path(&self) -> &Path {
        &self.module_path
    }

    /// The logged-in session.
    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    /// Every object (of any class) visible to the logged-in user that matches `template`.
    ///
    /// # Errors
    /// [`Error::Pkcs11`] naming C_FindObjects.
    pub fn find_objects(&self, template: &[Attribute]) -> Result<Vec<ObjectHandle>> {
        self.session
            .find_objects(template)
            .map_err(ck("C_FindObjects"))
    }

    /// How many objects (of any class) carry CKA_LABEL `label`.
    ///
    /// # Errors
    /// [`Error::Pkcs11`] naming C_FindObjects.
    pub fn count_objects_labelled(&self, label: &str) -> Result<usize> {
        Ok(self
            .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])?
            .len())
    }
}

/// The one slot whose token is labelled `label`.
/// A read-write session on the token labelled `label` (not logged in).
fn open_session(module_path: &Path, label: &str) -> Result<Session> {
    let pkcs11 = module(module_path)?;
    let slot = find_slot(&pkcs11, module_path, label)?;
    pkcs11.open_rw_session(slot).map_err(ck("C_OpenSession"))
}

fn find_slot(pkcs11: &Pkcs11, module_path: &Path, label: &str) -> Result<Slot> {
    let mut matching = Vec::new();
    let mut available = Vec::new();
    for slot in pkcs11.get_slots_with_token().map_err(ck("C_GetSlotList"))? {
        let info = pkcs11.get_token_info(slot).map_err(ck("C_GetTokenInfo"))?;
        if !info.token_initialized() {
            continue;
        }
        if info.label() == label {
            matching.push(slot);
        }
        available.push(info.label().to_owned());
    }
    match matching.as_slice() {
        [slot] => Ok(*slot),
        [] => Err(Error::TokenNotFound {
            label: label.to_owned(),
            module: module_path.to_owned(),
            available,
        }),
        _ => Err(Error::TokenAmbiguous {
            label: label.to_owned(),
            module: module_path.to_owned(),
            count: matching.len(),
        }),
    }
}

// ---- token initialisation and PIN changes ----
//
// Each function opens its own short session and closes it before returning. A security
// officer (SO) login must be made by the function itself (an SO login already held by
// this process would let it act without the SO PIN being checked), and each function logs
// out what it logged in, so that no login state outlives the call.

/// CKA_LABEL / CK_TOKEN_INFO.label: 32 bytes, blank-padded.
const MAX_TOKEN_LABEL_LEN: usize = 32;

/// Refuse labels that PKCS#11 cannot hold as given, so that a token initialised with
/// `label` is found again by exactly that label.
fn check_token_label(label: &str) -> Result<()> {
    let invalid = |reason: &str| Error::TokenLabelInvalid {
        label: label.to_owned(),
        reason: reason.to_owned(),
    };
    if label.is_empty() {
        return Err(invalid("it is empty"));
    }
    if label.len() > MAX_TOKEN_LABEL_LEN {
        return Err(invalid(&format!(
            "it is {} bytes long; a PKCS#11 token label holds at most {MAX_TOKEN_LABEL_LEN}",
            label.len()
        )));
    }
    if label.ends_with(' ') {
        return Err(invalid(
            "it ends with a blank, which PKCS#11 cannot tell from padding",
        ));
    }
    if label.chars().any(char::is_control) {
        return Err(invalid("it contains a control character"));
    }
    Ok(())
}

/// Map a cryptoki error on token `label` to ours, recording the `C_*` function.
fn token_ck(label: &str, function: &'static str) -> impl FnOnce(CkError) -> Error {
    move |source| Error::Pkcs11Token {
        token: label.to_owned(),
        function,
        source,
    }
}

/// Log the security officer in with `so_pin`. Only a login made here counts: if this
/// process is logged in already (as SO or as the user), the SO PIN would not be checked,
/// so that is an error.
fn login_so(session: &Session, label: &str, so_pin: &SecretString) -> Result<()> {
    match session.login(UserType::So, Some(so_pin)) {
        Ok(()) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
            Err(Error::SoPinIncorrect {
                token: label.to_owned(),
            })
        }
        Err(e) => Err(token_ck(label, "C_Login")(e)),
    }
}

/// Log the user in with `pin`. Returns whether this call made the login (and so must
/// undo it); a user login already held by this process is shared.
fn login_user(session: &Session, label: &str, pin: &SecretString) -> Result<bool> {
    match session.login(UserType::User, Some(pin)) {
        Ok(()) => Ok(true),
        Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(false),
        Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
            Err(Error::PinIncorrect {
                token: label.to_owned(),
            })
        }
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(Error::PinLocked {
            token: label.to_owned(),
        }),
        Err(e) => Err(token_ck(label, "C_Login")(e)),
    }
}

/// Undo a login made by this module. The PIN operation before it succeeded, so a failure
/// here is logged, not returned: closing the session (the process's last on the token,
/// since the login was ours) logs out as well.
fn logout(session: &Session, label: &str) {
    if let Err(e) = session.logout() {
        tracing::warn!(token = label, error = %e, "C_Logout failed after a PIN operation");
    }
}

/// A read-write session on the token labelled `label`.
fn rw_session(module_path: &Path, label: &str) -> Result<Session> {
    let pkcs11 = module(module_path)?;
    let slot = find_slot(&pkcs11, module_path, label)?;
    pkcs11
        .open_rw_session(slot)
        .map_err(token_ck(label, "C_OpenSession"))
}

/// Initialise a new token labelled `label` with the security officer PIN `so_pin`
/// (C_InitToken), in the first slot whose token is not initialised (SoftHSM2 always
/// offers one). The token has no user PIN yet: see [`init_user_pin`].
///
/// Refuses if a token with this label exists already in the module. The check and the
/// C_InitToken are not atomic across processes: run token initialisation from one
/// process at a time.
///
/// # Errors
/// [`Error::TokenLabelInvalid`] for a label PKCS#11 cannot hold (empty, over 32 bytes,
/// trailing blank, control characters); [`Error::TokenLabelExists`];
/// [`Error::NoFreeSlot`]; [`Error::Pkcs11Module`]; [`Error::Pkcs11`] or
/// [`Error::Pkcs11Token`] naming the failed `C_*` function.
pub fn init_token(module_path: &Path, label: &str, so_pin: &SecretString) -> Result<()> {
    check_token_label(label)?;
    let pkcs11 = module(module_path)?;
    let mut free = None;
    for slot in pkcs11.get_slots_with_token().map_err(ck("C_GetSlotList"))? {
        let info = pkcs11.get_token_info(slot).map_err(ck("C_GetTokenInfo"))?;
        if info.token_initialized() {
            if info.label() == label {
                return Err(Error::TokenLabelExists {
                    label: label.to_owned(),
                    module: module_path.to_owned(),
                });
            }
        } else if free.is_none() {
            free = Some(slot);
        }
    }
    let slot = free.ok_or_else(|| Error::NoFreeSlot {
        label: label.to_owned(),
        module: module_path.to_owned(),
    })?;
    pkcs11
        .init_token(slot, so_pin, label)
        .map_err(token_ck(label, "C_InitToken"))?;
    // Found again by label, exactly once: what every later operation relies on.
    find_slot(&pkcs11, module_path, label).map(|_| ())
}

/// Set the first user PIN of token `label`: log in as security officer with `so_pin`,
/// C_InitPIN with `user_pin`, log out. (C_InitPIN also resets a user PIN that exists.)
///
/// # Errors
/// [`Error::TokenNotFound`] / [`Error::TokenAmbiguous`]; [`Error::SoPinIncorrect`];
/// [`Error::Pkcs11Token`] naming C_OpenSession, C_Login (e.g. this process is logged in
/// already) or C_InitPIN (e.g. a PIN length the token refuses).
pub fn init_user_pin(
    module_path: &Path,
    label: &str,
    so_pin: &SecretString,
    user_pin: &SecretString,
) -> Result<()> {
    let session = rw_session(module_path, label)?;
    login_so(&session, label, so_pin)?;
    let result = session
        .init_pin(user_pin)
        .map_err(token_ck(label, "C_InitPIN"));
    logout(&session, label);
    result
}

/// Change the user PIN of token `label` from `old_user_pin` to `new_user_pin`: log in as
/// the user, C_SetPIN, log out (if this call logged in). Afterwards the old PIN is refused.
///
/// # Errors
/// [`Error::PinIncorrect`] if `old_user_pin` is wrong (checked by C_Login and again by
/// C_SetPIN); [`Error::PinLocked`]; [`Error::TokenNotFound`] / [`Error::TokenAmbiguous`];
/// [`Error::Pkcs11Token`] naming C_OpenSession, C_Login (e.g. this process is logged in
/// as security officer) or C_SetPIN (e.g. a new PIN length the token refuses).
pub fn set_user_pin(
    module_path: &Path,
    label: &str,
    old_user_pin: &SecretString,
    new_user_pin: &SecretString,
) -> Result<()> {
    let session = rw_session(module_path, label)?;
    // Logged in as the user, C_SetPIN can only change the user PIN (never the SO PIN).
    let logged_in_here = login_user(&session, label, old_user_pin)?;
    let result = match session.set_pin(old_user_pin, new_user_pin) {
        Ok(()) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => Err(Error::PinIncorrect {
            token: label.to_owned(),
        }),
        Err(e) => Err(token_ck(label, "C_SetPIN")(e)),
    };
    if logged_in_here {
        logout(&session, label);
    }
    result
}

/// Change the security officer PIN of token `label`: SO login with `old_so_pin`,
/// C_SetPIN, log out.
///
/// # Errors
/// [`Error::SoPinIncorrect`]; [`Error::TokenNotFound`] / [`Error::TokenAmbiguous`];
/// [`Error::Pkcs11Token`] naming C_OpenSession, C_Login or C_SetPIN.
pub fn set_so_pin(
    module_path: &Path,
    label: &str,
    old_so_pin: &SecretString,
    new_so_pin: &SecretString,
) -> Result<()> {
    let session = rw_session(module_path, label)?;
    login_so(&session, label, old_so_pin)?;
    let result = match session.set_pin(old_so_pin, new_so_pin) {
        Ok(()) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => Err(Error::SoPinIncorrect {
            token: label.to_owned(),
        }),
        Err(e) => Err(token_ck(label, "C_SetPIN")(e)),
    };
    logout(&session, label);
    result
}
