//! `rust-pki hsm …`: generate and inspect P-384 keys in a PKCS#11 token.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::Context;
use rust_pki_ca::signer::Pkcs11Signer;
use rust_pki_ca::{KeyAlgorithm, Pkcs11Uri, Signer};

use super::common::parse_key_uri;

#[derive(Debug, clap::Subcommand)]
pub enum HsmCommand {
    /// Generate a key pair inside the token: P-384 (secp384r1, the default and the only
    /// choice for the root) or Ed25519 (allowed by policy for delegates and leaves).
    ///
    /// The private key is created sensitive and non-extractable: it never leaves the
    /// token. Refuses if any object in the token already carries the URI's `object`
    /// label. Prints the label, the CKA_ID (hex) and the SHA-256 fingerprint of the
    /// public key (SubjectPublicKeyInfo, DER).
    #[command(
        after_help = "Examples:\n  KEY='pkcs11:token=rust-root;object=rust-root-2026?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/rust-root.pin'\n  rust-pki hsm keygen --key \"$KEY\"\n  rust-pki hsm keygen --key \"$KEY\" --algorithm ed25519 --public-out key.pem"
    )]
    Keygen {
        #[command(flatten)]
        key: KeyArg,
        /// Key algorithm.
        #[arg(long, value_enum, default_value_t = AlgorithmArg::P384)]
        algorithm: AlgorithmArg,
        /// Also write the public key to FILE as PEM ("BEGIN PUBLIC KEY"). FILE must not
        /// exist; it is checked before the key is generated.
        #[arg(long, value_name = "FILE")]
        public_out: Option<PathBuf>,
    },
    /// Make a PKCS#10 CSR for a key in the token (e.g. a delegate key, to bring to the
    /// root ceremony). The subject is informational: the CA takes only the public key.
    #[command(
        after_help = "Examples:\n  rust-pki hsm csr --key \"$DELEGATE_KEY\" --subject 'CN=releases delegate key' --out releases.csr"
    )]
    Csr {
        #[command(flatten)]
        key: KeyArg,
        /// Requested subject, RFC 4514, e.g. 'CN=releases delegate key'.
        #[arg(long, value_name = "NAME")]
        subject: String,
        /// Where to write the CSR (PEM); must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Show a key's PKCS#11 attributes (sensitive, extractable, ...) and fingerprint.
    #[command(after_help = "Examples:\n  rust-pki hsm show --key \"$KEY\" --public-out key.pem")]
    Show {
        #[command(flatten)]
        key: KeyArg,
        /// Also write the public key to FILE as PEM ("BEGIN PUBLIC KEY"); FILE must not
        /// exist.
        #[arg(long, value_name = "FILE")]
        public_out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum AlgorithmArg {
    /// ECDSA on secp384r1 (CKM_EC_KEY_PAIR_GEN, signs with CKM_ECDSA over SHA-384).
    #[value(name = "p384")]
    P384,
    /// Ed25519 (CKM_EC_EDWARDS_KEY_PAIR_GEN, signs with CKM_EDDSA).
    #[value(name = "ed25519")]
    Ed25519,
}

impl From<AlgorithmArg> for KeyAlgorithm {
    fn from(arg: AlgorithmArg) -> Self {
        match arg {
            AlgorithmArg::P384 => KeyAlgorithm::EcdsaP384,
            AlgorithmArg::Ed25519 => KeyAlgorithm::Ed25519,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct KeyArg {
    /// The key, as an RFC 7512 PKCS#11 URI:
    ///
    /// pkcs11:token=LABEL;object=KEY-LABEL[;id=%XX%XX...][;type=private]?module-path=/ABS/PATH/module.so&pin-source=SOURCE
    ///
    /// token: the token's label; object: the key's CKA_LABEL; id: optional CKA_ID,
    /// percent-encoded bytes (keygen: 16 random bytes if absent); module-path: the
    /// PKCS#11 library, an absolute path. Percent-encode reserved characters in values
    /// (e.g. %20 for a space). Quote the URI in the shell: it contains ';', '?' and '&'.
    ///
    /// pin-source is where the user PIN is read from: file:PATH (or file:///PATH), env:NAME
    /// (an environment variable) or fd:N (an inherited file descriptor). One trailing newline
    /// is ignored. pin-value is refused: PINs never go on the command line.
    ///
    /// Example: 'pkcs11:token=rust-root;object=root-2026?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/rust-root.pin'
    #[arg(long, value_name = "PKCS11-URI", verbatim_doc_comment)]
    key: String,
}

impl KeyArg {
    fn uri(&self) -> anyhow::Result<Pkcs11Uri> {
        parse_key_uri(&self.key, "--key")
    }
}

pub fn run(command: HsmCommand) -> anyhow::Result<ExitCode> {
    match command {
        HsmCommand::Keygen {
            key,
            algorithm,
            public_out,
        } => keygen(&key.uri()?, algorithm.into(), public_out.as_deref()),
        HsmCommand::Csr { key, subject, out } => csr(&key.uri()?, &subject, &out),
        HsmCommand::Show { key, public_out } => show(&key.uri()?, public_out.as_deref()),
    }
}

fn keygen(
    uri: &Pkcs11Uri,
    algorithm: KeyAlgorithm,
    public_out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    // Fail before generating: a key without its exported public key is a half-done job.
    rust_pki_ca::output::ensure_absent(public_out)?;
    let signer = Pkcs11Signer::generate(uri, algorithm)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "generated an {algorithm} key pair in token `{}`",
        signer.token().label()
    )?;
    print_identity(&mut out, &signer)?;
    write_public_key(&mut out, &signer, public_out)?;
    Ok(ExitCode::SUCCESS)
}

fn csr(uri: &Pkcs11Uri, subject: &str, out: &Path) -> anyhow::Result<ExitCode> {
    let subject = x509_cert::name::Name::from_str(subject)
        .with_context(|| format!("--subject `{subject}` is not an RFC 4514 name"))?;
    rust_pki_ca::output::ensure_absent([out])?;
    let signer = Pkcs11Signer::open(uri)?;
    let der = rust_pki_ca::csr::build_csr(&signer, subject)?;
    let pem = rust_pki_ca::pem::encode(rust_pki_ca::pem::label::CSR, &der)?;
    rust_pki_ca::output::write_new(out, pem.as_bytes())?;
    writeln!(
        std::io::stdout().lock(),
        "wrote {}: CSR for {}",
        out.display(),
        signer.uri()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn show(uri: &Pkcs11Uri, public_out: Option<&Path>) -> anyhow::Result<ExitCode> {
    rust_pki_ca::output::ensure_absent(public_out)?;
    let signer = Pkcs11Signer::open(uri)?;
    let attributes = signer.key_attributes()?;
    let mut out = std::io::stdout().lock();
    print_identity(&mut out, &signer)?;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    for (name, value) in [
        ("CKA_SENSITIVE", attributes.sensitive),
        ("CKA_EXTRACTABLE", attributes.extractable),
        ("CKA_ALWAYS_SENSITIVE", attributes.always_sensitive),
        ("CKA_NEVER_EXTRACTABLE", attributes.never_extractable),
        ("CKA_LOCAL", attributes.local),
        ("CKA_TOKEN", attributes.token),
        ("CKA_PRIVATE", attributes.private),
    ] {
        writeln!(out, "{name:<22} {}", yes_no(value))?;
    }
    let exposed = !attributes.sensitive
        || attributes.extractable
        || !attributes.always_sensitive
        || !attributes.never_extractable;
    if exposed {
        rust_pki_verify::envelope::warn(format_args!(
            "warning: this private key is, or has been, extractable or non-sensitive"
        ));
    }
    write_public_key(&mut out, &signer, public_out)?;
    Ok(ExitCode::SUCCESS)
}

fn print_identity(out: &mut impl Write, signer: &Pkcs11Signer) -> anyhow::Result<()> {
    writeln!(out, "uri:                   {}", signer.uri())?;
    writeln!(out, "label:                 {}", signer.label())?;
    writeln!(out, "id:                    {}", hex::encode(signer.id()))?;
    writeln!(out, "algorithm:             {}", signer.algorithm())?;
    writeln!(
        out,
        "spki sha256:           {}",
        hex::encode(signer.spki_sha256()?)
    )?;
    Ok(())
}

fn write_public_key(
    out: &mut impl Write,
    signer: &Pkcs11Signer,
    path: Option<&Path>,
) -> anyhow::Result<()> {
    if let Some(path) = path {
        rust_pki_ca::output::write_new(path, signer.public_key_pem()?.as_bytes())?;
        writeln!(out, "public key written to  {}", path.display())?;
    }
    Ok(())
}
