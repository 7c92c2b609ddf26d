//! TLS for HTTP/3: the certificate and key from files (`--tls-cert`/`--tls-key`), or a
//! self-signed one made at start and written where the log says; `hypercube gen-cert` writes a
//! development certificate ahead of time.
use quinn::crypto::rustls::QuicServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::info;

/// Where the server's certificate comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// PEM files: a certificate chain and its private key.
    Files { cert: PathBuf, key: PathBuf },
    /// Make a self-signed certificate for localhost at start and write it to this folder.
    SelfSigned { dir: PathBuf },
}

/// `hypercube gen-cert`: write a self-signed development certificate.
#[derive(clap::Args, Debug)]
pub(crate) struct GenCertArgs {
    /// Folder to write cert.pem and key.pem into (created if missing).
    #[arg(long, default_value = ".")]
    pub(crate) out: PathBuf,
    /// Subject alternative names (DNS names or IP addresses).
    #[arg(long, value_delimiter = ',', default_value = "localhost,127.0.0.1,::1")]
    pub(crate) names: Vec<String>,
}

/// Run `gen-cert`.
pub(crate) fn gen_cert(a: GenCertArgs) -> std::process::ExitCode {
    match write_self_signed(&a.out, a.names) {
        Ok((cert, key)) => {
            println!("wrote {} and {}", cert.display(), key.display());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hypercube gen-cert: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Make a self-signed certificate for `names` and write `cert.pem` and `key.pem` (0600) into `dir`.
pub(crate) fn write_self_signed(dir: &Path, names: Vec<String>) -> Result<(PathBuf, PathBuf), String> {
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| format!("generate certificate: {e}"))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).map_err(|e| format!("{}: {e}", cert.display()))?;
    write_private(&key, ck.signing_key.serialize_pem().as_bytes()).map_err(|e| format!("{}: {e}", key.display()))?;
    Ok((cert, key))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(bytes)
}

/// The rustls + QUIC server configuration (ALPN "h3") for `src`.
pub(crate) fn server_crypto(src: &Source) -> Result<Arc<QuicServerConfig>, String> {
    let (cert_path, key_path) = match src {
        Source::Files { cert, key } => (cert.clone(), key.clone()),
        Source::SelfSigned { dir } => {
            let names = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
            let (c, k) = write_self_signed(dir, names)?;
            info!(cert = %c.display(), key = %k.display(), "http/3: no --tls-cert given; made a self-signed certificate");
            (c, k)
        }
    };
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("tls_cert {}: {e}", cert_path.display()))?;
    if certs.is_empty() {
        return Err(format!("tls_cert {}: no certificate in the file", cert_path.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| format!("tls_key {}: {e}", key_path.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| format!("tls: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("tls certificate/key: {e}"))?;
    tls.alpn_protocols = vec![b"h3".to_vec()];
    tls.max_early_data_size = 0;
    QuicServerConfig::try_from(tls).map(Arc::new).map_err(|e| format!("tls for quic: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_round_trips_through_files() {
        let dir = std::env::temp_dir().join(format!("hc-tls-{}", std::process::id()));
        let cfg = server_crypto(&Source::SelfSigned { dir: dir.clone() });
        assert!(cfg.is_ok(), "{:?}", cfg.err());
        let again = server_crypto(&Source::Files { cert: dir.join("cert.pem"), key: dir.join("key.pem") });
        assert!(again.is_ok(), "{:?}", again.err());
        let missing = server_crypto(&Source::Files { cert: dir.join("nope.pem"), key: dir.join("key.pem") });
        assert!(missing.is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
