//! What wraps every request rather than belonging to one resource.

/// Whether a (decoded) path is the staff API's: `/api/v1/admin…`,
/// `/api/v1/auth…` (but not `/api/v1/authors`).
pub fn is_staff_path(path: &str) -> bool {
    ["/api/v1/admin", "/api/v1/auth"].iter().any(|root| {
        path.strip_prefix(root)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The TLS cryptography (ring) of every HTTP client in the process,
/// installed as the process default on first use: reqwest builds every
/// client, https or not, with the default.
pub fn tls_crypto() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    use rustls::crypto::CryptoProvider;
    if let Some(installed) = CryptoProvider::get_default() {
        return installed.clone();
    }
    // Losing a race with another thread installing it is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    CryptoProvider::get_default()
        .expect("a crypto provider was just installed")
        .clone()
}

#[cfg(test)]
mod tests {
    #[test]
    fn staff_paths_are_whole_segments() {
        for staff in [
            "/api/v1/admin",
            "/api/v1/admin/articles",
            "/api/v1/auth/login",
        ] {
            assert!(super::is_staff_path(staff), "{staff}");
        }
        for public in [
            "/api/v1/authors",
            "/api/v1/authors/tran-thanh-mai",
            "/api/v1/administrivia",
        ] {
            assert!(!super::is_staff_path(public), "{public}");
        }
    }
}

pub mod cache;
pub mod cache_control;
pub mod client;
pub mod cors;
pub mod ratelimit;
pub mod request;
