//! `hypercube gen-cert`: write a self-signed development certificate (cert.pem, key.pem 0600).
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub(crate) struct GenCertArgs {
    /// Folder to write cert.pem and key.pem into (created if missing).
    #[arg(long, default_value = ".")]
    pub(crate) out: PathBuf,
    /// Subject alternative names: DNS names (a leading `*.` allowed) or IP addresses.
    #[arg(long, value_delimiter = ',', default_value = "localhost,127.0.0.1,::1")]
    pub(crate) names: Vec<String>,
}

/// Run `gen-cert`: exit 0 with the paths written, or 1 with the reason.
pub(crate) fn run(a: GenCertArgs) -> ExitCode {
    match crate::tls::write_self_signed(&a.out, a.names) {
        Ok((cert, key)) => {
            println!("wrote {} and {}", cert.display(), key.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hypercube gen-cert: {e}");
            ExitCode::FAILURE
        }
    }
}
