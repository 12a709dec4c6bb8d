//! A log served by a static HTTP(S) server (`https://pki.rust-lang.org/log/`, or a mirror):
//! the files of C2SP tlog-tiles fetched with ureq, relative to a base URL.

use std::path::PathBuf;
use std::time::Duration;

use rust_pki_tlog::replica::Source;

/// Longest file fetched: an entry bundle holds at most 256 entries of at most 65535 bytes
/// each (plus their length prefixes); records and tiles are smaller.
const MAX_FILE_LEN: u64 = 256 * (65535 + 2) + 1024;

/// Log files under an http:// or https:// base URL.
#[derive(Debug)]
pub struct HttpSource {
    base: String,
    agent: ureq::Agent,
    timeout: Duration,
}

impl HttpSource {
    /// A source for the log whose files are under `base` (a trailing `/` is optional);
    /// each request may take `timeout`, connection to last byte.
    pub fn new(base: &str, timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(5)
            .build();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            agent: ureq::Agent::new_with_config(config),
            timeout,
        }
    }

    /// Whether `source` names an HTTP(S) URL rather than a directory.
    pub fn is_url(source: &str) -> bool {
        source.starts_with("http://") || source.starts_with("https://")
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }
}

impl Source for HttpSource {
    fn location(&self, path: &str) -> PathBuf {
        PathBuf::from(self.url(path))
    }

    fn fetch(&self, path: &str) -> Result<Vec<u8>, String> {
        let url = self.url(path);
        let mut response = self.agent.get(&url).call().map_err(|e| match e {
            ureq::Error::Timeout(what) => {
                format!(
                    "{url}: timed out after {}s ({what})",
                    self.timeout.as_secs()
                )
            }
            other => format!("{url}: {other}"),
        })?;
        let status = response.status();
        if status == ureq::http::StatusCode::NOT_FOUND {
            return Err(format!("{url}: not found (HTTP 404)"));
        }
        if !status.is_success() {
            return Err(format!("{url}: HTTP {status}"));
        }
        response
            .body_mut()
            .with_config()
            .limit(MAX_FILE_LEN)
            .read_to_vec()
            .map_err(|e| format!("{url}: reading the body: {e}"))
    }
}
