//! Flags renamed to say their role (feature `cli`): by convention the hidden aliases of
//! a flag are the names it had before, accepted for one release with a warning on stderr.
//! Shared by `rust-pki-verify` and `rust-pki`.

use std::ffi::OsString;

/// Parses the process arguments as `P` (as `P::parse()` does), then warns about each
/// renamed flag used ([`warn_renamed_flags`]).
pub fn parse_warning_renamed<P: clap::Parser>() -> P {
    let command = P::command();
    let matches = command.clone().get_matches();
    warn_renamed_flags(&command, &matches);
    P::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

/// Prints one line on stderr for each old flag name among the process arguments, naming
/// its new name: `warning: --OLD is deprecated and will be removed: use --NEW`.
pub fn warn_renamed_flags(command: &clap::Command, matches: &clap::ArgMatches) {
    for (old, new) in renamed_flags_used(command, matches, std::env::args_os()) {
        eprintln!("warning: --{old} is deprecated and will be removed: use --{new}");
    }
}

/// The (old, new) names of the renamed flags among `args`, looked up in the subcommand
/// that `matches` chose: the same old name may have different new names in two commands.
fn renamed_flags_used(
    command: &clap::Command,
    matches: &clap::ArgMatches,
    args: impl IntoIterator<Item = OsString>,
) -> Vec<(String, String)> {
    let mut renamed = Vec::new();
    let (mut command, mut matches) = (command, matches);
    loop {
        for arg in command.get_arguments() {
            if let (Some(long), Some(aliases)) = (arg.get_long(), arg.get_all_aliases()) {
                renamed.extend(
                    aliases
                        .into_iter()
                        .map(|old| (old.to_owned(), long.to_owned())),
                );
            }
        }
        let Some((name, sub)) = matches.subcommand() else {
            break;
        };
        let Some(next) = command.find_subcommand(name) else {
            break;
        };
        (command, matches) = (next, sub);
    }
    let mut used = Vec::new();
    for arg in args {
        let Some(arg) = arg.to_str() else { continue };
        if arg == "--" {
            break;
        }
        let Some(flag) = arg.strip_prefix("--") else {
            continue;
        };
        let flag = flag.split_once('=').map_or(flag, |(name, _)| name);
        if let Some(pair) = renamed.iter().find(|(old, _)| old == flag)
            && !used.contains(pair)
        {
            used.push(pair.clone());
        }
    }
    used
}
