//! What wraps every request rather than belonging to one resource.

/// Whether a (decoded) path is the staff API's: `/api/v1/admin`, `/api/v1/auth`.
pub fn is_staff_path(path: &str) -> bool {
    path.starts_with("/api/v1/admin") || path.starts_with("/api/v1/auth")
}

pub mod cache;
pub mod cache_control;
pub mod client;
pub mod cors;
pub mod request;
