//! TLS certificates: from files (`--tls-cert`/`--tls-key`), or a self-signed one made at start
//! and written where the log says (`hypercube gen-cert` writes one ahead of time). Gives the
//! rustls server configuration each TLS transport wraps (HTTP/3 today).
use crate::config::TlsSource as Source;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::info;

/// Make a self-signed certificate for `names` and write `cert.pem` and `key.pem` (0600) into `dir`.
pub(crate) fn write_self_signed(dir: &Path, names: Vec<String>) -> Result<(PathBuf, PathBuf), String> {
    check_names(&names)?;
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| format!("generate certificate: {e}"))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).map_err(|e| format!("{}: {e}", cert.display()))?;
    write_private(&key, ck.signing_key.serialize_pem().as_bytes()).map_err(|e| format!("{}: {e}", key.display()))?;
    Ok((cert, key))
}

/// Subject alternative names must be IP addresses or DNS names (RFC 1123 labels, a leading
/// `*.` wildcard allowed): a certificate for `''` or `bad name!` would be refused by every client.
fn check_names(names: &[String]) -> Result<(), String> {
    if names.is_empty() {
        return Err("give at least one name (--names localhost,127.0.0.1)".into());
    }
    for n in names {
        if n.parse::<std::net::IpAddr>().is_ok() {
            continue;
        }
        let host = n.strip_prefix("*.").unwrap_or(n);
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
            return Err(format!("{n:?} is neither an IP address nor a DNS name"));
        }
    }
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(bytes)
}

/// The rustls server configuration (TLS 1.3, no client auth, no early data) for `src`,
/// offering the ALPN protocols `alpn`.
pub(crate) fn server_config(src: &Source, alpn: &[&[u8]]) -> Result<rustls::ServerConfig, String> {
    let (cert_path, key_path) = match src {
        Source::Files { cert, key } => (cert.clone(), key.clone()),
        Source::SelfSigned { dir } => {
            let names = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
            let (c, k) = write_self_signed(dir, names)?;
            info!(cert = %c.display(), key = %k.display(), "no --tls-cert given; made a self-signed certificate");
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
    tls.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tls.max_early_data_size = 0;
    Ok(tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for ok in ["localhost", "127.0.0.1", "::1", "a-b.example.com", "*.example.com"] {
            assert!(check_names(&[ok.into()]).is_ok(), "{ok}");
        }
        for bad in ["", "bad name!", "-x.com", "a..b", "*.", "x_y.com"] {
            assert!(check_names(&[bad.into()]).is_err(), "{bad:?}");
        }
        assert!(check_names(&[]).is_err());
    }

    #[test]
    fn self_signed_round_trips_through_files() {
        let dir = std::env::temp_dir().join(format!("hc-tls-{}", std::process::id()));
        let cfg = server_config(&Source::SelfSigned { dir: dir.clone() }, &[b"h3"]);
        assert!(cfg.is_ok(), "{:?}", cfg.err());
        let again = server_config(&Source::Files { cert: dir.join("cert.pem"), key: dir.join("key.pem") }, &[b"h3"]);
        assert!(again.is_ok(), "{:?}", again.err());
        let missing = server_config(&Source::Files { cert: dir.join("nope.pem"), key: dir.join("key.pem") }, &[b"h3"]);
        assert!(missing.is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
