//! `rust-pki log witness serve`: the witness's HTTP endpoint `POST /add-checkpoint`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};

use anyhow::{Context, bail};
use rust_pki_tlog::note::VerifierKey;
use rust_pki_tlog::witness_protocol::{self, ADD_CHECKPOINT_PATH, MAX_REQUEST_BYTES, Response};

use super::{Opened, WitnessArgs, open};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    witness: WitnessArgs,
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// Allow a --listen address that is not loopback.
    #[arg(long)]
    public: bool,
}

pub(super) fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() && !args.public {
        bail!(
            "--listen {} is not a loopback address; add --public to serve it",
            args.listen
        );
    }
    let mut opened = open(&args.witness)?;
    let listener =
        TcpListener::bind(args.listen).with_context(|| format!("cannot bind {}", args.listen))?;
    let bound = listener.local_addr()?;
    let server = tiny_http::Server::from_listener(listener, None)
        .map_err(|e| anyhow::anyhow!("cannot serve on {bound}: {e}"))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening: http://{bound}")?;
        out.flush()?;
    }
    tracing::info!(%bound, origins = ?opened.logs.iter().map(VerifierKey::name).collect::<Vec<_>>(), "witness serving");
    loop {
        let mut request = match server.recv() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("accepting a request failed: {e}");
                continue;
            }
        };
        let response = handle(&mut opened, &mut request);
        let status = response.status;
        let mut reply = tiny_http::Response::from_string(response.body).with_status_code(status);
        if let Ok(h) = tiny_http::Header::from_bytes("Content-Type", response.content_type) {
            reply.add_header(h);
        }
        if status == 405
            && let Ok(h) = tiny_http::Header::from_bytes("Allow", "POST")
        {
            reply.add_header(h);
        }
        if let Err(e) = request.respond(reply) {
            tracing::warn!("sending the {status} response failed: {e}");
        }
    }
}

/// One HTTP request: routing, method, body size, then the protocol.
fn handle(opened: &mut Opened, request: &mut tiny_http::Request) -> Response {
    let path = request.url().split('?').next().unwrap_or_default();
    if path != ADD_CHECKPOINT_PATH {
        return Response::text(404, "not found: this witness serves POST /add-checkpoint");
    }
    if *request.method() != tiny_http::Method::Post {
        return Response::text(405, "add-checkpoint takes POST");
    }
    let too_large = || {
        Response::text(
            413,
            &format!("request body larger than {MAX_REQUEST_BYTES} bytes"),
        )
    };
    if request.body_length().is_some_and(|n| n > MAX_REQUEST_BYTES) {
        return too_large();
    }
    let mut body = Vec::new();
    if let Err(e) = request
        .as_reader()
        .take(MAX_REQUEST_BYTES as u64 + 1)
        .read_to_end(&mut body)
    {
        return Response::text(400, &format!("cannot read the request body: {e}"));
    }
    if body.len() > MAX_REQUEST_BYTES {
        return too_large();
    }
    match witness_protocol::add_checkpoint(&mut opened.witness, &opened.logs, &body) {
        Ok(line) => {
            tracing::info!("cosigned: {}", line.trim_end());
            Response::cosigned(&line)
        }
        Err(refusal) => {
            let status = refusal.response.status;
            if status >= 500 {
                tracing::error!("add-checkpoint failed: {}", refusal.error);
            } else {
                tracing::info!("add-checkpoint refused ({status}): {}", refusal.error);
            }
            refusal.response
        }
    }
}
