//! What the linter reports ([`Finding`]), apart from the linter so that the error type can
//! carry findings without depending on the rules. Re-exported as `lint::Finding`.

/// How bad a finding is: errors stop issuance, warnings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The object must not be signed.
    Error,
    /// Acceptable, but worth a human's attention (e.g. example-arc OIDs).
    Warning,
}

/// One broken (or doubtful) rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Short rule id, e.g. `eku-present`.
    pub rule: &'static str,
    /// What exactly is wrong.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}[{}]: {}", self.rule, self.message)
    }
}
