//! A throwaway private CA and a server certificate it signed, made with openssl, for the
//! tests of HTTPS and TLS: nothing on the system trusts the CA unless a test says so.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The PEM files [`private_ca`] made.
pub struct Pki {
    /// The CA's certificate: what a client is told to trust.
    pub ca: PathBuf,
    /// The server's certificate, for `name` (an IP address or a DNS name).
    pub cert: PathBuf,
    /// The server's private key (mode 0600).
    pub key: PathBuf,
}

/// Makes a P-256 CA and a certificate for `name` signed by it in `dir`, valid two days.
pub fn private_ca(dir: &Path, name: &str) -> Pki {
    std::fs::create_dir_all(dir).expect("a directory for the certificates");
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs (scripts/setup.sh test installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let ca_subject = ["-subj", "/CN=netsnoop test CA", "-days", "2"];
    openssl(
        &[
            &["req", "-x509", "-keyout", "ca.key", "-out", "ca.pem"][..],
            &ec,
            &ca_subject,
        ]
        .concat(),
    );
    let subject = format!("/CN={name}");
    openssl(
        &[
            &[
                "req",
                "-new",
                "-keyout",
                "key.pem",
                "-out",
                "server.csr",
                "-subj",
                &subject,
            ][..],
            &ec,
        ]
        .concat(),
    );
    let san = if name.parse::<std::net::IpAddr>().is_ok() {
        "IP"
    } else {
        "DNS"
    };
    std::fs::write(
        dir.join("san.ext"),
        format!("subjectAltName = {san}:{name}\n"),
    )
    .expect("the extension file");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir.join("key.pem"), std::fs::Permissions::from_mode(0o600))
        .expect("the key's mode");
    Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}
