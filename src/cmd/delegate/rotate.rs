//! `rust-pki delegate rotate`: the successor of a leaf, same subject, new key.

use std::{io::Write, str::FromStr};

use anyhow::Context;
use rust_pki_delegate::format::normalise_serial;
use x509_cert::name::Name;

use super::{StateArgs, leaf::IssueArgs};
use crate::cmd::ca::SubjectKeyArgs;
use crate::outcome::Refused;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("current").required(true).args(["purpose_leaf", "subject"])))]
pub struct RotateArgs {
    #[command(flatten)]
    state: StateArgs,
    /// The serial of the leaf to replace (hex); its subject is kept.
    #[arg(long, value_name = "SERIAL")]
    purpose_leaf: Option<String>,
    /// The subject (RFC 4514) whose newest registered leaf is replaced.
    #[arg(long, value_name = "NAME")]
    subject: Option<String>,
    /// The successor's key (a CSR or a key in a token); it must differ from the current
    /// leaf's.
    #[command(flatten)]
    subject_key: SubjectKeyArgs,
    #[command(flatten)]
    common: IssueArgs,
}

pub(super) fn run(args: RotateArgs) -> anyhow::Result<()> {
    let (policy, mut state) = args.state.open()?;
    let current = match (&args.purpose_leaf, &args.subject) {
        (Some(serial), _) => {
            let serial = normalise_serial(&state.state_path(), "--purpose-leaf", serial)?;
            let subject = state
                .leaf(&serial)
                .map(|l| l.subject.clone())
                .ok_or_else(|| {
                    Refused(format!(
                        "--purpose-leaf {serial}: not in the issuance register of {} (rule \
                         unknown-serial)",
                        state.state_path().display()
                    ))
                })?;
            state.newest_leaf(&subject).cloned()
        }
        (None, Some(text)) => {
            let name = Name::from_str(text)
                .with_context(|| format!("--subject `{text}` is not an RFC 4514 name"))?;
            state.newest_leaf(&name.to_string()).cloned()
        }
        (None, None) => anyhow::bail!("give --purpose-leaf SERIAL or --subject NAME"),
    };
    let Some(current) = current else {
        return Err(Refused(format!(
            "no registered leaf has that subject in {} (rule no-leaf): issue the first one \
             with `delegate leaf`",
            state.state_path().display()
        ))
        .into());
    };
    let (_, cert) = state.leaf_certificate(&current.serial)?;
    let tbs = cert.tbs_certificate();
    if &args.subject_key.public_key()? == tbs.subject_public_key_info() {
        return Err(Refused(format!(
            "the new key is the key of the current leaf serial {} (rule same-key): a \
             successor needs a new key",
            current.serial
        ))
        .into());
    }
    let subject = tbs.subject().clone();
    let serial = super::leaf::issue(
        &policy,
        &mut state,
        subject,
        &args.subject_key,
        &args.common,
    )?;
    writeln!(
        std::io::stdout().lock(),
        "serial {serial} succeeds serial {} ({}, notAfter {})",
        current.serial,
        current.subject,
        current.not_after
    )?;
    Ok(())
}
