//! What wraps every request rather than belonging to one resource.

pub mod cache;
pub mod cache_control;
pub mod client;
pub mod cors;
pub mod request;
