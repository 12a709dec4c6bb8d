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
    let module_error = |reason: String| Error::Pkcs11Module {
        path: path.to_owned(),
        reason,
    };
    // A poisoned lock only means another thread panicked; the map is still consistent.
    let mut modules = MODULES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(pkcs11) = modules.get(path) {
        return Ok(pkcs11.clone());
    }
    std::fs::metadata(path).map_err(|e| module_error(format!("cannot be read: {e}")))?;
    let pkcs11 = Pkcs11::new(path)
        .map_err(|e| module_error(format!("cannot be loaded as a PKCS#11 module: {e}")))?;
    match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Initialised already through another path to the same library: usable as is.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            let hint = if path.to_string_lossy().contains("softhsm") {
                " (SoftHSM2 reads its configuration from SOFTHSM2_CONF: check that file)"
            } else {
                ""
            };
            return Err(module_error(format!("C_Initialize failed{hint}: {e}")));
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
    /// [`Error::Pkcs11Module`] if the module cannot be loaded or initialised;
    /// [`Error::TokenNotFound`] (listing the labels present) or [`Error::TokenAmbiguous`];
    /// [`Error::PinRead`] if the PIN cannot be read; [`Error::PinIncorrect`] or
    /// [`Error::PinLocked`] if the token refuses it; [`Error::Pkcs11`] for other failures.
    pub fn open(module_path: &Path, label: &str, pin_source: &PinSource) -> Result<Self> {
        let pkcs11 = module(module_path)?;
        let slot = find_slot(&pkcs11, module_path, label)?;
        let session = pkcs11.open_rw_session(slot).map_err(ck("C_OpenSession"))?;
        let pin = pin_source.read()?;
        match session.login(UserType::User, Some(&pin)) {
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
