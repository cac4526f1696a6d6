//! What wraps every request rather than belonging to one resource.

/// Whether a (decoded) path is the staff API's: `/api/v1/admin…`,
/// `/api/v1/auth…` (but not `/api/v1/authors`).
pub fn is_staff_path(path: &str) -> bool {
    ["/api/v1/admin", "/api/v1/auth"].iter().any(|root| {
        path.strip_prefix(root)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
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
